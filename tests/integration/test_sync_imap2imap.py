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


# ---- helpers for the tests below ----

def setup_pair(dovecot, tmp_path, seeds=("a1", "a2")):
    far = dovecotmod.new_user(dovecot, hint="far")
    near = dovecotmod.new_user(dovecot, hint="near")
    c = far.client()
    for i, s in enumerate(seeds):
        c.append("INBOX", make_message(s), ["\\Seen"] if i % 2 else [])
    c.close()
    rc, home = tmp_path / "rc", tmp_path / "home"
    home.mkdir()
    write_rc(rc, dovecot, far, near, tmp_path / "meta")
    return far, near, rc, home


def uids_of(user, folder="INBOX"):
    """{message_id: uid} of a server folder."""
    c = user.client()
    try:
        return {m.message_id: m.uid for m in c.fetch(folder, bodies=False)}
    finally:
        c.close()


def map_pairs(tmp_path, folder="INBOX"):
    path = tmp_path / "meta" / "Repository-Near" / "UIDMapping" / folder
    out = {}
    for line in path.read_text().splitlines():
        loc, rem = line.split(":")
        out[int(loc)] = int(rem)
    return out


def assert_same_mail(far, near):
    """Both servers hold the same messages, each once, with the same
    flags (state() keys by Message-ID, so count separately)."""
    sf, sn = state(far), state(near)
    assert sf == sn, (sf, sn)
    for user in (far, near):
        c = user.client()
        try:
            for folder in c.list():
                ids = [m.message_id for m in c.fetch(folder, bodies=False)]
                assert len(ids) == len(set(ids)), (user.user, folder, ids)
        finally:
            c.close()


def test_uid_map_is_offlineimaps_format(dovecot, oimap_bin, tmp_path):
    """UIDMapping/<folder> holds "local:remote" lines naming the real UIDs
    on both servers."""
    far, near, rc, home = setup_pair(dovecot, tmp_path, ("a1", "a2", "a3"))
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    fu, nu = uids_of(far), uids_of(near)
    assert map_pairs(tmp_path) == {nu[k]: fu[k] for k in fu}
    assert (tmp_path / "meta" / "Repository-Near" / "FolderValidity" /
            "INBOX").exists()


