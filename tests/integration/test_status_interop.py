# SPDX-License-Identifier: GPL-2.0-or-later
"""Status cache interoperability with offlineimap3.

Debian's offlineimap syncs a throwaway Dovecot account; oimap's status code
(through the oimap-status-dump driver, tests/tools/status-dump.c) must read
the metadata it left -- every UID and flag of every folder, and the
FolderValidity files -- and a cache oimap migrated from the plain format
must be accepted by offlineimap as its own.

Needs the Dovecot fixtures (account, imap) of tests/integration/conftest.py;
skips with a reason when they are not there.  The driver is taken from
$OIMAP_STATUS_DUMP, else built next to $OIMAP_BIN by meson, else compiled
here with cc from src/status and src/util.
"""
import os
import re
import shutil
import sqlite3
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("OIMAP_SRCDIR",
                      os.path.dirname(os.path.dirname(HERE)))
ACCOUNT = "Test"                       # names used by oimaptest.rc
REMOTE_REPO, LOCAL_REPO = ACCOUNT + "-Remote", ACCOUNT + "-Local"
FLAGMAP = {"\\Seen": "S", "\\Answered": "R", "\\Flagged": "F",
           "\\Deleted": "T", "\\Draft": "D"}
MAGIC = "OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2"
OFFLINEIMAP_SCHEMA = [
    ("metadata", "CREATE TABLE metadata (key VARCHAR(50) PRIMARY KEY, "
                 "value VARCHAR(128))"),
    ("status", "CREATE TABLE status (id INTEGER PRIMARY KEY, flags "
               "VARCHAR(50), mtime INTEGER, labels VARCHAR(256))"),
]


def _fixture(request, name):
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        pytest.skip("needs the Dovecot fixtures (account, imap) of "
                    "tests/integration/conftest.py from branch 'harness'; "
                    "fixture %r is not available" % name)


