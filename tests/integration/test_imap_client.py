# SPDX-License-Identifier: GPL-2.0-or-later
"""The IMAP client (src/imap/client.h) against the test Dovecot and the
scripted fake server, through the driver tests/tools/imap-cli.

imap-cli prints one line per result (see tests/tools/imap-cli.c):
  CAPABILITY ..., LIST flags=... sep=/ name=..., STATUS <mbox> k=v...,
  SELECT exists=.. uidvalidity=.., FETCH seq=.. uid=.. flags=SF size=..,
  SEARCH 1:3,5, APPENDUID <uidvalidity> <uid>, IDLE changed=0|1,
  OK <command> after each command that succeeded, and on error
  ERROR kind=<kind> sev=N msg=<one line>.
Exit codes: 0 ok, 2 usage, 3 NO/BAD, 4 connection-level, 5 local error.
"""
import base64
import datetime
import hashlib
import hmac
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time

import pytest

from oimaptest import fakeimap
from oimaptest.fakeimap import Step
from oimaptest.mail import make_message, to_lf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

RC_OK, RC_USAGE, RC_NO, RC_CONN, RC_LOCAL = 0, 2, 3, 4, 5

FAKE_USER, FAKE_PASS = "fakeuser", "fakepass"


# the driver -----------------------------------------------------------------

def cli_path():
    oimap = os.environ.get("OIMAP_BIN", os.path.join(ROOT, "build", "oimap"))
    return os.path.join(os.path.dirname(oimap), "tests", "tools", "imap-cli")


def _is_asan(path):
    try:
        with open(path, "rb") as fh:
            return b"__asan_init" in fh.read()
    except OSError:
        return False


# Built with AddressSanitizer (make integration runs both builds)?
ASAN = _is_asan(cli_path())

@pytest.fixture(scope="session")
def cli_bin():
    path = cli_path()
    if not os.access(path, os.X_OK):
        pytest.fail("imap-cli not found at %s; run `make` first" % path)
    return path


def kv(line):
    """'FETCH seq=1 uid=3 flags=S' -> {'seq': '1', ...}; words without '='
    go to '_'; name= takes the rest of the line."""
    _, _, rest = line.partition(" ")
    d = {"_": []}
    m = re.search(r"(?:^| )name=(.*)$", rest)
    if m:
        d["name"] = m.group(1)
        rest = rest[:m.start()]
    for tok in rest.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            d[k] = v
        else:
            d["_"].append(tok)
    return d


class CliResult:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        self.lines = out.splitlines()

    def __repr__(self):
        return "CliResult(rc=%r)\n--- stdout\n%s--- stderr\n%s" % (
            self.rc, self.out, self.err)

    def results(self, word):
        """kv() of every stdout line starting with word."""
        return [kv(l) for l in self.lines if l.split(" ", 1)[0] == word]

    def by_command(self):
        """The result lines of each command, in order (each list ends
        before the command's OK or ERROR line)."""
        out, cur = [], []
        for l in self.lines:
            if l.startswith(("CONNECTED ", "EXIT ")):
                continue
            if l.startswith(("OK ", "ERROR ")):
                out.append(cur)
                cur = []
            else:
                cur.append(l)
        return out

    def ok(self, cmd):
        return ("OK " + cmd) in self.lines

    @property
    def errors(self):
        out = []
        for l in self.lines:
            m = re.match(r"ERROR kind=(.*?) sev=(\d+) msg=(.*)$", l)
            if m:
                out.append({"kind": m.group(1), "sev": int(m.group(2)),
                            "msg": m.group(3)})
        return out

    @property
    def error(self):
        e = self.errors
        assert e, "no ERROR line in %r" % self
        return e[-1]


def run_cli(cli_bin, args, timeout=60):
    p = subprocess.run([cli_bin, *args], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return CliResult(args, p.returncode, p.stdout.decode("utf-8", "replace"),
                     p.stderr.decode("utf-8", "replace"))


def secret_file(tmp_path, secret, name="pw"):
    path = tmp_path / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret + "\n")
    return str(path)


def conn_args(u, mode, tmp_path, password=None):
    """imap-cli options to reach user u's server in mode plain (no
    STARTTLS), starttls (the default options), ssl, or preauth."""
    if mode == "preauth":
        return ["--preauth-tunnel", u.preauth]
    args = ["--host", u.host, "--user", u.user, "--password-file",
            secret_file(tmp_path, password if password is not None
                        else u.password)]
    if mode == "plain":
        args += ["--port", str(u.port), "--no-starttls"]
    elif mode == "starttls":
        args += ["--port", str(u.port), "--cafile", u.cafile]
    elif mode == "ssl":
        args += ["--port", str(u.sslport), "--ssl", "--cafile", u.cafile]
    else:
        raise ValueError(mode)
    return args


@pytest.fixture
def cli(cli_bin, imap_user, tmp_path):
    """cli(*commands, mode="starttls", opts=(), user=imap_user) -> result."""
    def run(*commands, mode="starttls", opts=(), user=None, password=None,
            timeout=60):
        u = user or imap_user
        args = conn_args(u, mode, tmp_path, password) + list(opts)
        return run_cli(cli_bin, args + list(commands), timeout=timeout)
    run.user = imap_user
    return run


# Dovecots with other settings, shared by the tests of this module (each
# start costs about a second): "auth" offers PLAIN and CRAM-MD5 but not
# AUTH=LOGIN, "minimal" advertises nothing but IMAP4rev1 IDLE after login
# and uses "." as separator.
EXTRA_DOVECOTS = {
    "auth": dict(auth_mechanisms="plain cram-md5"),
    "minimal": dict(extra_conf="imap_capability = IMAP4rev1 IDLE",
                    separator="."),
}


@pytest.fixture(scope="module")
def extra_dovecot(certs):
    import shutil
    import tempfile
    from oimaptest.dovecot import Dovecot, new_user
    started = {}

    def get(name, hint="x"):
        """A fresh user on the shared server `name`."""
        if name not in started:
            d = tempfile.mkdtemp(prefix="oimap-dovecot-")
            os.chmod(d, 0o755)
            server = Dovecot(d, certs=certs, **EXTRA_DOVECOTS[name])
            started[name] = (server, d)
            server.start()
        return new_user(started[name][0], hint=hint)

    yield get
    for server, d in started.values():
        server.stop()
        if not os.environ.get("OIMAPTEST_KEEP"):
            shutil.rmtree(d, ignore_errors=True)


def fake_args(fake, tmp_path, *extra, password=FAKE_PASS):
    return ["--host", fake.host, "--port", str(fake.port), "--user",
            FAKE_USER, "--password-file", secret_file(tmp_path, password),
            "--timeout", "20", *extra]


def write_msg(tmp_path, name, data):
    """Store a message as the client reads it: LF line ends."""
    p = tmp_path / name
    p.write_bytes(to_lf(data))
    return str(p)


def wait_log(server, pattern, timeout=10, since=0):
    """Dovecot writes its login line asynchronously: wait for it (in the
    log after offset since)."""
    end = time.monotonic() + timeout
    while True:
        m = re.search(pattern, server.log_text(since))
        if m or time.monotonic() > end:
            return m
        time.sleep(0.05)


def login_line(u, timeout=10, since=0):
    m = wait_log(u.server, r"Login: user=<%s>, method=([^,]+),[^\n]*"
                 % re.escape(u.user), timeout, since)
    assert m, "no login line for %s in the Dovecot log" % u.user
    return m.group(0)


def seed_inbox(imap, n, **kw):
    uids = []
    for i in range(n):
        uids.append(imap.append("INBOX", make_message(i), **kw))
    return uids


def mark_deleted(imap, uids, folder="INBOX"):
    """Set \\Deleted without expunging (ImapClient.set_flags CLOSEs,
    which expunges)."""
    imap.select(folder)
    typ, data = imap.c.uid("STORE", ",".join(map(str, uids)),
                           "+FLAGS.SILENT", "(\\Deleted)")
    assert typ == "OK", data
    imap.c.unselect()


def status(imap, folder="INBOX"):
    return imap.status(folder, "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN "
                               "HIGHESTMODSEQ)")


# connection modes ------------------------------------------------------------

@pytest.mark.parametrize("mode", ["plain", "starttls", "ssl"])
def test_modes_connect_login_and_logout(cli, imap_user, mode):
    r = cli("caps", "noop", mode=mode)
    assert r.rc == RC_OK, r
    caps = r.results("CAPABILITY")
    assert caps and "IMAP4rev1" in caps[0]["_"], r
    assert r.ok("noop") and r.ok("caps")
    line = login_line(imap_user)
    if mode == "plain":
        assert ", secured," in line and "TLS" not in line, line
    else:
        assert ", TLS," in line, line
    # LOGOUT was sent (and answered) before the connection closed
    assert wait_log(imap_user.server, r"imap\(%s\)[^\n]*Disconnected: "
                    r"Logged out" % re.escape(imap_user.user)), r


@pytest.mark.parametrize("mode", ["ssl", "starttls"])
def test_tls_wrong_ca_fails_with_fingerprint(cli_bin, imap_user, tmp_path,
                                             mode):
    args = conn_args(imap_user, mode, tmp_path)
    args[args.index("--cafile") + 1] = imap_user.wrong_cafile
    r = run_cli(cli_bin, args + ["noop"])
    assert r.rc == RC_CONN, r
    e = r.error
    assert e["kind"] == "tls", r
    sha256 = imap_user.fingerprints["sha256"]
    assert sha256 in e["msg"].lower().replace(":", ""), r
    assert not r.ok("noop")
    # never logged in
    assert not wait_log(imap_user.server, r"Login: user=<%s>"
                        % re.escape(imap_user.user), timeout=0.5)


