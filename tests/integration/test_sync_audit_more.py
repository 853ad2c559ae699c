# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 5 audit, continued: rules that had a test for oimap alone, run
side by side with offlineimap3 on the same scenario (flag merges with
every kind of change, -q, readonly remote, a local folderfilter, a server
with '.' as separator against a Maildir with sep = . and sep = /), and
connections cut at the worst moments (after the server stored an APPEND
but before the client heard of it; in the middle of a download)."""
import os
import re
import shlex
import sys

import pytest

from conftest import Account
from oimaptest import dovecot as dovecotmod
from oimaptest.sync_helpers import (add_local, assert_synced, find_local,
                                    local_state, mid, msg, rename_flags,
                                    seed, server_state, snapshot,
                                    status_records)
from test_sync_audit import Twin, twin  # noqa: F401  (the fixture)


def ids(pairs):
    return sorted(i for i, _ in pairs)


def ok(r):
    assert r.rc == 0, r
    assert not re.search(r"(?m)^\s*(ERROR|Traceback)", r.output), r
    return r


# flags -------------------------------------------------------------------

# (tag, seeded flags, local flags after, server (+add, -remove) after)
FLAG_CASES = [
    ("f_none", ["\\Seen"], None, None),
    ("f_lonly", ["\\Seen"], "FS", None),
    ("f_ronly", [], None, (["\\Flagged"], [])),
    ("f_both_same", [], "S", (["\\Seen"], [])),
    ("f_both_diff", ["\\Seen"], "DS", (["\\Answered"], ["\\Seen"])),
    ("f_lrem_radd", ["\\Seen", "\\Flagged"], "F", (["\\Draft"], [])),
    ("f_clear_both", ["\\Seen", "\\Answered"], "", ([], ["\\Answered"])),
    ("f_trash", [], "T", None),
    ("f_srv_deleted", [], None, (["\\Deleted"], [])),
]


def test_flag_merge_like_offlineimap(twin):  # noqa: F811
    """Every kind of flag change on one side, the other or both (relative
    to the status cache): the result on both sides and in the status is
    offlineimap3's."""
    uids = twin.each(lambda e, a, c: seed(c, {"INBOX": [
        (t, fl) for t, fl, _, _ in FLAG_CASES]}))
    twin.sync_ok()

    def change(e, a, c):
        for tag, _, lf, sf in FLAG_CASES:
            if lf is not None:
                rename_flags(find_local(a, "INBOX", tag), lf)
            if sf is not None:
                u = uids[e]["INBOX"][tag]
                if sf[0]:
                    c.set_flags("INBOX", [u], sf[0], "+")
                if sf[1]:
                    c.set_flags("INBOX", [u], sf[1], "-")
    twin.each(change)
    twin.sync_ok()
    loc, srv = twin.assert_same()
    assert loc["INBOX"] == srv["INBOX"]
    st = twin.each(lambda e, a, c: status_records(a, "INBOX"))
    assert st["oimap"] == st["offlineimap"]
    got = dict(srv["INBOX"])
    assert got[mid("f_both_diff")] == "DR"
    assert got[mid("f_lrem_radd")] == "DF"
    # and a further run changes nothing on either
    before = twin.each(lambda e, a, c: snapshot(a, c))
    twin.sync_ok()
    assert twin.each(lambda e, a, c: snapshot(a, c)) == before


