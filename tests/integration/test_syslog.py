# SPDX-License-Identifier: GPL-2.0-or-later
"""-s (log to syslog as well) and -u syslog (to syslog instead of the
terminal), through the real syslog(3): the test listens on /dev/log, so it
runs only as root on a machine without a syslog daemon (skipped
otherwise, never touching a real /dev/log)."""
import os
import socket

import pytest

from oimaptest.mail import make_message

DEVLOG = "/dev/log"


@pytest.fixture
def devlog():
    if os.geteuid() != 0 or os.path.exists(DEVLOG):
        pytest.skip("needs root and no syslog daemon on /dev/log")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.bind(DEVLOG)
    except OSError as e:
        s.close()
        pytest.skip("cannot listen on /dev/log: %s" % e)
    s.settimeout(0)
    try:
        yield s
    finally:
        s.close()
        os.unlink(DEVLOG)


def drain(s):
    out = []
    while True:
        try:
            out.append(s.recv(65536).decode("utf-8", "replace"))
        except BlockingIOError:
            return out


def test_s_logs_to_syslog_as_well(devlog, account, imap):
    imap.append("INBOX", make_message("s1"))
    r = account.oimap("-o", "-u", "basic", "-s")
    assert r.rc == 0, r.err
    lines = drain(devlog)
    assert any("oimap[" in l and "folder INBOX: 1 new" in l for l in lines), \
        lines
    # <14> = LOG_USER | LOG_INFO, as OfflineIMAP's SysLogHandler
    assert any(l.startswith("<14>") for l in lines), lines
    # and the terminal still has them
    assert "folder INBOX: 1 new" in r.out + r.err


def test_syslog_ui_replaces_the_terminal(devlog, account, imap):
    imap.append("INBOX", make_message("s2"))
    r = account.oimap("-o", "-u", "syslog")
    assert r.rc == 0, r.err
    assert "folder INBOX" not in r.out + r.err
    lines = drain(devlog)
    assert any("folder INBOX: 1 new" in l for l in lines), lines


def test_errors_go_to_syslog_with_their_priority(devlog, account, imap):
    account.write_rc(remotepass="wrong-password")
    r = account.oimap("-o", "-u", "syslog")
    assert r.rc != 0
    lines = drain(devlog)
    # <11> = LOG_USER | LOG_ERR
    errs = [l for l in lines if l.startswith("<11>")]
    assert errs, lines
    assert not any("wrong-password" in l for l in lines)
