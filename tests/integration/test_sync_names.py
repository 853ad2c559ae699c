# SPDX-License-Identifier: GPL-2.0-or-later
"""Folder names in the account sync, side by side with offlineimap3.

decodefoldernames
    OfflineIMAP 8 cannot sync at all with it (imaputil.decode_mailbox_name
    calls str.decode(), which Python 3 does not have: every account fails
    with "'str' object has no attribute 'decode'"); the first test pins
    that down.  oimap does what OfflineIMAP 7 did and the option
    documents: the visible name of a server folder is decoded from
    modified UTF-7, so "Entw&APw-rfe" becomes the Maildir folder and the
    status cache "Entwürfe".  Those are exactly the names OfflineIMAP 8
    gives the same server folders with utf8foldernames (the option that
    replaces decodefoldernames), so the peer here is offlineimap3 with
    utf8foldernames, on its own Maildir and then on ours: the same tree,
    the same status files, and nothing to do for either after the other.
    New local folders go to the server encoded ("Brouillons-é" ->
    "Brouillons-&AOk-"), the name offlineimap3 (utf8foldernames) creates
    and finds again; OfflineIMAP 7 sent the UTF-8 bytes, which servers
    refuse.

createfolders = no on the local side
    OfflineIMAP 8 stops the account at the first remote folder (in sync
    order) that has no local folder ("getfolder() asked for a nonexisting
    folder"); oimap syncs the others, names each missing folder with the
    option, and exits non-zero.

folderfilter
    A local folderfilter that leaves out a remote folder: both programs
    still create the (empty) local folder and do not sync it.
"""
import os
import re

from conftest import Account
from oimaptest import imap as imapmod
from oimaptest.sync_helpers import (NONASCII, add_local, assert_synced,
                                    fmd5, mid, msg, seed, seed_standard,
                                    server_state, snapshot, status_path,
                                    status_records, sync, sync_ok)

# offlineimap3's -u basic lines for work it does
WORK_RE = re.compile(r"(?m)^(Copy message|Deleting \d+ message|Adding flag|"
                     r"Deleting flag|Creating folder|Creating new Local)")

AMP = "Tom & Jerry"                      # "Tom &- Jerry" on the wire
DECODE = {"remote": {"decodefoldernames": True}}
UTF8 = {"account": {"utf8foldernames": True}}


def peer(account, tmp_path, sub="peer"):
    d = tmp_path / sub
    d.mkdir()
    return Account(account.server, d, account.oimap_bin)


def offlineimap_ok(acc):
    r = acc.offlineimap()
    assert r.rc == 0, r
    assert "ERROR" not in r.output, r
    return r


def status_files(acc):
    d = os.path.dirname(status_path(acc, "x"))
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def statuses(acc):
    return {f: status_records(acc, f) for f in status_files(acc)}


def wire_names(client):
    """The server's folder names as sent (modified UTF-7), not decoded."""
    typ, data = client.c.list('""', '"*"')
    assert typ == "OK", data
    out = []
    for item in data:
        if isinstance(item, tuple):     # name sent as a literal
            out.append(item[1].decode())
            continue
        name = imapmod._LIST_RE.match(item).group("name").decode()
        if name.startswith('"'):
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out.append(name)
    return sorted(out)


def fmd5s(acc):
    """{folder: set of FMD5 values of its messages}."""
    return {f: {re.search(r"FMD5=([0-9a-f]+)", m.name).group(1)
                for m in msgs}
            for f, msgs in acc.tree().items()}


def content(acc):
    return {f: sorted((m.message_id, m.flags) for m in msgs)
            for f, msgs in acc.tree().items()}


def seed_names(client):
    seed_standard(client)
    seed(client, {AMP: [("amp1", ["\\Seen"])]})


def decoded_translate(local):
    return local.replace(".", "/")


# decodefoldernames -----------------------------------------------------------