def test_new_deleted_and_changed_both_ways_like_offlineimap(twin):  # noqa
    """New mail, deletions and flag changes on both sides in one run, in
    two folders, one of them new on each side."""
    uids = twin.each(lambda e, a, c: seed(c, {
        "INBOX": [("x1", []), ("x2", ["\\Seen"]), ("x3", []), ("x4", [])],
        "Lists": [("x5", [])]}))
    twin.sync_ok()

    def change(e, a, c):
        u = uids[e]
        c.append("INBOX", msg("x6"), flags=["\\Seen"])
        c.expunge("INBOX", [u["INBOX"]["x1"]])
        c.set_flags("INBOX", [u["INBOX"]["x3"]], ["\\Flagged"], "+")
        os.unlink(find_local(a, "INBOX", "x2").path)
        rename_flags(find_local(a, "INBOX", "x4"), "R")
        add_local(a, "INBOX", "x7", flags="F")
        add_local(a, "LocalNew", "x8")
        c.create("ServerNew")
        c.append("ServerNew", msg("x9"))
        os.unlink(find_local(a, "Lists", "x5").path)
    twin.each(change)
    twin.sync_ok()
    loc, srv = twin.assert_same()
    assert loc == srv
    assert dict(srv["INBOX"]) == {mid("x3"): "F", mid("x4"): "R",
                                  mid("x6"): "S", mid("x7"): "F"}
    assert srv["LocalNew"] == [(mid("x8"), "")]
    assert srv["ServerNew"] == [(mid("x9"), "")]
    assert srv["Lists"] == []


# -q, readonly remote, local folderfilter ------------------------------------

def test_quick_like_offlineimap(twin):  # noqa: F811
    uids = twin.each(lambda e, a, c: seed(c, {
        "INBOX": [("q1", []), ("q2", [])], "Lists": [("q3", [])]}))
    twin.sync_ok()
    # a server flag change alone is not seen by -q; a local one is; a new
    # server message is
    twin.each(lambda e, a, c: c.set_flags("INBOX", [uids[e]["INBOX"]["q1"]],
                                          ["\\Flagged"], "+"))
    twin.each(lambda e, a, c: rename_flags(find_local(a, "Lists", "q3"),
                                           "S"))
    twin.each(lambda e, a, c: c.append("Lists", msg("q4")))
    twin.sync_ok("-q")
    loc, srv = twin.assert_same()
    assert (mid("q1"), "") in loc["INBOX"]
    assert (mid("q3"), "S") in srv["Lists"]
    assert mid("q4") in ids(loc["Lists"])
    twin.sync_ok()
    loc, srv = twin.assert_same()
    assert loc == srv


def test_readonly_remote_like_offlineimap(twin):  # noqa: F811
    uids = twin.each(lambda e, a, c: seed(c, {
        "INBOX": [("r1", []), ("r2", ["\\Seen"])], "Lists": [("r3", [])]}))
    twin.sync_ok()
    twin.write_rc(readonly=True)

    def change(e, a, c):
        c.append("INBOX", msg("r4"), flags=["\\Flagged"])
        c.set_flags("INBOX", [uids[e]["INBOX"]["r1"]], ["\\Seen"], "+")
        add_local(a, "INBOX", "r5")
        rename_flags(find_local(a, "INBOX", "r2"), "FS")
        os.unlink(find_local(a, "Lists", "r3").path)
        add_local(a, "LocalOnly", "r6")
    twin.each(change)
    before = twin.server()
    twin.sync_ok()
    assert twin.server() == before                # server untouched
    loc, srv = twin.assert_same()
    assert "LocalOnly" not in srv
    # and once writable, both agree again
    twin.write_rc()
    twin.sync_ok()
    twin.assert_same()


def test_local_folderfilter_like_offlineimap(twin):  # noqa: F811
    """folderfilter on the local repository: a filtered local folder is
    neither synced nor created on the server."""
    twin.each(lambda e, a, c: seed(c, {"INBOX": [("lf1", [])]}))
    twin.write_rc(overrides={"local": {
        "folderfilter": "lambda f: not f.startswith('Private')"}})
    twin.sync_ok()
    twin.each(lambda e, a, c: add_local(a, "Private", "lf2"))
    twin.each(lambda e, a, c: add_local(a, "Public", "lf3"))
    twin.sync_ok()
    loc, srv = twin.assert_same()
    assert "Private" not in srv
    assert srv["Public"] == [(mid("lf3"), "")]


# a server whose separator is '.' ---------------------------------------------

@pytest.fixture
def dotted_twin(dovecot_factory, tmp_path):
    server = dovecot_factory(separator=".")
    t = Twin(server, tmp_path, "dot")
    yield t
    t.close()


