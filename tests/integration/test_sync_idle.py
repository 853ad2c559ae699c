# SPDX-License-Identifier: GPL-2.0-or-later
"""IDLE folders (idlefolders) during the autorefresh sleep: new mail in an
idle folder is synced without waiting for the next refresh.

autorefresh is an hour in these tests, so a message that arrives while the
test waits can only have come through IDLE; the waits poll the Maildir
(functional, not timed: they only bound how long a failure takes)."""
import os
import signal
import subprocess
import time

import pytest

from oimaptest import maildir as maildirmod
from oimaptest.mail import make_message, message_id

WAIT = int(os.environ.get('IDLE_WAIT', 60))  # seconds before a missing message counts as a failure


def start(account, log_path, *extra):
    env = dict(os.environ, HOME=account.home)
    env.pop("XDG_CONFIG_HOME", None)
    log = open(log_path, "w")
    p = subprocess.Popen([account.oimap_bin, "-c", account.rc, "-u", "basic",
                          *extra], env=env, stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return p


def ids(account, folder):
    return {m.message_id for m in account.tree().get(folder, [])}


def wait_for(pred, p, log_path):
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        if pred():
            return
        if p.poll() is not None:
            break
        time.sleep(0.2)
    with open(log_path) as f:
        pytest.fail("condition not met; oimap output:\n" + f.read())


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        pytest.fail("oimap did not stop within 60 s of SIGTERM")


def test_new_mail_in_idle_folder_arrives(account, imap, tmp_path):
    imap.create("Lists")
    imap.append("INBOX", make_message("i0"))
    account.write_rc(overrides={
        "account": {"autorefresh": 60},
        "remote": {"idlefolders": "['INBOX', 'Lists']"}})
    log_path = str(tmp_path / "idle.log")
    p = start(account, log_path, *os.environ.get("IDLE_DEBUG", "").split())
    try:
        wait_for(lambda: message_id("mi0") in ids(account, "INBOX"), p,
                 log_path)
        # the first sync is done; the sleep with IDLE begins
        imap.append("INBOX", make_message("i1"), ["\\Seen"])
        wait_for(lambda: message_id("mi1") in ids(account, "INBOX"), p,
                 log_path)
        imap.append("Lists", make_message("l1"))
        wait_for(lambda: message_id("ml1") in ids(account, "Lists"), p,
                 log_path)
        # and again on the same folder: the idler went back to IDLE
        imap.append("INBOX", make_message("i2"))
        wait_for(lambda: message_id("mi2") in ids(account, "INBOX"), p,
                 log_path)
    finally:
        rc = stop(p)
    assert rc == 0, open(log_path).read()
    inbox = {m.message_id: m.flags for m in account.tree()["INBOX"]}
    assert inbox[message_id("mi1")] == "S"
    assert len(account.tree()["INBOX"]) == 3
    out = open(log_path).read()
    # the IDLE syncs synced only the folder that changed
    assert out.count("Syncing Lists") == 2, out  # first sync + one IDLE
    # nothing left behind: a second, normal run changes nothing
    r = account.oimap()
    assert r.rc == 0, r.err
    assert (r.out + r.err).count("unchanged, skipped") == 2, r.err


def test_idle_is_not_used_with_o(account, imap, tmp_path):
    """-o (run once) never sleeps, so never idles: the run ends."""
    imap.append("INBOX", make_message("o1"))
    account.write_rc(overrides={
        "account": {"autorefresh": 60},
        "remote": {"idlefolders": "['INBOX']"}})
    r = account.oimap("-o", "-u", "basic")
    assert r.rc == 0, r.err
    assert message_id("mo1") in ids(account, "INBOX")


def test_idle_on_missing_folder_warns_and_keeps_going(account, imap,
                                                      tmp_path):
    """A folder that cannot be IDLEd on (it does not exist) is reported;
    the other idle folders still work and SIGTERM still stops the run."""
    account.write_rc(overrides={
        "account": {"autorefresh": 60},
        "remote": {"idlefolders": "['NoSuchFolder', 'INBOX']"}})
    log_path = str(tmp_path / "idle.log")
    p = start(account, log_path)
    try:
        wait_for(lambda: "IDLE on folder NoSuchFolder" in
                 open(log_path).read(), p, log_path)
        imap.append("INBOX", make_message("m1"))
        wait_for(lambda: message_id("mm1") in ids(account, "INBOX"), p,
                 log_path)
    finally:
        rc = stop(p)
    assert rc == 0, open(log_path).read()


def test_sigusr1_ends_the_sleep_with_idle(account, imap, tmp_path):
    """SIGUSR1 ("sync now") still ends the sleep while idlers run, and a
    change in a folder that is not idled is synced by that full sync."""
    imap.create("Other")
    account.write_rc(overrides={
        "account": {"autorefresh": 60},
        "remote": {"idlefolders": "['INBOX']"}})
    log_path = str(tmp_path / "idle.log")
    p = start(account, log_path)
    try:
        wait_for(lambda: "Other" in account.tree(), p, log_path)
        imap.append("Other", make_message("x1"))
        time.sleep(0.5)
        p.send_signal(signal.SIGUSR1)
        wait_for(lambda: message_id("mx1") in ids(account, "Other"), p,
                 log_path)
    finally:
        rc = stop(p)
    assert rc == 0, open(log_path).read()


def test_sigusr1_during_a_sync_skips_the_next_sleep(account, imap, tmp_path):
    """SIGUSR1 that arrives while the account syncs is not lost: the sleep
    after that sync is skipped (OfflineIMAP's skipsleep, consumed by the
    next sleep).  The presynchook holds the first sync until the test has
    sent the signal, so the signal surely falls inside the sync."""
    gate = tmp_path / "gate"
    started = tmp_path / "started"
    hook = ("n=$(cat %s 2>/dev/null || echo 0); echo $((n+1)) > %s; "
            "touch %s; while [ -e %s ]; do sleep 0.05; done"
            % (started, started, gate, gate))
    imap.append("INBOX", make_message("s1"))
    account.write_rc(overrides={
        "account": {"autorefresh": 60, "presynchook": hook},
        "remote": {"idlefolders": "['INBOX']"}})
    log_path = str(tmp_path / "idle.log")
    p = start(account, log_path)
    try:
        wait_for(lambda: gate.exists(), p, log_path)
        p.send_signal(signal.SIGUSR1)
        time.sleep(0.3)     # let the signal thread take it; not asserted on
        gate.unlink()
        # the first sync ends, the sleep is skipped: a second sync starts
        wait_for(lambda: started.exists() and
                 started.read_text().strip() == "2" and gate.exists(),
                 p, log_path)
        gate.unlink()
    finally:
        rc = stop(p)
    assert rc == 0, open(log_path).read()


@pytest.mark.parametrize("nofile", [4, 6, 8])
def test_few_file_descriptors_do_not_crash(account, imap, tmp_path, nofile):
    """With almost no file descriptors left, the IDLE set-up (a pipe, then
    connections) fails; the account must report or skip it, never crash
    (SIGSEGV) on the half-made IDLE state."""
    import resource
    imap.append("INBOX", make_message("f1"))
    account.write_rc(overrides={
        "account": {"autorefresh": 60},
        "remote": {"idlefolders": "['INBOX']"}})
    log_path = str(tmp_path / "idle.log")

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    env = dict(os.environ, HOME=account.home)
    env.pop("XDG_CONFIG_HOME", None)
    with open(log_path, "w") as log:
        p = subprocess.Popen([account.oimap_bin, "-c", account.rc, "-u",
                              "basic"], env=env, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT,
                             preexec_fn=limit)
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    if p.poll() is None:
        rc = stop(p)
    else:
        rc = p.returncode
    out = open(log_path).read()
    assert rc >= 0, "killed by signal %d:\n%s" % (-rc, out)


def test_server_drops_the_idle_connection(account, imap, imap_user,
                                          tmp_path):
    """The server ends the IDLE session (doveadm kick: BYE, close): the
    idler says so, connects again after a pause, and mail that arrived
    meanwhile is synced at once then (the reconnected idler marks its
    folder), long before the hour of autorefresh."""
    imap.append("INBOX", make_message("k0"))
    account.write_rc(overrides={
        "account": {"autorefresh": 60},
        "remote": {"idlefolders": "['INBOX']"}})
    log_path = str(tmp_path / "idle.log")
    p = start(account, log_path)
    try:
        wait_for(lambda: message_id("mk0") in ids(account, "INBOX"), p,
                 log_path)
        time.sleep(0.5)     # let the idler reach IDLE; not asserted on
        subprocess.run(["doveadm", "-c", imap_user.server.conf_path, "kick",
                        imap_user.user], check=True, capture_output=True)
        wait_for(lambda: "IDLE on folder INBOX" in open(log_path).read(),
                 p, log_path)
        # (the kick closed the test's own session too)
        c = imap_user.client()
        c.append("INBOX", make_message("k1"))
        c.close()
        end = time.monotonic() + 180    # the retry pause is 60 s
        while time.monotonic() < end and p.poll() is None:
            if message_id("mk1") in ids(account, "INBOX"):
                break
            time.sleep(0.5)
        assert message_id("mk1") in ids(account, "INBOX"), \
            open(log_path).read()
    finally:
        rc = stop(p)
    assert rc == 0, open(log_path).read()


def test_remotepasseval_runs_once_with_idlers(account, imap, imap_user,
                                              tmp_path):
    """remotepasseval is evaluated once per repository and process (a
    password manager must not ask again and again), also when the IDLE
    connections and the sync connect at the same time."""
    imap.create("Lists")
    imap.append("INBOX", make_message("p1"))
    counter = tmp_path / "calls"
    helpers = tmp_path / "helpers.py"
    helpers.write_text(
        "import time\n"
        "def get_pass():\n"
        "    with open(%r, 'a') as f:\n"
        "        f.write('x\\n')\n"
        "    time.sleep(1)   # a slow password manager\n"
        "    return %r\n" % (str(counter), imap_user.password))
    account.write_rc(overrides={
        "general": {"pythonfile": str(helpers)},
        "account": {"autorefresh": 60},
        "remote": {"remotepass": None, "remotepasseval": "get_pass()",
                   "idlefolders": "['INBOX', 'Lists']"}})
    log_path = str(tmp_path / "idle.log")
    p = start(account, log_path)
    try:
        wait_for(lambda: message_id("mp1") in ids(account, "INBOX"), p,
                 log_path)
    finally:
        rc = stop(p)
    assert rc == 0, open(log_path).read()
    assert counter.read_text().count("x") == 1, open(log_path).read()


def test_server_without_idle_is_said_once(dovecot_factory, tmp_path):
    """A server without IDLE: the idler says so once and leaves the folder
    to the autorefresh (imapserver.py), instead of logging in again and
    warning every minute; the sync itself is not held up."""
    from conftest import Account
    from oimaptest import dovecot as dovecotmod
    server = dovecot_factory(extra_conf="imap_capability = IMAP4rev1 "
                             "LITERAL+ UIDPLUS NAMESPACE")
    user = dovecotmod.new_user(server, hint="noidle")
    c = user.client()
    c.append("INBOX", make_message("n1"))
    c.close()
    bin_path = os.environ.get("OIMAP_BIN", os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "build", "oimap"))
    account = Account(user, tmp_path, bin_path)
    account.write_rc(overrides={
        "account": {"autorefresh": 60},
        "remote": {"idlefolders": "['INBOX']"}})
    log_path = str(tmp_path / "idle.log")
    p = start(account, log_path)
    try:
        wait_for(lambda: message_id("mn1") in ids(account, "INBOX") and
                 "IDLE" in open(log_path).read(), p, log_path)
    finally:
        rc = stop(p)
    out = open(log_path).read()
    assert rc == 0, out
    assert "does not support IDLE" in out, out
    assert "trying again" not in out, out