def test_tls_pinned_fingerprint_without_ca(cli_bin, imap_user, tmp_path):
    args = conn_args(imap_user, "ssl", tmp_path)
    i = args.index("--cafile")
    del args[i:i + 2]
    r = run_cli(cli_bin, args + ["--fingerprint",
                                 imap_user.fingerprints["sha256"], "noop"])
    assert r.rc == RC_OK, r
    wrong = "00" * 32
    r = run_cli(cli_bin, args + ["--fingerprint", wrong, "noop"])
    assert r.rc == RC_CONN and r.error["kind"] == "tls", r


@pytest.mark.parametrize("answer", ["NO", "BAD"])
def test_starttls_refused_never_logs_in(cli_bin, fake_imap, tmp_path, answer):
    fake = fake_imap([Step(r"\S+ CAPABILITY",
                           "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\n"
                           "{tag} OK done", optional=True),
                      Step(r"\S+ STARTTLS", "{tag} %s not today" % answer)],
                     greeting="* OK [CAPABILITY IMAP4rev1 STARTTLS "
                     "AUTH=PLAIN] fake ready")
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "--cafile",
                                   fake.cafile, "noop"))
    fake.wait(10)
    assert r.rc == RC_CONN, r
    assert "STARTTLS" in r.error["msg"], r
    lines = fake.client_lines()
    assert any(re.fullmatch(r"\S+ STARTTLS", l) for l in lines), lines
    assert not any(re.search(r"LOGIN|AUTHENTICATE", l, re.I)
                   for l in lines), lines
    assert FAKE_PASS not in r.out + r.err


def test_starttls_injection_refused(cli_bin, fake_imap, tmp_path):
    """Bytes after the STARTTLS OK (sent in the same packet) are the
    plaintext injection attack: the client must refuse them."""
    fake = fake_imap([Step(r"\S+ CAPABILITY",
                           "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\n"
                           "{tag} OK done", optional=True),
                      Step(r"\S+ STARTTLS",
                           lambda m, tag: ("%s OK begin TLS\r\n* OK [CAPA"
                                           "BILITY IMAP4rev1 AUTH=PLAIN] "
                                           "injected\r\n" % tag).encode())],
                     greeting="* OK [CAPABILITY IMAP4rev1 STARTTLS "
                     "AUTH=PLAIN] fake ready")
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "--cafile",
                                   fake.cafile, "noop"))
    fake.wait(10)
    assert r.rc == RC_CONN, r
    assert not any(re.search(r"LOGIN|AUTHENTICATE", l, re.I)
                   for l in fake.client_lines())


def _plain_server_script():
    return fakeimap.preamble(caps="IMAP4rev1 AUTH=PLAIN") + [
        Step(r"\S+ NOOP", "{tag} OK noop"),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)]


def test_no_starttls_offered_loopback_logs_in_quietly(cli_bin, fake_imap,
                                                      tmp_path):
    fake = fake_imap(_plain_server_script(),
                     greeting="* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake")
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "--cafile", fake.cafile,
                                   "noop"))
    fake.wait(10)
    assert r.rc == RC_OK, r
    assert r.ok("noop")
    assert "unencrypted" not in r.err.lower(), r
    assert fake.errors == [], fake.transcript_text()


def non_loopback_ipv4():
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True,
                             text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for m in re.finditer(r"inet (\d+\.\d+\.\d+\.\d+)/", out):
        if not m.group(1).startswith("127."):
            return m.group(1)
    return None


class Forwarder:
    """Listen on addr:0 and relay each connection to (host, port)."""

    def __init__(self, addr, host, port):
        self.target = (host, port)
        self.ls = socket.socket()
        self.ls.bind((addr, 0))
        self.ls.listen(4)
        self.addr, self.port = self.ls.getsockname()
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop:
            try:
                a, _ = self.ls.accept()
            except OSError:
                return
            b = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(a, b),
                             daemon=True).start()

    @staticmethod
    def _pump(a, b):
        socks = [a, b]
        try:
            while True:
                rd, _, _ = select.select(socks, [], [], 30)
                if not rd:
                    return
                for s in rd:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            pass
        finally:
            a.close()
            b.close()

    def close(self):
        self.stop = True
        try:
            self.ls.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ls.close()


def test_no_starttls_offered_remote_host_warns(cli_bin, fake_imap, tmp_path):
    addr = non_loopback_ipv4()
    if not addr:
        pytest.skip("no non-loopback IPv4 address on this machine")
    fake = fake_imap(_plain_server_script(),
                     greeting="* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake")
    fwd = Forwarder(addr, fake.host, fake.port)
    try:
        args = fake_args(fake, tmp_path, "--cafile", fake.cafile, "noop")
        args[args.index("--host") + 1] = addr
        args[args.index("--port") + 1] = str(fwd.port)
        r = run_cli(cli_bin, args)
    finally:
        fwd.close()
    assert r.rc == RC_OK, r
    assert "unencrypted" in r.err.lower(), r
    assert FAKE_PASS not in r.out + r.err


# tunnels ----------------------------------------------------------------------

def test_preauth_tunnel(cli, imap):
    seed_inbox(imap, 2)
    r = cli("caps", "select INBOX", "fetch 1:* (UID FLAGS)", mode="preauth")
    assert r.rc == RC_OK, r
    assert r.results("SELECT")[0]["exists"] == "2"
    assert [f["uid"] for f in r.results("FETCH")] == ["1", "2"]


def test_transport_tunnel_then_login(cli_bin, imap_user, imap, tmp_path):
    seed_inbox(imap, 1)
    since = imap_user.server.log_size()
    tunnel = ("openssl s_client -quiet -verify_quiet -CAfile %s "
              "-connect %s:%d 2>/dev/null" % (imap_user.cafile,
                                              imap_user.host,
                                              imap_user.sslport))
    args = ["--transport-tunnel", tunnel, "--user", imap_user.user,
            "--password-file", secret_file(tmp_path, imap_user.password),
            "--timeout", "20"]
    r = run_cli(cli_bin, args + ["status INBOX"])
    assert r.rc == RC_OK, r
    assert r.results("STATUS")[0]["messages"] == "1"
    assert ", TLS," in login_line(imap_user, since=since)


# authentication against Dovecot ------------------------------------------------

@pytest.mark.parametrize("mech,method", [("PLAIN", "PLAIN"),
                                         ("LOGIN", "LOGIN"),
                                         (None, "PLAIN")])
def test_dovecot_auth_mechanisms(cli, imap_user, mech, method):
    opts = ["--auth-mechanisms", mech] if mech else []
    r = cli("noop", opts=opts)
    assert r.rc == RC_OK, r
    assert "method=%s," % method in login_line(imap_user)


def test_dovecot_login_command(cli_bin, extra_dovecot, tmp_path):
    """LOGIN in auth_mechanisms is the LOGIN command when the server does
    not offer AUTH=LOGIN."""
    u = extra_dovecot("auth", "logincmd")
    r = run_cli(cli_bin, conn_args(u, "starttls", tmp_path) +
                ["--auth-mechanisms", "LOGIN", "--debug", "imap", "noop"])
    assert r.rc == RC_OK, r
    assert re.search(r"C: \S+ LOGIN\b", r.err), r.err
    assert "AUTHENTICATE" not in r.err
    assert "method=PLAIN," in login_line(u)


def test_dovecot_cram_md5(cli_bin, extra_dovecot, tmp_path):
    u = extra_dovecot("auth", "cram")
    r = run_cli(cli_bin, conn_args(u, "starttls", tmp_path) +
                ["--auth-mechanisms", "CRAM-MD5", "noop"])
    assert r.rc == RC_OK, r
    assert "method=CRAM-MD5," in login_line(u)


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", None])
def test_dovecot_wrong_password(cli, imap_user, mech):
    opts = ["--auth-mechanisms", mech] if mech else []
    r = cli("noop", opts=opts, password="not-" + imap_user.password)
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "authentication", r
    assert imap_user.password not in r.out + r.err


def test_no_usable_mechanism(cli, imap_user):
    r = cli("noop", opts=["--auth-mechanisms", "CRAM-MD5"])
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "authentication", r
    assert "CRAM-MD5" in r.error["msg"]


# authentication against the fake server: exact payloads ------------------------

def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def _auth_fake(fake_imap, caps, steps):
    ok = "{tag} OK [CAPABILITY IMAP4rev1] logged in"
    steps = [Step(r"\S+ CAPABILITY", "* CAPABILITY %s\n{tag} OK done" % caps,
                  optional=True)] + steps
    steps[-1] = Step(steps[-1].expect, ok)
    steps += [Step(r"\S+ NOOP", "{tag} OK noop"),
              Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)]
    return fake_imap(steps, greeting="* OK [CAPABILITY %s] fake" % caps)


def _run_auth(cli_bin, fake, tmp_path, mech, extra=()):
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "--auth-mechanisms", mech,
                                   *extra, "noop"))
    fake.wait(10)
    assert r.rc == RC_OK, (r, fake.transcript_text())
    assert fake.errors == [], fake.transcript_text()
    return r


def test_fake_plain_sasl_ir(cli_bin, fake_imap, tmp_path):
    payload = b64("\0%s\0%s" % (FAKE_USER, FAKE_PASS))
    fake = _auth_fake(fake_imap, "IMAP4rev1 SASL-IR AUTH=PLAIN",
                      [Step(r"\S+ AUTHENTICATE PLAIN " + re.escape(payload))])
    _run_auth(cli_bin, fake, tmp_path, "PLAIN")


def test_fake_plain_without_sasl_ir(cli_bin, fake_imap, tmp_path):
    payload = b64("\0%s\0%s" % (FAKE_USER, FAKE_PASS))
    fake = _auth_fake(fake_imap, "IMAP4rev1 AUTH=PLAIN",
                      [Step(r"\S+ AUTHENTICATE PLAIN", "+ "),
                       Step(re.escape(payload))])
    _run_auth(cli_bin, fake, tmp_path, "PLAIN")