@pytest.mark.parametrize("localsep", [".", "/"])
def test_server_dot_separator_like_offlineimap(dotted_twin, localsep):
    """Server separator '.', Maildir sep '.' or '/': names translated each
    way as offlineimap3 does, nested folders both ways."""
    t = dotted_twin
    t.each(lambda e, a, c: seed(c, {"INBOX": [("ds1", [])],
                                    "Archive": [("ds2", [])],
                                    "Archive.2024": [("ds3", ["\\Seen"])]}))
    t.write_rc(overrides={"local": {"sep": localsep}})
    t.sync_ok()
    trees = t.each(lambda e, a, c: sorted(a.tree()))
    assert trees["oimap"] == trees["offlineimap"]
    assert ("Archive" + localsep + "2024") in trees["oimap"]
    t.each(lambda e, a, c: add_local(a, "Archive" + localsep + "2025",
                                     "ds4"))
    t.each(lambda e, a, c: add_local(a, "Archive" + localsep + "2024",
                                     "ds5"))
    t.sync_ok()
    lists = t.each(lambda e, a, c: sorted(c.list()))
    assert lists["oimap"] == lists["offlineimap"]
    assert "Archive.2025" in lists["oimap"]
    srv = t.server()
    assert srv["oimap"] == srv["offlineimap"]
    assert ids(srv["oimap"]["Archive.2024"]) == sorted([mid("ds3"),
                                                        mid("ds5")])
    before = t.each(lambda e, a, c: snapshot(a, c))
    t.sync_ok()
    assert t.each(lambda e, a, c: snapshot(a, c)) == before


# connections cut at the worst moment ----------------------------------------

# The relay forwards both ways; once TRIGGER exists it hangs up when the
# server's data matches SERVER_RE (which it then does not forward), so the
# server did the command and the client never hears of it.
CUT_RELAY = r'''
import os, re, select, socket, sys
host, port, trigger, pat = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    re.compile(sys.argv[4].encode())
s = socket.create_connection((host, port), 30)
open_in = True
tail = b""
while True:
    rl = [s] + ([0] if open_in else [])
    r, _, _ = select.select(rl, [], [])
    if s in r:
        d = s.recv(65536)
        if not d:
            sys.exit(0)
        tail = (tail + d)[-65536:]
        if os.path.exists(trigger) and pat.search(tail):
            os.unlink(trigger)           # once
            os._exit(0)
        while d:
            d = d[os.write(1, d):]
    if open_in and 0 in r:
        d = os.read(0, 65536)
        if not d:
            open_in = False
            s.shutdown(socket.SHUT_WR)
            continue
        s.sendall(d)
'''


def _cutting_account(account, imap_user, tmp_path, pattern, **kw):
    relay = tmp_path / "cut_relay.py"
    relay.write_text(CUT_RELAY)
    trigger = tmp_path / "CUT"
    tun = " ".join(shlex.quote(str(x)) for x in (
        sys.executable, relay, imap_user.host, imap_user.port, trigger,
        pattern))
    account.write_rc(mode="tunnel", transporttunnel=tun, **kw)
    return trigger


