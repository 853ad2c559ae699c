# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 5: the corners users hit: mail moved between folders on either
side, a whole folder removed on one side, two messages with the same
Message-ID, messages without one, big and odd messages (byte-exact both
ways), a sync over TLS.
Set OIMAPTEST_ENGINE=offlineimap to run these against offlineimap3.
"""
import os
import shutil

from oimaptest import mail
from oimaptest.sync_helpers import (add_local, assert_synced, find_local,
                                    rename_flags, snapshot,
                                    local_state, mid, msg, oimap_only, seed,
                                    server_state, sync, sync_ok)
from oimaptest import maildir as maildirmod


def ids(pairs):
    return sorted(i for i, _ in pairs)


def test_local_move_between_folders(account, imap):
    """mutt's 's'ave: the file (with INBOX's U= and FMD5) lands in
    Archive.  OfflineIMAP treats it as new mail there (FMD5 mismatch) and
    as a deletion in INBOX: once on each side, in the new folder."""
    seed(imap, {"INBOX": [("mv1", ["\\Seen"]), ("mv2", [])],
                "Archive": [("ar", [])]})
    sync_ok(account)
    m = find_local(account, "INBOX", "mv1")
    os.rename(m.path, os.path.join(account.maildir, "Archive", "cur",
                                   m.name))
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert srv["INBOX"] == [(mid("mv2"), "")]
    assert dict(srv["Archive"]) == {mid("ar"): "", mid("mv1"): "S"}


def test_server_move_between_folders(account, imap):
    uids = seed(imap, {"INBOX": [("sv1", ["\\Flagged"]), ("sv2", [])],
                       "Archive": []})
    sync_ok(account)
    m = [x for x in imap.fetch("INBOX") if x.uid == uids["INBOX"]["sv1"]][0]
    imap.append("Archive", m.body, flags=m.flags)
    imap.expunge("INBOX", [m.uid])
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert srv["INBOX"] == [(mid("sv2"), "")]
    assert srv["Archive"] == [(mid("sv1"), "F")]


@oimap_only
def test_local_folder_removed_is_not_a_licence(account, imap):
    """rm -r of a Maildir folder: OfflineIMAP recreates it empty and then
    deletes every message of it on the server.  oimap must not."""
    seed(imap, {"INBOX": [("i1", [])],
                "Big": [("b%d" % i, []) for i in range(8)]})
    sync_ok(account)
    shutil.rmtree(os.path.join(account.maildir, "Big"))
    r = sync(account)
    assert r.rc != 0, r
    assert "Big" in r.output, r
    assert len(server_state(imap)["Big"]) == 8


@oimap_only
def test_server_folder_deleted_is_not_a_licence(account, imap):
    """The folder was deleted on the server (another client, a migration):
    the local copies of its mail must stay."""
    seed(imap, {"INBOX": [("i1", [])],
                "Big": [("b%d" % i, []) for i in range(8)]})
    sync_ok(account)
    imap.delete("Big")
    r = sync(account)
    assert r.rc != 0, r
    assert "Big" in r.output, r
    assert len(account.tree()["Big"]) == 8


def test_same_message_id_twice(account, imap):
    """Two different messages with one Message-ID (a list copy and a
    personal copy) are two messages: neither is dropped."""
    a = msg("dup", body="list copy\n")
    b = msg("dup", body="personal copy\n")
    imap.append("INBOX", a)
    imap.append("INBOX", b)
    maildirmod.add_local_message(account.maildir, "Sent",
                                 mail.to_lf(msg("dup2", body="one\n")))
    maildirmod.add_local_message(account.maildir, "Sent",
                                 mail.to_lf(msg("dup2", body="two\n")))
    sync_ok(account)
    loc = sorted(m.read() for m in account.tree()["INBOX"])
    assert loc == sorted([mail.to_lf(a), mail.to_lf(b)])
    srv = sorted(m.body for m in imap.fetch("Sent"))
    assert srv == sorted([msg("dup2", body="one\n"),
                          msg("dup2", body="two\n")])
    sync_ok(account)
    assert len(imap.fetch("INBOX")) == 2
    assert len(imap.fetch("Sent")) == 2
    assert len(account.tree()["Sent"]) == 2


ODD = [
    # no Message-ID at all
    b"From: a@example.org\nSubject: no id\n\nbody\n",
    # no final newline
    b"From: a@example.org\nSubject: no eol\nMessage-ID: <noeol@x>\n\nend",
    # 8-bit, long lines, a line of dots, a From_ line in the body
    ("From: z@example.org\nSubject: =?utf-8?q?=C3=BC?=\nMessage-ID: <8bit@x>"
     "\n\n" + "ü" * 3000 + "\n.\n..\nFrom here on\n").encode("utf-8"),
]


def big_message():
    line = "0123456789abcdefghijklmnopqrstuvwxyz" * 2 + "\n"
    return mail.make_message("big", msgid="<big@x>",
                             body=line * 40000)          # ~3 MB


def test_odd_and_big_messages_byte_exact(account, imap):
    for i, m in enumerate(ODD[:2]):
        imap.append("INBOX", m)
    imap.append("INBOX", big_message())
    maildirmod.add_local_message(account.maildir, "Up", ODD[2])
    maildirmod.add_local_message(account.maildir, "Up",
                                 mail.to_lf(big_message()).replace(
                                     b"<big@x>", b"<big2@x>"))
    maildirmod.add_local_message(account.maildir, "Up",
                                 ODD[0].replace(b"no id", b"no id up"))
    sync_ok(account)
    srv_in = sorted(m.body for m in imap.fetch("INBOX"))
    loc_in = sorted(m.read() for m in account.tree()["INBOX"])
    assert sorted(mail.to_lf(b) for b in srv_in) == loc_in
    assert sorted(mail.to_crlf(b) for b in loc_in) == srv_in
    srv_up = sorted(m.body for m in imap.fetch("Up"))
    loc_up = sorted(m.read() for m in account.tree()["Up"])
    assert sorted(mail.to_crlf(b) for b in loc_up) == srv_up
    assert len(srv_up) == 3
    # nothing is sent twice on the next run
    sync_ok(account)
    assert len(imap.fetch("Up")) == 3
    assert len(imap.fetch("INBOX")) == 3
    assert len(account.tree()["INBOX"]) == 3


def test_sync_over_tls(account, imap):
    seed(imap, {"INBOX": [("t1", ["\\Seen"])]})
    account.write_rc(mode="ssl")
    sync_ok(account)
    add_local(account, "INBOX", "t2")
    account.write_rc(mode="starttls")
    sync_ok(account)
    assert_synced(account, imap)
    assert ids(local_state(account.maildir)["INBOX"]) == sorted(
        [mid("t1"), mid("t2")])


def test_keywords_survive_local_flag_changes(account, imap):
    """Flags are changed one by one (+FLAGS/-FLAGS), so keywords the Maildir
    cannot hold stay on the server."""
    uid = imap.append("INBOX", msg("kw"), flags=["\\Seen", "$Label1",
                                                   "Junk"])
    sync_ok(account)
    rename_flags(find_local(account, "INBOX", "kw"), "F")   # -S +F
    sync_ok(account)
    flags = [m.flags for m in imap.fetch("INBOX", bodies=False)
             if m.uid == uid][0]
    assert sorted(flags) == sorted(["\\Flagged", "$Label1", "Junk"])
    assert_synced(account, imap)


FUNNY = ["With Space", "A&B", "Ünï/Sub Folder", "dash-and_under"]


def test_folder_names_with_special_characters(account, imap):
    seed(imap, {f: [("f%d" % i, [])] for i, f in enumerate(FUNNY)})
    sync_ok(account)
    assert "A&-B" in account.tree()                 # modified UTF-7, as
    assert "&ANw-n&AO8-.Sub Folder" in account.tree()  # OfflineIMAP names it
    add_local(account, "New &APw- Space", "f9")     # 'New ü Space'
    sync_ok(account)
    assert "New ü Space" in imap.list()
    srv = assert_synced(account, imap)
    assert srv["Ünï/Sub Folder"] == [(mid("f2"), "")]
    assert srv["New ü Space"] == [(mid("f9"), "")]
    before = snapshot(account, imap)
    sync_ok(account)
    assert snapshot(account, imap) == before


def test_windows_compatible_names(account, imap):
    seed(imap, {"INBOX": [("w1", ["\\Seen"]), ("w2", [])]})
    account.write_rc(overrides={"account": {
        "maildir-windows-compatible": True}})
    sync_ok(account)
    names = [m.name for m in account.tree()["INBOX"]]
    assert all("!2," in n and ":" not in n for n in names), names
    assert sorted(m.flags for m in account.tree()["INBOX"]) == ["", "S"]
    m = find_local(account, "INBOX", "w2")
    os.rename(m.path, os.path.join(os.path.dirname(os.path.dirname(m.path)),
                                   "cur", m.name.replace("!2,", "!2,F")))
    sync_ok(account)
    assert dict(server_state(imap)["INBOX"]) == {mid("w1"): "S",
                                                 mid("w2"): "F"}


def test_trashed_flag_is_a_flag(account, imap):
    """Maildir's T is IMAP's \\Deleted: it travels as a flag; OfflineIMAP
    does not expunge a message because of it."""
    seed(imap, {"INBOX": [("t1", []), ("t2", [])]})
    sync_ok(account)
    rename_flags(find_local(account, "INBOX", "t1"), "ST")
    sync_ok(account)
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert dict(srv["INBOX"]) == {mid("t1"): "ST", mid("t2"): ""}


def test_empty_folders_both_ways(account, imap):
    seed(imap, {"INBOX": [("e1", [])]})
    imap.create("SrvEmpty")
    for s in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(account.maildir, "LocEmpty", s))
    sync_ok(account)
    assert {"SrvEmpty", "LocEmpty"} <= set(imap.list())
    assert {"SrvEmpty", "LocEmpty"} <= set(account.tree())
    assert_synced(account, imap)


def test_bulk_changes(account, imap):
    """Hundreds of changes at once each way (long UID sets, batching)."""
    n = 600
    imap.create("Bulk")
    uids = [imap.append("Bulk", msg("b%d" % i, body="b\n"))
            for i in range(n)]
    sync_ok(account)
    imap.set_flags("Bulk", uids[::3], ["\\Flagged"], "+")
    imap.expunge("Bulk", uids[1::7])
    gone_srv = {mid("b%d" % i) for i in range(1, n, 7)}
    tree = {m.message_id: m for m in account.tree()["Bulk"]}
    gone_loc = set()
    for i in range(0, n, 2):
        m = tree[mid("b%d" % i)]
        if i % 10 == 0 and m.message_id not in gone_srv:
            os.unlink(m.path)
            gone_loc.add(m.message_id)
        else:
            rename_flags(m, "S")
    for i in range(150):
        add_local(account, "Bulk", "nb%d" % i)
    sync_ok(account)
    srv = assert_synced(account, imap)
    got = dict(srv["Bulk"])
    assert len(got) == n - len(gone_srv) - len(gone_loc) + 150
    for i in range(n):
        m = mid("b%d" % i)
        if m in gone_srv or m in gone_loc:
            assert m not in got
            continue
        want = ("F" if i % 3 == 0 else "") + ("S" if i % 2 == 0 else "")
        assert got[m] == want, (i, got[m])
    before = snapshot(account, imap)
    sync_ok(account)
    assert snapshot(account, imap) == before