def test_fake_authenticate_login(cli_bin, fake_imap, tmp_path):
    fake = _auth_fake(fake_imap, "IMAP4rev1 AUTH=LOGIN",
                      [Step(r"\S+ AUTHENTICATE LOGIN", "+ " + b64("Username:")),
                       Step(re.escape(b64(FAKE_USER)), "+ " + b64("Password:")),
                       Step(re.escape(b64(FAKE_PASS)))])
    _run_auth(cli_bin, fake, tmp_path, "LOGIN")


def test_fake_login_command(cli_bin, fake_imap, tmp_path):
    fake = _auth_fake(fake_imap, "IMAP4rev1 AUTH=PLAIN",
                      [Step(r'\S+ LOGIN "?%s"? "?%s"?' % (FAKE_USER,
                                                          FAKE_PASS))])
    _run_auth(cli_bin, fake, tmp_path, "LOGIN")


def test_fake_login_command_quotes_specials(cli_bin, fake_imap, tmp_path):
    pw = 'p"a\\ss word'
    fake = _auth_fake(fake_imap, "IMAP4rev1",
                      [Step(r'\S+ LOGIN "?%s"? ' % FAKE_USER +
                            re.escape('"p\\"a\\\\ss word"'))])
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "--auth-mechanisms",
                                   "LOGIN", "noop", password=pw))
    fake.wait(10)
    assert r.rc == RC_OK, (r, fake.transcript_text())
    assert fake.errors == [], fake.transcript_text()


def test_fake_cram_md5(cli_bin, fake_imap, tmp_path):
    challenge = "<1896.697170952@postoffice.example.net>"
    digest = hmac.new(FAKE_PASS.encode(), challenge.encode(),
                      hashlib.md5).hexdigest()
    fake = _auth_fake(fake_imap, "IMAP4rev1 AUTH=CRAM-MD5",
                      [Step(r"\S+ AUTHENTICATE CRAM-MD5", "+ " + b64(challenge)),
                       Step(re.escape(b64("%s %s" % (FAKE_USER, digest))))])
    _run_auth(cli_bin, fake, tmp_path, "CRAM-MD5")


TOKEN = "ya29.secret-oauth-token-4711"


def xoauth2_payload():
    return b64("user=%s\x01auth=Bearer %s\x01\x01" % (FAKE_USER, TOKEN))


@pytest.mark.parametrize("sasl_ir", [True, False])
def test_fake_xoauth2(cli_bin, fake_imap, tmp_path, sasl_ir):
    if sasl_ir:
        fake = _auth_fake(fake_imap, "IMAP4rev1 SASL-IR AUTH=XOAUTH2",
                          [Step(r"\S+ AUTHENTICATE XOAUTH2 " +
                                re.escape(xoauth2_payload()))])
    else:
        fake = _auth_fake(fake_imap, "IMAP4rev1 AUTH=XOAUTH2",
                          [Step(r"\S+ AUTHENTICATE XOAUTH2", "+ "),
                           Step(re.escape(xoauth2_payload()))])
    _run_auth(cli_bin, fake, tmp_path, "XOAUTH2",
              ["--oauth2-token-file", secret_file(tmp_path, TOKEN, "tok")])


def test_fake_xoauth2_error_challenge(cli_bin, fake_imap, tmp_path):
    """RFC 7628: the server's error is a challenge; the client answers an
    empty line and gets the NO."""
    err = b64('{"status":"401","schemes":"bearer"}')
    fake = fake_imap([Step(r"\S+ AUTHENTICATE XOAUTH2 " +
                           re.escape(xoauth2_payload()), "+ " + err),
                      Step(r"", "{tag} NO [AUTHENTICATIONFAILED] invalid")],
                     greeting="* OK [CAPABILITY IMAP4rev1 SASL-IR "
                     "AUTH=XOAUTH2] fake")
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "--auth-mechanisms",
                                   "XOAUTH2", "--oauth2-token-file",
                                   secret_file(tmp_path, TOKEN, "tok"),
                                   "noop"))
    fake.wait(10)
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "authentication", r
    assert fake.errors == [], fake.transcript_text()


def test_fake_id_sent_when_offered(cli_bin, fake_imap, tmp_path):
    caps = "IMAP4rev1 ID AUTH=PLAIN"
    fake = fake_imap(fakeimap.preamble(caps=caps) + [
        Step(r'\S+ ID \(.*"name" "oimap".*\)', '* ID NIL\n{tag} OK id'),
        Step(r"\S+ NOOP", "{tag} OK noop"),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)],
        greeting="* OK [CAPABILITY %s] fake" % caps)
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "noop"))
    fake.wait(10)
    assert r.rc == RC_OK, (r, fake.transcript_text())
    assert fake.errors == [], fake.transcript_text()
    assert fake.client_lines()[-1].split()[1] == "LOGOUT"


# capabilities, ENABLE, NAMESPACE -----------------------------------------------

def test_enable_qresync_and_condstore(cli):
    r = cli("enabled", "has QRESYNC", opts=["--qresync", "--debug", "imap"])
    assert r.rc == RC_OK, r
    assert re.search(r"C: \S+ ENABLE QRESYNC", r.err), r.err
    assert r.results("ENABLED")[0] == {"_": [], "condstore": "1",
                                       "qresync": "1"}
    r = cli("enabled", opts=["--condstore"])
    assert r.results("ENABLED")[0]["condstore"] == "1"
    assert r.results("ENABLED")[0]["qresync"] == "0"
    r = cli("enabled")
    assert r.results("ENABLED")[0] == {"_": [], "condstore": "0",
                                       "qresync": "0"}


def test_namespace_raw_and_separator(cli):
    r = cli("raw NAMESPACE", "sep")
    assert r.rc == RC_OK, r
    raw = [l for l in r.lines if l.startswith("RAW ")]
    assert any("NAMESPACE" in l and '"/"' in l for l in raw), r
    assert "SEP /" in r.lines


def test_separator_dot(cli_bin, extra_dovecot, tmp_path):
    u = extra_dovecot("minimal", "dot")
    r = run_cli(cli_bin, conn_args(u, "plain", tmp_path) + ["sep"])
    assert "SEP ." in r.lines, r


# folders -----------------------------------------------------------------------

def test_list_lsub_with_reference(cli, imap):
    for f in ("Top/A", "Top/B", "Top/B/C", "Other"):
        imap.create(f)
    r = cli('list "" *', "list Top/ %", "list Top/ *",
            "subscribe Top/A", "lsub Top/ *", "lsub \"\" *")
    assert r.rc == RC_OK, r
    per = r.by_command()
    names = [[kv(l)["name"] for l in ls if l.startswith(("LIST", "LSUB"))]
             for ls in per]
    assert sorted(names[0]) == ["INBOX", "Other", "Top", "Top/A", "Top/B",
                                "Top/B/C"], r
    assert sorted(names[1]) == ["Top/A", "Top/B"], r
    assert sorted(names[2]) == ["Top/A", "Top/B", "Top/B/C"], r
    assert names[4] == ["Top/A"] and names[5] == ["Top/A"], r
    lists = r.results("LIST")
    assert all(d["sep"] == "/" for d in lists)
    b = [d for d in lists if d["name"] == "Top/B"][0]
    assert "\\HasChildren" in b["flags"]
    assert all(l.startswith("LSUB") for l in per[4] + per[5]
               if l.startswith("L"))


def test_list_status(cli, imap):
    imap.create("Box")
    imap.append("Box", make_message(1))
    imap.append("Box", make_message(2), flags=["\\Seen"])
    st_box, st_inbox = status(imap, "Box"), status(imap, "INBOX")
    r = cli("list-status * (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)",
            opts=["--debug", "imap"])
    assert r.rc == RC_OK, r
    assert re.search(r"C: \S+ LIST .*RETURN \(STATUS", r.err), r.err
    assert sorted(d["name"] for d in r.results("LIST")) == ["Box", "INBOX"]
    sts = {d["_"][0]: d for d in r.results("STATUS")}
    assert sts["Box"]["messages"] == "2"
    assert sts["Box"]["unseen"] == "1"
    assert sts["Box"]["uidnext"] == str(st_box["UIDNEXT"])
    assert sts["Box"]["uidvalidity"] == str(st_box["UIDVALIDITY"])
    assert sts["INBOX"]["messages"] == "0"
    assert sts["INBOX"]["uidvalidity"] == str(st_inbox["UIDVALIDITY"])


def test_status(cli, imap):
    seed_inbox(imap, 3)
    imap.set_flags("INBOX", 2, ["\\Seen"])
    st = status(imap)
    r = cli("status INBOX", "status INBOX (MESSAGES HIGHESTMODSEQ)")
    assert r.rc == RC_OK, r
    a, b = r.results("STATUS")
    assert a["_"] == ["INBOX"]
    assert (a["messages"], a["uidnext"], a["uidvalidity"], a["unseen"]) == \
        ("3", "4", str(st["UIDVALIDITY"]), "2")
    assert b["highestmodseq"] == str(st["HIGHESTMODSEQ"])
    assert "uidnext" not in b


def test_create_delete_subscribe(cli, imap):
    r = cli("create New/Sub", "create Plain", "subscribe Plain",
            "delete New/Sub", "create Space Name")
    assert r.rc == RC_OK, r
    assert imap.list() == ["INBOX", "New", "Plain", "Space Name"] or \
        imap.list() == ["INBOX", "Plain", "Space Name"], imap.list()
    typ, data = imap.c.lsub('""', "*")
    assert typ == "OK" and any(b"Plain" in d for d in data), data
    r = cli("create Plain")
    assert r.rc == RC_NO and r.error["kind"] == "imap NO", r


# SELECT / EXAMINE ---------------------------------------------------------------