@pytest.mark.parametrize("server", ["dovecot", "imap4rev1"])
def test_connection_cut_after_append_stored(account, imap, imap_user,
                                            tmp_path, dovecot_factory,
                                            server):
    """The server stores an uploaded message but the connection dies
    before its OK (with the APPENDUID, if any) reaches oimap: the run
    fails that folder; the next run finds the journaled upload on the
    server and does not upload it again (imap4rev1: a server without
    UIDPLUS, where it must be found by a search)."""
    if server == "imap4rev1":
        srv = dovecot_factory(extra_conf="imap_capability = IMAP4rev1")
        imap_user = dovecotmod.new_user(srv, hint="cutap")
        account = Account(imap_user, tmp_path, account.oimap_bin)
        imap = imap_user.client()
        assert "UIDPLUS" not in imap.capabilities()
    seed(imap, {"INBOX": [("ap1", [])], "Lists": [("ap2", [])]})
    trigger = _cutting_account(account, imap_user, tmp_path,
                               r"OK (\[APPENDUID [^]]*\] )?Append completed",
                               maxconnections=1)
    ok(account.oimap())
    add_local(account, "Lists", "ap3", flags="S")
    add_local(account, "Lists", "ap4")
    imap.append("INBOX", msg("ap5"))
    trigger.write_text("")
    r = account.oimap()
    assert not trigger.exists(), "the cut did not happen"
    assert r.rc != 0, r
    assert "Lists" in r.output, r
    ok(account.oimap())
    srv = assert_synced(account, imap)
    assert ids(srv["Lists"]) == sorted([mid("ap2"), mid("ap3"), mid("ap4")])
    assert ids(srv["INBOX"]) == sorted([mid("ap1"), mid("ap5")])
    if server == "imap4rev1":
        imap.close()


def test_connection_cut_during_download(account, imap, imap_user, tmp_path):
    """The connection dies in the middle of message bodies: nothing half
    written stays in the Maildir; the next run completes, each message
    once."""
    seed(imap, {"INBOX": [("dl0", [])]})
    trigger = _cutting_account(account, imap_user, tmp_path,
                               r"(?s)FETCH.*BODY\[\].*dlbig", maxconnections=1)
    ok(account.oimap())
    for i in range(5):
        imap.append("INBOX", msg("dlbig%d" % i, body_lines=3000))
    trigger.write_text("")
    r = account.oimap()
    assert not trigger.exists(), "the cut did not happen"
    assert r.rc != 0, r
    for m in account.tree()["INBOX"]:
        assert m.read() is not None
    ok(account.oimap())
    srv = assert_synced(account, imap)
    assert len(srv["INBOX"]) == 6
    loc = local_state(account.maildir)
    assert len(loc["INBOX"]) == 6


# startdate on the local side, maxage with old local mail, -f with nametrans -

def _add_local_dated(acc, folder, tag, days, flags=""):
    """A new local message whose name starts with the time `days` ago
    (OfflineIMAP's Maildir reads a message's date from its name)."""
    import time
    from oimaptest import mail
    from oimaptest import maildir as maildirmod
    t = int(time.time()) - days * 86400
    name = "%d.M1P1.audit%s" % (t, tag)
    p = maildirmod.add_local_message(acc.maildir, folder,
                                     mail.to_lf(msg(tag)), flags=flags,
                                     name=name)
    os.utime(p, (t, t))
    return p


def test_startdate_local_first_run_like_offlineimap(twin):  # noqa: F811
    """startdate on the local repository: the server folder must be empty
    on the first run; only local mail since that day is uploaded."""
    import datetime
    start = (datetime.date.today() - datetime.timedelta(days=30)).isoformat()
    twin.each(lambda e, a, c: _add_local_dated(a, "INBOX", "sl_old", 300))
    twin.each(lambda e, a, c: _add_local_dated(a, "INBOX", "sl_new", 3,
                                               flags="S"))
    twin.write_rc(overrides={"local": {"startdate": start}})
    os.makedirs(os.path.join(twin.acc["offlineimap"].metadata,
                             "Repository-Test-Local", "StartUID"))
    twin.sync_ok()
    loc, srv = twin.assert_same()
    assert srv["INBOX"] == [(mid("sl_new"), "S")]


def test_maxage_old_local_mail_like_offlineimap(twin):  # noqa: F811
    """maxage: a new local message whose name says it is old is outside
    the window and not uploaded; a recent one is."""
    twin.each(lambda e, a, c: seed(c, {"INBOX": [("mo1", [])]}))
    twin.write_rc(overrides={"account": {"maxage": 30}})
    twin.sync_ok()
    twin.each(lambda e, a, c: _add_local_dated(a, "INBOX", "mo_old", 300))
    twin.each(lambda e, a, c: _add_local_dated(a, "INBOX", "mo_new", 2))
    twin.sync_ok()
    loc, srv = twin.assert_same()
    assert mid("mo_new") in ids(srv["INBOX"])


