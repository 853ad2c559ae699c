# SPDX-License-Identifier: GPL-2.0-or-later
"""The fast paths, checked by what goes over the wire (-d imap -l LOG),
never by the clock.

- A no-change resync asks every folder's state in ONE LIST ... RETURN
  (STATUS ...) (Dovecot offers LIST-STATUS) and SELECTs nothing.  Without
  LIST-STATUS: one plain LIST and pipelined STATUS of the synced folders.
  Without CONDSTORE nothing is skipped (every folder is selected).
- A change on the server (new message, flag change by another client,
  expunge) in one folder is picked up by the next run, which selects only
  that folder; a status cache changed by someone else (the fingerprint)
  forces the full sync of that folder; so does a local change.
- maxconnections > 1: no second connection is opened when every folder is
  skipped.
- Uploads are pipelined (several APPENDs in flight): 50 local messages
  arrive exactly once with their flags and the local files get their U=
  names.
"""
import os
import re
import sqlite3

import pytest

from conftest import Account
from oimaptest import dovecot as dovecotmod
from oimaptest.sync_helpers import (STANDARD, add_local, assert_synced,
                                    find_local, local_name, mid, msg,
                                    oimap_only, rename_flags, seed_standard,
                                    snapshot, status_path, sync_ok)

pytestmark = oimap_only

SYNCED = len(STANDARD)          # selectable folders of the standard tree
CMD_RE = re.compile(r"\bimap: C: (\S+) (\S+)(?: (.*))?$")


def traced(account, tmp_path, name, *args):
    """One run with -d imap into a log; the client's commands as
    [(tag, verb, rest)] in the order sent.  'thread' keeps the run as it is
    without -d (-d alone makes it single-threaded, as OfflineIMAP does):
    the local folders are checked while the server logs us in."""
    log = str(tmp_path / ("%s.log" % name))
    sync_ok(account, "-d", "imap,thread,sync", "-l", log, *args)
    cmds = []
    with open(log, errors="replace") as fh:
        for line in fh:
            m = CMD_RE.search(line.rstrip("\n"))
            if m:
                cmds.append((m.group(1), m.group(2).upper(),
                             m.group(3) or ""))
    return cmds, log


def verbs(cmds, verb):
    return [c for c in cmds if c[1] == verb]


def selected(cmds):
    """Folders SELECTed or EXAMINEd, as sent (quotes dropped)."""
    return [c[2].split(" ")[0].strip('"') for c in cmds
            if c[1] in ("SELECT", "EXAMINE")]


def mtimes(root):
    out = {}
    for d, _dirs, files in os.walk(root):
        for f in files + _dirs:
            p = os.path.join(d, f)
            out[p] = os.stat(p).st_mtime_ns
    return out


def synced_twice(account, imap, tmp_path):
    """The standard mailbox, synced; then one more run that saves the
    folders' states (after a sync that downloaded).  Returns nothing."""
    seed_standard(imap)
    sync_ok(account)
    sync_ok(account)


PRECHECKED = "(checked while connecting)"


def log_count(log, text):
    with open(log, errors="replace") as fh:
        return fh.read().count(text)


@pytest.mark.parametrize("mode", ["threads", "-1"])
def test_noop_lists_once_and_selects_nothing(account, imap, tmp_path, mode):
    """With threads, each folder is found unchanged from what was checked
    while the server logged us in; with -1 (one thread) after the
    listing.  Same commands either way."""
    synced_twice(account, imap, tmp_path)
    before = snapshot(account, imap)
    meta_before = mtimes(account.metadata)
    maildir_before = mtimes(account.maildir)
    cmds, log = traced(account, tmp_path, "noop",
                       *(["-1"] if mode == "-1" else []))
    assert log_count(log, PRECHECKED) == (SYNCED if mode == "threads"
                                          else 0), log
    lists = verbs(cmds, "LIST")
    assert len(lists) == 1, cmds
    assert "RETURN (STATUS (" in lists[0][2], lists
    assert "HIGHESTMODSEQ" in lists[0][2], lists
    assert selected(cmds) == [], cmds
    assert verbs(cmds, "STATUS") == [], cmds
    assert not [c for c in cmds if c[1] == "UID"], cmds    # no FETCH
    # nothing written on either side
    assert snapshot(account, imap) == before
    assert mtimes(account.metadata) == meta_before
    assert mtimes(account.maildir) == maildir_before
    assert_synced(account, imap)


