# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for oimap's integration tests and `make demo`.

Standard library only (plus pytest in conftest.py), so the demo can use
them with Debian's /usr/bin/python3 and CI needs nothing else.

  certs    - a throwaway CA, a server certificate signed by it, a second
             unrelated CA, fingerprints (openssl CLI + hashlib)
  dovecot  - start/stop a throwaway Dovecot on free loopback ports, users,
             the PREAUTH command line
  imap     - seed and inspect mailboxes with imaplib; modified UTF-7
  mail     - deterministic RFC 5322 message generation
  maildir  - inspect a local Maildir tree as OfflineIMAP writes it
  rc       - write an offlineimaprc; run oimap and offlineimap3
  fakeimap - a scripted fake IMAP server that records the transcript
  status   - read OfflineIMAP's status cache and FolderValidity files
  demo     - the deterministic mailbox of `make demo`
  cli      - the command line behind scripts/test-dovecot and scripts/demo

A typical test (fixtures from tests/integration/conftest.py):

    from oimaptest.mail import make_message

    def test_new_remote_mail_is_downloaded(imap, account):
        imap.create("Archive/2024")
        imap.append("Archive/2024", make_message(1), ["\\Seen"])
        account.write_rc(mode="ssl")              # or plain/starttls/preauth
        r = account.oimap()                       # -o -u basic by default
        assert r.rc == 0, r
        assert account.summary()["Archive.2024"] == [
            (1, "S", "<m1@oimap.test>")]
        # the same with account.offlineimap() for the reference behaviour
"""
