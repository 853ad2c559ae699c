# SPDX-License-Identifier: GPL-2.0-or-later
"""OAuth2 with a refresh token (oauth2_refresh_token, oauth2_client_id,
oauth2_client_secret, oauth2_request_url): oimap asks the token endpoint
for an access token and logs in with XOAUTH2.  The server is a real
Dovecot whose oauth2 passdb checks tokens against the same small
authorization server (RFC 7662 introspection)."""
import os
import tempfile

import pytest

from oimaptest import dovecot as dovecotmod
from oimaptest import oauth as oauthmod
from oimaptest import rc as rcmod
from oimaptest.mail import make_message, message_id


@pytest.fixture
def oauth_env(dovecot_factory):
    d = tempfile.mkdtemp(prefix="oimap-oauth-")
    srv = oauthmod.OAuthServer(users={}).start()
    dv = dovecot_factory(extra_conf=oauthmod.dovecot_conf(d, srv.introspect_url),
                         auth_mechanisms="plain login xoauth2")
    user = dovecotmod.new_user(dv, hint="oauth")
    srv.users[user.user] = "refresh-%s-secret" % user.user
    yield srv, dv, user
    srv.stop()


def write(account_tmp, srv, user, acct=None, **extra):
    maildir = os.path.join(account_tmp, "Mail")
    meta = os.path.join(account_tmp, "meta")
    remote = {"remotepass": None,
              "oauth2_refresh_token": srv.users[user.user],
              "oauth2_client_id": srv.client_id,
              "oauth2_client_secret": srv.client_secret,
              "oauth2_request_url": srv.token_url,
              "auth_mechanisms": "XOAUTH2"}
    remote.update(extra)
    rc = os.path.join(account_tmp, "rc")
    rcmod.write_rc(rc, user, maildir, meta, overrides={
        "remote": remote, "local": {}, "general": {},
        "account": acct or {}})
    return rc, maildir


def run(oimap_bin, rc, tmp_path, *args):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return rcmod.run(oimap_bin, rc, *(args or ("-o", "-u", "basic")),
                     home=str(home))


def test_refresh_token_syncs(oauth_env, oimap_bin, tmp_path):
    srv, dv, user = oauth_env
    c = user.client()
    c.create("Work")
    c.append("INBOX", make_message("o1"))
    c.append("Work", make_message("o2"))
    c.close()
    rc, maildir = write(str(tmp_path), srv, user, maxconnections=2)
    r = run(oimap_bin, rc, tmp_path)
    assert r.rc == 0, r.err
    from oimaptest import maildir as md
    tree = md.read_tree(maildir)
    assert {m.message_id for m in tree["INBOX"]} == {message_id("mo1")}
    assert {m.message_id for m in tree["Work"]} == {message_id("mo2")}
    # one token for the whole run, with both connections
    assert len(srv.requests) == 1
    form = srv.requests[0]
    assert form["grant_type"] == "refresh_token"
    assert form["client_id"] == srv.client_id


def test_no_secret_in_debug_output(oauth_env, oimap_bin, tmp_path):
    srv, dv, user = oauth_env
    rc, maildir = write(str(tmp_path), srv, user)
    log = tmp_path / "debug.log"
    r = run(oimap_bin, rc, tmp_path, "-o", "-u", "basic", "-d", "all", "-l", str(log))
    assert r.rc == 0, r.err
    out = r.out + r.err + log.read_text()
    assert "XOAUTH2" in out
    secrets = [srv.users[user.user], srv.client_secret] + list(srv.tokens)
    assert secrets[2:], "no access token was issued"
    for s in secrets:
        assert s not in out, s
    # nor in base64 (the XOAUTH2 payload is base64)
    import base64
    for tok in srv.tokens:
        blob = base64.b64encode(("user=%s\x01auth=Bearer %s\x01\x01" % (
            user.user, tok)).encode()).decode()
        assert blob[:20] not in out


def test_refused_refresh_token_is_reported(oauth_env, oimap_bin, tmp_path):
    srv, dv, user = oauth_env
    c = user.client()
    c.append("INBOX", make_message("o1"))
    c.close()
    srv.fail_with = {"error": "invalid_grant",
                     "error_description": "Token has been expired or "
                                          "revoked."}
    rc, maildir = write(str(tmp_path), srv, user)
    r = run(oimap_bin, rc, tmp_path)
    assert r.rc != 0
    assert "invalid_grant" in r.err and "revoked" in r.err, r.err
    assert srv.token_url in r.err
    assert srv.users[user.user] not in r.out + r.err
    assert not os.path.exists(os.path.join(maildir, "INBOX"))


def test_unreachable_endpoint_is_reported(oauth_env, oimap_bin, tmp_path):
    srv, dv, user = oauth_env
    rc, maildir = write(str(tmp_path), srv, user,
                        oauth2_request_url="http://127.0.0.1:9/token")
    r = run(oimap_bin, rc, tmp_path)
    assert r.rc != 0
    assert "cannot get an OAuth2 access token from http://127.0.0.1:9/token" \
        in r.err, r.err


def test_eval_options(oauth_env, oimap_bin, tmp_path):
    """The *_eval twins (a password manager call in real life)."""
    srv, dv, user = oauth_env
    c = user.client()
    c.append("INBOX", make_message("e1"))
    c.close()
    rc, maildir = write(
        str(tmp_path), srv, user, oauth2_refresh_token=None,
        oauth2_client_secret=None,
        oauth2_refresh_token_eval=repr(srv.users[user.user]),
        oauth2_client_secret_eval="'client-' + 'secret-x'")
    r = run(oimap_bin, rc, tmp_path)
    assert r.rc == 0, r.err
    assert len(srv.requests) == 1