@pytest.mark.parametrize("change", ["new", "flags", "expunge"])
def test_server_change_in_one_folder_is_synced(account, imap, tmp_path,
                                               change):
    synced_twice(account, imap, tmp_path)
    folder = "Archive/2024"
    if change == "new":
        imap.append(folder, msg("later"), flags=["\\Flagged"])
    elif change == "flags":
        uid = [m.uid for m in imap.fetch(folder, bodies=False)][0]
        imap.set_flags(folder, uid, ["\\Flagged"], "+")
    else:
        uid = [m.uid for m in imap.fetch(folder, bodies=False)][0]
        imap.expunge(folder, [uid])
    cmds, _ = traced(account, tmp_path, "change")
    # the changed folder only is opened, with one LIST for all
    assert selected(cmds) == [folder], cmds
    assert len(verbs(cmds, "LIST")) == 1, cmds
    srv = assert_synced(account, imap)
    if change == "new":
        assert (mid("later"), "F") in srv[folder]
    elif change == "flags":
        assert any("F" in f for _i, f in srv[folder])
    else:
        assert len(srv[folder]) == len(STANDARD[folder]) - 1
    # and the run after that skips it again
    cmds, _ = traced(account, tmp_path, "again")
    assert selected(cmds) == [], cmds


def test_local_change_syncs_that_folder_only(account, imap, tmp_path):
    synced_twice(account, imap, tmp_path)
    rename_flags(find_local(account, "INBOX", "in2"), "F")
    add_local(account, local_name("Archive"), "up1", flags="S")
    cmds, _ = traced(account, tmp_path, "local")
    assert sorted(selected(cmds)) == ["Archive", "INBOX"], cmds
    # the server's changes since SELECT were checked to be this run's
    assert len([c for c in cmds if c[1] == "UID" and "CHANGEDSINCE" in c[2]
                ]) == 2, cmds
    srv = assert_synced(account, imap)
    assert (mid("in2"), "F") in srv["INBOX"]
    assert (mid("up1"), "S") in srv["Archive"]
    cmds, _ = traced(account, tmp_path, "local2")
    assert selected(cmds) == [], cmds


@pytest.mark.parametrize("side", ["Local", "Remote"])
def test_validity_file_changed_alone_stops_the_folder(account, imap,
                                                      tmp_path, side):
    """Nothing else changed, so the local check made while connecting says
    "unchanged"; the FolderValidity file of either side is still checked
    against the listed UIDVALIDITY (remote) or the Maildir's (local), and a
    mismatch stops that folder as it does without the check."""
    synced_twice(account, imap, tmp_path)
    path = os.path.join(account.metadata, "Repository-%s-%s"
                        % (account.name, side), "FolderValidity", "INBOX")
    with open(path) as fh:
        saved = fh.read()
    with open(path, "w") as fh:
        fh.write("%d\n" % (int(saved) + 1))
    before = snapshot(account, imap)
    log = str(tmp_path / "validity.log")
    r = account.oimap("-o", "-u", "basic", "-d", "thread,sync", "-l", log)
    assert r.rc != 0, r
    assert re.search(r"(?i)uid ?validity", r.output), r
    assert "INBOX" in r.output, r
    # the other folders were skipped from the early check, INBOX was not
    assert log_count(log, PRECHECKED) == SYNCED - 1, r
    assert snapshot(account, imap) == before