def test_offlineimap8_cannot_decodefoldernames(account, imap):
    """Why the peer below uses utf8foldernames."""
    seed(imap, {"INBOX": [("x1", [])]})
    account.write_rc(overrides=DECODE)
    r = account.offlineimap()
    assert r.rc != 0
    assert "'str' object has no attribute 'decode'" in r.output, r
    assert account.tree() == {}


def test_decodefoldernames_names(account, imap, tmp_path):
    seed_names(imap)
    assert "Entw&APw-rfe" in wire_names(imap)
    assert "Tom &- Jerry" in wire_names(imap)
    account.write_rc(overrides=DECODE)
    sync_ok(account)
    want = sorted(["INBOX", "Archive", "Archive.2024", NONASCII, AMP])
    assert sorted(account.tree()) == want
    # FMD5 of the decoded name, status cache named by it
    assert_synced(account, imap, translate=decoded_translate)
    assert fmd5s(account)[NONASCII] == {fmd5(NONASCII)}
    assert status_files(account) == want

    # offlineimap3 with utf8foldernames on a Maildir of its own: the
    # same folders, file name fingerprints and status cache files
    p = peer(account, tmp_path)
    p.write_rc(overrides=UTF8)
    offlineimap_ok(p)
    assert sorted(p.tree()) == want
    assert content(p) == content(account)
    assert fmd5s(p) == fmd5s(account)
    assert status_files(p) == status_files(account)
    assert statuses(p) == statuses(account)

    # and on ours it has nothing to do
    account.write_rc(overrides=UTF8)
    before, st = snapshot(account, imap), statuses(account)
    r = offlineimap_ok(account)
    assert not WORK_RE.search(r.out), r
    assert snapshot(account, imap) == before
    assert statuses(account) == st


def test_decodefoldernames_after_offlineimap_utf8(account, imap):
    """A Maildir made by offlineimap3 with utf8foldernames: oimap with
    decodefoldernames takes it over without fetching anything."""
    seed_names(imap)
    account.write_rc(overrides=UTF8)
    offlineimap_ok(account)
    account.write_rc(overrides=DECODE)
    before, st = snapshot(account, imap), statuses(account)
    sync_ok(account)
    assert snapshot(account, imap) == before
    assert statuses(account) == st
    imap.append(NONASCII, msg("d2"))
    sync_ok(account)
    assert mid("d2") in [m.message_id for m in account.tree()[NONASCII]]
    assert_synced(account, imap, translate=decoded_translate)


def test_decodefoldernames_new_local_folder(account, imap):
    seed_names(imap)
    account.write_rc(overrides=DECODE)
    sync_ok(account)
    add_local(account, "Brouillons-é", "b1", flags="S")
    add_local(account, "Brouillons-é.Août", "b2")
    add_local(account, NONASCII, "d3", flags="D")
    r = sync_ok(account)
    wire = wire_names(imap)
    assert "Brouillons-&AOk-" in wire
    assert "Brouillons-&AOk-/Ao&APs-t" in wire
    assert not [n for n in wire if not n.isascii()], wire
    assert "Entw&APw-rfe" in wire and "Entw&AOk-rfe" not in wire
    srv = server_state(imap)
    assert srv["Brouillons-é"] == [(mid("b1"), "S")]
    assert srv["Brouillons-é/Août"] == [(mid("b2"), "")]
    assert (mid("d3"), "D") in srv[NONASCII]
    assert_synced(account, imap, translate=decoded_translate)
    assert "Brouillons-é" in status_files(account)
    assert "Brouillons-é.Août" in status_files(account)

    # the second run changes nothing
    before, st = snapshot(account, imap), statuses(account)
    r = sync_ok(account)
    assert "Creating folder" not in r.output, r
    assert snapshot(account, imap) == before
    assert statuses(account) == st

    # offlineimap3 (utf8foldernames) maps the new server folders to the
    # same local folders and status files: nothing to do either
    account.write_rc(overrides=UTF8)
    r = offlineimap_ok(account)
    assert not WORK_RE.search(r.out), r
    assert snapshot(account, imap) == before
    assert statuses(account) == st


