# SPDX-License-Identifier: GPL-2.0-or-later
"""Credentials never reach the output, debug logs included.

imap-cli runs with --debug imap (and --debug all) for every way the client
logs in -- the LOGIN command, AUTHENTICATE PLAIN with and without SASL-IR,
AUTHENTICATE LOGIN, CRAM-MD5, XOAUTH2 -- against Dovecot or the scripted
fake server; everything it prints (stdout and stderr) is searched for the
secret in every form that crosses the wire: as is, quoted, and base64
(alone and inside the PLAIN and XOAUTH2 payloads), while "<redacted>"
must be there to show the logging did happen.
"""
import base64
import hashlib
import hmac
import re
import secrets

import pytest

import test_imap_client as t
from oimaptest.dovecot import UserInfo
from oimaptest.fakeimap import Step

FAKE_USER = t.FAKE_USER


@pytest.fixture(scope="session")
def cli_bin():
    import os
    path = t.cli_path()
    if not os.access(path, os.X_OK):
        pytest.fail("imap-cli not found at %s; run `make` first" % path)
    return path


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def secret_forms(user, secret):
    """Every form of secret that could leak: raw, IMAP-quoted, base64
    alone, in SASL PLAIN, in AUTHENTICATE LOGIN, in XOAUTH2."""
    quoted = secret.replace("\\", "\\\\").replace('"', '\\"')
    forms = {secret, quoted, b64(secret),
             b64("\0%s\0%s" % (user, secret)),
             b64("%s\0%s" % (user, secret)),
             b64("user=%s\x01auth=Bearer %s\x01\x01" % (user, secret)),
             "auth=Bearer %s" % secret}
    # base64 of the secret at any alignment inside a longer payload: the
    # stable middle of each of the three encodings
    for shift in range(3):
        enc = b64(b"\0" * shift + secret.encode())
        core = enc[4 if shift else 0:-4]
        if len(core) >= 8:
            forms.add(core)
    return forms


def assert_no_secret(r, user, secret, fake=None):
    """No form of secret in r's output.  With the fake server, check the
    detector itself too: some form must be in what crossed the wire."""
    text = r.out + r.err
    if fake is not None:
        wire = fake.transcript_text()
        assert any(f in wire for f in secret_forms(user, secret)), wire
    for form in secret_forms(user, secret):
        assert form not in text, "secret form %r leaked in:\n%s" % (form,
                                                                   text)
    assert "<redacted>" in r.err, "no redacted line logged:\n%s" % r.err


def run(cli_bin, args, debug="imap"):
    return t.run_cli(cli_bin, ["--debug", debug] + args + ["noop"])


# Dovecot ---------------------------------------------------------------------

@pytest.fixture
def special_user(dovecot):
    """A user whose password needs quoting in a LOGIN command."""
    pw = 'S3"cr\\t %s' % secrets.token_hex(6)
    user, _ = dovecot.add_user(password=pw, hint="redact")
    return UserInfo(dovecot, user, pw)


@pytest.mark.parametrize("debug", ["imap", "all"])
@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_dovecot_authenticate(cli_bin, special_user, tmp_path, mech, debug):
    """AUTHENTICATE PLAIN with SASL-IR, AUTHENTICATE LOGIN (Dovecot offers
    both and SASL-IR)."""
    u = special_user
    r = run(cli_bin, t.conn_args(u, "starttls", tmp_path) +
            ["--auth-mechanisms", mech], debug)
    assert r.rc == 0, r
    assert re.search(r"C: \S+ AUTHENTICATE %s" % mech, r.err), r.err
    if mech == "PLAIN":
        assert re.search(r"C: \S+ AUTHENTICATE PLAIN <redacted>", r.err)
    assert_no_secret(r, u.user, u.password)


def test_dovecot_login_command(cli_bin, dovecot_factory, tmp_path):
    server = dovecot_factory(auth_mechanisms="plain")
    pw = 'L0g"in\\pw %s' % secrets.token_hex(6)
    user, _ = server.add_user(password=pw, hint="redactlogin")
    u = UserInfo(server, user, pw)
    r = run(cli_bin, t.conn_args(u, "plain", tmp_path) +
            ["--auth-mechanisms", "LOGIN"], "all")
    assert r.rc == 0, r
    assert re.search(r"C: \S+ LOGIN .*<redacted>", r.err), r.err
    assert_no_secret(r, u.user, u.password)


def test_dovecot_wrong_password(cli_bin, special_user, tmp_path):
    u = special_user
    wrong = u.password + "-wrong"
    r = run(cli_bin, t.conn_args(u, "plain", tmp_path, password=wrong))
    assert r.rc == t.RC_CONN and r.error["kind"] == "authentication", r
    assert_no_secret(r, u.user, wrong)


# fake server: the mechanisms Dovecot is not set up for ------------------------

def _fake(fake_imap, caps, steps):
    return t._auth_fake(fake_imap, caps, steps)


def test_fake_plain_without_sasl_ir(cli_bin, fake_imap, tmp_path):
    pw = "Pl41n-" + secrets.token_hex(8)
    payload = b64("\0%s\0%s" % (FAKE_USER, pw))
    fake = _fake(fake_imap, "IMAP4rev1 AUTH=PLAIN",
                 [Step(r"\S+ AUTHENTICATE PLAIN", "+ "),
                  Step(re.escape(payload))])
    r = run(cli_bin, t.fake_args(fake, tmp_path, "--auth-mechanisms",
                                 "PLAIN", password=pw))
    fake.wait(10)
    assert r.rc == 0, (r, fake.transcript_text())
    assert_no_secret(r, FAKE_USER, pw, fake)