def test_local_delete_then_resync(account, imap, tmp_path):
    """A deletion pushed to the server raises its HIGHESTMODSEQ beyond
    what the run can see: the next run opens the folder once more, finds
    nothing to do, and the one after skips it."""
    synced_twice(account, imap, tmp_path)
    os.unlink(find_local(account, "INBOX", "in1").path)
    cmds, _ = traced(account, tmp_path, "del")
    assert selected(cmds) == ["INBOX"], cmds
    srv = assert_synced(account, imap)
    assert mid("in1") not in dict(srv["INBOX"])
    before = snapshot(account, imap)
    cmds, _ = traced(account, tmp_path, "del2")
    assert selected(cmds) in ([], ["INBOX"]), cmds
    assert snapshot(account, imap) == before
    cmds, _ = traced(account, tmp_path, "del3")
    assert selected(cmds) == [], cmds


def test_status_changed_by_another_writer_forces_full_sync(account, imap,
                                                           tmp_path):
    """The saved state carries a fingerprint of the status cache:
    OfflineIMAP updates the cache but not our values, so a cache that is
    not as oimap left it is never trusted."""
    synced_twice(account, imap, tmp_path)
    path = status_path(account, "INBOX")
    with sqlite3.connect(path) as db:
        uid = db.execute("SELECT id FROM status ORDER BY id").fetchone()[0]
        db.execute("DELETE FROM status WHERE id = ?", (uid,))
    cmds, _ = traced(account, tmp_path, "fpr")
    assert selected(cmds) == ["INBOX"], cmds
    assert_synced(account, imap)            # the record is back


def test_turn_with_offlineimap(account, imap, tmp_path):
    """offlineimap3 syncs in between (and rewrites the status cache);
    oimap's next runs neither miss nor undo anything."""
    synced_twice(account, imap, tmp_path)
    imap.append("INBOX", msg("srv1"))
    rename_flags(find_local(account, "Archive", "ar1"), "SF")
    r = account.offlineimap("-o", "-u", "basic")
    assert r.rc == 0, r
    srv = assert_synced(account, imap)
    assert (mid("srv1"), "") in srv["INBOX"]
    assert (mid("ar1"), "FS") in srv["Archive"]
    before = snapshot(account, imap)
    traced(account, tmp_path, "after-oi")
    assert snapshot(account, imap) == before
    cmds, _ = traced(account, tmp_path, "after-oi-2")
    assert selected(cmds) == [], cmds
    assert snapshot(account, imap) == before


def test_quick_uses_listed_count(account, imap, tmp_path):
    synced_twice(account, imap, tmp_path)
    # a flag change keeps the count: -q does not see it, and selects
    # nothing (as -q after SELECT would not sync it either)
    uid = [m.uid for m in imap.fetch("INBOX", bodies=False)][0]
    imap.set_flags("INBOX", uid, ["\\Flagged"], "+")
    cmds, _ = traced(account, tmp_path, "quick", "-q")
    assert selected(cmds) == [], cmds
    # a new message changes it
    imap.append("Archive", msg("q1"))
    cmds, _ = traced(account, tmp_path, "quick2", "-q")
    assert selected(cmds) == ["Archive"], cmds
    # a full run catches the flag change
    sync_ok(account)
    assert_synced(account, imap)


def test_no_second_connection_when_all_skipped(account, imap, tmp_path):
    account.write_rc(overrides={"remote": {"maxconnections": 3}})
    synced_twice(account, imap, tmp_path)
    cmds, _ = traced(account, tmp_path, "mc3")
    logins = [c for c in cmds if c[1] in ("LOGIN", "AUTHENTICATE")]
    assert len(logins) == 1, cmds
    assert selected(cmds) == [], cmds
    # one folder changed: still correct, and it is the only one opened
    imap.append("INBOX", msg("mc"))
    cmds, _ = traced(account, tmp_path, "mc3b")
    assert selected(cmds) == ["INBOX"], cmds
    assert_synced(account, imap)


def server_with(dovecot_factory, tmp_path, caps):
    server = dovecot_factory(extra_conf="imap_capability = " + caps)
    user = dovecotmod.new_user(server, hint="caps")
    acc = Account(user, tmp_path, os.environ.get("OIMAP_BIN", os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "build", "oimap")))
    acc.write_rc()
    return acc, user.client()


