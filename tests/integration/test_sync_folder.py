# SPDX-License-Identifier: GPL-2.0-or-later
"""sync_folder() (src/sync/folder.c) against a real Dovecot, through the
tests/tools/sync-folder-probe driver: one IMAP folder and one Maildir
folder, no config, no account layer.

Covers: new mail both ways, flags both ways, deletions both ways, a
second run changing nothing, UIDVALIDITY change stopping the folder
without touching anything, the upload journal after a crash between
APPEND and recording (--stop-after), a crash during downloads, dry-run,
-q and the empty-side valve.
"""
import os
import re
import subprocess

import pytest

from oimaptest import maildir as md
from oimaptest.mail import make_message

FOLDER = "INBOX"


@pytest.fixture
def probe_bin(oimap_bin):
    path = os.path.join(os.path.dirname(oimap_bin), "tests", "tools",
                        "sync-folder-probe")
    if not os.access(path, os.X_OK):
        pytest.fail(f"sync-folder-probe not found at {path}; run `make`")
    return path


class Side:
    def __init__(self, probe, user, tmp):
        self.probe = probe
        self.user = user
        self.metadata = str(tmp / "metadata")
        self.root = str(tmp / "Mail")
        os.makedirs(self.root, exist_ok=True)

    def sync(self, *opts, folder=FOLDER, expect=0):
        env = dict(os.environ)
        env["OIMAP_PROBE_PASSWORD"] = self.user.password
        p = subprocess.run(
            [self.probe, "--host", self.user.host, "--port",
             str(self.user.port), "--user", self.user.user, *opts,
             self.metadata, self.root, folder],
            env=env, capture_output=True, text=True, timeout=120)
        out = p.stdout
        assert p.returncode == expect, (p.returncode, out, p.stderr)
        res = {}
        m = re.search(r"^rc=.*$", out, re.M)
        if m:
            for kv in m.group(0).split():
                k, v = kv.split("=")
                res[k] = int(v)
        e = re.search(r"^error .*$", out, re.M)
        res["error"] = e.group(0) if e else None
        res["stderr"] = p.stderr
        return res

    def local(self, folder=FOLDER):
        return md.read_folder(self.root, folder)

    def local_summary(self, folder=FOLDER):
        return sorted((m.uid or 0, m.flags, m.message_id)
                      for m in self.local(folder))

    def status_path(self, folder=FOLDER):
        return os.path.join(self.metadata, "Account-Test",
                            "LocalStatus-sqlite", folder)

    def status(self, folder=FOLDER):
        import sqlite3
        c = sqlite3.connect(self.status_path(folder))
        try:
            return sorted(c.execute("SELECT id, flags FROM status"))
        finally:
            c.close()


@pytest.fixture
def side(probe_bin, imap_user, tmp_path):
    return Side(probe_bin, imap_user, tmp_path)


def remote_summary(imap, folder=FOLDER):
    return sorted((m.uid, tuple(m.flags), m.message_id)
                  for m in imap.fetch(folder, bodies=False))


def msg(n):
    return make_message(seed="sf%d" % n)


def msgid(n):
    return "<msf%d@oimap.test>" % n


def assert_idle(side, imap):
    """A further run changes nothing."""
    before_l, before_r = side.local_summary(), remote_summary(imap)
    r = side.sync()
    for k in ("copy_remote", "copy_local", "del_remote", "del_local",
              "flags_remote", "flags_local", "link", "forget", "failed"):
        assert r[k] == 0, (k, r)
    assert side.local_summary() == before_l
    assert remote_summary(imap) == before_r


def test_new_mail_both_ways(side, imap):
    u1 = imap.append(FOLDER, msg(1), flags=("\\Seen",))
    u2 = imap.append(FOLDER, msg(2))
    md.add_local_message(side.root, FOLDER, msg(3), flags="F")
    r = side.sync()
    assert r["copy_local"] == 2 and r["copy_remote"] == 1, r
    loc = side.local()
    assert {m.message_id for m in loc} == {msgid(1), msgid(2), msgid(3)}
    assert all(m.uid for m in loc), loc          # the upload got its UID
    byid = {m.message_id: m for m in loc}
    assert byid[msgid(1)].uid == u1 and byid[msgid(1)].flags == "S"
    assert byid[msgid(2)].uid == u2 and byid[msgid(2)].flags == ""
    rem = {m.message_id: m for m in imap.fetch(FOLDER)}
    assert rem[msgid(3)].flags == ["\\Flagged"]
    assert rem[msgid(3)].uid == byid[msgid(3)].uid
    # bytes survive both ways (modulo line ends)
    assert byid[msgid(1)].read() == msg(1).replace(b"\r\n", b"\n")
    assert rem[msgid(3)].body == msg(3)
    assert side.status() == sorted(
        [(u1, "S"), (u2, ""), (byid[msgid(3)].uid, "F")])
    assert not md.tree_tmp(side.root)
    assert_idle(side, imap)


