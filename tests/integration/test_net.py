# SPDX-License-Identifier: GPL-2.0-or-later
"""The net module against a real Dovecot, through tests/tools/net-probe.

Self-contained for now: the module fixture below starts its own Dovecot
(plain and TLS listeners on free loopback ports, a test CA made with the
openssl CLI).  The coordinator will switch it to the shared fixtures of
tests/integration/conftest.py once those land.
"""
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import threading
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# net-probe exit codes (see tests/tools/net-probe.c)
RC_PROTOCOL = 3
RC_NET = 10
RC_CONN_LOST = 11
RC_TIMEOUT = 12
RC_TLS = 13
RC_CONFIG = 14

DOVECOT = "/usr/sbin/dovecot"
DOVECOT_IMAP = "/usr/lib/dovecot/imap"


@pytest.fixture(scope="session")
def probe():
    oimap = os.environ.get("OIMAP_BIN", os.path.join(ROOT, "build", "oimap"))
    path = os.path.join(os.path.dirname(oimap), "tests", "tools", "net-probe")
    if not os.access(path, os.X_OK):
        pytest.fail(f"net-probe not found at {path}; run `make` first")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   capture_output=True)


def make_cert(d, name, cn, san, ca="ca", usage="serverAuth"):
    """A key and a certificate signed by the test CA."""
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                f"extendedKeyUsage={usage}\n")
    run_openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj",
                f"/CN={cn}", "-keyout", name + ".key", "-out", name + ".csr",
                cwd=d)
    run_openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem",
                "-CAkey", ca + ".key", "-CAcreateserial", "-days", "2",
                "-out", name + ".pem", "-extfile", name + ".ext", cwd=d)


def make_ca(d, name):
    run_openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN=oimap {name}", "-keyout", name + ".key",
                "-out", name + ".pem",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def fingerprint(d, name, alg):
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint",
                          "-" + alg, "-in", os.path.join(d, name + ".pem")],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1]  # "AB:CD:..."


class Server:
    pass


@pytest.fixture(scope="module")
def dovecot():
    if not os.access(DOVECOT, os.X_OK):
        pytest.skip("dovecot not installed")
    # Not pytest's tmp_path: its parents are mode 0700 and Dovecot's
    # unprivileged processes must reach the passwd file and the Maildir.
    d = tempfile.mkdtemp(prefix="oimap-net-")
    os.chmod(d, 0o755)
    make_ca(d, "ca")
    make_ca(d, "otherca")
    make_cert(d, "server", "localhost", "DNS:localhost,IP:127.0.0.1")
    make_cert(d, "othername", "other.example", "DNS:other.example")
    make_cert(d, "client", "oimap client", "DNS:client.example",
              usage="clientAuth")
    with open(os.path.join(d, "client-both.pem"), "w") as f:
        f.write(open(os.path.join(d, "client.key")).read())
        f.write(open(os.path.join(d, "client.pem")).read())
    for sub in ("run", "state", "home/test/Maildir"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    if os.getuid() == 0:
        muser = "nobody"
        mgroup = "nogroup"
        internal = ("default_internal_user = dovecot\n"
                    "default_login_user = dovenull\n")
        nobody = pwd.getpwnam("nobody")
        for root, dirs, _ in os.walk(os.path.join(d, "home")):
            os.chown(root, nobody.pw_uid, nobody.pw_gid)
            for x in dirs:
                os.chown(os.path.join(root, x), nobody.pw_uid, nobody.pw_gid)
    else:
        muser = pwd.getpwuid(os.getuid()).pw_name
        mgroup = None
        internal = (f"default_internal_user = {muser}\n"
                    f"default_login_user = {muser}\n")
    pw = pwd.getpwnam(muser)
    with open(os.path.join(d, "passwd"), "w") as f:
        f.write("test:{PLAIN}test\n")
    s = Server()
    s.dir = d
    s.port = free_port()
    s.sslport = free_port()
    s.otherport = free_port()
    s.mail_user = muser
    s.mail_group = mgroup
    conf = f"""
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
instance_name = oimap-net-{s.port}
protocols = imap
listen = 127.0.0.1, 127.0.0.2
{internal}
ssl = yes
ssl_cert = <{d}/server.pem
ssl_key = <{d}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={pw.pw_uid} gid={pw.pw_gid} home={d}/home/%u
}}
mail_location = maildir:~/Maildir
mail_plugins = zlib
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {s.port}
  }}
  inet_listener imaps {{
    port = {s.sslport}
    ssl = yes
  }}
  inet_listener imaps2 {{
    port = {s.otherport}
    ssl = yes
  }}
}}
local_name other.example {{
  ssl_cert = <{d}/othername.pem
  ssl_key = <{d}/othername.key
}}
service anvil {{
  chroot =
}}
protocol imap {{
  mail_plugins = $mail_plugins imap_zlib
  mail_max_userip_connections = 50
}}
"""
    s.conf = os.path.join(d, "dovecot.conf")
    with open(s.conf, "w") as f:
        f.write(conf)
    subprocess.run([DOVECOT, "-c", s.conf], check=True)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", s.port), 1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("dovecot did not start: " +
                        open(os.path.join(d, "dovecot.log")).read()[-2000:])
        yield s
    finally:
        subprocess.run([DOVECOT, "-c", s.conf, "stop"],
                       capture_output=True)
        pidfile = os.path.join(d, "run", "master.pid")
        for _ in range(50):
            if not os.path.exists(pidfile):
                break
            time.sleep(0.1)
        shutil.rmtree(d, ignore_errors=True)


