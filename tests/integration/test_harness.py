# SPDX-License-Identifier: GPL-2.0-or-later
"""The integration harness proves itself: Dovecot on both ports with the
test CA, users, seeding and inspecting, PREAUTH, the config writer with
offlineimap3 as the client, the Maildir reader, the fake server."""
import datetime
import imaplib
import os
import re
import socket
import ssl
import subprocess

import pytest

from oimaptest import imap as imapmod
from oimaptest import maildir as maildirmod
from oimaptest.fakeimap import Step, literal
from oimaptest.mail import make_message, message_id


# Server and TLS -----------------------------------------------------------

def test_plain_port_login_and_starttls(dovecot, imap_user):
    c = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=10)
    assert "STARTTLS" in c.capabilities
    c.starttls(ssl.create_default_context(cafile=imap_user.cafile))
    assert c.login(imap_user.user, imap_user.password)[0] == "OK"
    c.logout()


def test_plain_login_without_tls(imap_user):
    with imap_user.client("plain") as c:
        assert c.list() == ["INBOX"]


def test_implicit_tls_verifies_against_test_ca(imap_user):
    with imap_user.client("ssl") as c:
        sock = c.c.sock
        der = sock.getpeercert(binary_form=True)
        import hashlib
        assert hashlib.sha256(der).hexdigest() == \
            imap_user.fingerprints["sha256"]
        assert c.list() == ["INBOX"]


def test_verification_fails_against_wrong_ca(dovecot, imap_user):
    ctx = ssl.create_default_context(cafile=imap_user.wrong_cafile)
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(dovecot.host, dovecot.sslport, ssl_context=ctx,
                          timeout=10)
    c = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=10)
    with pytest.raises(ssl.SSLCertVerificationError):
        c.starttls(ctx)


def test_cert_names_and_fingerprints(certs):
    out = subprocess.run(["openssl", "x509", "-noout", "-ext",
                          "subjectAltName", "-fingerprint", "-sha1", "-in",
                          certs.server_cert], capture_output=True, text=True,
                         check=True).stdout
    assert "DNS:localhost" in out and "IP Address:127.0.0.1" in out
    fp = re.search(r"Fingerprint=([0-9A-F:]+)", out).group(1)
    assert fp.replace(":", "").lower() == certs.sha1
    assert len(certs.sha256) == 64 and len(certs.sha512) == 128
    assert certs.sha256 == certs.sha256.lower()


# Users --------------------------------------------------------------------

def test_users_are_unique_and_isolated(dovecot, imap_user):
    other = __import__("oimaptest.dovecot").dovecot.new_user(dovecot)
    assert other.user != imap_user.user
    assert other.password != imap_user.password
    with imap_user.client() as a:
        a.create("Private")
        a.append("INBOX", make_message(1))
    with other.client() as b:
        assert b.list() == ["INBOX"]
        assert b.fetch("INBOX") == []
    with pytest.raises(imaplib.IMAP4.error):
        imaplib.IMAP4(dovecot.host, dovecot.port).login(imap_user.user,
                                                        other.password)


# Seed / inspect -------------------------------------------------------------

def test_seed_and_inspect_round_trip(imap):
    imap.create("Archive/2024/Q1")
    imap.create("Entwürfe & Co")
    assert imap.list() == ["Archive", "Archive/2024", "Archive/2024/Q1",
                           "Entwürfe & Co", "INBOX"]
    raw = [n for _, _, n in imap.list_raw()]
    assert "Entwürfe & Co" in raw
    when = datetime.datetime(2023, 5, 6, 7, 8, 9,
                             tzinfo=datetime.timezone.utc)
    u1 = imap.append("Archive/2024/Q1", make_message(1), ["\\Seen"], when)
    u2 = imap.append("Archive/2024/Q1", make_message(2),
                     ["\\Flagged", "\\Answered"])
    u3 = imap.append("Entwürfe & Co", make_message(3))
    assert (u1, u2, u3) == (1, 2, 1)
    msgs = imap.fetch("Archive/2024/Q1")
    assert [(m.uid, m.flags, m.message_id) for m in msgs] == [
        (1, ["\\Seen"], message_id("m1")),
        (2, ["\\Answered", "\\Flagged"], message_id("m2"))]
    assert msgs[0].body == make_message(1)
    assert msgs[0].internaldate == "06-May-2023 07:08:09 +0000"
    imap.set_flags("Archive/2024/Q1", u2, ["\\Flagged"], "-")
    imap.set_flags("Archive/2024/Q1", u1, ["\\Draft"], "")
    assert [m.flags for m in imap.fetch("Archive/2024/Q1")] == [
        ["\\Draft"], ["\\Answered"]]
    imap.expunge("Archive/2024/Q1", [u1])
    assert [m.uid for m in imap.fetch("Archive/2024/Q1")] == [2]
    assert imap.status("Archive/2024/Q1")["UIDNEXT"] == 3
    assert [m.message_id for m in imap.fetch("Entwürfe & Co")] == [
        message_id("m3")]


def test_mutf7():
    for s, enc in [("Entwürfe", "Entw&APw-rfe"), ("a&b", "a&-b"),
                   ("日本語", "&ZeVnLIqe-"), ("plain", "plain")]:
        assert imapmod.mutf7_encode(s) == enc
        assert imapmod.mutf7_decode(enc) == s


def test_make_message_is_deterministic():
    assert make_message(7) == make_message(7)
    assert make_message(7) != make_message(8)
    assert b"\r\n" in make_message(7) and b"\n\n" not in make_message(7)