def test_decodefoldernames_new_local_folder_like_offlineimap_utf8(
        account, imap, tmp_path):
    """offlineimap3 (utf8foldernames) creating the same new local folder
    on the server picks the same name oimap (decodefoldernames) did."""
    seed(imap, {"INBOX": [("i1", [])]})
    p = peer(account, tmp_path)
    p.write_rc(overrides=UTF8)
    offlineimap_ok(p)
    add_local(p, "Notizen-ü", "p1")
    offlineimap_ok(p)
    theirs = set(wire_names(imap))
    assert "Notizen-&APw-" in theirs
    account.write_rc(overrides=DECODE)
    sync_ok(account)
    add_local(account, "Zettel-ü", "z1")
    sync_ok(account)
    assert set(wire_names(imap)) == theirs | {"Zettel-&APw-"}


def test_decodefoldernames_invalid_name_kept(account, imap, tmp_path):
    """A name that is not modified UTF-7 is kept as it is (Dovecot does
    not let one be created, so this goes through nametrans)."""
    seed(imap, {"INBOX": [("i1", [])], "Odd": [("o1", [])]})
    account.write_rc(overrides={"remote": {
        "decodefoldernames": True,
        "nametrans": "lambda f: 'Odd&x' if f == 'Odd' else f"},
        "local": {"nametrans": "lambda f: 'Odd' if f == 'Odd&x' else f"}})
    sync_ok(account)
    assert sorted(account.tree()) == ["INBOX", "Odd&x"]


# createfolders = no on the local side ------------------------------------------

def make_local(acc, *folders):
    for f in folders:
        for s in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(acc.maildir, f, s), exist_ok=True)


NOCREATE = {"local": {"createfolders": False}}
SEED4 = {"Archive": [("a1", [])], "INBOX": [("i1", ["\\Seen"])],
         "Lists": [("l1", [])], "Zeta": [("z1", [])]}


def test_createfolders_no_local_missing_folder(account, imap, tmp_path):
    seed(imap, SEED4)
    make_local(account, "INBOX", "Zeta")
    account.write_rc(overrides=NOCREATE)
    r = sync(account)
    assert r.rc != 0, r
    for f in ("Archive", "Lists"):
        assert re.search(r"(?m)error.*folder '%s' \[Test-Remote\] not "
                         r"synced.*createfolders = no" % f, r.output), \
            r.output
    # the others are synced, nothing is created
    assert sorted(account.tree()) == ["INBOX", "Zeta"]
    assert content(account) == {"INBOX": [(mid("i1"), "S")],
                                "Zeta": [(mid("z1"), "")]}
    assert sorted(imap.list()) == sorted(SEED4)
    assert status_files(account) == ["INBOX", "Zeta"]

    # offlineimap3 stops the account at the first missing folder
    # ("Archive" sorts first): nothing synced at all there
    p = peer(account, tmp_path)
    make_local(p, "INBOX", "Zeta")
    p.write_rc(overrides=NOCREATE)
    r2 = p.offlineimap()
    assert r2.rc != 0
    assert "getfolder() asked for a nonexisting folder 'Archive'" \
        in r2.output, r2
    assert content(p) == {"INBOX": [], "Zeta": []}

    # again: still reported, nothing duplicated
    before = snapshot(account, imap)
    r = sync(account)
    assert r.rc != 0 and "folder 'Lists'" in r.output, r
    assert snapshot(account, imap) == before
    # the user makes the folders: all synced, exit 0
    make_local(account, "Archive", "Lists")
    sync_ok(account)
    assert_synced(account, imap)


def test_createfolders_no_local_filtered_folder_is_fine(account, imap):
    """A missing folder the local folderfilter leaves out is no error
    (oimap only: OfflineIMAP looks the folder up before the filter)."""
    seed(imap, SEED4)
    make_local(account, "INBOX", "Zeta")
    account.write_rc(overrides={"local": {
        "createfolders": False,
        "folderfilter": "lambda f: f in ['INBOX', 'Zeta']"}})
    sync_ok(account)
    assert content(account) == {"INBOX": [(mid("i1"), "S")],
                                "Zeta": [(mid("z1"), "")]}