def run(probe, *args, timeout=60):
    p = subprocess.run([probe, *args], capture_output=True, text=True,
                       timeout=timeout)
    return p


def tunnel_cmd(s):
    """Dovecot's imap binary run standalone: a PREAUTH session."""
    opts = [f"-c {s.conf}", f"-o mail_location=maildir:{s.dir}/home/test/Maildir"]
    if os.getuid() == 0:
        opts.append(f"-o mail_uid={s.mail_user}")
        opts.append(f"-o mail_gid={s.mail_group}")
    return (f"env -i USER=test HOME={s.dir}/home/test {DOVECOT_IMAP} " +
            " ".join(opts))


# ---- plain ----

def test_plain_greeting(probe, dovecot):
    p = run(probe, "--port", str(dovecot.port), "--command", "NOOP")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("* OK ")
    assert "STARTTLS" in p.stdout
    assert "c0 OK" in p.stdout


def test_connection_refused(probe):
    port = free_port()
    p = run(probe, "--host", "127.0.0.1", "--port", str(port))
    assert p.returncode == RC_NET, p.stderr
    assert f"127.0.0.1:{port}" in p.stderr
    assert "refused" in p.stderr


def test_ipv4_only(probe, dovecot):
    p = run(probe, "--host", "localhost", "--ipv6", "no",
            "--port", str(dovecot.port))
    assert p.returncode == 0, p.stderr
    # Dovecot listens on IPv4 only: IPv6-only cannot reach it
    p = run(probe, "--host", "127.0.0.1", "--ipv6", "yes",
            "--port", str(dovecot.port))
    assert p.returncode == RC_NET, p.stderr


