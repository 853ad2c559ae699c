# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 5 audit: the run-level rules the other test_sync_* files did not
cover: passwords (remotepass, remotepassfile, remotepasseval, ~/.netrc),
the quiet and basic UIs' per-folder summary line, the account lock held
by oimap against offlineimap3 and the other way round (deterministic: the
holder waits in its transporttunnel), a connection lost in one folder,
maxsyncaccounts with several accounts, utf8foldernames for a new local
folder."""
import os
import re
import shlex
import subprocess
import sys
import time

import pytest

from conftest import Account
from oimaptest import dovecot as dovecotmod
from oimaptest import rc as rcmod
from oimaptest.sync_helpers import (add_local, assert_synced, find_local,
                                    local_state, mid, msg, rename_flags,
                                    seed, server_state, snapshot)
from test_sync_audit import Twin, twin  # noqa: F401  (the fixture)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def ids(pairs):
    return sorted(i for i, _ in pairs)


def ok(r):
    assert r.rc == 0, r
    assert not re.search(r"(?m)^\s*(ERROR|Traceback)", r.output), r
    return r


# passwords ---------------------------------------------------------------

def _password_configs(account, user):
    pwfile = os.path.join(account.home, "pw")
    with open(pwfile, "w") as fh:
        fh.write(user.password + "\n")
    os.chmod(pwfile, 0o600)
    return {
        "remotepass": {},
        "remotepassfile": {"remotepass": None, "remotepassfile": pwfile},
        "remotepasseval": {"remotepass": None,
                           "remotepasseval": repr(user.password)},
        "pythonfile": {"remotepass": None, "remoteuser": None,
                       "remoteusereval": "get_user()",
                       "remotepasseval": "get_pass('imap')"},
        "netrc": {"remotepass": None},
        "netrc-user-too": {"remotepass": None, "remoteuser": None},
    }


def user_of(u):
    return u.user


@pytest.mark.parametrize("how", ["remotepass", "remotepassfile",
                                 "remotepasseval", "pythonfile", "netrc",
                                 "netrc-user-too"])
@pytest.mark.parametrize("engine", ["oimap", "offlineimap"])
def test_password_sources(account, imap, imap_user, how, engine):
    """Each password source logs in and syncs, with oimap as with
    offlineimap3; the password never shows in the output."""
    seed(imap, {"INBOX": [("pw1", [])]})
    remote = _password_configs(account, imap_user)[how]
    if how == "pythonfile":
        helpers = os.path.join(account.home, "helpers.py")
        with open(helpers, "w") as fh:
            fh.write("import os\n"
                     "def get_user():\n    return %r\n"
                     "def get_pass(what):\n"
                     "    assert what == 'imap'\n"
                     "    return %r\n" % (user_of(imap_user),
                                          imap_user.password))
        account.write_rc(overrides={"remote": remote,
                                    "general": {"pythonfile": helpers}})
    else:
        account.write_rc(**remote)
    if how.startswith("netrc"):
        path = os.path.join(account.home, ".netrc")
        with open(path, "w") as fh:
            fh.write("machine %s login %s password %s\n"
                     % (imap_user.host, imap_user.user, imap_user.password))
        os.chmod(path, 0o600)
    r = account.oimap() if engine == "oimap" else account.offlineimap()
    ok(r)
    assert ids(local_state(account.maildir)["INBOX"]) == [mid("pw1")]
    assert imap_user.password not in r.output


def test_wrong_password_fails_and_is_not_printed(account, imap, imap_user):
    seed(imap, {"INBOX": [("pw2", [])]})
    account.write_rc(remotepass="Wr0ngPassw0rdXyz")
    r = account.oimap()
    assert r.rc != 0, r
    assert "Wr0ngPassw0rdXyz" not in r.output
    assert not any(account.tree().values())


# the quiet and basic UIs -------------------------------------------------

SUMMARY = re.compile(r"(?m)^Account (?P<acct>\S+): folder (?P<folder>.+?): "
                     r"(?P<new>\d+) new, (?P<up>\d+) uploaded, "
                     r"(?P<flags>\d+) flags changed, (?P<del>\d+) deleted$")


def summaries(out):
    return {m.group("folder"): tuple(int(m.group(k)) for k in
                                     ("new", "up", "flags", "del"))
            for m in SUMMARY.finditer(out)}


def test_basic_ui_one_summary_line_per_folder(account, imap):
    """-u basic: one line per folder saying what was done; the counts are
    those of the run."""
    uids = seed(imap, {"INBOX": [("ui1", []), ("ui2", []), ("ui3", [])],
                       "Lists": [("ui4", [])]})
    r = ok(account.oimap("-o", "-u", "basic"))
    s = summaries(r.output)
    assert s == {"INBOX": (3, 0, 0, 0), "Lists": (1, 0, 0, 0)}, r
    imap.append("INBOX", msg("ui5"))
    imap.append("INBOX", msg("ui6"))
    add_local(account, "Lists", "ui7")
    rename_flags(find_local(account, "INBOX", "ui1"), "F")      # up
    imap.set_flags("INBOX", [uids["INBOX"]["ui2"]], ["\\Seen"])  # down
    os.unlink(find_local(account, "INBOX", "ui3").path)
    r = ok(account.oimap("-o", "-u", "basic"))
    s = summaries(r.output)
    assert s["INBOX"] == (2, 0, 2, 1), r
    assert s["Lists"] == (0, 1, 0, 0), r
    assert len(SUMMARY.findall(r.output)) == 2, r
    # nothing to do: still one line each, saying so (the folders are
    # skipped unopened since the server state is the one this run left)
    r = ok(account.oimap("-o", "-u", "basic"))
    for f in ("INBOX", "Lists"):
        lines = re.findall(r"(?m)^Account Test: folder %s: (.*)$" % f,
                           r.output)
        assert lines in (["unchanged, skipped"],
                         ["0 new, 0 uploaded, 0 flags changed, 0 deleted"]), r


@pytest.mark.parametrize("engine", ["oimap", "offlineimap"])
def test_quiet_ui_says_nothing_unless_something_fails(account, imap,
                                                       imap_user, engine):
    """-u quiet: no output at all for a run that works (as offlineimap3);
    a failing folder is reported, naming it."""
    seed(imap, {"INBOX": [("q1", [])], "Broken": [("q2", [])]})
    run = account.oimap if engine == "oimap" else account.offlineimap
    r = run("-o", "-u", "quiet")
    assert r.rc == 0 and r.output == "", r
    add_local(account, "INBOX", "q3")
    r = run("-o", "-u", "quiet")
    assert r.rc == 0 and r.output == "", r
    assert mid("q3") in ids(server_state(imap)["INBOX"])
    bad = os.path.join(imap_user.maildir, ".Broken")
    mode = os.stat(bad).st_mode
    os.chmod(bad, 0)
    try:
        r = run("-o", "-u", "quiet")
    finally:
        os.chmod(bad, mode)
    assert "Broken" in r.output, r
    if engine == "oimap":
        assert r.rc != 0, r


# the lock, deterministically ---------------------------------------------

def _waiting_tunnel(user, d):
    """A transporttunnel that says it started (the program holds the
    lock by then) and waits for d/GO before relaying to the server."""
    started, go = os.path.join(d, "STARTED"), os.path.join(d, "GO")
    script = ("touch %s; while [ ! -e %s ]; do sleep 0.05; done; exec %s"
              % (shlex.quote(started), shlex.quote(go), user.tunnel))
    return "sh -c %s" % shlex.quote(script), started, go


def _popen(argv, home):
    env = dict(os.environ, HOME=home)
    env.pop("XDG_CONFIG_HOME", None)
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")


@pytest.mark.parametrize("holder", ["oimap", "offlineimap"])
def test_lock_excludes_the_other_program(account, imap, imap_user,
                                         tmp_path, holder):
    """While one program (oimap or offlineimap3) syncs an account, the
    other one run on the same metadata refuses it, saying it is locked,
    and changes nothing; the holder then finishes; afterwards each message
    is there once."""
    seed(imap, {"INBOX": [("lk%d" % i, []) for i in range(5)]})
    add_local(account, "INBOX", "lkloc")
    tun, started, go = _waiting_tunnel(imap_user, str(tmp_path))
    held_rc = str(tmp_path / "held.rc")
    secs = rcmod.rc_sections(imap_user, account.maildir, account.metadata,
                             mode="tunnel")
    secs["Repository Test-Remote"]["transporttunnel"] = tun
    with open(held_rc, "w") as fh:
        fh.write(rcmod.render(secs))
    account.write_rc()                       # the other one: plain
    prog = {"oimap": [account.oimap_bin], "offlineimap": [rcmod.OFFLINEIMAP]}
    p = _popen(prog[holder] + ["-c", held_rc, "-o", "-u", "basic"],
               account.home)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(started):
            assert p.poll() is None, p.communicate()[0]
            assert time.monotonic() < deadline, "tunnel never started"
            time.sleep(0.05)
        before = snapshot(account, imap)
        other = "offlineimap" if holder == "oimap" else "oimap"
        r = account.oimap() if other == "oimap" else account.offlineimap()
        assert re.search(r"(?i)lock", r.output), r
        assert "Test" in r.output, r
        if other == "oimap":
            assert r.rc != 0, r
        assert snapshot(account, imap) == before
    finally:
        open(go, "w").close()
        out = p.communicate(timeout=120)[0]
    assert p.returncode == 0, out
    r = ok(account.oimap())
    srv = assert_synced(account, imap)
    assert len(srv["INBOX"]) == 6


# a connection lost in one folder ------------------------------------------

CUT_RELAY = r'''
import os, re, select, socket, sys
host, port, trigger = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port), 30)
pat = re.compile(rb'(?i)(SELECT|EXAMINE) "?Broken')
tail = b""
open_in = True
while True:
    rl = [s] + ([0] if open_in else [])
    r, _, _ = select.select(rl, [], [])
    if s in r:
        d = s.recv(65536)
        if not d:
            sys.exit(0)
        while d:
            d = d[os.write(1, d):]
    if open_in and 0 in r:
        d = os.read(0, 65536)
        if not d:
            open_in = False
            s.shutdown(socket.SHUT_WR)
            continue
        tail = (tail + d)[-512:]
        if os.path.exists(trigger) and pat.search(tail):
            os._exit(0)          # the line goes dead mid-command
        s.sendall(d)
'''


@pytest.mark.parametrize("conns", [1, 2])
def test_connection_lost_in_one_folder(account, imap, imap_user, tmp_path,
                                       conns):
    """The connection dies when a folder is selected: that folder fails
    with a message naming it, the other folders still sync (over a new
    connection), the exit status is non-zero, nothing is lost, and the
    next run completes."""
    seed(imap, {"INBOX": [("cl1", [])], "Broken": [("cl2", [])],
                "Zoo": [("cl3", [])]})
    relay = tmp_path / "cut_relay.py"
    relay.write_text(CUT_RELAY)
    trigger = tmp_path / "CUT"
    tun = "%s %s %s %s %s" % (shlex.quote(sys.executable),
                              shlex.quote(str(relay)), imap_user.host,
                              imap_user.port, shlex.quote(str(trigger)))
    account.write_rc(mode="tunnel", transporttunnel=tun,
                     maxconnections=conns)
    ok(account.oimap())
    imap.append("INBOX", msg("cl4"))
    imap.append("Zoo", msg("cl5"))
    imap.append("Broken", msg("cl6"))
    add_local(account, "Broken", "cl7")
    add_local(account, "Zoo", "cl8")
    trigger.write_text("")
    r = account.oimap()
    assert r.rc != 0, r
    assert "Broken" in r.output, r
    loc = local_state(account.maildir)
    assert ids(loc["INBOX"]) == sorted([mid("cl1"), mid("cl4")])
    assert ids(loc["Zoo"]) == sorted([mid("cl3"), mid("cl5"), mid("cl8")])
    assert ids(loc["Broken"]) == sorted([mid("cl2"), mid("cl7")])
    assert mid("cl8") in ids(server_state(imap)["Zoo"])
    trigger.unlink()
    ok(account.oimap())
    srv = assert_synced(account, imap)
    assert ids(srv["Broken"]) == sorted([mid("cl2"), mid("cl6"),
                                         mid("cl7")])


# several accounts, maxsyncaccounts ----------------------------------------

@pytest.mark.parametrize("args,maxsync", [((), 2), ((), 1), (("-1",), 3)])
def test_maxsyncaccounts(dovecot, tmp_path, args, maxsync):
    """Three accounts, maxsyncaccounts 1, 2 (or -1): every account is
    synced into its own Maildir, once."""
    bin_ = os.environ.get("OIMAP_BIN", os.path.join(ROOT, "build", "oimap"))
    users, secs = [], None
    for i in range(3):
        u = dovecotmod.new_user(dovecot, hint="msa%d" % i)
        users.append(u)
        with u.client() as c:
            seed(c, {"INBOX": [("ms%d_%d" % (i, k), []) for k in range(3)],
                     "Lists": [("ml%d" % i, ["\\Seen"])]})
        s = rcmod.rc_sections(u, tmp_path / ("Mail%d" % i),
                              tmp_path / "metadata", account="A%d" % i,
                              overrides={"remote": {"maxconnections": 2}})
        if secs is None:
            secs = s
        else:
            secs.update({k: v for k, v in s.items() if k != "general"})
    secs["general"]["accounts"] = "A0, A1, A2"
    secs["general"]["maxsyncaccounts"] = maxsync
    acc = Account(users[0], tmp_path, bin_, name="A0")
    with open(acc.rc, "w") as fh:
        fh.write(rcmod.render(secs))
    os.chmod(acc.rc, 0o600)
    r = ok(acc.oimap("-o", "-u", "basic", *args))
    for i in range(3):
        loc = local_state(str(tmp_path / ("Mail%d" % i)))
        assert ids(loc["INBOX"]) == sorted(mid("ms%d_%d" % (i, k))
                                           for k in range(3)), r
        assert loc["Lists"] == [(mid("ml%d" % i), "S")]
        assert "*** Finished account 'A%d'" % i in r.output, r


# utf8foldernames -----------------------------------------------------------

def test_utf8foldernames_new_local_folder_like_offlineimap(twin):  # noqa
    """utf8foldernames = yes: a new local folder with a UTF-8 name is made
    on the server under the same (decoded) name, and its mail uploaded --
    by oimap as by offlineimap3."""
    twin.each(lambda e, a, c: seed(c, {"INBOX": [("u8a", [])],
                                       "Entwürfe": [("u8b", [])]}))
    twin.write_rc(overrides={"account": {"utf8foldernames": True}})
    twin.sync_ok()
    trees = twin.each(lambda e, a, c: sorted(a.tree()))
    assert trees["oimap"] == trees["offlineimap"] == ["Entwürfe", "INBOX"]
    twin.each(lambda e, a, c: add_local(a, "Bücher.Kinder", "u8c"))
    twin.each(lambda e, a, c: add_local(a, "Bücher", "u8d"))
    twin.sync_ok()
    same = twin.each(lambda e, a, c: sorted(c.list()))
    assert same["oimap"] == same["offlineimap"]
    assert "Bücher/Kinder" in same["oimap"]
    srv = twin.server()
    assert srv["oimap"] == srv["offlineimap"]
    assert ids(srv["oimap"]["Bücher/Kinder"]) == [mid("u8c")]
    before = twin.each(lambda e, a, c: snapshot(a, c))
    twin.sync_ok()
    assert twin.each(lambda e, a, c: snapshot(a, c)) == before


# one account failing does not stop the others ------------------------------

@pytest.mark.parametrize("failure", ["password", "connection", "lock"])
def test_failing_account_does_not_stop_the_others(dovecot, tmp_path,
                                                  failure):
    """Three accounts; the middle one cannot log in, loses its connection
    right after the greeting, or is locked by another process: the other
    two sync, the run ends non-zero naming the failed account, and the
    next run (the cause gone) syncs it."""
    import fcntl
    bin_ = os.environ.get("OIMAP_BIN", os.path.join(ROOT, "build", "oimap"))
    users, secs = [], None
    for i in range(3):
        u = dovecotmod.new_user(dovecot, hint="fa%d" % i)
        users.append(u)
        with u.client() as c:
            seed(c, {"INBOX": [("fa%d" % i, [])]})
        s = rcmod.rc_sections(u, tmp_path / ("Mail%d" % i),
                              tmp_path / "metadata", account="A%d" % i)
        if secs is None:
            secs = s
        else:
            secs.update({k: v for k, v in s.items() if k != "general"})
    secs["general"]["accounts"] = "A0, A1, A2"
    secs["general"]["maxsyncaccounts"] = 2
    good = dict(secs["Repository A1-Remote"])
    bad = secs["Repository A1-Remote"]
    if failure == "password":
        bad["remotepass"] = "NotThePassw0rd"
    elif failure == "connection":
        for k in ("remotehost", "remoteport", "ssl", "starttls"):
            bad.pop(k, None)
        bad["transporttunnel"] = "sh -c 'echo \"* OK hi\"; exit 0'"
    acc = Account(users[0], tmp_path, bin_, name="A0")

    def write():
        with open(acc.rc, "w") as fh:
            fh.write(rcmod.render(secs))
        os.chmod(acc.rc, 0o600)
    write()
    lockfh = None
    if failure == "lock":
        os.makedirs(tmp_path / "metadata", exist_ok=True)
        lockfh = open(tmp_path / "metadata" / "A1.lock", "w")
        fcntl.lockf(lockfh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        r = acc.oimap()
    finally:
        if lockfh:
            lockfh.close()
    assert r.rc != 0, r
    assert "A1" in r.output, r
    for i in (0, 2):
        loc = local_state(str(tmp_path / ("Mail%d" % i)))
        assert ids(loc["INBOX"]) == [mid("fa%d" % i)], r
    assert not os.path.exists(tmp_path / "Mail1" / "INBOX" / "cur") or \
        not any(local_state(str(tmp_path / "Mail1")).values())
    secs["Repository A1-Remote"] = good
    write()
    ok(acc.oimap())
    loc = local_state(str(tmp_path / "Mail1"))
    assert ids(loc["INBOX"]) == [mid("fa1")]


# mbnames with several accounts -----------------------------------------------

@pytest.mark.parametrize("extra", [{}, {"incremental": True},
                                   {"sort_keyfunc": "lambda d: "
                                    "(d['accountname'], d['foldername'])"}])
def test_mbnames_several_accounts_like_offlineimap(dovecot, tmp_path, extra):
    """[mbnames] with two accounts synced at once: the file oimap writes
    is the one offlineimap3 writes for the same mail."""
    bin_ = os.environ.get("OIMAP_BIN", os.path.join(ROOT, "build", "oimap"))
    out = {}
    for engine in ("oimap", "offlineimap"):
        d = tmp_path / engine
        d.mkdir()
        secs = None
        for i in range(2):
            u = dovecotmod.new_user(dovecot, hint="mb%d%s" % (i, engine[:2]))
            with u.client() as c:
                seed(c, {"INBOX": [("mb%d" % i, [])],
                         "Lists/Sub": [("mbs%d" % i, [])],
                         "Zed": []})
            s = rcmod.rc_sections(u, d / ("Mail%d" % i), d / "metadata",
                                  account="A%d" % i)
            if secs is None:
                secs = s
            else:
                secs.update({k: v for k, v in s.items() if k != "general"})
        secs["general"]["accounts"] = "A0, A1"
        secs["general"]["maxsyncaccounts"] = 2
        secs["mbnames"] = dict({
            "enabled": True, "filename": str(d / "mbnames.out"),
            "header": '"mailboxes "',
            "peritem": "+%(accountname)s/%(foldername)s",
            "sep": '" "', "footer": r'"\n"'}, **extra)
        acc = Account(u, d, bin_, name="A0")
        with open(acc.rc, "w") as fh:
            fh.write(rcmod.render(secs))
        os.chmod(acc.rc, 0o600)
        r = acc.oimap() if engine == "oimap" else acc.offlineimap()
        ok(r)
        with open(d / "mbnames.out") as fh:
            out[engine] = fh.read()
    assert out["oimap"] == out["offlineimap"]
    assert "+A0/Lists.Sub" in out["oimap"] and "+A1/Zed" in out["oimap"]


# ~/.netrc the way Python's netrc module reads it --------------------------------

NETRC_FORMS = {
    # several lines per entry, comments, another machine first
    "multiline": "# my hosts\nmachine other.example login x password y\n"
                 "machine {host}\n  login {user}\n  password {pw}\n",
    # the default entry
    "default": "machine other.example login x password y\n"
               "default login {user} password {pw}\n",
    # the same machine twice: Python keeps the last one
    "twice": "machine {host} login {user} password WrongOne1\n"
             "machine {host} login {user} password {pw}\n",
    # a quoted password with a space, a '#' and an escaped quote
    "quoted": 'machine {host} login {user} password "{qpw}"\n',
    # 'account' and 'macdef' tokens in between
    "tokens": "machine {host} login {user} account acc password {pw}\n"
              "macdef init\ncd /pub\n\nmachine zz login a password b\n",
}
ODD_PASSWORD = 'pa ss#w"rd1'


@pytest.mark.parametrize("form", sorted(NETRC_FORMS))
@pytest.mark.parametrize("engine", ["oimap", "offlineimap"])
def test_netrc_forms(dovecot, tmp_path, form, engine, request):
    """Each ~/.netrc form Python's netrc module understands gives oimap
    the same login as offlineimap3."""
    pw = ODD_PASSWORD if form == "quoted" else None
    name, password = dovecot.add_user(password=pw, hint="nr")
    user = dovecotmod.UserInfo(dovecot, name, password)
    with user.client() as c:
        seed(c, {"INBOX": [("nr1", [])]})
    bin_ = os.environ.get("OIMAP_BIN", os.path.join(ROOT, "build", "oimap"))
    acc = Account(user, tmp_path, bin_)
    acc.write_rc(remotepass=None,
                 **({"remoteuser": None} if form != "twice" else {}))
    path = os.path.join(acc.home, ".netrc")
    with open(path, "w") as fh:
        fh.write(NETRC_FORMS[form].format(
            host=user.host, user=user.user, pw=password,
            qpw=password.replace('"', '\\"')))
    os.chmod(path, 0o600)
    r = acc.oimap() if engine == "oimap" else acc.offlineimap()
    ok(r)
    assert ids(local_state(acc.maildir)["INBOX"]) == [mid("nr1")]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
@pytest.mark.parametrize("engine", ["oimap", "offlineimap"])
@pytest.mark.parametrize("need", ["password", "user"])
def test_netrc_readable_by_others_is_refused(account, imap, imap_user, mode,
                                             engine, need):
    """A ~/.netrc that group or others may read is refused, as Python's
    netrc module (so OfflineIMAP) refuses it: the account fails, nothing
    is synced, and the password in it is not used or printed."""
    seed(imap, {"INBOX": [("np1", [])]})
    if need == "user":      # the login comes from ~/.netrc too
        account.write_rc(remotepass=None, remoteuser=None)
    else:
        account.write_rc(remotepass=None)
    path = os.path.join(account.home, ".netrc")
    with open(path, "w") as fh:
        fh.write("machine %s login %s password %s\n"
                 % (imap_user.host, imap_user.user, imap_user.password))
    os.chmod(path, mode)
    r = account.oimap() if engine == "oimap" else account.offlineimap()
    assert r.rc != 0, r
    assert re.search(r"\.netrc", r.output), r
    assert imap_user.password not in r.output
    assert not any(account.tree().values())
    os.chmod(path, 0o600)
    r = account.oimap() if engine == "oimap" else account.offlineimap()
    ok(r)


@pytest.mark.parametrize("engine", ["oimap", "offlineimap"])
def test_remotepassfile_first_line_stripped_tilde(account, imap, imap_user,
                                                 engine):
    """remotepassfile = ~/secret/pw: the first line, stripped of blanks
    around it, is the password (repository/IMAP.py getpassword)."""
    seed(imap, {"INBOX": [("pf1", [])]})
    os.makedirs(os.path.join(account.home, "secret"))
    with open(os.path.join(account.home, "secret", "pw"), "w") as fh:
        fh.write("  %s \t\nsecond line\n" % imap_user.password)
    account.write_rc(remotepass=None, remotepassfile="~/secret/pw")
    r = account.oimap() if engine == "oimap" else account.offlineimap()
    ok(r)
    assert ids(local_state(account.maildir)["INBOX"]) == [mid("pf1")]