def test_folders_option_with_nametrans_like_offlineimap(twin):  # noqa
    """-f takes server names (before nametrans): -f Sent syncs R_Sent
    only; a new local folder is not made on the server by that run."""
    twin.each(lambda e, a, c: seed(c, {"INBOX": [("fn1", [])],
                                       "Sent": [("fn2", [])]}))
    twin.write_rc(overrides={
        "remote": {"nametrans": "lambda f: 'R_' + f"},
        "local": {"nametrans": "lambda f: f[2:] if f.startswith('R_') "
                               "else f"}})
    twin.sync_ok()
    twin.each(lambda e, a, c: c.append("INBOX", msg("fn3")))
    twin.each(lambda e, a, c: c.append("Sent", msg("fn4")))
    twin.each(lambda e, a, c: add_local(a, "R_New", "fn5"))
    twin.sync_ok("-f", "Sent")
    loc, srv = twin.assert_same(translate=lambda lf: lf[2:])
    assert mid("fn4") in ids(loc["Sent"])
    assert mid("fn3") not in ids(loc["INBOX"])
    assert "New" not in srv


# a lost status cache -----------------------------------------------------------

@pytest.mark.parametrize("lost", ["status", "status+validity"])
def test_lost_status_cache_like_offlineimap(twin, lost):  # noqa: F811
    """The status cache of a folder is gone (and maybe its saved
    UIDVALIDITY): the messages both sides have are linked again, nothing
    is downloaded or uploaded twice, nothing is deleted; the flags then
    agree the way offlineimap3 makes them agree."""
    uids = twin.each(lambda e, a, c: seed(c, {
        "INBOX": [("ls1", []), ("ls2", ["\\Seen"]), ("ls3", [])]}))
    twin.sync_ok()

    def lose(e, a, c):
        os.unlink(os.path.join(a.metadata, "Account-Test",
                               "LocalStatus-sqlite", "INBOX"))
        if "validity" in lost:
            for side in ("Remote", "Local"):
                os.unlink(os.path.join(a.metadata, "Repository-Test-" + side,
                                       "FolderValidity", "INBOX"))
        rename_flags(find_local(a, "INBOX", "ls1"), "F")
        c.set_flags("INBOX", [uids[e]["INBOX"]["ls3"]], ["\\Answered"], "+")
        add_local(a, "INBOX", "ls4")
        c.append("INBOX", msg("ls5"))
    twin.each(lose)
    names = twin.each(lambda e, a, c: set(
        m.name.split(",")[0] for m in a.tree()["INBOX"] if m.uid))
    twin.sync_ok()
    loc, srv = twin.assert_same()
    assert ids(srv["INBOX"]) == sorted(mid("ls%d" % i) for i in range(1, 6))
    assert ids(loc["INBOX"]) == ids(srv["INBOX"])
    after = twin.each(lambda e, a, c: set(
        m.name.split(",")[0] for m in a.tree()["INBOX"]))
    for e in names:            # the files kept their names (no new copy)
        assert names[e] <= after[e]
    st = twin.each(lambda e, a, c: status_records(a, "INBOX"))
    assert st["oimap"] == st["offlineimap"]


# customflag_x (Maildir keyword letters) --------------------------------------

def test_customflag_keywords_like_offlineimap(twin):  # noqa: F811
    """customflag_a = $Label1 in the Maildir repository: a server message
    with the keyword $Label1 gets the letter 'a' in its local name, as
    offlineimap3 names it (folder/Base.py combine_flags_and_keywords);
    unmapped keywords are skipped; a later keyword change follows."""
    uids = twin.each(lambda e, a, c: seed(c, {"INBOX": [
        ("kw1", ["$Label1", "\\Seen"]), ("kw2", ["$Other"]), ("kw3", [])]}))
    twin.write_rc(overrides={"local": {"customflag_a": "$Label1",
                                       "customflag_b": "$Label2"}})
    twin.sync()

    def local_flags(e, a, c):
        return sorted((m.message_id, m.flags) for m in a.tree()["INBOX"])
    got = twin.each(local_flags)
    assert got["oimap"] == got["offlineimap"]
    assert (mid("kw1"), "Sa") in got["oimap"]
    twin.each(lambda e, a, c: c.set_flags("INBOX", [uids[e]["INBOX"]["kw3"]],
                                          ["$Label2"], "+"))
    twin.sync()
    got = twin.each(local_flags)
    assert got["oimap"] == got["offlineimap"]
    assert (mid("kw3"), "b") in got["oimap"]


