# SPDX-License-Identifier: GPL-2.0-or-later
"""IMAP-to-IMAP accounts (issue 5): the local repository is IMAP too.
Two users of the test Dovecot stand for two servers.

The local server has its own UID space: oimap keeps OfflineIMAP's UID
mapping (Repository-<local>/UIDMapping/<folder>, "local:remote" lines)."""
import os
import subprocess

import pytest

from oimaptest import dovecot as dovecotmod
from oimaptest.mail import make_message, message_id


def mid(seed):
    """The Message-ID make_message(seed) writes."""
    return message_id("m" + seed)


def write_rc(path, server, remote, local, metadata):
    text = f"""[general]
accounts = Sync
metadata = {metadata}

[Account Sync]
localrepository = Near
remoterepository = Far

[Repository Near]
type = IMAP
remotehost = {server.host}
remoteport = {server.port}
remoteuser = {local.user}
remotepass = {local.password}
ssl = no
starttls = no

[Repository Far]
type = IMAP
remotehost = {server.host}
remoteport = {server.port}
remoteuser = {remote.user}
remotepass = {remote.password}
ssl = no
starttls = no
"""
    with open(path, "w") as f:
        f.write(text)


def state(user):
    """{folder: {message_id: flags}} of a server user (selectable only)."""
    c = user.client()
    try:
        out = {}
        for folder in c.list():
            out[folder] = {m.message_id: tuple(m.flags)
                           for m in c.fetch(folder, bodies=False)}
        return out
    finally:
        c.close()


def run(oimap_bin, rc, home):
    env = dict(os.environ, HOME=str(home))
    return subprocess.run([oimap_bin, "-c", str(rc), "-o", "-u", "basic"],
                          env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_imap_to_imap_two_way(dovecot, oimap_bin, tmp_path):
    far = dovecotmod.new_user(dovecot, hint="far")
    near = dovecotmod.new_user(dovecot, hint="near")
    c = far.client()
    c.create("Archive/2024")
    c.append("INBOX", make_message("a1"), ["\\Seen"])
    c.append("INBOX", make_message("a2"), ["\\Flagged"])
    c.append("Archive/2024", make_message("a3"), ["\\Seen", "\\Answered"])
    c.close()
    rc, home = tmp_path / "rc", tmp_path / "home"
    home.mkdir()
    write_rc(rc, dovecot, far, near, tmp_path / "meta")

    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    want = {
        "INBOX": {mid("a1"): ("\\Seen",),
                  mid("a2"): ("\\Flagged",)},
        "Archive/2024": {mid("a3"): ("\\Answered", "\\Seen")},
    }
    got = state(near)
    for folder, msgs in want.items():
        assert got.get(folder) == msgs, (folder, got)
    # OfflineIMAP's status cache for the pair
    assert os.path.exists(tmp_path / "meta" / "Account-Sync" /
                          "LocalStatus-sqlite" / "INBOX")

    # a second run changes nothing on either side
    before = (state(far), state(near))
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    assert (state(far), state(near)) == before

    # changes on the near side travel to the far side: a new message,
    # a flag change, a deletion
    n = near.client()
    n.append("INBOX", make_message("n1"), ["\\Seen"])
    uids = {m.message_id: m.uid for m in n.fetch("INBOX", bodies=False)}
    n.set_flags("INBOX", [uids[mid("a2")]], ["\\Seen"], "+")
    n.expunge("INBOX", uids[mid("a1")])
    n.close()
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    far_inbox = state(far)["INBOX"]
    assert far_inbox == {mid("a2"): ("\\Flagged", "\\Seen"),
                         mid("n1"): ("\\Seen",)}, far_inbox
    assert state(near)["INBOX"] == far_inbox
