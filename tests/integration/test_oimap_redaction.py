# SPDX-License-Identifier: GPL-2.0-or-later
"""Credentials never appear in any output of the real binary, debug logs
included (issue 3): a full sync with every debug type on, over plain,
STARTTLS and implicit TLS, writing a -l log file too."""
import base64
import os

import pytest

from oimaptest.mail import make_message


def secret_forms(user, password):
    """The password as it could leak: plain, and inside the SASL PLAIN
    and LOGIN payloads."""
    plain = ("\0%s\0%s" % (user, password)).encode()
    return [password,
            base64.b64encode(password.encode()).decode(),
            base64.b64encode(plain).decode()]


@pytest.mark.parametrize("mode", ["plain", "starttls", "ssl"])
@pytest.mark.parametrize("mechs", ["PLAIN", "LOGIN"])
def test_debug_sync_never_shows_the_password(imap_user, imap, account,
                                             tmp_path, mode, mechs):
    imap.append("INBOX", make_message(1), ["\\Seen"])
    account.write_rc(mode=mode, auth_mechanisms=mechs)
    log = tmp_path / "oimap.log"
    r = account.oimap("-o", "-u", "basic", "-d", "all", "-l", str(log))
    assert r.rc == 0, r
    # the run really logged the protocol, including the login
    assert "<redacted>" in r.err, r.err
    assert "C: " in r.err
    text = r.out + r.err + log.read_text()
    for form in secret_forms(imap_user.user, imap_user.password):
        assert form not in text
    # and it did sync
    assert sum(len(v) for v in account.summary().values()) == 1


def test_info_and_errors_never_show_the_password(imap_user, account):
    account.write_rc(mode="plain")
    r = account.oimap("--info")
    assert r.rc == 0, r
    assert imap_user.password not in r.out + r.err
    assert "<redacted>" in r.out
    # a wrong password: the error names the user, never a password
    account.write_rc(mode="plain", remotepass="not-the-" + imap_user.password)
    r = account.oimap("-o", "-u", "basic", "-d", "imap")
    assert r.rc != 0
    assert "authentication" in r.err.lower()
    assert imap_user.password not in r.out + r.err