def test_select_examine(cli, imap):
    seed_inbox(imap, 3)
    imap.set_flags("INBOX", 1, ["\\Seen"])
    st = status(imap)
    r = cli("select INBOX", "selected", "examine INBOX",
            "select-condstore INBOX", "unselect", "selected")
    assert r.rc == RC_OK, r
    sel, cond = r.results("SELECT")
    ex = r.results("EXAMINE")[0]
    for d in (sel, ex, cond):
        assert d["exists"] == "3"
        assert d["uidvalidity"] == str(st["UIDVALIDITY"])
        assert d["uidnext"] == "4"
    assert sel["readonly"] == "0" and ex["readonly"] == "1"
    assert cond["highestmodseq"] == str(st["HIGHESTMODSEQ"])
    assert cond["nomodseq"] == "0"
    assert "S" in sel["permanentflags"] and sel["keywords_ok"] == "1"
    assert r.lines.count("SELECTED INBOX") == 1
    assert "SELECTED NONE" in r.lines


def test_select_missing_mailbox_keep_going(cli):
    r = cli("select Nope", "noop", opts=["--keep-going"])
    assert r.rc == RC_NO, r
    assert r.error["kind"] == "imap NO", r
    assert r.ok("noop")
    r = cli("select Nope", "noop")
    assert r.rc == RC_NO, r
    assert not r.ok("noop")


def test_select_qresync(cli, imap):
    seed_inbox(imap, 4)
    st = status(imap)
    modseq = st["HIGHESTMODSEQ"]
    imap.set_flags("INBOX", 2, ["\\Flagged"])
    imap.expunge("INBOX", uids=[3])
    r = cli("select-qresync INBOX %d %d 1:4" % (st["UIDVALIDITY"], modseq),
            opts=["--qresync"])
    assert r.rc == RC_OK, r
    assert r.results("SELECT")[0]["exists"] == "3"
    f = r.results("FETCH")
    assert [d["uid"] for d in f] == ["2"], r
    assert "F" in f[0]["flags"]
    v = r.results("VANISHED")
    assert v and v[0]["earlier"] == "1" and v[0]["uids"] == "3", r


# FETCH / SEARCH / STORE --------------------------------------------------------