# expunge = no, run after run ----------------------------------------------

def test_expunge_no_later_runs_like_offlineimap(twin):  # noqa: F811
    """expunge = no: a local deletion marks the server copy \\Deleted and
    leaves it; the runs after that do what offlineimap3 does with the
    \\Deleted message (it is still listed by the server)."""
    twin.each(lambda e, a, c: seed(c, {"INBOX": [("en1", []),
                                                 ("en2", ["\\Seen"])]}))
    twin.write_rc(expunge=False)
    twin.sync_ok()
    twin.each(lambda e, a, c: os.unlink(find_local(a, "INBOX", "en1").path))
    for _ in range(3):
        twin.sync_ok()
        loc, srv = twin.assert_same()
        st = twin.each(lambda e, a, c: status_records(a, "INBOX"))
        assert st["oimap"] == st["offlineimap"]
    assert (mid("en1"), "T") in srv["INBOX"]


# maxsize ---------------------------------------------------------------------

def test_maxsize_like_offlineimap(twin):  # noqa: F811
    """maxsize: big messages stay where they are on either side, run
    after run; small ones sync; the status holds the small ones only."""
    from oimaptest import mail
    from oimaptest import maildir as maildirmod
    twin.each(lambda e, a, c: seed(c, {"INBOX": [("mz_small", [])]}))
    twin.each(lambda e, a, c: c.append("INBOX", msg("mz_big",
                                                    body_lines=2000)))
    twin.write_rc(overrides={"account": {"maxsize": 20000}})
    twin.sync_ok()
    twin.each(lambda e, a, c: maildirmod.add_local_message(
        a.maildir, "INBOX", mail.to_lf(msg("mz_locbig", body_lines=2000))))
    twin.each(lambda e, a, c: add_local(a, "INBOX", "mz_locsmall"))
    for _ in range(2):
        twin.sync_ok()
        loc, srv = twin.assert_same()
        st = twin.each(lambda e, a, c: status_records(a, "INBOX"))
        assert st["oimap"] == st["offlineimap"]
    assert ids(srv["INBOX"]) == sorted([mid("mz_small"), mid("mz_big"),
                                        mid("mz_locsmall")])
    assert ids(loc["INBOX"]) == sorted([mid("mz_small"), mid("mz_locbig"),
                                        mid("mz_locsmall")])


# a server folder name holding the local separator ----------------------------

def test_server_name_with_local_separator_is_skipped(dovecot_factory,
                                                     tmp_path):
    """Server folder 'v1.2' (server separator '/', Maildir sep '.'): its
    Maildir name would read back as v1/2.  oimap skips it with a warning
    and creates nothing; offlineimap3 makes 'v1.2' locally, then 'v1/2'
    and 'v1' on the server, and fails a run in between."""
    srv = dovecot_factory(
        extra_conf="mail_location = maildir:~/Maildir:LAYOUT=fs")
    t = Twin(srv, tmp_path, "dotn")
    try:
        acc, imap = t.acc["oimap"], t.imap["oimap"]
        seed(imap, {"INBOX": [("dn1", [])], "v1.2": [("dn2", [])]})
        for _ in range(2):
            r = ok(acc.oimap())
            assert re.search(r"(?i)warning.*v1\.2", r.output), r
            assert sorted(imap.list()) == ["INBOX", "v1.2"]
            assert sorted(acc.tree()) == ["INBOX"]
    finally:
        t.close()