def test_readonly_local_missing_folder(account, imap):
    seed(imap, {"INBOX": [("i1", [])]})
    sync_ok(account)
    imap.create("New")
    imap.append("New", msg("n1"))
    account.write_rc(overrides={"local": {"readonly": True}})
    r = sync(account)
    # read-only asked for this: said, and not an error (issue 5: "a
    # read-only local repository still syncs the folders it has")
    assert r.rc == 0, r
    assert re.search(r"folder 'New' \[Test-Remote\] not synced: the "
                     r"read-only repository Test-Local has no folder",
                     r.output), r
    assert sorted(account.tree()) == ["INBOX"]


def test_createfolders_no_local_dry_run(account, imap):
    seed(imap, SEED4)
    make_local(account, "INBOX", "Zeta")
    account.write_rc(overrides=NOCREATE)
    r = sync(account, "--dry-run")
    assert r.rc != 0, r
    assert "would be created locally" not in r.output, r
    assert "folder 'Lists' [Test-Remote] not synced" in r.output, r
    assert content(account) == {"INBOX": [], "Zeta": []}


# folderfilter ----------------------------------------------------------------------

def test_local_folderfilter_creates_but_does_not_sync(account, imap,
                                                      tmp_path):
    """repository/Base.py sync_folder_structure asks only the remote
    filter before creating the local folder; accounts.py then skips it
    because of the local filter.  Same result with both programs."""
    seed(imap, SEED4)
    ov = {"local": {"folderfilter": "lambda f: f != 'Lists'"}}
    account.write_rc(overrides=ov)
    sync_ok(account)
    p = peer(account, tmp_path)
    p.write_rc(overrides=ov)
    offlineimap_ok(p)
    assert content(account) == content(p)
    assert content(account)["Lists"] == []
    assert content(account)["Archive"] == [(mid("a1"), "")]
    # oimap: no status cache for a folder it does not sync (OfflineIMAP
    # makes an empty one with every folder it creates)
    assert status_files(account) == ["Archive", "INBOX", "Zeta"]
    assert status_files(p) == ["Archive", "INBOX", "Lists", "Zeta"]
    assert statuses(p)["Lists"] == {}
    # a message put there locally stays local
    add_local(account, "Lists", "l2")
    sync_ok(account)
    assert server_state(imap)["Lists"] == [(mid("l1"), "")]


def test_remote_folderfilter_keeps_local_folder_local(account, imap,
                                                      tmp_path):
    """A local folder whose server name the remote folderfilter leaves
    out is not created there ("would be filtered out")."""
    seed(imap, {"INBOX": [("i1", [])]})
    ov = {"remote": {"folderfilter": "lambda f: not f.startswith('Priv')"}}
    account.write_rc(overrides=ov)
    make_local(account, "Private")
    add_local(account, "Private", "pv1")
    sync_ok(account)
    p = peer(account, tmp_path)
    p.write_rc(overrides=ov)
    make_local(p, "Private")
    add_local(p, "Private", "pv1")
    offlineimap_ok(p)
    assert imap.list() == ["INBOX"]
    assert content(account) == content(p)


# [mbnames] -------------------------------------------------------------------------

MBNAMES = {"enabled": True, "filename": "~/mailboxes",
           "header": "'mailboxes '", "peritem": "+%(foldername)s",
           "sep": "' '", "footer": "'\\n'"}


