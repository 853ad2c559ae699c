# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 5: the sync of one account, IMAP <-> Maildir, through the binary.

The semantics are OfflineIMAP 8's (folder/Base.py syncmessagesto, accounts.py
syncfolder): copy new messages each way, propagate deletions of messages
the status cache knew, merge flag changes per flag relative to the status.
Set OIMAPTEST_ENGINE=offlineimap to run these against offlineimap3.
"""
import os

from oimaptest import mail
from oimaptest.sync_helpers import (NONASCII, STANDARD, add_local,
                                    assert_synced, expected, find_local,
                                    fmd5, local_name, local_state, mid, msg,
                                    oimap_only, rename_flags, seed,
                                    seed_standard, server_state,
                                    snapshot, status_records, sync, sync_ok)


def test_initial_sync_into_empty_maildir(account, imap):
    uids = seed_standard(imap)
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert srv == expected(STANDARD)
    tree = account.tree()
    assert sorted(tree) == sorted(local_name(f) for f in STANDARD)
    assert local_name(NONASCII) in tree         # Entw&APw-rfe, as OfflineIMAP
    assert "Archive.2024" in tree
    for folder, tags in uids.items():
        lf = local_name(folder)
        assert sorted(status_records(account, lf)) == sorted(tags.values())
        for tag, uid in tags.items():
            m = find_local(account, lf, tag)
            assert m.uid == uid
            assert m.fmd5 == fmd5(lf)
            # OfflineIMAP puts seen mail into cur/, the rest into new/
            assert m.subdir == ("cur" if "S" in m.flags else "new"), m.name
            # the body is the server's, with LF line ends
            assert m.read() == mail.to_lf(msg(tag))
    # the UID validity of every folder is remembered
    fv = os.path.join(account.metadata, "Repository-%s-Remote" % account.name,
                      "FolderValidity")
    for folder in STANDARD:
        with open(os.path.join(fv, local_name(folder))) as fh:
            assert int(fh.read().strip()) == imap.uidvalidity(folder)


def test_second_run_changes_nothing(account, imap):
    seed_standard(imap)
    sync_ok(account)
    before = snapshot(account, imap)
    sync_ok(account)
    assert snapshot(account, imap) == before
    assert_synced(account, imap)


def test_new_mail_both_ways(account, imap):
    seed_standard(imap)
    sync_ok(account)
    imap.append("INBOX", msg("srvnew"), flags=["\\Flagged"])
    imap.append("Archive/2024", msg("srvnew2"))
    add_local(account, "INBOX", "locnew", flags="S")
    add_local(account, local_name(NONASCII), "locnew2")       # into new/
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert (mid("srvnew"), "F") in srv["INBOX"]
    assert (mid("locnew"), "S") in srv["INBOX"]
    assert (mid("srvnew2"), "") in srv["Archive/2024"]
    assert (mid("locnew2"), "") in srv[NONASCII]
    # the uploaded message is on the server byte for byte (CRLF)
    body = [m.body for m in imap.fetch("INBOX")
            if m.message_id == mid("locnew")]
    assert body == [mail.to_crlf(msg("locnew"))]
    before = snapshot(account, imap)
    sync_ok(account)
    assert snapshot(account, imap) == before


def test_flag_changes_both_ways(account, imap):
    uids = seed_standard(imap)
    sync_ok(account)
    rename_flags(find_local(account, "INBOX", "in2"), "F")      # local +F
    rename_flags(find_local(account, "INBOX", "in3"), "F")      # local -S
    imap.set_flags("INBOX", uids["INBOX"]["in1"], ["\\Seen"], "-")
    imap.set_flags("INBOX", uids["INBOX"]["in4"], ["\\Seen", "\\Draft"], "+")
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert dict(srv["INBOX"]) == {mid("in1"): "", mid("in2"): "F",
                                  mid("in3"): "F", mid("in4"): "DRS"}


def test_both_sides_changed_flags_merge(account, imap):
    uids = seed(imap, {"INBOX": [("m1", ["\\Seen"]), ("m2", ["\\Seen"]),
                                 ("m3", [])]})
    sync_ok(account)
    u = uids["INBOX"]
    # m1: local adds F, server removes S and adds R -> FR both
    rename_flags(find_local(account, "INBOX", "m1"), "FS")
    imap.set_flags("INBOX", u["m1"], ["\\Answered"], "")
    # m2: both remove S, local adds D, server adds F -> DF
    rename_flags(find_local(account, "INBOX", "m2"), "D")
    imap.set_flags("INBOX", u["m2"], ["\\Flagged"], "")
    # m3: both add the same flag
    rename_flags(find_local(account, "INBOX", "m3"), "S")
    imap.set_flags("INBOX", u["m3"], ["\\Seen"], "+")
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert dict(srv["INBOX"]) == {mid("m1"): "FR", mid("m2"): "DF",
                                  mid("m3"): "S"}


def test_deletions_both_ways(account, imap):
    uids = seed_standard(imap)
    sync_ok(account)
    os.unlink(find_local(account, "INBOX", "in1").path)
    os.unlink(find_local(account, "Archive.2024", "a24b").path)
    imap.expunge("INBOX", [uids["INBOX"]["in2"]])
    imap.expunge(NONASCII, [uids[NONASCII]["draft1"]])
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert [i for i, _ in srv["INBOX"]] == sorted([mid("in3"), mid("in4")])
    assert [i for i, _ in srv["Archive/2024"]] == [mid("a24a")]
    assert srv[NONASCII] == []
    assert srv["Archive"] == [(mid("ar1"), "S")]


def test_only_messages_the_status_knew_are_deleted(account, imap):
    """A message missing on one side is copied, not deleted, when the
    status cache does not know it."""
    uids = seed(imap, {"INBOX": [("k1", []), ("k2", ["\\Seen"])]})
    sync_ok(account)
    # The status forgets k1 and its local copy is gone: it is downloaded
    # again, not deleted on the server.
    k1 = find_local(account, "INBOX", "k1")
    os.unlink(k1.path)
    import sqlite3
    from oimaptest.sync_helpers import status_path
    db = sqlite3.connect(status_path(account, "INBOX"))
    db.execute("DELETE FROM status WHERE id = ?", (uids["INBOX"]["k1"],))
    db.commit()
    db.close()
    # A local file carrying a UID that neither the server nor the status
    # knows (copied from elsewhere) is uploaded, never deleted.
    k2 = find_local(account, "INBOX", "k2")
    stray = os.path.join(account.maildir, "INBOX", "cur",
                         "1700000000_0.1.host,U=9999,FMD5=%s:2,S"
                         % fmd5("INBOX"))
    with open(stray, "wb") as fh:
        fh.write(mail.to_lf(msg("stray")))
    assert k2.uid != 9999
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert dict(srv["INBOX"]) == {mid("k1"): "", mid("k2"): "S",
                                  mid("stray"): "S"}


def test_deleted_on_one_side_changed_on_the_other(account, imap):
    """OfflineIMAP: the deletion wins (the remote pass deletes the local
    copy whose flags changed; the local pass deletes the server copy whose
    flags changed), and nothing comes back."""
    uids = seed(imap, {"INBOX": [("d1", []), ("d2", []), ("keep", [])]})
    sync_ok(account)
    u = uids["INBOX"]
    os.unlink(find_local(account, "INBOX", "d1").path)
    imap.set_flags("INBOX", u["d1"], ["\\Flagged"], "+")
    rename_flags(find_local(account, "INBOX", "d2"), "FS")
    imap.expunge("INBOX", [u["d2"]])
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert srv["INBOX"] == [(mid("keep"), "")]
    sync_ok(account)
    assert assert_synced(account, imap) == srv


def test_new_local_folder_is_created_on_server(account, imap):
    seed(imap, {"INBOX": [("x1", [])]})
    sync_ok(account)
    add_local(account, "Projects", "p1", flags="S")
    add_local(account, "Projects.Sub", "p2")
    sync_ok(account)
    assert "Projects" in imap.list()
    assert "Projects/Sub" in imap.list()
    srv = assert_synced(account, imap)
    assert srv["Projects"] == [(mid("p1"), "S")]
    assert srv["Projects/Sub"] == [(mid("p2"), "")]


@oimap_only
def test_emptied_local_folder_is_not_a_licence(account, imap):
    """Every local file of a folder vanished (a wrong path, a full disk, a
    careless rm): the folder fails, nothing is deleted on the server, the
    other folders still sync, exit non-zero."""
    tree = {"INBOX": [("i1", [])],
            "Valve": [("v%d" % i, ["\\Seen"]) for i in range(8)]}
    seed(imap, tree)
    sync_ok(account)
    for m in account.tree()["Valve"]:
        os.unlink(m.path)
    imap.append("INBOX", msg("i2"))
    r = sync(account)
    assert r.rc != 0, r
    assert "Valve" in r.output
    assert len(server_state(imap)["Valve"]) == 8
    assert sorted(i for i, _ in local_state(account.maildir)["INBOX"]) == \
        [mid("i1"), mid("i2")]
    # again: still refused, still nothing deleted
    r = sync(account)
    assert r.rc != 0, r
    assert len(server_state(imap)["Valve"]) == 8


@oimap_only
def test_emptied_server_folder_is_not_a_licence(account, imap):
    tree = {"INBOX": [("i1", [])],
            "Valve": [("v%d" % i, []) for i in range(8)]}
    seed(imap, tree)
    sync_ok(account)
    imap.expunge("Valve")
    add_local(account, "INBOX", "i2")
    r = sync(account)
    assert r.rc != 0, r
    assert "Valve" in r.output
    assert len(account.tree()["Valve"]) == 8
    assert sorted(i for i, _ in server_state(imap)["INBOX"]) == \
        [mid("i1"), mid("i2")]


def test_deleting_a_few_messages_is_not_held(account, imap):
    """The valve is for a folder that lost everything; deleting all of a
    tiny folder's mail (fewer than the valve's minimum) syncs."""
    seed(imap, {"INBOX": [("s1", []), ("s2", [])]})
    sync_ok(account)
    for m in account.tree()["INBOX"]:
        os.unlink(m.path)
    sync_ok(account)
    assert server_state(imap)["INBOX"] == []