@pytest.mark.parametrize("expires_in,want", [(3600, 1), (0, 2), (-30, 2)])
def test_token_lifetime_across_syncs(oauth_env, oimap_bin, tmp_path,
                                     expires_in, want):
    """Two syncs in one daemon run (autorefresh; SIGUSR1 starts the
    second): a token valid for an hour is asked for once; one that the
    endpoint says is valid for 0 (or fewer) seconds is already expired
    (OfflineIMAP: expires_at = now + expires_in / 2), so the second sync
    asks again instead of using it forever."""
    import signal
    import subprocess
    import time
    from oimaptest import maildir as md
    srv, dv, user = oauth_env
    srv.expires_in = expires_in
    c = user.client()
    c.append("INBOX", make_message("t1"))
    rc, maildir = write(str(tmp_path), srv, user, acct={"autorefresh": 60})
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home))
    env.pop("XDG_CONFIG_HOME", None)
    log_path = tmp_path / "daemon.log"
    with open(log_path, "w") as log:
        p = subprocess.Popen([oimap_bin, "-c", rc, "-u", "basic"], env=env,
                             stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT)

    def has(tag):
        tree = md.read_tree(maildir) if os.path.isdir(maildir) else {}
        return message_id(tag) in {m.message_id
                                   for m in tree.get("INBOX", [])}

    def wait(pred):
        end = time.monotonic() + 60
        while time.monotonic() < end and p.poll() is None:
            if pred():
                return
            time.sleep(0.2)
        pytest.fail("not synced; oimap output:\n" + log_path.read_text())

    try:
        wait(lambda: has("mt1"))
        c.append("INBOX", make_message("t2"))
        c.close()
        p.send_signal(signal.SIGUSR1)
        wait(lambda: has("mt2"))
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    out = log_path.read_text()
    assert p.returncode == 0, out
    assert len(srv.requests) == want, (srv.requests, out)


@pytest.mark.parametrize("code,body,words", [
    (200, b"<html>not json</html>", "not a JSON object"),
    (500, b"Internal Server Error", "not a JSON object"),
    (200, b"[1, 2]", "not a JSON object"),
    (200, b'{"token_type": "Bearer"}', "without an access_token"),
    (200, b'{"access_token": 42}', "without an access_token"),
    (200, b'{"access_token": ""}', "without an access_token"),
    (200, b'{"access_token": "' + b"x" * (2 << 20) + b'"}', "more than"),
], ids=["html", "http500", "array", "no-token", "token-number",
        "token-empty", "huge"])
def test_odd_token_answers_are_reported(oauth_env, oimap_bin, tmp_path,
                                        code, body, words):
    """Whatever the endpoint answers, the account fails with a message
    naming it, no secret is printed (not even with -d all), nothing is
    synced and the process does not crash."""
    srv, dv, user = oauth_env
    c = user.client()
    c.append("INBOX", make_message("x1"))
    c.close()
    srv.raw = (code, body)
    rc, maildir = write(str(tmp_path), srv, user)
    r = run(oimap_bin, rc, tmp_path, "-o", "-u", "basic", "-d", "all")
    assert r.rc != 0, r.err
    assert 0 < r.rc < 128, r.rc     # an error exit, not a signal
    out = r.out + r.err
    assert words in out, out[-3000:]
    assert srv.token_url in out
    for s in (srv.users[user.user], srv.client_secret):
        assert s not in out
    assert not os.path.exists(os.path.join(maildir, "INBOX"))


def test_no_secret_from_eval_options_in_debug_output(oauth_env, oimap_bin,
                                                     tmp_path):
    """The *_eval results are secrets as well: -d all shows none of them
    (the expressions below do not hold the secrets as one literal)."""
    srv, dv, user = oauth_env
    refresh = srv.users[user.user]
    half = len(refresh) // 2
    rc, maildir = write(
        str(tmp_path), srv, user, oauth2_refresh_token=None,
        oauth2_client_secret=None,
        oauth2_refresh_token_eval="%r + %r" % (refresh[:half],
                                               refresh[half:]),
        oauth2_client_secret_eval="'client-' + 'secret-x'")
    log = tmp_path / "debug.log"
    r = run(oimap_bin, rc, tmp_path, "-o", "-u", "basic", "-d", "all",
            "-l", str(log))
    assert r.rc == 0, r.err
    out = r.out + r.err + log.read_text()
    assert len(srv.requests) == 1
    for s in [refresh, srv.client_secret] + list(srv.tokens):
        assert s not in out, s


def test_one_token_request_with_idlers(oauth_env, oimap_bin, tmp_path):
    """The IDLE connections and the sync log in at the same time: one
    token request serves them all (the endpoint answers slowly here, so
    they all miss the cache together)."""
    import signal
    import subprocess
    import time
    from oimaptest import maildir as md
    srv, dv, user = oauth_env
    srv.delay = 1.0
    c = user.client()
    c.create("Lists")
    c.append("INBOX", make_message("w1"))
    c.close()
    rc, maildir = write(str(tmp_path), srv, user, acct={"autorefresh": 60},
                        idlefolders="['INBOX', 'Lists']")
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home))
    env.pop("XDG_CONFIG_HOME", None)
    log_path = tmp_path / "daemon.log"
    with open(log_path, "w") as log:
        p = subprocess.Popen([oimap_bin, "-c", rc, "-u", "basic"], env=env,
                             stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and p.poll() is None:
            tree = md.read_tree(maildir) if os.path.isdir(maildir) else {}
            if message_id("mw1") in {m.message_id
                                     for m in tree.get("INBOX", [])}:
                break
            time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    out = log_path.read_text()
    assert p.returncode == 0, out
    assert "IDLE on folder" not in out, out
    assert len(srv.requests) == 1, (len(srv.requests), out)
