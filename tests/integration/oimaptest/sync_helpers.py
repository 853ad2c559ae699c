# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for the sync behaviour tests (tests/integration/test_sync_*.py).

The tests drive the real binary through conftest's `account` fixture.  The
same tests can be pointed at Debian's offlineimap3 to check that they
encode OfflineIMAP's behaviour and not our guess of it:

    OIMAPTEST_ENGINE=offlineimap python3 -m pytest \
        tests/integration/test_sync_*.py

Tests of things OfflineIMAP does not do (the empty-side safety valve, a
non-zero exit on a folder error...) are marked with `oimap_only`.

    r = sync(account, "-f", "INBOX")  # oimap (or offlineimap3) -o -u basic
    seed_standard(imap)                    # the mailbox of the basic tests
    assert_synced(account, imap)           # both sides and the status agree
    before = snapshot(account, imap); ...; assert snapshot(...) == before
"""
import hashlib
import os
import re
import sqlite3

import pytest

from . import imap as imapmod
from . import mail
from . import maildir as maildirmod

ENGINE = os.environ.get("OIMAPTEST_ENGINE", "oimap")
if ENGINE not in ("oimap", "offlineimap"):
    raise RuntimeError("OIMAPTEST_ENGINE must be oimap or offlineimap")

oimap_only = pytest.mark.skipif(
    ENGINE != "oimap", reason="oimap behaviour OfflineIMAP does not have")

FLAGMAP = {"\\Seen": "S", "\\Answered": "R", "\\Flagged": "F",
           "\\Deleted": "T", "\\Draft": "D"}
IMAPFLAG = {v: k for k, v in FLAGMAP.items()}

NAME_RE = re.compile(r"^(?P<time>\d+)_(?P<seq>\d+)\.(?P<pid>\d+)"
                     r"\.(?P<host>[^,/:!]+)"
                     r",U=(?P<uid>\d+),FMD5=(?P<fmd5>[0-9a-f]{32})"
                     r":2,(?P<flags>[A-Za-z]*)$")


# running ---------------------------------------------------------------------

def sync(account, *args, **kw):
    """One sync run: `oimap -c RC -o -u basic ARGS` (or offlineimap3 with
    OIMAPTEST_ENGINE=offlineimap).  Returns an oimaptest.rc.Result."""
    argv = ("-o", "-u", "basic") + tuple(args)
    if ENGINE == "offlineimap":
        return account.offlineimap(*argv, **kw)
    return account.oimap(*argv, **kw)


def sync_ok(account, *args, **kw):
    r = sync(account, *args, **kw)
    assert r.rc == 0, r
    assert not re.search(r"(?im)^\s*(ERROR|Traceback)", r.output), r
    return r


# names -----------------------------------------------------------------------

def local_name(remote, sep="/"):
    """The Maildir folder OfflineIMAP makes for a remote folder by default:
    modified UTF-7 kept, the remote separator turned into '.'."""
    return imapmod.mutf7_encode(remote).replace(sep, ".")


def remote_name(local):
    return imapmod.mutf7_decode(local.replace(".", "/"))


def fmd5(visible):
    return hashlib.md5(visible.encode("utf-8")).hexdigest()


def letters(imap_flags):
    """'FS' for ['\\Flagged', '\\Seen'] (keywords dropped)."""
    return "".join(sorted(FLAGMAP[f] for f in imap_flags if f in FLAGMAP))


def imap_flags(letter_s):
    return [IMAPFLAG[c] for c in letter_s]


# the standard mailbox --------------------------------------------------------

def msg(tag, **kw):
    """A small message whose Message-ID is <tag@oimap.test>."""
    kw.setdefault("msgid", mail.message_id(tag))
    return mail.make_message(tag, **kw)


def mid(tag):
    return mail.message_id(tag)


NONASCII = "Entwürfe"

STANDARD = {
    "INBOX": [("in1", ["\\Seen"]), ("in2", []),
              ("in3", ["\\Flagged", "\\Seen"]), ("in4", ["\\Answered"])],
    "Archive": [("ar1", ["\\Seen"])],
    "Archive/2024": [("a24a", ["\\Seen", "\\Answered"]), ("a24b", [])],
    NONASCII: [("draft1", ["\\Draft"])],
}


def seed(client, tree):
    """tree: {folder: [(tag, imap flags), ...]}; returns {folder: {tag:
    uid}}."""
    out = {}
    for folder, msgs in tree.items():
        if folder.upper() != "INBOX":
            client.create(folder)
        out[folder] = {}
        for tag, flags in msgs:
            out[folder][tag] = client.append(folder, msg(tag), flags=flags,
                                             date=mail.msg_date(len(tag)))
    return out


def seed_standard(client):
    return seed(client, STANDARD)


def expected(tree):
    """{folder: sorted [(message-id, letters)]} for a seed tree."""
    return {f: sorted((mid(t), letters(fl)) for t, fl in msgs)
            for f, msgs in tree.items()}


# looking at both sides -------------------------------------------------------

def server_state(client, folders=None):
    """{folder: sorted [(message-id, letters)]} on the server."""
    out = {}
    for f in folders or client.list():
        out[f] = sorted((m.message_id, letters(m.flags))
                        for m in client.fetch(f, bodies=False))
    return out


def server_uids(client, folders=None):
    """{folder: {uid: (message-id, letters)}} plus UIDVALIDITY under key
    None of each folder."""
    out = {}
    for f in folders or client.list():
        d = {m.uid: (m.message_id, letters(m.flags))
             for m in client.fetch(f, bodies=False)}
        d[None] = client.uidvalidity(f)
        out[f] = d
    return out


def local_state(maildir, translate=remote_name):
    """{remote folder: sorted [(message-id, flags)]} of the Maildir (folder
    names mapped back with translate)."""
    return {translate(f): sorted((m.message_id, m.flags) for m in msgs)
            for f, msgs in maildirmod.read_tree(maildir).items()}


def local_names(maildir):
    """Every file below the Maildir (relative paths): a run that changes
    nothing leaves exactly these."""
    out = []
    for dp, _, fns in os.walk(maildir):
        out += [os.path.relpath(os.path.join(dp, f), maildir) for f in fns]
    return sorted(out)


def snapshot(account, client):
    """Everything a no-op run must leave alone: local file names, server
    UIDs/flags/UIDVALIDITY."""
    return local_names(account.maildir), server_uids(client)


def status_path(account, folder, backend="sqlite"):
    d = "LocalStatus-sqlite" if backend == "sqlite" else "LocalStatus"
    return os.path.join(account.metadata, "Account-" + account.name, d,
                        folder)


def status_records(account, folder, backend="sqlite"):
    """{uid: flags} of the status cache of a (status-named) folder."""
    path = status_path(account, folder, backend)
    if backend == "sqlite":
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            return {uid: "".join(sorted(fl or "")) for uid, fl in
                    db.execute("SELECT id, flags FROM status")}
        finally:
            db.close()
    out = {}
    with open(path, encoding="utf-8") as fh:
        magic = fh.readline()
        assert magic.startswith("OFFLINEIMAP LocalStatus CACHE DATA"), magic
        for line in fh:
            line = line.rstrip("\n")
            if line:
                uid, fl = line.split("|")[:2]
                out[int(uid)] = "".join(sorted(fl))
    return out


def find_local(account, folder, tag):
    """The LocalMessage with Message-ID <tag@...> in local folder."""
    hits = [m for m in maildirmod.read_folder(account.maildir, folder)
            if m.message_id == mid(tag)]
    assert len(hits) == 1, (folder, tag, hits)
    return hits[0]


def rename_flags(m, flags):
    """Change a local message's flags as a mail reader does (rename, into
    cur/)."""
    base = re.sub(r"[:!]2,[A-Za-z]*$", "", m.name)
    folder_dir = os.path.dirname(os.path.dirname(m.path))
    new = os.path.join(folder_dir, "cur",
                       base + ":2," + "".join(sorted(flags)))
    os.rename(m.path, new)
    return new


def add_local(account, folder, tag, flags=""):
    return maildirmod.add_local_message(account.maildir, folder,
                                        mail.to_lf(msg(tag)), flags=flags)


def assert_synced(account, client, translate=remote_name, backend="sqlite",
                  status_name=None, visible=None, tmp_ok=False):
    """Both sides hold the same messages (by Message-ID, each exactly once)
    with the same flags; every local file has an OfflineIMAP name with its
    server UID and the right FMD5; the status cache holds exactly the
    server's UIDs and flags; no tmp/ leftovers (unless tmp_ok: a killed
    run may leave some).  Returns the server state."""
    srv = server_state(client)
    loc = local_state(account.maildir, translate)
    assert loc == srv
    for f, msgs in srv.items():
        ids = [i for i, _ in msgs]
        assert len(ids) == len(set(ids)), ("duplicate on server", f, msgs)
    if not tmp_ok:
        assert maildirmod.tree_tmp(account.maildir) == []
    uids = server_uids(client)
    for lf, msgs in maildirmod.read_tree(account.maildir).items():
        rf = translate(lf)
        su = uids[rf]
        vis = visible(lf) if visible else lf
        for m in msgs:
            nm = NAME_RE.match(m.name)
            assert nm, ("not an OfflineIMAP name", lf, m.name)
            uid = int(nm.group("uid"))
            assert nm.group("fmd5") == fmd5(vis), (lf, m.name)
            assert su.get(uid, (None,))[0] == m.message_id, (lf, m.name)
        sname = status_name(rf) if status_name else lf
        st = status_records(account, sname, backend)
        want = {u: v[1] for u, v in su.items() if u is not None}
        assert st == want, ("status of", rf)
    return srv