def test_socket_timeout(probe):
    """A server that accepts and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    try:
        p = run(probe, "--port", str(port), "--timeout", "1")
        assert p.returncode == RC_TIMEOUT, p.stderr
        assert "socktimeout" in p.stderr
    finally:
        srv.close()


def test_socket_timeout_after_greeting(probe, dovecot):
    p = run(probe, "--port", str(dovecot.port), "--timeout", "1",
            "--wait-read")
    assert p.returncode == RC_TIMEOUT, p.stderr
    assert p.stdout.startswith("* OK")


# ---- implicit TLS ----

def tls_args(s, *extra, port=None, host="localhost"):
    return ["--ssl", "--host", host, "--port", str(port or s.sslport), *extra]


def test_tls_verified(probe, dovecot):
    p = run(probe, *tls_args(dovecot, "--cafile", f"{dovecot.dir}/ca.pem",
                             "--command", "NOOP", "--debug"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("* OK ")
    assert "c0 OK" in p.stdout
    assert "accepted by CA and host name" in p.stderr


def test_tls_verified_ip_literal(probe, dovecot):
    p = run(probe, *tls_args(dovecot, "--cafile", f"{dovecot.dir}/ca.pem",
                             host="127.0.0.1"))
    assert p.returncode == 0, p.stderr


def test_tls_wrong_ca(probe, dovecot):
    p = run(probe, *tls_args(dovecot, "--cafile", f"{dovecot.dir}/otherca.pem"))
    assert p.returncode == RC_TLS, p.stderr
    sha256 = fingerprint(dovecot.dir, "server", "sha256").replace(":", "").lower()
    sha512 = fingerprint(dovecot.dir, "server", "sha512").replace(":", "").lower()
    assert sha256 in p.stderr
    assert sha512 in p.stderr
    assert "CN=localhost" in p.stderr
    assert "'localhost'" in p.stderr
    assert "unable to get local issuer certificate" in p.stderr
    # and the printed form is accepted as it is
    p2 = run(probe, *tls_args(dovecot, "--fingerprint", sha256))
    assert p2.returncode == 0, p2.stderr


def test_tls_system_store_refuses_test_ca(probe, dovecot):
    for ca in ([], ["--cafile", "OS-DEFAULT"]):
        p = run(probe, *tls_args(dovecot, *ca))
        assert p.returncode == RC_TLS, p.stderr


@pytest.mark.parametrize("alg,colons", [("sha256", False), ("sha1", True),
                                        ("sha512", False), ("sha384", True),
                                        ("sha224", False)])
def test_tls_pinned_fingerprint(probe, dovecot, alg, colons):
    fp = fingerprint(dovecot.dir, "server", alg)
    if not colons:
        fp = fp.replace(":", "").lower()
    # no CA at all: the pin is enough (OfflineIMAP's semantics)
    p = run(probe, *tls_args(dovecot, "--fingerprint", "00" * 32 + ", " + fp,
                             "--command", "NOOP", "--debug"))
    assert p.returncode == 0, p.stderr
    assert "accepted by fingerprint" in p.stderr
    # a pin also overrides the name check (the user trusts this cert)
    p = run(probe, *tls_args(dovecot, "--fingerprint", fp, host="127.0.0.2"))
    assert p.returncode == 0, p.stderr


def test_tls_pinned_and_ca_checks_both(probe, dovecot):
    fp = fingerprint(dovecot.dir, "server", "sha256")
    p = run(probe, *tls_args(dovecot, "--fingerprint", fp,
                             "--cafile", f"{dovecot.dir}/ca.pem", "--debug"))
    assert p.returncode == 0, p.stderr
    assert "accepted by fingerprint and CA" in p.stderr
    p = run(probe, *tls_args(dovecot, "--fingerprint", fp,
                             "--cafile", f"{dovecot.dir}/otherca.pem"))
    assert p.returncode == RC_TLS, p.stderr


def test_tls_wrong_fingerprint(probe, dovecot):
    p = run(probe, *tls_args(dovecot, "--fingerprint", "ab" * 32))
    assert p.returncode == RC_TLS, p.stderr
    assert "cert_fingerprint" in p.stderr
    sha256 = fingerprint(dovecot.dir, "server", "sha256").replace(":", "").lower()
    assert sha256 in p.stderr


def test_tls_bad_fingerprint_syntax(probe, dovecot):
    p = run(probe, *tls_args(dovecot, "--fingerprint", "xyz"))
    assert p.returncode == RC_CONFIG, p.stderr


def test_tls_ip_mismatch(probe, dovecot):
    """127.0.0.2 is not in the certificate's IP SANs."""
    p = run(probe, *tls_args(dovecot, "--cafile", f"{dovecot.dir}/ca.pem",
                             host="127.0.0.2"))
    assert p.returncode == RC_TLS, p.stderr
    assert "IP address mismatch" in p.stderr


class TLSServer:
    """A one-connection TLS server (Python's ssl) for what Dovecot here is
    not set up for: another certificate, client certificates."""

    def __init__(self, certfile, keyfile, client_ca=None):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certfile, keyfile)
        if client_ca:
            self.ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx.load_verify_locations(client_ca)
        self.client_subject = None
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            c, _ = self.sock.accept()
            c.settimeout(10)
            with self.ctx.wrap_socket(c, server_side=True) as t:
                cert = t.getpeercert()
                if cert:
                    self.client_subject = dict(x[0] for x in cert["subject"])
                t.sendall(b"* OK fake\r\n")
                t.recv(100)
        except OSError:
            pass

    def close(self):
        self.sock.close()
        self.thread.join(10)


def test_tls_name_mismatch(probe, dovecot):
    d = dovecot.dir
    srv = TLSServer(f"{d}/othername.pem", f"{d}/othername.key")
    try:
        p = run(probe, *tls_args(dovecot, "--cafile", f"{dovecot.dir}/ca.pem",
                                 port=srv.port))
        assert p.returncode == RC_TLS, p.stderr
        assert "hostname mismatch" in p.stderr
        assert "CN=other.example" in p.stderr
    finally:
        srv.close()


@pytest.mark.parametrize("files", [("client.pem", "client.key"),
                                   ("client-both.pem", None)])
def test_tls_client_cert(probe, dovecot, files):
    d = dovecot.dir
    srv = TLSServer(f"{d}/server.pem", f"{d}/server.key", f"{d}/ca.pem")
    try:
        args = ["--cafile", f"{d}/ca.pem", "--client-cert", f"{d}/{files[0]}"]
        if files[1]:
            args += ["--client-key", f"{d}/{files[1]}"]
        p = run(probe, *tls_args(dovecot, *args, port=srv.port))
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith("* OK fake")
    finally:
        srv.close()
    assert srv.client_subject == {"commonName": "oimap client"}