@pytest.fixture(scope="session")
def status_dump(tmp_path_factory):
    exe = os.environ.get("OIMAP_STATUS_DUMP")
    if exe:
        return exe
    bindir = os.path.dirname(os.environ.get(
        "OIMAP_BIN", os.path.join(ROOT, "build", "oimap")))
    for cand in (os.path.join(bindir, "oimap-status-dump"),
                 os.path.join(bindir, "tests", "tools", "oimap-status-dump")):
        if os.access(cand, os.X_OK):
            return cand
    cc = shutil.which(os.environ.get("CC", "cc"))
    if not cc:
        pytest.skip("no C compiler to build oimap-status-dump")
    out = str(tmp_path_factory.mktemp("status-dump") / "oimap-status-dump")
    srcs = [os.path.join(ROOT, "tests", "tools", "status-dump.c")]
    for d in ("status", "util"):
        dd = os.path.join(ROOT, "src", d)
        # module-log.c is the log of the dlopen()ed modules, not oimap's
        srcs += sorted(os.path.join(dd, f) for f in os.listdir(dd)
                       if f.endswith(".c") and f != "module-log.c")
    libs = subprocess.run(["pkg-config", "--cflags", "--libs", "sqlite3"],
                          capture_output=True, text=True).stdout.split()
    p = subprocess.run([cc, "-std=c17", "-D_GNU_SOURCE", "-O1",
                        "-I" + os.path.join(ROOT, "src"), "-o", out, *srcs,
                        *libs, "-lpthread"], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail("cannot build oimap-status-dump:\n" + p.stderr)
    return out


def dump(exe, *args):
    """Run the driver; {uid: (flags, mtime, labels)} plus the header."""
    p = subprocess.run([exe, *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    m = re.fullmatch(r"backend (\w+) new (\d) count (\d+)", lines[0])
    assert m, p.stdout
    recs, meta = {}, {}
    for line in lines[1:]:
        if line.startswith("meta "):
            _, k, v = line.split(" ", 2)
            meta[k] = v
            continue
        uid, flags, mtime, labels = line.split(" ", 3)
        recs[int(uid)] = (flags.replace("-", ""), int(mtime),
                          "" if labels == "-" else labels)
    assert len(recs) == int(m.group(3))
    return {"backend": m.group(1), "new": m.group(2) == "1", "recs": recs,
            "meta": meta}


def validity(exe, metadata, repo, folder):
    p = subprocess.run([exe, "--validity", metadata, repo, folder],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    v = p.stdout.strip()
    return None if v == "none" else int(v)


def msg(n):
    return ("From: a@example.org\r\nTo: b@example.org\r\n"
            "Subject: status interop %d\r\nMessage-ID: <si%d@oimap.test>\r\n"
            "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody %d\r\n"
            % (n, n, n)).encode()


def server_flags(imap, folder):
    """{uid: Maildir flag letters sorted} as offlineimap stores them."""
    return {m.uid: "".join(sorted(FLAGMAP[f] for f in m.flags
                                  if f in FLAGMAP))
            for m in imap.fetch(folder, bodies=False)}


def check_status(exe, acct_dir, status_name, imap, folder):
    d = dump(exe, acct_dir, status_name)
    assert d["backend"] == "sqlite" and not d["new"]
    got = {uid: r[0] for uid, r in d["recs"].items()}
    assert got == server_flags(imap, folder)
    assert all(r[1] == 0 and r[2] == "" for r in d["recs"].values())
    return d


def test_oimap_reads_offlineimap_metadata(request):
    account = _fixture(request, "account")
    imap = _fixture(request, "imap")
    status_dump = request.getfixturevalue("status_dump")
    imap.create("Work/Sub")
    for i, flags in enumerate([["\\Seen"], ["\\Answered", "\\Seen"], [],
                               ["\\Flagged"], ["\\Draft", "\\Seen"]]):
        imap.append("INBOX", msg(i), flags)
    imap.append("Work/Sub", msg(10), ["\\Seen", "\\Flagged"])
    imap.append("Work/Sub", msg(11))
    r = account.offlineimap()
    assert r.rc == 0, r

    acct_dir = os.path.join(account.metadata, "Account-" + ACCOUNT)
    # The status file of remote folder "Work/Sub" ('/' separator) is
    # "Work.Sub"; offlineimap3 writes only the sqlite backend.
    names = os.listdir(os.path.join(acct_dir, "LocalStatus-sqlite"))
    assert "INBOX" in names and "Work.Sub" in names, names
    for folder, name in (("INBOX", "INBOX"), ("Work/Sub", "Work.Sub")):
        check_status(status_dump, acct_dir, name, imap, folder)
        # also by the remote name, which oimap maps the same way
        assert dump(status_dump, acct_dir, folder)["recs"] == \
            dump(status_dump, acct_dir, name)["recs"]
        assert validity(status_dump, account.metadata, REMOTE_REPO,
                        folder) == imap.uidvalidity(folder)
        # a Maildir's validity is always 42, under the local folder name
        assert validity(status_dump, account.metadata, LOCAL_REPO,
                        name) == 42
    db = os.path.join(acct_dir, "LocalStatus-sqlite", "INBOX")
    with sqlite3.connect(db) as con:
        schema = con.execute("SELECT name, sql FROM sqlite_master WHERE "
                             "type='table' ORDER BY name").fetchall()
    assert schema == OFFLINEIMAP_SCHEMA
    # no plain cache: the plain backend takes the sqlite records (read-only
    # here, so nothing is written)
    d = dump(status_dump, "--plain", acct_dir, "INBOX")
    assert not d["new"]
    assert d["recs"] == dump(status_dump, acct_dir, "INBOX")["recs"]
    assert not os.path.exists(os.path.join(acct_dir, "LocalStatus"))

    # Changes on the server, synced by offlineimap, read again by oimap.
    uids = sorted(server_flags(imap, "INBOX"))
    imap.set_flags("INBOX", uids[0], ["\\Flagged"], mode="+")
    imap.set_flags("INBOX", uids[1], ["\\Seen"], mode="-")
    imap.expunge("INBOX", uids[2])
    imap.append("INBOX", msg(20), ["\\Answered"])
    r = account.offlineimap()
    assert r.rc == 0, r
    d = check_status(status_dump, acct_dir, "INBOX", imap, "INBOX")
    assert uids[2] not in d["recs"] and len(d["recs"]) == 5


def test_offlineimap_accepts_cache_migrated_by_oimap(request):
    """A user of an old OfflineIMAP has only LocalStatus/<folder> (plain).
    oimap converts it to sqlite; offlineimap then treats the converted db
    as its own: a message expunged on the server is deleted locally and not
    uploaded again (with no usable status it would be re-uploaded)."""
    account = _fixture(request, "account")
    imap = _fixture(request, "imap")
    status_dump = request.getfixturevalue("status_dump")
    for i, flags in enumerate([["\\Seen"], ["\\Flagged"], [], ["\\Seen"]]):
        imap.append("INBOX", msg(30 + i), flags)
    r = account.offlineimap()
    assert r.rc == 0, r
    acct_dir = os.path.join(account.metadata, "Account-" + ACCOUNT)
    db = os.path.join(acct_dir, "LocalStatus-sqlite", "INBOX")
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT id, flags, mtime, labels FROM status "
                           "ORDER BY id").fetchall()
    assert len(rows) == 4

    # What OfflineIMAP <= 7 with status_backend = plain left behind.
    os.makedirs(os.path.join(acct_dir, "LocalStatus"), exist_ok=True)
    plain = os.path.join(acct_dir, "LocalStatus", "INBOX")
    text = MAGIC + "\n" + "".join("%d|%s|%d|%s\n" % row for row in rows)
    with open(plain, "w") as f:
        f.write(text)
    os.unlink(db)

    # oimap also keeps its own values in the metadata table; offlineimap
    # must not mind them.
    d = dump(status_dump, "--set-meta", "uidnext=99", acct_dir, "INBOX")
    assert d["meta"] == {"uidnext": "99"}
    assert not d["new"]
    assert {u: r[0] for u, r in d["recs"].items()} == \
        {row[0]: row[1] for row in rows}
    assert open(plain).read() == text          # kept, untouched
    with sqlite3.connect(db) as con:
        schema = con.execute("SELECT name, sql FROM sqlite_master WHERE "
                             "type='table' ORDER BY name").fetchall()
        assert con.execute("SELECT id, flags, mtime, labels FROM status "
                           "ORDER BY id").fetchall() == rows
        assert con.execute("SELECT key, value FROM metadata ORDER BY "
                           "key").fetchall() == [("db_version", "2"),
                                                 ("oimap:uidnext", "99")]
    assert schema == OFFLINEIMAP_SCHEMA

    gone = rows[1][0]
    imap.expunge("INBOX", gone)
    r = account.offlineimap()
    assert r.rc == 0, r
    assert sorted(server_flags(imap, "INBOX")) == \
        [row[0] for row in rows if row[0] != gone]
    local = account.summary()["INBOX"]
    assert sorted(m[0] for m in local) == \
        [row[0] for row in rows if row[0] != gone]


# offlineimap3's own classes read what oimap writes (no server needed) -----

OFFLINEIMAP_LIB = "/usr/share/offlineimap3"


def _offlineimap_status_classes():
    if not os.path.isdir(os.path.join(OFFLINEIMAP_LIB, "offlineimap")):
        pytest.skip("offlineimap3 is not installed")
    import sys
    if OFFLINEIMAP_LIB not in sys.path:
        sys.path.insert(0, OFFLINEIMAP_LIB)
    from offlineimap.ui import UIBase
    from offlineimap.folder.LocalStatus import LocalStatusFolder
    from offlineimap.folder.LocalStatusSQLite import LocalStatusSQLiteFolder

    class UI:
        def __getattr__(self, name):
            return lambda *a, **k: None

    class Config:
        def getdefaultboolean(self, section, option, default):
            return False if option == "fsync" else default

    class Repo:
        def __init__(self, root):
            self.name, self.root, self.newmail_hook = "Test", root, None

        def nametrans(self, name):
            return name

        def getconfig(self):
            return Config()

        def should_sync_folder(self, name):
            return True

    UIBase.setglobalui(UI())
    return LocalStatusFolder, LocalStatusSQLiteFolder, Repo


def _messagelist(folder):
    return {uid: ("".join(sorted(m["flags"])), m["mtime"],
                  ", ".join(sorted(m["labels"])))
            for uid, m in folder.messagelist.items()}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_offlineimap_classes_read_oimap_files(request, tmp_path):
    """sqlite (made by OfflineIMAP) -> plain (oimap) -> read by OfflineIMAP;
    plain -> sqlite (oimap) -> read and written by OfflineIMAP -> oimap."""
    Plain, Sqlite, Repo = _offlineimap_status_classes()
    status_dump = request.getfixturevalue("status_dump")
    acct = tmp_path / "Account-Test"
    (acct / "LocalStatus-sqlite").mkdir(parents=True)
    records = {1: ("S", 0, ""), 2: ("RS", 0, ""), 5: ("", 17, ""),
               9: ("DFRST", 0, "Work, \\Inbox"),
               4294967295: ("Sa", 3, "a, b label")}
    s = Sqlite("Sub/Folder", Repo(str(acct / "LocalStatus-sqlite")))
    s.openfiles()
    s.cachemessagelist()
    for uid, (flags, mtime, labels) in records.items():
        s.savemessage(uid, None, set(flags), 0, mtime,
                      set(x.strip() for x in labels.split(",") if x))
    s.closefiles()

    d = dump(status_dump, "--plain", "--write", str(acct), "Sub/Folder")
    assert d["recs"] == records
    plain = acct / "LocalStatus" / "Sub.Folder"
    assert plain.read_text().splitlines()[0] == MAGIC
    p = Plain("Sub/Folder", Repo(str(acct / "LocalStatus")))
    p.cachemessagelist()
    assert _messagelist(p) == records

    os.unlink(acct / "LocalStatus-sqlite" / "Sub.Folder")
    d = dump(status_dump, "--write", str(acct), "Sub/Folder")
    assert d["recs"] == records and not d["new"]
    s = Sqlite("Sub/Folder", Repo(str(acct / "LocalStatus-sqlite")))
    s.openfiles()
    s.cachemessagelist()
    assert _messagelist(s) == records
    s.savemessage(10, None, set("F"), 0, 0, set())
    s.deletemessage(1)
    s.closefiles()
    want = dict(records)
    del want[1]
    want[10] = ("F", 0, "")
    assert dump(status_dump, str(acct), "Sub/Folder")["recs"] == want