def test_without_list_status_pipelined_status(dovecot_factory, tmp_path):
    acc, imap = server_with(dovecot_factory, tmp_path,
                            "IMAP4rev1 LITERAL+ ENABLE UIDPLUS CONDSTORE")
    try:
        assert "LIST-STATUS" not in imap.capabilities()
        synced_twice(acc, imap, tmp_path)
        cmds, _ = traced(acc, tmp_path, "status")
        lists = verbs(cmds, "LIST")
        assert len(lists) == 1 and "RETURN" not in lists[0][2], cmds
        status = verbs(cmds, "STATUS")
        assert len(status) == SYNCED, cmds
        assert all("HIGHESTMODSEQ" in c[2] for c in status), status
        assert selected(cmds) == [], cmds
        imap.append("Archive", msg("s1"))
        cmds, _ = traced(acc, tmp_path, "status2")
        assert selected(cmds) == ["Archive"], cmds
        assert_synced(acc, imap)
    finally:
        imap.close()


def test_without_condstore_nothing_skipped(dovecot_factory, tmp_path):
    acc, imap = server_with(dovecot_factory, tmp_path,
                            "IMAP4rev1 LITERAL+ UIDPLUS LIST-EXTENDED "
                            "LIST-STATUS")
    try:
        synced_twice(acc, imap, tmp_path)
        cmds, _ = traced(acc, tmp_path, "nocs")
        assert not any("RETURN" in c[2] for c in verbs(cmds, "LIST")), cmds
        assert verbs(cmds, "STATUS") == [], cmds
        assert len(selected(cmds)) == SYNCED, cmds
        assert_synced(acc, imap)
    finally:
        imap.close()


def test_pipelined_uploads(account, imap, tmp_path):
    seed_standard(imap)
    sync_ok(account)
    flags = ["", "S", "F", "RS", "DS", "FRS"]
    want = {}
    for i in range(50):
        tag = "up%02d" % i
        fl = flags[i % len(flags)]
        add_local(account, "INBOX", tag, flags=fl)
        want[mid(tag)] = "".join(sorted(fl))
    cmds, _ = traced(account, tmp_path, "upload")
    appends = verbs(cmds, "APPEND")
    assert len(appends) == 50, len(appends)
    # several APPENDs were sent before the first one's answer was read
    with open(str(tmp_path / "upload.log"), errors="replace") as fh:
        log = fh.read()
    first = appends[0][0]
    answered = log.index("S: %s " % first)
    sent_before = [a for a in appends if log.index("C: %s " % a[0])
                   < answered]
    assert len(sent_before) > 1, sent_before
    srv = assert_synced(account, imap)      # U= names, status, once each
    inbox = dict(srv["INBOX"])
    for m, fl in want.items():
        assert inbox.get(m) == fl, (m, inbox.get(m), fl)
    ids = [i for i, _f in srv["INBOX"]]
    assert len(ids) == len(set(ids))
    # and nothing is left to do: the run checked that the server changed
    # only by its uploads (CHANGEDSINCE), so the next one opens nothing
    cmds, _ = traced(account, tmp_path, "upload2")
    assert verbs(cmds, "APPEND") == [] and selected(cmds) == [], cmds


@pytest.mark.parametrize("held", ["readonly", "maxsize"])
def test_state_not_kept_when_something_was_held_back(account, imap,
                                                     tmp_path, held):
    """A message the plan did not copy (read-only local, maxsize) is not
    in the status: no state is kept that would hide it from a later run
    with other options."""
    synced_twice(account, imap, tmp_path)
    if held == "readonly":
        account.write_rc(overrides={"local": {"readonly": True}})
        imap.append("Archive", msg("held"))
    else:
        account.write_rc(overrides={"account": {"maxsize": 2000}})
        imap.append("Archive", msg("held", body="x" * 5000 + "\n"))
    sync_ok(account)
    sync_ok(account)
    account.write_rc()
    cmds, _ = traced(account, tmp_path, "held")
    assert selected(cmds) == ["Archive"], cmds
    srv = assert_synced(account, imap)
    assert mid("held") in dict(srv["Archive"])