def test_fetch_ranges(cli, imap):
    msgs = [make_message(i) for i in range(5)]
    for m in msgs:
        imap.append("INBOX", m)
    imap.set_flags("INBOX", [2, 4], ["\\Seen", "$Label1"])
    r = cli("select INBOX", "fetch 2:4 (UID FLAGS RFC822.SIZE INTERNALDATE)",
            "fetch 1,5 (UID)", "fetch 4:* (UID)", "fetch 9:10 (UID)",
            "fetch 1 (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    assert r.rc == RC_OK, r
    f = r.results("FETCH")
    assert [d["uid"] for d in f[:3]] == ["2", "3", "4"], r
    for d in f[:3]:
        assert d["size"] == str(len(msgs[int(d["uid"]) - 1]))
        assert "internaldate" in d
    assert f[0]["flags"] == "S" and f[0]["keywords"] == "$Label1"
    assert f[1]["flags"] == "" and "keywords" not in f[1]
    assert [d["uid"] for d in f[3:5]] == ["1", "5"]
    assert [d["uid"] for d in f[5:7]] == ["4", "5"]
    # 9:10 matches nothing (UID ranges are not clamped like "*")
    assert f[7]["uid"] == "1" and len(f) == 8, r
    assert "<m0@oimap.test>" in r.lines[-2] or any(
        "<m0@oimap.test>" in l for l in r.lines if l.startswith("FETCH")), r


def test_fetch_changedsince(cli, imap):
    seed_inbox(imap, 4)
    modseq = status(imap)["HIGHESTMODSEQ"]
    imap.set_flags("INBOX", 3, ["\\Answered"])
    r = cli("select-condstore INBOX",
            "fetch 1:* (UID FLAGS) changedsince=%d" % modseq,
            "fetch 1:* (UID FLAGS MODSEQ)")
    assert r.rc == RC_OK, r
    f = r.results("FETCH")
    assert [d["uid"] for d in f[:1]] == ["3"] and f[0]["flags"] == "R", r
    assert int(f[0]["modseq"]) > modseq
    assert len(f) == 5
    assert all(int(d["modseq"]) <= int(f[0]["modseq"]) for d in f[1:])


def test_search(cli, imap):
    for i in range(4):
        imap.append("INBOX", make_message(i),
                    date=datetime.datetime(2024, 1, 1 + i * 10,
                                           tzinfo=datetime.timezone.utc))
    imap.set_flags("INBOX", [1, 2], ["\\Seen"])
    r = cli("select INBOX", "search HEADER Message-ID <m2@oimap.test>",
            "search SINCE 5-Jan-2024", "search UNSEEN", "search ALL",
            "search HEADER Message-ID <nothere@x>", opts=["--debug", "imap"])
    assert r.rc == RC_OK, r
    assert re.search(r"C: \S+ UID SEARCH RETURN \(ALL\)", r.err), r.err
    s = [l.split(" ", 1)[1] if " " in l else "" for l in r.lines
         if l.startswith("SEARCH")]
    assert s == ["3", "2:4", "3:4", "1:4", ""], r


def test_store(cli, imap):
    seed_inbox(imap, 4)
    r = cli("select INBOX", r"store 1:2 + \Seen,\Flagged",
            r"store 2 - \Flagged", r"store 3 = \Answered,$Todo",
            r"store 4 + \Deleted", "fetch 1:* (UID FLAGS)",
            opts=["--debug", "imap"])
    assert r.rc == RC_OK, r
    msgs = {m.uid: m.flags for m in imap.fetch("INBOX", bodies=False)}
    assert msgs == {1: ["\\Flagged", "\\Seen"], 2: ["\\Seen"],
                    3: ["$Todo", "\\Answered"], 4: ["\\Deleted"]}, msgs
    assert "FLAGS.SILENT" in r.err
    f = {d["uid"]: d for d in r.results("FETCH")}
    assert f["1"]["flags"] == "FS" and f["3"]["keywords"] == "$Todo"


def test_store_unchangedsince_modified(cli, imap):
    seed_inbox(imap, 3)
    modseq = status(imap)["HIGHESTMODSEQ"]
    imap.set_flags("INBOX", 2, ["\\Flagged"])
    r = cli("select-condstore INBOX",
            r"store 1:3 + \Seen %d" % modseq)
    assert r.rc == RC_OK, r
    assert r.results("STORE")[0]["modified"] == "2", r
    flags = {m.uid: m.flags for m in imap.fetch("INBOX", bodies=False)}
    assert flags == {1: ["\\Seen"], 2: ["\\Flagged"], 3: ["\\Seen"]}


# APPEND ------------------------------------------------------------------------

def _internaldate_epoch(s):
    return datetime.datetime.strptime(s, "%d-%b-%Y %H:%M:%S %z").timestamp()


def test_append_flags_date_exact_bytes(cli, imap, tmp_path):
    m1 = make_message(1)
    m2 = make_message(2, body="no final newline\nhere")
    m3 = make_message(3, body="8bit: Zo\u00eb \u00fcml\u00e4ut\n.\nFrom x\n\n")
    f1 = write_msg(tmp_path, "m1", m1)
    f2 = write_msg(tmp_path, "m2", m2)
    f3 = write_msg(tmp_path, "m3", m3)
    date = "17-Jul-1996 02:44:25 -0700"
    r = cli(r"append INBOX %s \Seen,\Flagged %s" % (f1, date),
            "append INBOX %s" % f2,
            r"append INBOX %s \Draft 1700000000" % f3,
            "select INBOX", "fetch 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)")
    assert r.rc == RC_OK, r
    st = status(imap)
    uv = str(st["UIDVALIDITY"])
    assert [d["_"] for d in r.results("APPENDUID")] == [
        [uv, "1"], [uv, "2"], [uv, "3"]], r
    msgs = imap.fetch("INBOX")
    assert [m.body for m in msgs] == [m1, m2, m3]
    assert msgs[0].flags == ["\\Flagged", "\\Seen"]
    assert msgs[1].flags == []
    assert msgs[2].flags == ["\\Draft"]
    assert _internaldate_epoch(msgs[0].internaldate) == \
        _internaldate_epoch(date)
    assert _internaldate_epoch(msgs[2].internaldate) == 1700000000
    f = r.results("FETCH")
    assert int(f[0]["internaldate"]) == _internaldate_epoch(date)
    assert [int(d["size"]) for d in f] == [len(m1), len(m2), len(m3)]


def test_append_to_missing_mailbox(cli, tmp_path):
    f = write_msg(tmp_path, "m", make_message(1))
    r = cli("append Nope %s" % f, "noop", opts=["--keep-going"])
    assert r.rc == RC_NO, r
    assert r.error["kind"] == "imap NO" and "TRYCREATE" in r.error["msg"] \
        or r.error["kind"] == "imap NO", r
    assert r.ok("noop")


def test_append_many_pipelined(cli, imap, tmp_path):
    files, msgs = [], []
    for i in range(20):
        m = make_message("p%d" % i, body_lines=5 + i * 30)
        msgs.append(m)
        files.append(write_msg(tmp_path, "p%02d" % i, m))
    imap.create("Pipe")
    r = cli("append-many Pipe " + ",".join(files), opts=["--debug", "imap"])
    assert r.rc == RC_OK, r
    got = r.results("APPENDUID")
    assert len(got) == 20, r
    uv = str(imap.uidvalidity("Pipe"))
    assert all(d["_"][0] == uv for d in got)
    uids = [int(d["_"][1]) for d in got]
    assert len(set(uids)) == 20
    server = {m.uid: m.body for m in imap.fetch("Pipe")}
    for uid, m in zip(uids, msgs):
        assert server[uid] == m
    # pipelined: several APPENDs were sent before the first completed
    sent = [i for i, l in enumerate(r.err.splitlines())
            if re.search(r"C: \S+ APPEND", l)]
    done = [i for i, l in enumerate(r.err.splitlines())
            if re.search(r"S: \S+ OK .*APPENDUID", l)]
    assert len(sent) == 20 and done, r.err[-3000:]
    assert sent[1] < done[0], "APPENDs were not pipelined"


# EXPUNGE / MOVE / CLOSE ----------------------------------------------------------

def test_expunge_uid_set(cli, imap):
    seed_inbox(imap, 4)
    mark_deleted(imap, [2, 3])
    r = cli("select INBOX", "expunge 2", "noop")
    assert r.rc == RC_OK, r
    assert [m.uid for m in imap.fetch("INBOX", bodies=False)] == [1, 3, 4]
    r = cli("select INBOX", "expunge")
    assert r.rc == RC_OK, r
    assert [m.uid for m in imap.fetch("INBOX", bodies=False)] == [1, 4]


def test_move(cli, imap):
    seed_inbox(imap, 3)
    imap.create("Dest")
    r = cli("select INBOX", "move 1:2 Dest", "select Dest")
    assert r.rc == RC_OK, r
    assert [m.message_id for m in imap.fetch("INBOX", bodies=False)] == \
        ["<m2@oimap.test>"]
    assert [m.message_id for m in imap.fetch("Dest", bodies=False)] == \
        ["<m0@oimap.test>", "<m1@oimap.test>"]
    assert r.results("SELECT")[1]["exists"] == "2"


def test_close_expunges_deleted(cli, imap):
    seed_inbox(imap, 2)
    mark_deleted(imap, [1])
    r = cli("select INBOX", "close", "selected")
    assert r.rc == RC_OK, r
    assert "SELECTED NONE" in r.lines
    assert [m.uid for m in imap.fetch("INBOX", bodies=False)] == [2]


# IDLE --------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True])
def test_idle_reports_new_mail(cli_bin, imap_user, imap, tmp_path, compress):
    seed_inbox(imap, 1)
    args = conn_args(imap_user, "starttls", tmp_path)
    if compress:
        args.append("--compress")
    p = subprocess.Popen([cli_bin, *args, "select INBOX", "idle 30",
                          "status INBOX"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        lines = []
        for raw in p.stdout:
            lines.append(raw.decode())
            if raw.startswith(b"IDLING"):
                break
        assert lines and lines[-1].startswith("IDLING"), lines
        time.sleep(0.5)     # let IDLE reach the server; not asserted on
        with imap_user.client() as other:
            other.append("INBOX", make_message(99))
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    out = "".join(lines) + out.decode()
    assert p.returncode == 0, (out, err)
    assert "IDLE changed=1" in out, out
    assert "messages=2" in out


def test_idle_timeout_without_change(cli, imap):
    r = cli("select INBOX", "idle 1", "noop")
    assert r.rc == RC_OK, r
    assert "IDLE changed=0" in r.lines
    assert r.ok("noop")


# COMPRESS ----------------------------------------------------------------------

def test_compress_deflate(cli, imap, tmp_path):
    m = make_message("z", body_lines=3000)
    f = write_msg(tmp_path, "z", m)
    bodies = tmp_path / "bodies"
    bodies.mkdir()
    r = cli("append INBOX %s" % f, "select INBOX", "fetch 1:* (UID FLAGS)",
            "fetch-bodies 1 %s" % bodies, "noop", "has COMPRESS=DEFLATE",
            opts=["--compress", "--debug", "imap"])
    assert r.rc == RC_OK, r
    assert "HAS COMPRESS=DEFLATE=1" in r.lines
    assert re.search(r"C: \S+ COMPRESS DEFLATE", r.err), r.err[:3000]
    assert (bodies / "1.eml").read_bytes() == m
    assert imap.fetch("INBOX")[0].body == m
    r = cli("noop", opts=["--debug", "imap"])
    assert "COMPRESS" not in r.err.replace("COMPRESS=DEFLATE", "")


# bodies streamed -----------------------------------------------------------------

RSS_LIMIT_KB = 30 * 1024

RSS_WRAPPER = r"""
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL)
print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
      file=sys.stderr)
sys.exit(p.returncode)
"""


def run_measured(cli_bin, args, timeout=120):
    """Run imap-cli alone under a small wrapper; return (result, peak RSS
    of imap-cli in KiB)."""
    p = subprocess.run([sys.executable, "-c", RSS_WRAPPER, cli_bin, *args],
                       capture_output=True, timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    m = re.search(r"MAXRSS_KB (\d+)", err)
    return CliResult(args, p.returncode, p.stdout.decode(), err), \
        int(m.group(1))


def big_message(size):
    head = make_message("big", body="")
    line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n"
    n = (size - len(head)) // len(line) + 1
    return head + line * n


@pytest.mark.parametrize("mode", ["starttls", "ssl+compress"])
def test_big_body_streamed(cli_bin, imap_user, imap, tmp_path, mode):
    big = big_message(20 * 1024 * 1024)
    f = write_msg(tmp_path, "big", big)
    args = conn_args(imap_user, mode.split("+")[0], tmp_path)
    if "compress" in mode:
        args.append("--compress")
    r, rss = run_measured(cli_bin, args + ["append INBOX " + f])
    assert r.rc == RC_OK, r
    assert rss < RSS_LIMIT_KB, "APPEND of 20 MB peaked at %d KiB" % rss
    st = imap.status("INBOX")
    assert st["MESSAGES"] == 1
    out = tmp_path / "out"
    out.mkdir()
    r, rss = run_measured(cli_bin, args + ["select INBOX",
                                           "fetch-bodies 1:* %s" % out])
    assert r.rc == RC_OK, r
    assert rss < RSS_LIMIT_KB, "FETCH of 20 MB peaked at %d KiB" % rss
    assert r.results("BODY")[0] == {"_": [], "uid": "1",
                                    "size": str(len(big))}
    data = (out / "1.eml").read_bytes()
    assert len(data) == len(big) and data == big


# broken servers ------------------------------------------------------------------

SELECT_OK = ("* 2 EXISTS\n* OK [UIDVALIDITY 7] v\n* OK [UIDNEXT 3] n\n"
             "{tag} OK [READ-WRITE] selected")


def _broken(fake_imap, steps, caps="IMAP4rev1 AUTH=PLAIN"):
    return fake_imap(fakeimap.preamble(caps=caps) + steps,
                     greeting="* OK [CAPABILITY %s] fake" % caps)


@pytest.mark.parametrize("garbage,quoted", [
    ('* 1 FETCH (UID 1 FLAGS (\\Seen)', '* 1 FETCH (UID 1 FLAGS ('),
    ('* 1 FETCH (UID 1 FLAGS (\\Seen)))', '* 1 FETCH (UID 1 FLAGS ('),
    ('* 1 FETCH (UID "unterminated', '* 1 FETCH (UID \\"unterminated'),
    ('{tag} OK [UIDNEXT', 'OK [UIDNEXT'),
    ('* 1 FETCH (UID abc)', '* 1 FETCH (UID abc)'),
    ('* 1 FETCH UID 1', '* 1 FETCH UID 1'),
    (')(garbage', ')'),
    ('\x00\x01binary', '\\x00'),
])
def test_garbage_response(cli_bin, fake_imap, tmp_path, garbage, quoted):
    fake = _broken(fake_imap, [
        Step(r"\S+ SELECT .*", SELECT_OK),
        Step(r"\S+ UID FETCH .*",
             lambda m, tag: (garbage.replace("{tag}", tag) + "\r\n"
                             "%s OK done\r\n" % tag).encode())])
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "select INBOX",
                                   "fetch 1:* (UID FLAGS)", "noop"))
    assert r.rc == RC_CONN, r
    e = r.error
    assert e["kind"] == "protocol", r
    assert e["sev"] == 3, r     # OIM_SEV_ACCOUNT
    assert quoted in e["msg"], r
    assert not r.ok("noop")


@pytest.mark.parametrize("cmd", ["fetch 1:* (UID BODY.PEEK[])",
                                 "fetch-bodies 1:* {dir}"])
def test_dropped_mid_fetch(cli_bin, fake_imap, tmp_path, cmd):
    fake = _broken(fake_imap, [
        Step(r"\S+ SELECT .*", SELECT_OK),
        Step(r"\S+ UID FETCH .*",
             b"* 1 FETCH (UID 1 RFC822.SIZE 100000 BODY[] {100000}\r\n"
             b"From: x\r\n\r\npartial", action="drop")])
    cmd = cmd.replace("{dir}", str(tmp_path))
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "select INBOX", cmd))
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "connection lost", r
    assert not os.path.exists(tmp_path / "1.eml")


def test_bye(cli_bin, fake_imap, tmp_path):
    fake = _broken(fake_imap, [
        Step(r"\S+ NOOP", "* BYE server shutting down for maintenance",
             action="drop")])
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "noop", "noop"))
    assert r.rc == RC_CONN, r
    e = r.error
    assert e["kind"] == "imap BYE", r
    assert "shutting down for maintenance" in e["msg"]


def test_no_to_select_keep_going(cli_bin, fake_imap, tmp_path):
    fake = _broken(fake_imap, [
        Step(r'\S+ SELECT "?Nope"?', "{tag} NO [NONEXISTENT] no such box"),
        Step(r"\S+ NOOP", "{tag} OK noop done"),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)])
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "--keep-going",
                                   "select Nope", "noop"))
    fake.wait(10)
    assert r.rc == RC_NO, r
    assert r.error["kind"] == "imap NO", r
    assert "no such box" in r.error["msg"]
    assert r.ok("noop")
    assert fake.errors == [], fake.transcript_text()
    assert fake.client_lines()[-1].split()[1] == "LOGOUT"


def test_bad_response_and_no_keep_going(cli_bin, fake_imap, tmp_path):
    fake = _broken(fake_imap, [
        Step(r"\S+ NOOP", "{tag} BAD what?"),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)])
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "noop", "noop"))
    fake.wait(10)
    assert r.rc == RC_NO, r
    assert r.error["kind"] == "imap BAD", r
    assert sum(1 for l in fake.client_lines() if "NOOP" in l) == 1