def test_flags_both_ways(side, imap):
    u1 = imap.append(FOLDER, msg(1))
    u2 = imap.append(FOLDER, msg(2), flags=("\\Seen",))
    side.sync()
    # remote: 1 gets \Flagged; local: 2 gets R (replied), loses S
    imap.set_flags(FOLDER, u1, ["\\Flagged"])
    m2 = [m for m in side.local() if m.uid == u2][0]
    newname = m2.name.replace(":2,S", ":2,R")
    os.rename(m2.path, os.path.join(side.root, FOLDER, "new", newname))
    r = side.sync()
    assert r["flags_local"] == 1 and r["flags_remote"] == 1, r
    assert side.local_summary() == sorted(
        [(u1, "F", msgid(1)), (u2, "R", msgid(2))])
    assert remote_summary(imap) == sorted(
        [(u1, ("\\Flagged",), msgid(1)), (u2, ("\\Answered",), msgid(2))])
    assert side.status() == sorted([(u1, "F"), (u2, "R")])
    assert_idle(side, imap)


def test_deletions_both_ways(side, imap):
    uids = [imap.append(FOLDER, msg(i)) for i in range(1, 5)]
    side.sync()
    imap.expunge(FOLDER, uids[0])                  # gone on the server
    gone = [m for m in side.local() if m.uid == uids[1]][0]
    os.unlink(gone.path)                           # gone locally
    r = side.sync("--expunge")
    assert r["del_local"] == 1 and r["del_remote"] == 1, r
    assert [m.uid for m in side.local()] == uids[2:]
    assert [m[0] for m in remote_summary(imap)] == uids[2:]
    assert [s[0] for s in side.status()] == uids[2:]
    assert_idle(side, imap)


def test_delete_without_expunge_marks_deleted(side, imap):
    uids = [imap.append(FOLDER, msg(i)) for i in range(1, 3)]
    side.sync()
    os.unlink([m for m in side.local() if m.uid == uids[0]][0].path)
    r = side.sync()
    assert r["del_remote"] == 1, r
    rem = dict((m[0], m[1]) for m in remote_summary(imap))
    assert "\\Deleted" in rem[uids[0]]


def test_uidvalidity_change_stops_folder(side, imap, imap_user):
    imap.create("Box")
    u1 = imap.append("Box", msg(1))
    side.sync(folder="Box")
    assert [m.uid for m in side.local("Box")] == [u1]
    vfile = os.path.join(side.metadata, "Repository-Remote",
                         "FolderValidity", "Box")
    assert open(vfile).read().strip() == str(imap.uidvalidity("Box"))
    # the server renumbers: delete and recreate the folder
    imap.delete("Box")
    imap.create("Box")
    imap.append("Box", msg(2))
    md.add_local_message(side.root, "Box", msg(3))
    before = side.local_summary("Box")
    status_before = side.status("Box")
    r = side.sync(folder="Box", expect=1)
    assert "kind=uidvalidity" in r["error"], r
    assert "Box" in r["error"] and "move" in r["error"], r
    # nothing touched on either side or in the status
    assert side.local_summary("Box") == before
    assert [m[2] for m in remote_summary(imap, "Box")] == [msgid(2)]
    assert side.status("Box") == status_before
    # the documented way out: move away local folder, status, validity
    os.rename(os.path.join(side.root, "Box"),
              os.path.join(side.root, "Box.bak"))
    os.rename(side.status_path("Box"), side.status_path("Box") + ".bak")
    os.rename(vfile, vfile + ".bak")
    r = side.sync(folder="Box")
    assert r["rc"] == 0 and r["copy_local"] == 1, r
    assert [m.message_id for m in side.local("Box")] == [msgid(2)]