def test_tls_client_cert_missing(probe, dovecot):
    d = dovecot.dir
    srv = TLSServer(f"{d}/server.pem", f"{d}/server.key", f"{d}/ca.pem")
    try:
        p = run(probe, *tls_args(dovecot, "--cafile", f"{d}/ca.pem",
                                 port=srv.port))
        # TLS 1.3: the server refuses after our side of the handshake
        assert p.returncode in (RC_TLS, RC_CONN_LOST), p.stderr
        assert "certificate required" in p.stderr
    finally:
        srv.close()
    assert srv.client_subject is None


def test_tls_client_key_mismatch(probe, dovecot):
    d = dovecot.dir
    p = run(probe, *tls_args(dovecot, "--client-cert", f"{d}/client.pem",
                             "--client-key", f"{d}/server.key"))
    assert p.returncode == RC_CONFIG, p.stderr
    assert "sslclientkey" in p.stderr


def test_tls_version_options(probe, dovecot):
    ca = ["--cafile", f"{dovecot.dir}/ca.pem"]
    p = run(probe, *tls_args(dovecot, *ca, "--tls-level", "tls_secure",
                             "--ssl-version", "tls1_2", "--debug"))
    assert p.returncode == 0, p.stderr
    assert "TLSv1.2" in p.stderr
    p = run(probe, *tls_args(dovecot, *ca, "--tls-level", "tls_secure"))
    assert p.returncode == RC_CONFIG, p.stderr
    assert "ssl_version" in p.stderr
    p = run(probe, *tls_args(dovecot, *ca, "--tls-level", "tls_secure",
                             "--ssl-version", "tls1"))
    assert p.returncode == RC_CONFIG, p.stderr


def test_tls_on_plain_port(probe, dovecot):
    p = run(probe, *tls_args(dovecot, "--cafile", f"{dovecot.dir}/ca.pem",
                             port=dovecot.port))
    assert p.returncode == RC_TLS, p.stderr


# ---- STARTTLS ----

def test_starttls(probe, dovecot):
    p = run(probe, "--starttls", "--host", "localhost", "--port",
            str(dovecot.port), "--cafile", f"{dovecot.dir}/ca.pem",
            "--login", "test", "test", "--command", "NOOP")
    assert p.returncode == 0, p.stderr
    assert "TLS started" in p.stdout
    assert "li OK" in p.stdout
    assert "c0 OK" in p.stdout


def test_starttls_wrong_ca(probe, dovecot):
    p = run(probe, "--starttls", "--host", "localhost", "--port",
            str(dovecot.port), "--cafile", f"{dovecot.dir}/otherca.pem")
    assert p.returncode == RC_TLS, p.stderr


# ---- COMPRESS=DEFLATE ----

def test_compress_tls_append(probe, dovecot):
    """A 2 MB APPEND through deflate over TLS, written non-blocking."""
    p = run(probe, "--starttls", "--host", "localhost", "--port",
            str(dovecot.port), "--cafile", f"{dovecot.dir}/ca.pem",
            "--login", "test", "test", "--compress",
            "--append-size", "2000000",
            "--command", "STATUS INBOX (MESSAGES)", "--command", "LOGOUT")
    assert p.returncode == 0, p.stderr
    assert "COMPRESS active" in p.stdout
    assert "ap OK" in p.stdout
    assert "c1 OK" in p.stdout


# ---- tunnels ----

def test_preauth_tunnel(probe, dovecot):
    p = run(probe, "--tunnel", tunnel_cmd(dovecot),
            "--command", "STATUS INBOX (MESSAGES)", "--command", "LOGOUT")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("* PREAUTH ")
    assert "c0 OK" in p.stdout
    assert "c1 OK" in p.stdout


def test_tunnel_compress_append(probe, dovecot):
    p = run(probe, "--tunnel", tunnel_cmd(dovecot), "--compress",
            "--append-size", "3000000",
            "--command", "SELECT INBOX", "--command", "LOGOUT")
    assert p.returncode == 0, p.stderr
    assert "ap OK" in p.stdout


def test_tunnel_dies(probe):
    p = run(probe, "--tunnel", "echo '* PREAUTH hi'; exit 7",
            "--command", "NOOP")
    assert p.returncode == RC_CONN_LOST, p.stderr
    assert "exited with status 7" in p.stderr


def test_tunnel_stderr_passes_through(probe):
    p = run(probe, "--tunnel", "echo tunnel-says-hi >&2; echo '* PREAUTH x'")
    assert p.returncode == 0, p.stderr
    assert "tunnel-says-hi" in p.stderr


def test_tunnel_timeout(probe):
    p = run(probe, "--tunnel", "exec sleep 60", "--timeout", "1")
    assert p.returncode == RC_TIMEOUT, p.stderr
