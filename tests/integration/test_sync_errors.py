# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 5: what a sync does when it must not (or cannot) go on.

The account lock held by another process, a folder whose UIDVALIDITY
changed on the server, a folder the server refuses to open.  In each case
the damage stays in the one place (account or folder), nothing is deleted,
the exit status says it, and a later run completes.
"""
import fcntl
import os
import re
import time

from oimaptest import maildir as maildirmod
from oimaptest.sync_helpers import (ENGINE, add_local, assert_synced,
                                    local_names, local_state, mid, msg,
                                    oimap_only,
                                    seed, server_state, status_path, sync,
                                    sync_ok)


def ids(pairs):
    return sorted(i for i, _ in pairs)


def test_lock_held_by_another_process(account, imap):
    seed(imap, {"INBOX": [("l1", [])]})
    os.makedirs(account.metadata, exist_ok=True)
    path = os.path.join(account.metadata, "%s.lock" % account.name)
    with open(path, "w") as fh:
        fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as OfflineIMAP 8
        r = sync(account)
        if ENGINE == "oimap":
            assert r.rc != 0, r
        assert re.search(r"(?i)lock", r.output), r
        assert account.name in r.output, r
        assert not any(account.tree().values())         # nothing synced
        fcntl.lockf(fh, fcntl.LOCK_UN)
    if os.path.exists(path):     # (offlineimap3 removes it on failure)
        os.unlink(path)
    sync_ok(account)
    assert ids(local_state(account.maildir)["INBOX"]) == [mid("l1")]
    # the lock is released and its file removed, as OfflineIMAP does
    assert not os.path.exists(path)


def _recreate(imap, folder):
    """Delete and recreate folder with the same messages and flags; returns
    the new UIDVALIDITY (different from the old one)."""
    old = imap.uidvalidity(folder)
    msgs = imap.fetch(folder)
    for _ in range(30):
        imap.delete(folder)
        imap.create(folder)
        if imap.uidvalidity(folder) != old:
            break
        time.sleep(0.2)          # Dovecot derives it from the clock
    else:
        raise AssertionError("UIDVALIDITY did not change")
    for m in msgs:
        imap.append(folder, m.body, flags=m.flags)
    return imap.uidvalidity(folder)


# OfflineIMAP 8 prints the problem but goes on syncing the folder
# (accounts.py check_uid_validity() returns from itself only).
@oimap_only
def test_uidvalidity_change_stops_that_folder(account, imap):
    seed(imap, {"INBOX": [("u1", [])],
                "Lists": [("u2", ["\\Seen"]), ("u3", [])]})
    sync_ok(account)
    before = sorted(n for n in local_names(account.maildir)
                    if n.startswith("Lists/"))
    _recreate(imap, "Lists")
    imap.append("INBOX", msg("u4"))
    add_local(account, "Lists", "u5")
    r = sync(account)
    if ENGINE == "oimap":
        assert r.rc != 0, r
    assert re.search(r"(?i)uid ?validity", r.output), r
    assert "Lists" in r.output, r
    # local mail of the folder is untouched (the new local message waits)
    after = sorted(n for n in local_names(account.maildir)
                   if n.startswith("Lists/"))
    assert set(before) <= set(after)
    assert len(after) == len(before) + 1
    # the server folder is not touched either
    assert ids(server_state(imap)["Lists"]) == sorted([mid("u2"), mid("u3")])
    # other folders still sync
    assert ids(local_state(account.maildir)["INBOX"]) == sorted(
        [mid("u1"), mid("u4")])
    # and it keeps refusing rather than guessing
    r = sync(account)
    if ENGINE == "oimap":
        assert r.rc != 0, r
    assert len(local_names(os.path.join(account.maildir, "Lists"))) == 3
    assert ids(server_state(imap)["Lists"]) == sorted([mid("u2"), mid("u3")])
    # the way out the message gives: move the folder, its status and its
    # validity file away, run again, bring back what only the backup has
    backup = os.path.join(account.home, "Lists.backup")
    os.rename(os.path.join(account.maildir, "Lists"), backup)
    os.rename(status_path(account, "Lists"), backup + ".status")
    os.rename(os.path.join(account.metadata, "Repository-%s-Remote"
                           % account.name, "FolderValidity", "Lists"),
              backup + ".validity")
    sync_ok(account)
    assert_synced(account, imap)
    assert ids(local_state(account.maildir)["Lists"]) == sorted(
        [mid("u2"), mid("u3")])
    only = [m for m in maildirmod.read_folder(backup, "")
            if m.message_id == mid("u5")]
    assert len(only) == 1 and only[0].uid is None
    os.rename(only[0].path, os.path.join(account.maildir, "Lists", "new",
                                         only[0].name))
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert ids(srv["Lists"]) == sorted([mid("u2"), mid("u3"), mid("u5")])


def _server_dir(imap_user, folder):
    # Dovecot's Maildir++ layout: ~/Maildir/.<folder> ('/' as '.')
    return os.path.join(imap_user.maildir, "." + folder.replace("/", "."))


def test_folder_error_fails_that_folder_only(account, imap, imap_user):
    seed(imap, {"INBOX": [("e1", [])], "Broken": [("e2", [])],
                "Zoo": [("e3", [])]})
    sync_ok(account)
    bad = _server_dir(imap_user, "Broken")
    assert os.path.isdir(bad)
    imap.append("INBOX", msg("e4"))
    imap.append("Zoo", msg("e5"))
    imap.append("Broken", msg("e6"))
    add_local(account, "Broken", "e7")
    mode = os.stat(bad).st_mode
    os.chmod(bad, 0)             # SELECT fails (the mail processes are
    try:                         # not root)
        r = sync(account)
    finally:
        os.chmod(bad, mode)
    if ENGINE == "oimap":
        assert r.rc != 0, r
        assert "Broken" in r.output, r
    loc = local_state(account.maildir)
    assert ids(loc["INBOX"]) == sorted([mid("e1"), mid("e4")])
    assert ids(loc["Zoo"]) == sorted([mid("e3"), mid("e5")])
    assert ids(loc["Broken"]) == sorted([mid("e2"), mid("e7")])
    # the next run completes
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert ids(srv["Broken"]) == sorted([mid("e2"), mid("e6"), mid("e7")])