def test_fake_plain_sasl_ir(cli_bin, fake_imap, tmp_path):
    pw = "Ir-" + secrets.token_hex(8)
    payload = b64("\0%s\0%s" % (FAKE_USER, pw))
    fake = _fake(fake_imap, "IMAP4rev1 SASL-IR AUTH=PLAIN",
                 [Step(r"\S+ AUTHENTICATE PLAIN " + re.escape(payload))])
    r = run(cli_bin, t.fake_args(fake, tmp_path, "--auth-mechanisms",
                                 "PLAIN", password=pw))
    fake.wait(10)
    assert r.rc == 0, (r, fake.transcript_text())
    assert_no_secret(r, FAKE_USER, pw, fake)


def test_fake_authenticate_login(cli_bin, fake_imap, tmp_path):
    pw = "L0gin-" + secrets.token_hex(8)
    fake = _fake(fake_imap, "IMAP4rev1 AUTH=LOGIN",
                 [Step(r"\S+ AUTHENTICATE LOGIN", "+ " + b64("Username:")),
                  Step(re.escape(b64(FAKE_USER)), "+ " + b64("Password:")),
                  Step(re.escape(b64(pw)))])
    r = run(cli_bin, t.fake_args(fake, tmp_path, "--auth-mechanisms",
                                 "LOGIN", password=pw))
    fake.wait(10)
    assert r.rc == 0, (r, fake.transcript_text())
    assert_no_secret(r, FAKE_USER, pw, fake)


def test_fake_login_command(cli_bin, fake_imap, tmp_path):
    pw = "Cmd-" + secrets.token_hex(8)
    fake = _fake(fake_imap, "IMAP4rev1",
                 [Step(r'\S+ LOGIN "?%s"? "?%s"?' % (FAKE_USER, pw))])
    r = run(cli_bin, t.fake_args(fake, tmp_path, "--auth-mechanisms",
                                 "LOGIN", password=pw))
    fake.wait(10)
    assert r.rc == 0, (r, fake.transcript_text())
    assert_no_secret(r, FAKE_USER, pw, fake)


def test_fake_cram_md5(cli_bin, fake_imap, tmp_path):
    pw = "Cram-" + secrets.token_hex(8)
    challenge = "<4711.1234@fake.example>"
    resp = b64("%s %s" % (FAKE_USER, hmac.new(pw.encode(), challenge.encode(),
                                              hashlib.md5).hexdigest()))
    fake = _fake(fake_imap, "IMAP4rev1 AUTH=CRAM-MD5",
                 [Step(r"\S+ AUTHENTICATE CRAM-MD5", "+ " + b64(challenge)),
                  Step(re.escape(resp))])
    r = run(cli_bin, t.fake_args(fake, tmp_path, "--auth-mechanisms",
                                 "CRAM-MD5", password=pw))
    fake.wait(10)
    assert r.rc == 0, (r, fake.transcript_text())
    # CRAM-MD5 never sends the password; its response must not show either
    assert_no_secret(r, FAKE_USER, pw)
    assert resp not in r.out + r.err


@pytest.mark.parametrize("sasl_ir", [True, False])
def test_fake_xoauth2(cli_bin, fake_imap, tmp_path, sasl_ir):
    token = "ya29." + secrets.token_urlsafe(24)
    payload = b64("user=%s\x01auth=Bearer %s\x01\x01" % (FAKE_USER, token))
    if sasl_ir:
        fake = _fake(fake_imap, "IMAP4rev1 SASL-IR AUTH=XOAUTH2",
                     [Step(r"\S+ AUTHENTICATE XOAUTH2 " + re.escape(payload))])
    else:
        fake = _fake(fake_imap, "IMAP4rev1 AUTH=XOAUTH2",
                     [Step(r"\S+ AUTHENTICATE XOAUTH2", "+ "),
                      Step(re.escape(payload))])
    r = run(cli_bin, t.fake_args(fake, tmp_path, "--auth-mechanisms",
                                 "XOAUTH2", "--oauth2-token-file",
                                 t.secret_file(tmp_path, token, "tok")),
            "all")
    fake.wait(10)
    assert r.rc == 0, (r, fake.transcript_text())
    assert_no_secret(r, FAKE_USER, token, fake)


def test_fake_xoauth2_rejected(cli_bin, fake_imap, tmp_path):
    token = "ya29." + secrets.token_urlsafe(24)
    payload = b64("user=%s\x01auth=Bearer %s\x01\x01" % (FAKE_USER, token))
    fake = fake_imap([Step(r"\S+ AUTHENTICATE XOAUTH2 " + re.escape(payload),
                           "+ " + b64('{"status":"401"}')),
                      Step(r"", "{tag} NO [AUTHENTICATIONFAILED] no")],
                     greeting="* OK [CAPABILITY IMAP4rev1 SASL-IR "
                     "AUTH=XOAUTH2] fake")
    r = run(cli_bin, t.fake_args(fake, tmp_path, "--auth-mechanisms",
                                 "XOAUTH2", "--oauth2-token-file",
                                 t.secret_file(tmp_path, token, "tok")))
    fake.wait(10)
    assert r.rc == t.RC_CONN, r
    assert_no_secret(r, FAKE_USER, token, fake)