def test_offlineimap_takes_over_and_back(dovecot, oimap_bin, tmp_path):
    """oimap, then offlineimap3 on the same metadata: nothing is copied
    again; a change made after that by offlineimap3's run is understood by
    oimap and the other way round."""
    far, near, rc, home = setup_pair(dovecot, tmp_path, ("a1", "a2", "a3"))
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    before = (state(far), state(near))
    o = subprocess.run(["offlineimap", "-c", str(rc), "-o", "-u", "basic"],
                       env=dict(os.environ, HOME=str(home)),
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert o.returncode == 0, o.stdout + o.stderr
    assert (state(far), state(near)) == before
    assert_same_mail(far, near)

    # new mail on each side; offlineimap3 syncs it; oimap then has
    # nothing to do
    c = far.client()
    c.append("INBOX", make_message("f1"), [])
    c.close()
    n = near.client()
    n.append("INBOX", make_message("n1"), ["\\Flagged"])
    n.close()
    o = subprocess.run(["offlineimap", "-c", str(rc), "-o", "-u", "basic"],
                       env=dict(os.environ, HOME=str(home)),
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert o.returncode == 0, o.stdout + o.stderr
    mid_state = (state(far), state(near))
    assert mid("f1") in mid_state[1]["INBOX"]
    assert mid("n1") in mid_state[0]["INBOX"]
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    assert (state(far), state(near)) == mid_state
    assert_same_mail(far, near)

    # and oimap's changes are understood by offlineimap3
    n = near.client()
    n.append("INBOX", make_message("n2"), [])
    n.close()
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    after = (state(far), state(near))
    assert mid("n2") in after[0]["INBOX"]
    o = subprocess.run(["offlineimap", "-c", str(rc), "-o", "-u", "basic"],
                       env=dict(os.environ, HOME=str(home)),
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert o.returncode == 0, o.stdout + o.stderr
    assert (state(far), state(near)) == after
    assert_same_mail(far, near)


def test_new_folders_both_ways(dovecot, oimap_bin, tmp_path):
    """A folder made on either server (nested, parent on neither side)
    is created on the other one with its mail."""
    far, near, rc, home = setup_pair(dovecot, tmp_path)
    c = far.client()
    c.create("Lists/oimap")
    c.append("Lists/oimap", make_message("l1"), ["\\Seen"])
    c.close()
    n = near.client()
    n.create("Projects/2026/q4")
    n.append("Projects/2026/q4", make_message("p1"), ["\\Answered"])
    n.close()
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    sf = state(far)
    assert sf.get("Projects/2026/q4") == {mid("p1"): ("\\Answered",)}, sf
    assert state(near).get("Lists/oimap") == {mid("l1"): ("\\Seen",)}
    assert_same_mail(far, near)
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    assert_same_mail(far, near)


def test_flags_both_sides_merge(dovecot, oimap_bin, tmp_path):
    far, near, rc, home = setup_pair(dovecot, tmp_path, ("a1", "a2"))
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    fu, nu = uids_of(far), uids_of(near)
    c = far.client()
    c.set_flags("INBOX", [fu[mid("a1")]], ["\\Flagged"], "+")
    c.close()
    n = near.client()
    n.set_flags("INBOX", [nu[mid("a1")]], ["\\Answered"], "+")
    n.set_flags("INBOX", [nu[mid("a2")]], ["\\Seen"], "-")
    n.close()
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    assert state(far)["INBOX"] == {mid("a1"): ("\\Answered", "\\Flagged"),
                                   mid("a2"): ()}
    assert_same_mail(far, near)


def test_remote_deletion_reaches_local_server(dovecot, oimap_bin, tmp_path):
    far, near, rc, home = setup_pair(dovecot, tmp_path, ("a1", "a2", "a3"))
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    fu = uids_of(far)
    c = far.client()
    c.expunge("INBOX", fu[mid("a2")])
    c.close()
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    assert set(state(near)["INBOX"]) == {mid("a1"), mid("a3")}
    assert_same_mail(far, near)
    # the pair went with the message
    assert sorted(map_pairs(tmp_path).values()) == sorted(
        uids_of(far).values())


def test_broken_map_stops_folder(dovecot, oimap_bin, tmp_path):
    far, near, rc, home = setup_pair(dovecot, tmp_path, ("a1",))
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    path = tmp_path / "meta" / "Repository-Near" / "UIDMapping" / "INBOX"
    path.write_text("1:1\nnonsense\n")
    n = near.client()
    n.append("INBOX", make_message("n1"), [])
    n.close()
    before = (state(far), state(near))
    r = run(oimap_bin, rc, home)
    assert r.returncode != 0
    assert f"{path}:2" in r.stderr, r.stderr
    assert (state(far), state(near)) == before
    assert path.read_text() == "1:1\nnonsense\n"


def test_local_uidvalidity_change_stops_folder(dovecot, oimap_bin,
                                               tmp_path):
    far, near, rc, home = setup_pair(dovecot, tmp_path, ("a1", "a2"))
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    vpath = (tmp_path / "meta" / "Repository-Near" / "FolderValidity" /
             "INBOX")
    vpath.write_text("12345\n")
    before = (state(far), state(near))
    r = run(oimap_bin, rc, home)
    assert r.returncode != 0
    assert "UIDVALIDITY of folder INBOX changed on the local side" in \
        r.stderr, r.stderr
    assert (state(far), state(near)) == before


def test_dry_run_changes_nothing(dovecot, oimap_bin, tmp_path):
    far, near, rc, home = setup_pair(dovecot, tmp_path, ("a1",))
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    n = near.client()
    n.append("INBOX", make_message("n1"), [])
    n.close()
    before = (state(far), state(near))
    mapping = map_pairs(tmp_path)
    env = dict(os.environ, HOME=str(home))
    r = subprocess.run([oimap_bin, "-c", str(rc), "-o", "-u", "basic",
                        "--dry-run"], env=env, capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert (state(far), state(near)) == before
    assert map_pairs(tmp_path) == mapping


@pytest.mark.parametrize("direction", ["down", "up"])
def test_killed_at_every_step(dovecot, oimap_bin, tmp_path, direction):
    """Stop the process (the test hook _exit(77)) right after step N, for
    every N, with mail going one way; one clean run then leaves every
    message exactly once on both servers."""
    far = dovecotmod.new_user(dovecot, hint="far")
    near = dovecotmod.new_user(dovecot, hint="near")
    src = far if direction == "down" else near
    c = src.client()
    for i in range(6):
        c.append("INBOX", make_message(f"k{i}"), ["\\Seen"] if i % 2 else [])
    c.close()
    rc, home = tmp_path / "rc", tmp_path / "home"
    home.mkdir()
    write_rc(rc, dovecot, far, near, tmp_path / "meta")
    env = dict(os.environ, HOME=str(home))
    stops = 0
    for n in range(1, 20):
        r = subprocess.run([oimap_bin, "-c", str(rc), "-o", "-u", "quiet",
                            f"--debug-stop-after-step={n}"], env=env,
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        if r.returncode == 0:
            break
        assert r.returncode == 77, r.stderr
        stops += 1
        # mail is added on the other side between kills too
        if n % 3 == 0:
            other = near if direction == "down" else far
            c = other.client()
            c.append("INBOX", make_message(f"x{n}"), [])
            c.close()
    assert stops >= 1
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    assert_same_mail(far, near)
    assert {mid(f"k{i}") for i in range(6)} <= set(state(far)["INBOX"])


@pytest.mark.parametrize("journaled", [True, False])
def test_interrupted_copy_to_local_server(dovecot, oimap_bin, tmp_path,
                                          journaled):
    """The state a crash leaves between the APPEND to the local server and
    the map line: the message is on the local server, unmapped, and the
    status does not know it.  With the journal entry written before the
    APPEND, the next run finds the message and maps it; nothing is
    uploaded back.  (Without the entry, which is what OfflineIMAP leaves,
    the message does come back to the far side as new mail: the control
    that shows the journal matters.)"""
    import email.utils
    import sqlite3
    far, near, rc, home = setup_pair(dovecot, tmp_path, ("a1",))
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    meta = tmp_path / "meta"
    (meta / "Repository-Near" / "UIDMapping" / "INBOX").write_text("")
    db = sqlite3.connect(meta / "Account-Sync" / "LocalStatus-sqlite" /
                         "INBOX")
    db.execute("DELETE FROM status")
    db.commit()
    db.close()
    c = far.client()
    m = c.fetch("INBOX", bodies=False)[0]
    c.close()
    date = int(email.utils.parsedate_to_datetime(
        m.internaldate.replace("-", " ", 2)).timestamp())
    if journaled:
        jdir = meta / "Repository-Near" / "oimap-journal"
        jdir.mkdir(exist_ok=True)
        (jdir / "INBOX").write_text(
            f"OIMAP-JOURNAL 1\nI 1 {m.size} {date} {m.uid}@1 "
            f"{m.message_id}\n")
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    if journaled:
        assert "interrupted copy of remote UID" in r.stdout + r.stderr
        assert_same_mail(far, near)
        assert len(uids_of(far)) == 1
        assert map_pairs(tmp_path) == {uids_of(near)[mid("a1")]: m.uid}
        assert not (meta / "Repository-Near" / "oimap-journal" /
                    "INBOX").exists()
    else:
        c = far.client()
        ids = [x.message_id for x in c.fetch("INBOX", bodies=False)]
        c.close()
        assert ids.count(mid("a1")) == 2


def test_startdate_on_remote(dovecot, oimap_bin, tmp_path):
    """startdate in the far repository: the first sync copies mail from
    that day on and fixes the first UID in Repository-Far/StartUID/INBOX
    (OfflineIMAP's file); later syncs take every message from that UID
    on, whatever its date; offlineimap3 agrees on the same metadata."""
    import datetime
    far = dovecotmod.new_user(dovecot, hint="far")
    near = dovecotmod.new_user(dovecot, hint="near")
    old = datetime.datetime(2020, 3, 1, tzinfo=datetime.timezone.utc)
    new = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
    c = far.client()
    c.append("INBOX", make_message("o1"), [], date=old)
    u_new = c.append("INBOX", make_message("w1"), [], date=new)
    c.append("INBOX", make_message("w2"), ["\\Seen"], date=new)
    c.close()
    rc, home = tmp_path / "rc", tmp_path / "home"
    home.mkdir()
    write_rc(rc, dovecot, far, near, tmp_path / "meta")
    with open(rc, "a") as f:
        f.write("startdate = 2025-01-01\n")  # ends [Repository Far]
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    assert set(state(near)["INBOX"]) == {mid("w1"), mid("w2")}
    sfile = tmp_path / "meta" / "Repository-Far" / "StartUID" / "INBOX"
    assert sfile.read_text() == f"{u_new}\n"

    # an old-dated message arriving now has a UID above the floor
    c = far.client()
    c.append("INBOX", make_message("o2"), [], date=old)
    c.close()
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    assert set(state(near)["INBOX"]) == {mid("w1"), mid("w2"), mid("o2")}
    # mail made on the near side goes up; o1 stays where it was
    n = near.client()
    n.append("INBOX", make_message("n1"), [])
    n.close()
    r = run(oimap_bin, rc, home)
    assert r.returncode == 0, r.stderr
    assert set(state(far)["INBOX"]) == {mid("o1"), mid("w1"), mid("w2"),
                                        mid("o2"), mid("n1")}
    before = (state(far), state(near))
    o = subprocess.run(["offlineimap", "-c", str(rc), "-o", "-u", "basic"],
                       env=dict(os.environ, HOME=str(home)),
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert o.returncode == 0, o.stdout + o.stderr
    assert (state(far), state(near)) == before
    assert sfile.read_text() == f"{u_new}\n"


def test_startdate_needs_empty_other_side(dovecot, oimap_bin, tmp_path):
    far, near, rc, home = setup_pair(dovecot, tmp_path, ("a1",))
    n = near.client()
    n.append("INBOX", make_message("n1"), [])
    n.close()
    with open(rc, "a") as f:
        f.write("startdate = 2025-01-01\n")
    before = (state(far), state(near))
    r = run(oimap_bin, rc, home)
    assert r.returncode != 0
    assert "must be empty" in r.stderr, r.stderr
    assert (state(far), state(near)) == before
    assert not (tmp_path / "meta" / "Repository-Far" / "StartUID" /
                "INBOX").exists()


def test_dry_run_first_sync_writes_nothing(dovecot, oimap_bin, tmp_path):
    """A dry run before any real sync, with folders only on one side and
    mail on both: no folder is created on either server, no message moves,
    and no metadata file (UID map, journal, status, StartUID) is made."""
    far, near, rc, home = setup_pair(dovecot, tmp_path, ("d1",))
    c = far.client()
    c.create("FarOnly")
    c.append("FarOnly", make_message("d2"))
    c.close()
    n = near.client()
    n.create("NearOnly")
    n.append("NearOnly", make_message("d3"))
    n.append("INBOX", make_message("d4"))
    n.close()
    before = (state(far), state(near))
    env = dict(os.environ, HOME=str(home))
    r = subprocess.run([oimap_bin, "-c", str(rc), "-o", "-u", "basic",
                        "--dry-run"], env=env, capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert (state(far), state(near)) == before
    meta = tmp_path / "meta"
    made = [str(p.relative_to(meta)) for p in meta.rglob("*")
            if p.is_file()] if meta.exists() else []
    # the account lock is the only file a dry run may leave
    assert [p for p in made if "lock" not in p] == [], made