def test_timeout(cli_bin, fake_imap, tmp_path):
    fake = _broken(fake_imap, [Step(r"\S+ NOOP", "", action="hang")])
    args = fake_args(fake, tmp_path, "noop")
    args[args.index("--timeout") + 1] = "1"
    r = run_cli(cli_bin, args)
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "timeout", r


# every command, plain and over TLS ------------------------------------------------

@pytest.mark.parametrize("mode", ["plain", "starttls", "ssl", "compress"])
def test_all_commands(cli, imap, tmp_path, mode):
    m1, m2 = make_message(11), make_message(12)
    f1, f2 = write_msg(tmp_path, "a", m1), write_msg(tmp_path, "b", m2)
    out = tmp_path / "out"
    out.mkdir()
    opts = ["--qresync"]
    if mode == "compress":
        opts.append("--compress")
        mode = "ssl"
    cmds = ["caps", "noop", "sep", "raw NAMESPACE", "create Work/Sub",
            "subscribe Work/Sub", 'list "" *', "lsub Work/ *",
            r"append INBOX %s \Seen" % f1, "append-many INBOX %s,%s" % (f1, f2),
            "list-status *", "status INBOX",
            "examine INBOX", "select-condstore INBOX",
            "fetch 1:* (UID FLAGS RFC822.SIZE MODSEQ)",
            "fetch-bodies 1:* %s" % out,
            "search HEADER Message-ID <m12@oimap.test>",
            r"store 1 + \Flagged", r"store 2 = \Deleted", "expunge 2",
            "move 3 Work/Sub", "select Work/Sub", "idle 1", "close",
            "delete Work/Sub", "noop"]
    r = cli(*cmds, mode=mode, opts=opts)
    assert r.rc == RC_OK, r
    words = [c.split()[0] for c in cmds]
    assert [l.split()[1] for l in r.lines if l.startswith("OK ")] == words
    assert [d["_"][1] for d in r.results("APPENDUID")] == ["1", "2", "3"]
    assert (out / "1.eml").read_bytes() == m1
    assert (out / "3.eml").read_bytes() == m2
    assert "SEARCH 3" in r.lines
    msgs = imap.fetch("INBOX", bodies=False)
    assert [(m.uid, m.flags) for m in msgs] == [(1, ["\\Flagged",
                                                     "\\Seen"])]
    assert "Work/Sub" not in imap.list()


# a server with nothing but IMAP4rev1: the client's fallbacks ---------------------

def test_minimal_server_fallbacks(cli_bin, extra_dovecot, tmp_path):
    """No UIDPLUS, MOVE, LIST-STATUS, ESEARCH, LITERAL+, NAMESPACE,
    CONDSTORE, COMPRESS: APPEND with synchronising literals (pipelined
    too), LIST + STATUS, SEARCH, COPY + STORE + EXPUNGE for MOVE, plain
    EXPUNGE, LIST "" "" for the separator."""
    u = extra_dovecot("minimal", "minimal")
    msgs = [make_message("min%d" % i) for i in range(5)]
    files = [write_msg(tmp_path, "min%d" % i, m) for i, m in enumerate(msgs)]
    r = run_cli(cli_bin, conn_args(u, "starttls", tmp_path) + [
        "--debug", "imap", "--qresync", "--compress",
        "caps", "enabled", "sep", "create Dest", "create Sub.Child",
        "append INBOX %s" % files[0],
        "append-many INBOX %s" % ",".join(files[1:]),
        "list-status *", "select INBOX",
        "search HEADER Message-ID <mmin3@oimap.test>",
        "move 2 Dest", r"store 1 + \Deleted", "expunge 1",
        "fetch 1:* (UID)", "idle 1"])
    assert r.rc == RC_OK, r
    caps = r.results("CAPABILITY")[0]["_"]
    assert "UIDPLUS" not in caps and "LITERAL+" not in caps, caps
    assert r.results("ENABLED")[0]["qresync"] == "0"
    assert "SEP ." in r.lines
    # Dovecot sends APPENDUID without advertising UIDPLUS; the client may
    # take it or report 0
    got = [d["_"][1] for d in r.results("APPENDUID")]
    assert got in (["0"] * 5, ["1", "2", "3", "4", "5"]), r
    sts = {d["_"][0]: d for d in r.results("STATUS")}
    assert set(sts) >= {"INBOX", "Dest", "Sub.Child"}, r
    assert sts["INBOX"]["messages"] == "5"
    assert "SEARCH 4" in r.lines
    assert [d["uid"] for d in r.results("FETCH")] == ["3", "4", "5"], r
    log = r.err
    assert re.search(r"C: \S+ APPEND .*\{\d+\}", log), log[:3000]
    assert not re.search(r"C: \S+ UID MOVE", log)
    assert re.search(r"C: \S+ UID COPY 2 ", log), log
    assert not re.search(r"C: \S+ UID EXPUNGE", log)
    assert not re.search(r"C: \S+ COMPRESS", log)
    assert "RETURN (STATUS" not in log and "RETURN (ALL)" not in log
    assert not re.search(r"C: \S+ ENABLE", log)
    # LIST-STATUS fallback: STATUS for each selectable mailbox, pipelined
    # (all sent before the first answer), none for the \Noselect parent
    lines = log.splitlines()
    st_sent = [i for i, l in enumerate(lines)
               if re.search(r"C: \S+ STATUS ", l)]
    st_done = [i for i, l in enumerate(lines)
               if re.search(r"S: \* STATUS ", l)]
    assert len(st_sent) == 3 and st_done, log
    assert st_sent[-1] < st_done[0], "STATUS commands not pipelined"
    assert not any(re.search(r'STATUS "?Sub"? ', lines[i]) for i in st_sent)
    with u.client() as imap:
        assert [m.body for m in imap.fetch("INBOX")] == msgs[2:]
        assert [m.body for m in imap.fetch("Dest")] == [msgs[1]]


def test_mailbox_names_quoted_and_literal(cli, imap):
    names = ['Quote"d', "Back\\slash", "With Space", "&AOQ-bc"]
    cmds = ["create " + n for n in names]
    cmds += ['list "" *'] + ["status " + n for n in names]
    cmds += ["select " + n for n in names]
    # 8-bit: not valid modified UTF-7, so sent as a literal; Dovecot
    # refuses the name and the connection goes on
    cmds += ["create R\u00e4w8bit", "noop"]
    r = cli(*cmds, opts=["--keep-going", "--debug", "imap"])
    assert r.rc == RC_NO, r
    assert [e["kind"] for e in r.errors] == ["imap NO"], r
    assert "mUTF-7" in r.error["msg"]
    assert r.ok("noop")
    assert re.search(r"C: \S+ CREATE \{\d+\+?\}", r.err), r.err
    listed = {d["name"] for d in r.results("LIST")}
    assert set(names) <= listed, listed
    assert [l.split(" messages=")[0] for l in r.lines
            if l.startswith("STATUS ")] == ["STATUS " + n for n in names]
    assert len(r.results("SELECT")) == len(names)
    assert set(imap.list()) >= {'Quote"d', "Back\\slash", "With Space",
                                "\u00e4bc"}


# responses in unusual but legal shapes (fake server) ------------------------------

def _tagged(data):
    """A respond callable: data (bytes, may hold {tag}) sent verbatim."""
    return lambda m, tag: data.replace(b"{tag}", tag.encode())


def test_fetch_uid_after_body_and_unsolicited(cli_bin, fake_imap, tmp_path):
    """Bodies streamed before the UID is known, several in one response
    burst, with unsolicited EXISTS/FETCH in between."""
    fake = _broken(fake_imap, [
        Step(r"\S+ SELECT .*", SELECT_OK),
        Step(r"\S+ UID FETCH 1:\* \(UID RFC822.SIZE BODY.PEEK\[\]\)",
             _tagged(b"* 1 FETCH (BODY[] {12}\r\nHello\r\nWorld UID 5 "
                     b"RFC822.SIZE 12)\r\n"
                     b"* 3 EXISTS\r\n"
                     b"* 1 FETCH (FLAGS (\\Seen))\r\n"
                     b"* 2 FETCH (UID 6 BODY[] {3}\r\nabc)\r\n"
                     b"* 3 FETCH (UID 7 RFC822.SIZE 0 BODY[] \"\")\r\n"
                     b"{tag} OK done\r\n")),
        Step(r"\S+ NOOP", "{tag} OK noop"),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)])
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "select INBOX",
                                   "fetch-bodies 1:* %s" % tmp_path,
                                   "noop"))
    fake.wait(10)
    assert r.rc == RC_OK, (r, fake.transcript_text())
    assert (tmp_path / "5.eml").read_bytes() == b"Hello\r\nWorld"
    assert (tmp_path / "6.eml").read_bytes() == b"abc"
    bodies = r.results("BODY")
    assert [(b["uid"], b["size"]) for b in bodies] == [("5", "12"),
                                                       ("6", "3")], r
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]
    uids = [d.get("uid") for d in r.results("FETCH")]
    assert "7" in uids and "5" in uids and "6" in uids


def test_list_name_as_literal_and_nil_separator(cli_bin, fake_imap,
                                                tmp_path):
    fake = _broken(fake_imap, [
        Step(r'\S+ LIST "" "?\*"?',
             _tagged(b'* LIST (\\HasNoChildren) "/" {5}\r\nHe lo\r\n'
                     b'* LIST (\\Noselect \\HasChildren) NIL Flat\r\n'
                     b'* LIST () "/" "Qu\\"ote"\r\n'
                     b'{tag} OK done\r\n')),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)])
    r = run_cli(cli_bin, fake_args(fake, tmp_path, 'list "" *'))
    assert r.rc == RC_OK, (r, fake.transcript_text())
    got = [(d["name"], d["sep"], d["flags"]) for d in r.results("LIST")]
    assert got == [("He lo", "/", "\\HasNoChildren"),
                   ("Flat", "NIL", "\\Noselect,\\HasChildren"),
                   ('Qu"ote', "/", "")], r


