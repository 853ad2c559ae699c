# SPDX-License-Identifier: GPL-2.0-or-later
"""A repository without a password: the default interface (ttyui) asks
for it on the terminal, as OfflineIMAP does; without a terminal (cron)
nothing is asked and the login fails with a clear message."""
import os
import pty
import select
import time

from oimaptest.mail import make_message, message_id


def run_on_pty(argv, env, answer, timeout=60):
    """Run argv with a pty as its terminal; type answer when the prompt
    shows.  Returns (exit status, everything it printed)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    typed = False
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
        if not typed and b"Enter password for user '" in out:
            os.write(fd, answer.encode() + b"\n")
            typed = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def test_ttyui_asks_for_the_password(account, imap):
    imap.append("INBOX", make_message("p1"))
    account.write_rc(remotepass=None, maxconnections=2)
    env = dict(os.environ, HOME=account.home)
    rc, out = run_on_pty([account.oimap_bin, "-c", account.rc, "-o"], env,
                         account.server.password)
    assert rc == 0, out
    assert out.count("Enter password for user '%s': " %
                     account.server.user) == 1, out
    # not echoed
    assert account.server.password not in out
    assert message_id("mp1") in {m.message_id
                                 for m in account.tree()["INBOX"]}


def test_no_terminal_no_prompt(account, imap):
    account.write_rc(remotepass=None)
    r = account.oimap("-o")  # default UI, stdin not a terminal
    assert r.rc != 0
    assert "Enter password" not in r.out + r.err
    assert "no password or token is configured" in r.err, r.err


def test_wrong_password_typed_fails_cleanly(account, imap):
    account.write_rc(remotepass=None)
    env = dict(os.environ, HOME=account.home)
    rc, out = run_on_pty([account.oimap_bin, "-c", account.rc, "-o"], env,
                         "not-the-password")
    assert rc != 0
    assert "authentication as" in out and "failed" in out, out
    assert "not-the-password" not in out