def test_crash_after_append_is_not_uploaded_twice(side, imap):
    md.add_local_message(side.root, FOLDER, msg(1), flags="S")
    md.add_local_message(side.root, FOLDER, msg(2))
    # step 1: the first upload's APPEND, then the process dies before
    # the local name or the status learn its UID
    side.sync("--stop-after", "1", expect=77)
    rem = remote_summary(imap)
    # uploads are pipelined: the second APPEND (journaled before it was
    # sent) may have reached the server before the process died
    assert 1 <= len(rem) <= 2
    assert any(m.uid is None for m in side.local())
    jdir = os.path.join(side.metadata, "Account-Test", "oimap-journal")
    assert os.listdir(jdir)
    r = side.sync()
    assert r["rc"] == 0, r
    assert r["copy_remote"] <= 1, r              # at most the other one
    rem = remote_summary(imap)
    assert sorted(m[2] for m in rem) == [msgid(1), msgid(2)]
    loc = side.local()
    assert all(m.uid for m in loc)
    assert sorted(m.uid for m in loc) == sorted(m[0] for m in rem)
    assert sorted(s[0] for s in side.status()) == sorted(m[0] for m in rem)
    assert not os.listdir(jdir)                  # journal cleared
    assert_idle(side, imap)


def test_crash_during_downloads_resumes(side, imap):
    uids = [imap.append(FOLDER, msg(i)) for i in range(1, 6)]
    side.sync("--stop-after", "3", expect=77)
    assert not md.tree_tmp(side.root)
    r = side.sync()
    assert r["rc"] == 0, r
    # the three downloaded before the crash are linked, not fetched again
    assert r["copy_local"] + r["link"] == 5 and r["copy_local"] == 2, r
    assert sorted(m.uid for m in side.local()) == uids
    assert len({m.message_id for m in side.local()}) == 5
    assert_idle(side, imap)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_crash_at_every_step(side, imap, n):
    """Mixed work, killed after step n; the resumed run ends in the same
    state as an uninterrupted one."""
    u1 = imap.append(FOLDER, msg(1))
    u2 = imap.append(FOLDER, msg(2))
    u3 = imap.append(FOLDER, msg(3))
    side.sync()
    imap.append(FOLDER, msg(4))                       # new remote
    imap.set_flags(FOLDER, u1, ["\\Seen"])           # remote flag
    os.unlink([m for m in side.local() if m.uid == u2][0].path)  # del
    md.add_local_message(side.root, FOLDER, msg(5))  # new local
    imap.expunge(FOLDER, u3)                         # remote delete
    # 5 steps: download 4, delete 3 locally, flag 1 locally, upload 5,
    # delete 2 on the server
    side.sync("--stop-after", str(n), "--expunge",
              expect=77 if n <= 5 else 0)
    side.sync("--expunge")
    ids = sorted(m.message_id for m in side.local())
    assert ids == [msgid(1), msgid(4), msgid(5)], ids
    rem = remote_summary(imap)
    assert sorted(m[2] for m in rem) == ids
    assert all(m.uid for m in side.local())
    assert sorted(m.uid for m in side.local()) == [m[0] for m in rem]
    assert [m.flags for m in side.local() if m.uid == u1] == ["S"]
    assert_idle(side, imap)


def test_dry_run_changes_nothing(side, imap):
    imap.append(FOLDER, msg(1))
    md.add_local_message(side.root, FOLDER, msg(2))
    before = side.local_summary()
    r = side.sync("--dry-run")
    assert r["copy_local"] == 1 and r["copy_remote"] == 1, r
    assert side.local_summary() == before
    assert len(remote_summary(imap)) == 1
    assert not os.path.exists(side.status_path())


def test_quick_skips_unchanged(side, imap):
    imap.append(FOLDER, msg(1))
    side.sync()
    r = side.sync("--quick")
    assert r["quick_skipped"] == 1, r
    md.add_local_message(side.root, FOLDER, msg(2))
    r = side.sync("--quick")
    assert r["quick_skipped"] == 0 and r["copy_remote"] == 1, r


def test_valve_refuses_emptied_local(side, imap):
    uids = [imap.append(FOLDER, msg(i)) for i in range(1, 7)]
    side.sync()
    for m in side.local():
        os.unlink(m.path)
    imap.append(FOLDER, msg(7))
    r = side.sync(expect=1)
    assert r["held_valve"] == 6, r
    assert "status cache" in r["error"], r
    assert [m[0] for m in remote_summary(imap)][:6] == uids
    assert side.local() == []