def test_idle_fake_exists_and_done(cli_bin, fake_imap, tmp_path):
    fake = _broken(fake_imap, [
        Step(r"\S+ SELECT .*", SELECT_OK),
        Step(r"\S+ IDLE", "+ idling"),
        Step(None, "* 3 EXISTS"),
        Step(r"DONE", "{tag} OK idle done"),
        Step(r"\S+ NOOP", "{tag} OK noop"),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)],
        caps="IMAP4rev1 IDLE AUTH=PLAIN")
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "select INBOX", "idle 30",
                                   "noop"))
    fake.wait(10)
    assert r.rc == RC_OK, (r, fake.transcript_text())
    assert "IDLE changed=1" in r.lines
    assert fake.errors == [], fake.transcript_text()


def test_idle_done_unanswered_times_out(cli_bin, fake_imap, tmp_path):
    fake = _broken(fake_imap, [
        Step(r"\S+ SELECT .*", SELECT_OK),
        Step(r"\S+ IDLE", "+ idling"),
        Step(r"DONE", "", action="hang")], caps="IMAP4rev1 IDLE AUTH=PLAIN")
    args = fake_args(fake, tmp_path, "select INBOX", "idle 1")
    args[args.index("--timeout") + 1] = "1"
    r = run_cli(cli_bin, args)
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "timeout", r


def test_greeting_bye(cli_bin, fake_imap, tmp_path):
    fake = fake_imap([], greeting="* BYE too many connections from you")
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "noop"))
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "imap BYE", r
    assert "too many connections" in r.error["msg"]


def test_unknown_tag_is_protocol_error(cli_bin, fake_imap, tmp_path):
    fake = _broken(fake_imap, [
        Step(r"\S+ NOOP", "zz99 OK who asked"),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)])
    args = fake_args(fake, tmp_path, "noop")
    args[args.index("--timeout") + 1] = "3"
    r = run_cli(cli_bin, args)
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "protocol", r
    assert "zz99" in r.error["msg"]


def test_alert_is_shown(cli_bin, fake_imap, tmp_path):
    fake = _broken(fake_imap, [
        Step(r"\S+ NOOP", "* OK [ALERT] quota almost full\n{tag} OK noop"),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)])
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "noop"))
    assert r.rc == RC_OK, r
    assert "quota almost full" in r.err


def test_fetch_changedsince_vanished(cli, imap):
    seed_inbox(imap, 4)
    modseq = status(imap)["HIGHESTMODSEQ"]
    imap.expunge("INBOX", uids=[2])
    imap.set_flags("INBOX", 3, ["\\Seen"])
    r = cli("select INBOX",
            "fetch 1:* (UID FLAGS) changedsince=%d" % modseq,
            opts=["--qresync"])
    assert r.rc == RC_OK, r
    assert [d["uid"] for d in r.results("FETCH")] == ["3"], r
    v = r.results("VANISHED")
    assert v and v[0]["earlier"] == "1" and v[0]["uids"] == "2", r


def test_append_crlf_file_not_doubled(cli, imap, tmp_path):
    """A message stored with CRLF already goes up unchanged (no CR CR LF),
    as OfflineIMAP's email policy sends it."""
    m = make_message(5)
    p = tmp_path / "crlf"
    p.write_bytes(m)
    r = cli("append INBOX %s" % p)
    assert r.rc == RC_OK, r
    assert imap.fetch("INBOX")[0].body == m


def test_append_many_beyond_inflight_limit(cli, imap, tmp_path):
    """More APPENDs than IMAP_MAX_INFLIGHT (64) queued at once."""
    n = 100
    files = []
    for i in range(n):
        files.append(write_msg(tmp_path, "s%03d" % i,
                               make_message("s%d" % i, body="x\n")))
    r = cli("append-many INBOX " + ",".join(files), "select INBOX",
            "fetch-bodies 1:* %s" % tmp_path)
    assert r.rc == RC_OK, r
    uids = [int(d["_"][1]) for d in r.results("APPENDUID")]
    assert uids == list(range(1, n + 1)), r
    ids = {m.uid: m.message_id for m in imap.fetch("INBOX", bodies=False)}
    assert all(ids[i + 1] == "<ms%d@oimap.test>" % i for i in range(n))
    assert len(r.results("BODY")) == n
    for i in (0, 63, 64, 99):
        assert (tmp_path / ("%d.eml" % (i + 1))).read_bytes() == \
            make_message("s%d" % i, body="x\n")


def test_dropped_during_append(cli_bin, fake_imap, tmp_path):
    f = write_msg(tmp_path, "m", make_message(1))
    fake = _broken(fake_imap, [Step(r"\S+ APPEND .*", "", action="drop")],
                   caps="IMAP4rev1 LITERAL+ UIDPLUS AUTH=PLAIN")
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "append INBOX %s" % f))
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "connection lost", r


def test_literal_over_memory_limit(cli_bin, fake_imap, tmp_path):
    """A literal that would be kept in memory (no body sink) above
    OIM_IMAP_MAX_INMEM_LITERAL (1 MiB) is refused, not buffered."""
    size = 3 * 1024 * 1024
    fake = _broken(fake_imap, [
        Step(r"\S+ SELECT .*", SELECT_OK),
        Step(r"\S+ UID FETCH .*",
             _tagged(b"* 1 FETCH (UID 1 BODY[HEADER] {%d}\r\n" % size +
                     b"x" * size + b")\r\n{tag} OK done\r\n"))])
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "select INBOX",
                                   "fetch 1 (UID BODY.PEEK[HEADER])"))
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "limit", r


# TLS: host name verification and fingerprint + CA together ------------------------

def test_tls_host_name_mismatch(cli_bin, imap_user, tmp_path):
    """127.0.0.2 reaches the same server, but the certificate names only
    localhost and 127.0.0.1: verification must fail."""
    fwd = Forwarder("127.0.0.2", imap_user.host, imap_user.sslport)
    try:
        args = conn_args(imap_user, "ssl", tmp_path)
        args[args.index("--host") + 1] = "127.0.0.2"
        args[args.index("--port") + 1] = str(fwd.port)
        r = run_cli(cli_bin, args + ["noop"])
        good = run_cli(cli_bin, args + ["--fingerprint",
                                        imap_user.fingerprints["sha256"],
                                        "noop"])
    finally:
        fwd.close()
    assert r.rc == RC_CONN and r.error["kind"] == "tls", r
    # a pinned fingerprint with an explicit CA file: both are checked
    assert good.rc == RC_CONN and good.error["kind"] == "tls", good


def test_tls_by_host_name(cli_bin, imap_user, tmp_path):
    args = conn_args(imap_user, "ssl", tmp_path)
    args[args.index("--host") + 1] = "localhost"
    r = run_cli(cli_bin, args + ["--ipv4", "noop"])
    assert r.rc == RC_OK, r


@pytest.mark.parametrize("alg", ["sha1", "sha512"])
def test_tls_fingerprint_algorithms(cli_bin, imap_user, tmp_path, alg):
    args = conn_args(imap_user, "ssl", tmp_path)
    i = args.index("--cafile")
    del args[i:i + 2]
    r = run_cli(cli_bin, args + ["--fingerprint", imap_user.fingerprints[alg],
                                 "noop"])
    assert r.rc == RC_OK, r


def test_tls_fingerprint_and_wrong_ca(cli_bin, imap_user, tmp_path):
    args = conn_args(imap_user, "ssl", tmp_path)
    args[args.index("--cafile") + 1] = imap_user.wrong_cafile
    r = run_cli(cli_bin, args + ["--fingerprint",
                                 imap_user.fingerprints["sha256"], "noop"])
    assert r.rc == RC_CONN and r.error["kind"] == "tls", r


def test_starttls_rereads_capabilities(cli_bin, fake_imap, tmp_path):
    """Capabilities from before STARTTLS are not trusted afterwards: the
    client asks again over TLS, then logs in."""
    payload = b64("\0%s\0%s" % (FAKE_USER, FAKE_PASS))
    fake = fake_imap([
        Step(r"\S+ STARTTLS", "{tag} OK begin TLS", action="starttls"),
        Step(r"\S+ CAPABILITY", "* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\n"
             "{tag} OK done"),
        Step(r"\S+ AUTHENTICATE PLAIN " + re.escape(payload),
             "{tag} OK [CAPABILITY IMAP4rev1] in"),
        Step(r"\S+ NOOP", "{tag} OK noop"),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)],
        greeting="* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] fake")
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "--cafile", fake.cafile,
                                   "noop"))
    fake.wait(10)
    assert r.rc == RC_OK, (r, fake.transcript_text())
    assert fake.errors == [], fake.transcript_text()
    assert ("*", "starttls") in fake.transcript()


def test_logindisabled_refuses_login_command(cli_bin, fake_imap, tmp_path):
    fake = fake_imap([Step(r"\S+ CAPABILITY",
                           "* CAPABILITY IMAP4rev1 LOGINDISABLED\n"
                           "{tag} OK done", optional=True)],
                     greeting="* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] x")
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "--auth-mechanisms",
                                   "LOGIN", "noop"))
    fake.wait(10)
    assert r.rc == RC_CONN and r.error["kind"] == "authentication", r
    assert not any("LOGIN " in l for l in fake.client_lines())


@pytest.mark.parametrize("ssl", [False, True])
def test_silent_server_times_out(cli_bin, fake_imap, tmp_path, ssl):
    fake = fake_imap([Step(None, "", action="hang")], greeting=None)
    args = fake_args(fake, tmp_path, "noop")
    args[args.index("--timeout") + 1] = "1"
    if ssl:
        args += ["--ssl", "--cafile", fake.cafile]
    r = run_cli(cli_bin, args)
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "timeout", r