def test_mbnames_missing_option_refused(account, imap, tmp_path):
    """mbnames.py reads peritem, header, sep, footer and filename whenever
    the section exists: offlineimap3 stops before syncing without one,
    and so does oimap when the section is enabled (naming file and
    line)."""
    seed(imap, {"INBOX": [("i1", [])]})
    for missing in ("header", "peritem", "footer", "sep", "filename"):
        ov = dict(MBNAMES)
        ov[missing] = None
        account.write_rc(overrides={"mbnames": ov})
        r = sync(account)
        assert r.rc != 0, r
        assert re.search(r"offlineimaprc:\d+: \[mbnames\] has no '%s' "
                         r"option" % missing, r.output), r.output
        p = peer(account, tmp_path, "peer-" + missing)
        p.write_rc(overrides={"mbnames": ov})
        r2 = p.offlineimap()
        assert r2.rc != 0
        assert "No option '%s' in section: 'mbnames'" % missing \
            in r2.output, r2
        assert account.tree() == {} and p.tree() == {}
    # not enabled (OfflineIMAP's sample configuration has an empty
    # [mbnames]): offlineimap3 still refuses to sync, oimap warns
    for ov in ({}, {"enabled": False}):
        account.write_rc(overrides={"mbnames": ov})
        r = sync_ok(account)
        assert re.search(r"offlineimaprc:\d+: \[mbnames\] has no peritem, "
                         r"header, sep, footer, filename: OfflineIMAP "
                         r"refuses", r.output), r.output
        p = peer(account, tmp_path, "peer-off%d" % len(ov))
        p.write_rc(overrides={"mbnames": ov})
        r2 = p.offlineimap()
        assert r2.rc != 0
        assert "No option 'peritem' in section: 'mbnames'" in r2.output, r2
    assert content(account) == {"INBOX": [(mid("i1"), "")]}
    assert not os.path.exists(os.path.join(account.home, "mailboxes"))


def test_mbnames_file_like_offlineimap(account, imap, tmp_path):
    seed_names(imap)
    ov = {"mbnames": MBNAMES, **DECODE}
    account.write_rc(overrides=ov)
    sync_ok(account)
    p = peer(account, tmp_path)
    p.write_rc(overrides={"mbnames": MBNAMES, **UTF8})
    offlineimap_ok(p)
    with open(os.path.join(account.home, "mailboxes"), encoding="utf-8") \
            as fh:
        ours = fh.read()
    with open(os.path.join(p.home, "mailboxes"), encoding="utf-8") as fh:
        theirs = fh.read()
    assert ours == theirs
    assert "+Entwürfe" in ours and "+Tom & Jerry" in ours


# foldersort ------------------------------------------------------------------------

ORDER_NAMES = ["apple", "Äb", "äa", "Zebra", "Über", "archive", "Archive",
               "INBOX"]
SYNCING_RE = re.compile(r"(?m)^Syncing (.*): IMAP -> Maildir")


def _order(acc, engine):
    args = ("-o", "-u", "basic", "-1")
    r = acc.offlineimap(*args) if engine == "offlineimap" else acc.oimap(*args)
    assert r.rc == 0, r
    return SYNCING_RE.findall(r.output)


def test_default_order_like_offlineimap(account, imap, tmp_path):
    """Case-insensitive (Unicode lower case), stable for names equal but
    for case: the order offlineimap3 syncs in, with non-ASCII names
    (utf8foldernames there; decodefoldernames gives oimap the same
    visible names)."""
    seed(imap, {n: [] for n in ORDER_NAMES})
    p = peer(account, tmp_path)
    p.write_rc(overrides=UTF8)
    theirs = _order(p, "offlineimap")
    assert sorted(theirs) == sorted(ORDER_NAMES)
    account.write_rc(overrides=UTF8)
    assert _order(account, "oimap") == theirs
    d = peer(account, tmp_path, "decode")
    d.write_rc(overrides=DECODE)
    assert _order(d, "oimap") == theirs


def test_foldersort_like_offlineimap(account, imap, tmp_path):
    seed(imap, {n: [] for n in ("INBOX", "Archive", "archive", "Sent",
                                "Drafts")})
    ov = {"remote": {"foldersort":
                     "lambda x, y: (x.lower() < y.lower()) - "
                     "(x.lower() > y.lower())"}}
    p = peer(account, tmp_path)
    p.write_rc(overrides=ov)
    theirs = _order(p, "offlineimap")
    assert theirs[0] == "Sent" and theirs[-1] in ("Archive", "archive")
    account.write_rc(overrides=ov)
    assert _order(account, "oimap") == theirs