def test_readonly_remote(side, imap):
    imap.append(FOLDER, msg(1))
    md.add_local_message(side.root, FOLDER, msg(2))
    r = side.sync("--readonly-remote")
    assert r["copy_local"] == 1 and r["copy_remote"] == 0, r
    assert len(remote_summary(imap)) == 1


def test_unchanged_fast_path(side, imap):
    """With CONDSTORE (Dovecot) a run after a sync that left the server as
    it was skips the remote scan; any change on either side is seen."""
    u1 = imap.append(FOLDER, msg(1))
    r = side.sync()
    assert r["copy_local"] == 1 and r["unchanged_skipped"] == 0, r
    r = side.sync()
    assert r["unchanged_skipped"] == 1, r
    imap.set_flags(FOLDER, u1, ["\\Flagged"])       # remote flag only
    r = side.sync()
    assert r["unchanged_skipped"] == 0 and r["flags_local"] == 1, r
    assert side.local_summary() == [(u1, "F", msgid(1))]
    r = side.sync()
    assert r["unchanged_skipped"] == 1, r
    m = side.local()[0]                              # local flag only
    os.rename(m.path, m.path.replace(":2,F", ":2,FS"))
    r = side.sync()
    assert r["unchanged_skipped"] == 0 and r["flags_remote"] == 1, r
    # our own change to the server: checked to be the only one since
    # SELECT (CHANGEDSINCE, QRESYNC) and its result saved: next run skips
    r = side.sync()
    assert r["unchanged_skipped"] == 1, r
    u2 = imap.append(FOLDER, msg(2))                 # new remote mail
    r = side.sync()
    assert r["unchanged_skipped"] == 0 and r["copy_local"] == 1, r
    assert [x.uid for x in side.local()] == [u1, u2]


def test_message_failure_does_not_stop_folder(side, imap):
    """A local message that cannot be read (a dangling symlink) fails
    alone: the rest is synced, the folder reports the failure."""
    imap.append(FOLDER, msg(1))
    md.add_local_message(side.root, FOLDER, msg(2))
    os.makedirs(os.path.join(side.root, FOLDER, "new"), exist_ok=True)
    os.symlink("/nonexistent/oimap-test",
               os.path.join(side.root, FOLDER, "new", "1700000000.X1.host"))
    r = side.sync(expect=1)
    assert r["failed"] == 1 and r["copy_local"] == 1, r
    assert r["copy_remote"] == 1, r
    assert "1 message failed" in r["error"], r
    assert "1700000000.X1.host" in r["stderr"], r
    assert sorted(m[2] for m in remote_summary(imap)) == [msgid(1), msgid(2)]


def test_crash_before_expunge_does_not_bring_mail_back(side, imap):
    """Killed after a remote deletion (\\Deleted set, its phase over) but
    before the EXPUNGE at the folder's end: the next run must delete it
    again, not download it as new mail."""
    u1 = imap.append(FOLDER, msg(1))
    u2 = imap.append(FOLDER, msg(2))
    side.sync()
    loc = {m.uid: m for m in side.local()}
    os.unlink(loc[u1].path)                               # step 1
    os.rename(loc[u2].path, loc[u2].path.replace(":2,", ":2,F"))  # step 2
    side.sync("--expunge", "--stop-after", "2", expect=77)
    r = side.sync("--expunge")
    assert r["rc"] == 0 and r["copy_local"] == 0, r
    assert side.local_summary() == [(u2, "F", msgid(2))]
    assert remote_summary(imap) == [(u2, ("\\Flagged",), msgid(2))]
    assert side.status() == [(u2, "F")]
    assert_idle(side, imap)


def test_untrusted_file_names_end_non_zero(side, imap):
    """A Maildir file whose name the driver will not trust (a control
    character) is left alone, the rest syncs, the folder says so."""
    imap.append(FOLDER, msg(1))
    md.add_local_message(side.root, FOLDER, msg(2))
    md.add_local_message(side.root, FOLDER, msg(3), name="bad\x01name")
    r = side.sync(expect=1)
    assert r["copy_local"] == 1 and r["copy_remote"] == 1, r
    assert "left alone" in r["error"], r
    assert os.path.exists(os.path.join(side.root, FOLDER, "new",
                                       "bad\x01name"))
    assert sorted(m[2] for m in remote_summary(imap)) == [msgid(1), msgid(2)]