def test_unselect_without_unselect_never_expunges(cli_bin, extra_dovecot,
                                                   tmp_path):
    """imap_close(expunge=false) on a server without UNSELECT must not
    fall back to CLOSE, which would expunge \\Deleted messages."""
    u = extra_dovecot("minimal", "unselect")
    with u.client() as imap:
        seed_inbox(imap, 2)
        mark_deleted(imap, [1])
    r = run_cli(cli_bin, conn_args(u, "plain", tmp_path) + [
        "select INBOX", "unselect", "selected", "status INBOX"])
    assert r.rc == RC_OK, r
    assert "SELECTED NONE" in r.lines
    assert r.results("STATUS")[0]["messages"] == "2", r
    with u.client() as imap:
        assert [m.uid for m in imap.fetch("INBOX", bodies=False)] == [1, 2]


def test_flat_namespace_separator(cli_bin, fake_imap, tmp_path):
    caps = "IMAP4rev1 NAMESPACE AUTH=PLAIN"
    fake = fake_imap(fakeimap.preamble(caps=caps) + [
        Step(r"\S+ NAMESPACE", '* NAMESPACE (("" NIL)) NIL NIL\n'
             "{tag} OK ns"),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)],
        greeting="* OK [CAPABILITY %s] fake" % caps)
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "sep"))
    assert r.rc == RC_OK, (r, fake.transcript_text())
    assert "SEP NIL" in r.lines


def test_append_many_one_refused(cli, imap, tmp_path):
    """A NO for one pipelined APPEND (Dovecot refuses an empty message)
    does not disturb the others, and the connection goes on."""
    a, c = make_message("pa"), make_message("pc")
    fa, fc = write_msg(tmp_path, "a", a), write_msg(tmp_path, "c", c)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    r = cli("append-many INBOX %s,%s,%s" % (fa, empty, fc), "noop",
            opts=["--keep-going"])
    assert r.rc == RC_NO, r
    assert r.error["kind"] == "imap NO", r
    assert "APPEND-FAILED 1 kind=imap NO" in r.lines
    assert [d["_"][1] for d in r.results("APPENDUID")] == ["1", "2"], r
    assert r.ok("noop")
    assert [m.body for m in imap.fetch("INBOX")] == [a, c]


def test_logout_unanswered_does_not_hang(cli_bin, fake_imap, tmp_path):
    """client.h: LOGOUT is best effort, not waited for long -- even with
    no socktimeout (OfflineIMAP's default), a server that never answers
    LOGOUT must not keep the client forever."""
    fake = _broken(fake_imap, [Step(r"\S+ NOOP", "{tag} OK noop"),
                               Step(r"\S+ LOGOUT", "", action="hang")])
    args = fake_args(fake, tmp_path, "noop")
    args[args.index("--timeout") + 1] = "0"
    try:
        # a hang detector, not a timing assertion: a normal exit takes
        # well under a second
        r = run_cli(cli_bin, args, timeout=6)
    except subprocess.TimeoutExpired:
        pytest.fail("imap-cli still waiting for the LOGOUT answer after "
                    "6 s with socktimeout 0")
    assert r.rc == RC_OK, r
    assert r.ok("noop")


def test_ssl_to_plain_port_and_plain_to_ssl_port(cli_bin, imap_user,
                                                 tmp_path):
    args = conn_args(imap_user, "ssl", tmp_path)
    args[args.index("--port") + 1] = str(imap_user.port)
    r = run_cli(cli_bin, args + ["--timeout", "5", "noop"])
    assert r.rc == RC_CONN and r.error["kind"] == "tls", r
    args = conn_args(imap_user, "starttls", tmp_path)
    args[args.index("--port") + 1] = str(imap_user.sslport)
    r = run_cli(cli_bin, args + ["--timeout", "1", "noop"])
    assert r.rc == RC_CONN and r.error["kind"] in ("timeout",
                                                   "connection lost"), r


@pytest.mark.parametrize("how", ["bye", "drop"])
def test_connection_ends_during_idle(cli_bin, fake_imap, tmp_path, how):
    end = (Step(None, "* BYE shutting down now", action="drop")
           if how == "bye" else Step(None, "", action="drop"))
    fake = _broken(fake_imap, [Step(r"\S+ SELECT .*", SELECT_OK),
                               Step(r"\S+ IDLE", "+ idling"), end],
                   caps="IMAP4rev1 IDLE AUTH=PLAIN")
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "select INBOX",
                                   "idle 30"))
    assert r.rc == RC_CONN, r
    if how == "bye":
        assert r.error["kind"] == "imap BYE", r
        assert "shutting down now" in r.error["msg"]
    else:
        assert r.error["kind"] == "connection lost", r


def test_dropped_during_pipelined_appends(cli_bin, fake_imap, tmp_path):
    files = [write_msg(tmp_path, "m%d" % i, make_message(i))
             for i in range(3)]
    fake = _broken(fake_imap, [
        Step(r"\S+ APPEND .*", "{tag} OK [APPENDUID 9 1] ok"),
        Step(r"\S+ APPEND .*", "", action="drop")],
        caps="IMAP4rev1 LITERAL+ UIDPLUS AUTH=PLAIN")
    r = run_cli(cli_bin, fake_args(fake, tmp_path,
                                   "append-many INBOX " + ",".join(files)))
    assert r.rc == RC_CONN, r
    assert r.error["kind"] == "connection lost", r
    assert "APPENDUID 9 1" in r.lines
    assert "APPEND-FAILED 2 kind=connection lost" in r.lines


def test_idle_not_offered(cli_bin, fake_imap, tmp_path):
    """IDLE on a server without it fails without sending IDLE, and the
    connection stays usable."""
    fake = _broken(fake_imap, [
        Step(r"\S+ SELECT .*", SELECT_OK),
        Step(r"\S+ NOOP", "{tag} OK noop"),
        Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye", optional=True)])
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "--keep-going",
                                   "select INBOX", "idle 5", "noop"))
    fake.wait(10)
    assert r.rc == RC_NO, r
    assert "IDLE" in r.error["msg"]
    assert r.ok("noop")
    assert fake.errors == [], fake.transcript_text()


def _preauth_fake(fake_imap):
    return fake_imap([Step(r"\S+ CAPABILITY",
                           "* CAPABILITY IMAP4rev1 STARTTLS\n{tag} OK",
                           optional=True),
                      Step(r"\S+ NOOP", "{tag} OK noop", optional=True),
                      Step(r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye",
                           optional=True)],
                     greeting="* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] hi")


def test_preauth_greeting_over_tcp_sends_no_credentials(cli_bin, fake_imap,
                                                        tmp_path):
    fake = _preauth_fake(fake_imap)
    run_cli(cli_bin, fake_args(fake, tmp_path, "--cafile", fake.cafile,
                               "noop"))
    fake.wait(10)
    assert not any(re.search(r"LOGIN|AUTHENTICATE", l, re.I)
                   for l in fake.client_lines())
    assert FAKE_PASS not in fake.transcript_text()


def test_preauth_greeting_over_tcp_refused_when_starttls_wanted(
        cli_bin, fake_imap, tmp_path):
    fake = _preauth_fake(fake_imap)
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "--cafile", fake.cafile,
                                   "noop"))
    fake.wait(10)
    assert r.rc == RC_CONN, r
    assert not any("NOOP" in l for l in fake.client_lines())


RELAY = r"""
import os, select, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
fds = [0, s.fileno()]
while True:
    r, _, _ = select.select(fds, [], [])
    if 0 in r:
        d = os.read(0, 65536)
        if not d:
            break
        s.sendall(d)
    if s.fileno() in r:
        d = s.recv(65536)
        if not d:
            break
        os.write(1, d)
"""


def test_transport_tunnel_plain_no_starttls(cli_bin, imap_user, imap,
                                            tmp_path):
    """A tunnel to the plain port: the server offers STARTTLS, but a
    tunnel has no host name to verify, so the client does not try it (as
    OfflineIMAP's IMAP4_Tunnel) and logs in through the tunnel."""
    seed_inbox(imap, 2)
    relay = tmp_path / "relay.py"
    relay.write_text(RELAY)
    tunnel = "%s %s %s %d" % (sys.executable, relay, imap_user.host,
                              imap_user.port)
    args = ["--transport-tunnel", tunnel, "--user", imap_user.user,
            "--password-file", secret_file(tmp_path, imap_user.password),
            "--cafile", imap_user.cafile, "--timeout", "20",
            "--debug", "imap"]
    r = run_cli(cli_bin, args + ["status INBOX"])
    assert r.rc == RC_OK, r
    assert r.results("STATUS")[0]["messages"] == "2"
    assert "STARTTLS" not in "\n".join(l for l in r.err.splitlines()
                                       if " C: " in l or "C: " in l)
    assert "unencrypted" not in r.err


def test_idle_change_reported_with_done_is_kept(cli_bin, fake_imap, tmp_path):
    """A change the server reports after the client's DONE (before the
    tagged OK) is a change: the IDLE that ends there says so.  Dovecot
    tells a session of a change once; losing it here means the idler
    sleeps through new mail until the next change or autorefresh."""
    caps = "IMAP4rev1 AUTH=PLAIN IDLE"
    fake = _broken(fake_imap, [
        Step(r"\S+ SELECT .*", SELECT_OK),
        Step(r"\S+ IDLE", "+ idling"),
        Step(r"DONE", "* 3 EXISTS\n{tag} OK idle done"),
        Step(r"\S+ IDLE", "+ idling", optional=True),
        Step(r"DONE", "{tag} OK idle done", optional=True),
        Step(r"\S+ LOGOUT", "* BYE\n{tag} OK bye", optional=True),
    ], caps=caps)
    r = run_cli(cli_bin, fake_args(fake, tmp_path, "select INBOX", "idle 1",
                                   "idle 1"))
    assert r.rc == RC_OK, r
    changed = [ln for ln in r.lines if ln.startswith("IDLE changed=")]
    assert changed and "IDLE changed=1" in changed, r
