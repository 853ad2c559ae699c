# SPDX-License-Identifier: GPL-2.0-or-later
"""The IMAP store driver (src/store/store-imap.c) against a real Dovecot,
through tests/tools/store-probe (see its header for the commands)."""
import datetime
import os
import re
import subprocess

import pytest

from oimaptest import imap as imapmod
from oimaptest import mail

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def probe_path():
    oimap = os.environ.get("OIMAP_BIN", os.path.join(ROOT, "build", "oimap"))
    path = os.path.join(os.path.dirname(oimap), "tests", "tools",
                        "store-probe")
    if not os.access(path, os.X_OK):
        pytest.fail(f"store-probe not found at {path}; run `make` first")
    return path


@pytest.fixture
def probe(probe_path, imap_user):
    def run(*args, opts=(), user=None, check=True):
        u = user or imap_user
        argv = [probe_path, "--host", u.host, "--port", str(u.port),
                "--user", u.user, "--pass", u.password, *opts, *args]
        p = subprocess.run(argv, capture_output=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("store-probe %s failed (%d): %s" % (
                " ".join(map(str, args)), p.returncode, p.stderr.decode()))
        p.out = p.stdout.decode("utf-8")
        p.err = p.stderr.decode("utf-8", "backslashreplace")
        return p
    return run


def epoch(dt):
    return int(dt.timestamp())


def scan(probe, folder, *extra, **kw):
    lines = probe("scan", folder, *extra, **kw).out.splitlines()
    st = lines[0].split()
    assert st[0] == "state"
    msgs = []
    for ln in lines[1:]:
        uid, flags, size, date = ln.split()
        msgs.append((int(uid), "" if flags == "-" else flags, int(size),
                     int(date)))
    return {"uidvalidity": int(st[1]), "uidnext": int(st[2]),
            "exists": int(st[4])}, msgs


def server_flags(imap, folder):
    return {m.uid: m.flags for m in imap.fetch(folder, bodies=False)}


# ---- folders -------------------------------------------------------------

def test_list_nested_and_non_ascii(probe, imap):
    imap.create("Archive/2024")
    imap.create("Zoë's/Ünïcode & more")
    imap.create("Lonely/Deep/Child", parents=False)   # parents not created
    p = probe("list")
    lines = p.out.splitlines()
    assert lines[0] == "sep /"
    got = dict(ln.split("\t") for ln in lines[1:])
    raw = imap.list_raw()
    want = {imapmod.mutf7_encode(n): "1" if "\\Noselect" in a else "0"
            for a, _, n in raw if "\\NonExistent" not in a}
    assert got == want
    # names as the server sends them: modified UTF-7
    assert got["Zo&AOs-'s/&ANw-n&AO8-code &- more"] == "0"
    assert got["Archive/2024"] == "0" and got["INBOX"] == "0"
    assert "Lonely/Deep/Child" in got

    # utf8foldernames: decoded names
    got8 = dict(ln.split("\t")
                for ln in probe("list", opts=["--utf8"]).out.splitlines()[1:])
    assert "Zoë's/Ünïcode & more" in got8
    assert "Zo&AOs-'s/&ANw-n&AO8-code &- more" not in got8
    assert set(got8) == {imapmod.mutf7_decode(n) for n in got}


def test_list_subscribed_only(probe, imap):
    imap.create("Sub")
    imap.create("Unsub")
    imap._ok(imap.c.subscribe("Sub"), "SUBSCRIBE")
    got = [ln.split("\t")[0]
           for ln in probe("list", opts=["--subscribed"]).out.splitlines()[1:]]
    assert "Sub" in got and "Unsub" not in got


def test_create_folder(probe, imap):
    probe("create", "New/Sub/Leaf")
    assert {"New", "New/Sub", "New/Sub/Leaf"} <= set(imap.list())
    probe("create", "New/Sub/Leaf")              # exists: fine
    probe("create", "Café/Crème", opts=["--utf8"])
    assert {"Café", "Café/Crème"} <= set(imap.list())
    # OfflineIMAP's makefolder: reference + sep + name
    imap.create("Ref")
    probe("create", "Inside", opts=["--reference", "Ref"])
    assert "Ref/Inside" in imap.list()
    assert "Inside" not in imap.list()


def test_open_create_and_missing(probe, imap):
    p = probe("open", "Nowhere", check=False)
    assert p.returncode == 1
    assert p.err.startswith("error: folder ")
    assert "repository probe, folder Nowhere" in p.err
    p = probe("open", "Made/Here", opts=["--create"])
    assert p.out.startswith("state ")
    assert "Made/Here" in imap.list()


# ---- scan ----------------------------------------------------------------

def test_scan(probe, imap):
    assert scan(probe, "INBOX") == ({"uidvalidity": imap.uidvalidity("INBOX"),
                                     "uidnext": 1, "exists": 0}, [])
    d1 = datetime.datetime(2023, 5, 17, 10, 11, 12,
                           tzinfo=datetime.timezone.utc)
    d2 = datetime.datetime(2022, 1, 2, 3, 4, 5,
                           tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    m1, m2, m3 = (mail.make_message(i) for i in (1, 2, 3))
    u1 = imap.append("INBOX", m1, flags=["\\Seen", "\\Flagged"], date=d1)
    u2 = imap.append("INBOX", m2, flags=["\\Answered", "\\Draft",
                                         "\\Deleted", "$Label1"], date=d2)
    u3 = imap.append("INBOX", m3, date=d1)
    st, msgs = scan(probe, "INBOX")
    assert st["exists"] == 3 and st["uidnext"] == u3 + 1
    assert msgs == [(u1, "FS", len(m1), epoch(d1)),
                    (u2, "DRT", len(m2), epoch(d2)),
                    (u3, "", len(m3), epoch(d1))]
    # from a UID on
    assert scan(probe, "INBOX", str(u2))[1] == msgs[1:]
    # above the highest UID: "n:*" still matches the last message on the
    # server, which the driver must not report
    assert scan(probe, "INBOX", str(u3 + 1))[1] == []


# ---- fetch ---------------------------------------------------------------

def test_fetch_large_byte_exact(probe, imap, tmp_path):
    big = mail.make_message("big", body="".join(
        "%07d the quick brown fox jumps over the lazy dog\n" % i
        for i in range(200000)))
    assert len(big) > 10 * 1024 * 1024
    small = [mail.make_message(i) for i in range(5)]
    uids = [imap.append("INBOX", m) for m in small[:2]]
    uids.append(imap.append("INBOX", big))
    uids += [imap.append("INBOX", m) for m in small[2:]]
    out = tmp_path / "out"
    out.mkdir()
    gone = uids[-1] + 100
    p = probe("fetch", "INBOX", str(out), *map(str, uids), str(gone))
    fetched = {int(ln.split()[1]) for ln in p.out.splitlines()}
    assert fetched == set(uids)          # the missing UID: not delivered
    server = {m.uid: m.body for m in imap.fetch("INBOX")}
    for u in uids:
        data = (out / str(u)).read_bytes()
        assert data == server[u]
        assert b"\r\n" in data
    assert (out / str(uids[2])).read_bytes() == big
    assert not (out / str(gone)).exists()
    # BODY.PEEK: nothing became \Seen
    assert all(not f for f in server_flags(imap, "INBOX").values())


def test_fetch_many_batches(probe, imap, tmp_path):
    msgs = [mail.make_message("b%d" % i) for i in range(40)]
    uids = [imap.append("INBOX", m) for m in msgs]
    imap.expunge("INBOX", uids[5:30:2])        # holes in the UID range
    left = [u for u in uids if u not in uids[5:30:2]]
    out = tmp_path / "o"
    out.mkdir()
    p = probe("fetch", "INBOX", str(out), *map(str, uids))
    assert sorted(int(ln.split()[1]) for ln in p.out.splitlines()) == left
    for u in left:
        assert (out / str(u)).read_bytes() == msgs[uids.index(u)]


# ---- save / find_uid -----------------------------------------------------

def test_save_with_flags_and_date(probe, imap, tmp_path):
    msg = mail.to_lf(mail.make_message("save1"))
    f = tmp_path / "m"
    f.write_bytes(msg)
    date = epoch(datetime.datetime(2021, 7, 8, 9, 10, 11,
                                   tzinfo=datetime.timezone.utc))
    imap.append("INBOX", mail.make_message("other"))
    p = probe("save", "INBOX", str(f), "FS", str(date))
    uid = int(p.out.split()[1])
    assert uid == 2                           # APPENDUID
    (m,) = imap.fetch("INBOX", uids=[uid])
    assert m.body == mail.to_crlf(msg)
    assert m.flags == ["\\Flagged", "\\Seen"]
    assert imapmod.ImapClient  # internaldate below
    st, msgs = scan(probe, "INBOX")
    assert msgs[-1] == (uid, "FS", len(mail.to_crlf(msg)), date)
    # CRLF in (a copy from another IMAP server) stays CRLF, no CRCRLF
    crlf = mail.make_message("save2")
    f.write_bytes(crlf)
    uid2 = int(probe("save", "INBOX", str(f), "-", "0").out.split()[1])
    (m,) = imap.fetch("INBOX", uids=[uid2])
    assert m.body == crlf and m.flags == []


def test_find_uid(probe, imap):
    date = datetime.datetime(2020, 2, 3, 4, 5, 6,
                             tzinfo=datetime.timezone.utc)
    a = mail.make_message("fa", msgid="<same@oimap.test>")
    b = mail.make_message("fb", msgid="<same@oimap.test>", body="other\n")
    c = mail.make_message("fc", msgid="<other@oimap.test>")
    ua = imap.append("INBOX", a, date=date)
    ub = imap.append("INBOX", b, date=date)
    imap.append("INBOX", c, date=date)
    e = str(epoch(date))

    def find(msgid, size, when, min_uid):
        return int(probe("find-uid", "INBOX", msgid, str(size), when,
                         str(min_uid)).out.split()[1])
    assert find("<same@oimap.test>", len(a), e, 1) == ua
    assert find("<same@oimap.test>", len(b), e, 1) == ub   # by size
    assert find("<same@oimap.test>", len(a), e, ua + 1) == 0  # min_uid
    assert find("<same@oimap.test>", len(a) + 1, e, 1) == 0
    assert find("<same@oimap.test>", len(a), str(epoch(date) + 1), 1) == 0
    assert find("<nothere@oimap.test>", len(a), e, 1) == 0
    assert find("<same@oimap", len(a), e, 1) == 0   # no substring match
    # no Message-ID: size and date only
    d = mail.to_crlf(b"Subject: no id\n\nbody\n")
    ud = imap.append("INBOX", d, date=date)
    assert find("", len(d), e, 1) == ud
    # a folded Message-ID header
    f = mail.make_message("ff", msgid="\n  <fold@oimap.test>")
    assert b"Message-ID: \r\n  <fold@oimap.test>\r\n" in f
    uf = imap.append("INBOX", f, date=date)
    assert find("<fold@oimap.test>", len(f), e, 1) == uf
    # 8-bit in the Message-ID: no SEARCH (it would need a literal and a
    # charset), the headers of the candidates are compared instead
    g = mail.make_message("fg", msgid="<zoë@oimap.test>")
    ug = imap.append("INBOX", g, date=date)
    assert find("<zoë@oimap.test>", len(g), e, 1) == ug
    assert find("<zoë@oimap.test>", len(g), e, ug + 1) == 0
    assert find("<zoé@oimap.test>", len(g), e, 1) == 0


def test_save_without_uidplus_then_find_uid(probe, dovecot_factory,
                                            tmp_path):
    from oimaptest import dovecot as dovecotmod
    server = dovecot_factory(extra_conf="imap_capability = IMAP4rev1 "
                             "LITERAL+ ID ENABLE IDLE NAMESPACE")
    user = dovecotmod.new_user(server, hint="nouidplus")
    c = user.client()
    try:
        assert "UIDPLUS" not in c.capabilities()
        c.append("INBOX", mail.make_message("first"))
        msg = mail.to_lf(mail.make_message("np", msgid="<np@oimap.test>"))
        f = tmp_path / "m"
        f.write_bytes(msg)
        date = epoch(datetime.datetime(2019, 1, 1, 12, 0, 0,
                                       tzinfo=datetime.timezone.utc))
        st, _ = scan(probe, "INBOX", user=user)
        p = probe("save", "INBOX", str(f), "S", str(date), user=user)
        # Dovecot sends APPENDUID even when UIDPLUS is not offered; the
        # driver may use it, find_uid must not need it
        saved = int(p.out.split()[1])
        p = probe("find-uid", "INBOX", "<np@oimap.test>",
                  str(len(mail.to_crlf(msg))), str(date),
                  str(st["uidnext"]), user=user)
        uid = int(p.out.split()[1])
        assert uid == st["uidnext"] and saved in (0, uid)
        (m,) = c.fetch("INBOX", uids=[uid])
        assert m.body == mail.to_crlf(msg) and m.flags == ["\\Seen"]
        # without UIDPLUS an expunge is a plain EXPUNGE, as OfflineIMAP
        probe("delete", "INBOX", "expunge", str(uid), user=user)
        assert [m.uid for m in c.fetch("INBOX", bodies=False)] == [1]
    finally:
        c.close()


# ---- flags and deletion ---------------------------------------------------

def test_set_flags(probe, imap):
    uids = [imap.append("INBOX", mail.make_message(i)) for i in range(4)]
    p = probe("flags", "INBOX", "+FST", str(uids[0]), str(uids[2]),
              str(uids[3]))
    assert p.out.splitlines() == ["%d FST" % uids[0], "%d FST" % uids[2],
                                  "%d FST" % uids[3]]
    probe("flags", "INBOX", "-ST", str(uids[2]))
    fl = server_flags(imap, "INBOX")
    assert fl[uids[0]] == ["\\Deleted", "\\Flagged", "\\Seen"]
    assert fl[uids[1]] == []
    assert fl[uids[2]] == ["\\Flagged"]
    assert fl[uids[3]] == ["\\Deleted", "\\Flagged", "\\Seen"]
    # nothing was expunged by flag changes
    assert sorted(fl) == uids


def test_delete_expunges_only_ours(probe, imap):
    uids = [imap.append("INBOX", mail.make_message(i)) for i in range(5)]
    # the user's own \Deleted message (not via set_flags: its CLOSE
    # would expunge it)
    imap.select("INBOX")
    imap._ok(imap.c.uid("STORE", str(uids[4]), "+FLAGS.SILENT",
                        "(\\Deleted)"), "STORE")
    imap.c.unselect()
    probe("delete", "INBOX", "keep", str(uids[0]))
    fl = server_flags(imap, "INBOX")
    assert sorted(fl) == uids and "\\Deleted" in fl[uids[0]]
    p = probe("delete", "INBOX", "expunge", str(uids[1]), str(uids[2]),
              opts=["--debug"])
    sent = re.findall(r"C: \S+ (.*)", p.err)
    assert "UID STORE %d:%d +FLAGS.SILENT (\\Deleted)" % (
        uids[1], uids[2]) in sent
    assert "UID EXPUNGE %d:%d" % (uids[1], uids[2]) in sent
    assert "CLOSE" not in sent and "EXPUNGE" not in sent
    fl = server_flags(imap, "INBOX")
    # uids[0] was marked in an earlier session: not ours to expunge now
    assert sorted(fl) == [uids[0], uids[3], uids[4]]
    assert fl[uids[4]] == ["\\Deleted"]


def test_delete_expunge_at_once(probe, imap):
    """STORE_OPEN_EXPUNGE: gone when delete() returns, even if the
    folder is then closed without expunging (a run killed there)."""
    uids = [imap.append("INBOX", mail.make_message(i)) for i in range(4)]
    imap.select("INBOX")
    imap._ok(imap.c.uid("STORE", str(uids[3]), "+FLAGS.SILENT",
                        "(\\Deleted)"), "STORE")
    imap.c.unselect()
    p = probe("delete", "INBOX", "keep", str(uids[0]), str(uids[1]),
              opts=["--expunge-now", "--debug"])
    sent = re.findall(r"C: \S+ (.*)", p.err)
    i = sent.index("UID STORE %d:%d +FLAGS.SILENT (\\Deleted)"
                   % (uids[0], uids[1]))
    assert sent[i + 1] == "UID EXPUNGE %d:%d" % (uids[0], uids[1])
    fl = server_flags(imap, "INBOX")
    assert sorted(fl) == uids[2:] and fl[uids[3]] == ["\\Deleted"]


# ---- read-only -------------------------------------------------------------

def test_readonly(probe, imap, tmp_path):
    uid = imap.append("INBOX", mail.make_message(1), flags=["\\Seen"])
    st, msgs = scan(probe, "INBOX", opts=["--readonly"])
    assert msgs[0][:2] == (uid, "S")
    f = tmp_path / "m"
    f.write_bytes(mail.to_lf(mail.make_message(2)))
    for args in (("save", "INBOX", str(f), "-", "0"),
                 ("flags", "INBOX", "+F", str(uid)),
                 ("delete", "INBOX", "expunge", str(uid))):
        p = probe(*args, opts=["--readonly"], check=False)
        assert p.returncode == 1, args
        assert "read-only" in p.err and "repository probe" in p.err
    p = probe("create", "X", opts=["--readonly"], check=False)
    assert p.returncode == 1 and "read-only" in p.err
    p = probe("open", "Y", opts=["--readonly", "--create"], check=False)
    assert p.returncode == 1
    # a folder opened read-only (dry run) is never created either
    p = probe("open", "Z", opts=["--examine", "--create"], check=False)
    assert p.returncode == 1 and "Z" not in imap.list()
    assert "X" not in imap.list() and "Y" not in imap.list()
    # a read-only open of a folder (EXAMINE) refuses changes too
    p = probe("flags", "INBOX", "+F", str(uid), opts=["--examine"],
              check=False)
    assert p.returncode == 1 and "read-only" in p.err
    assert server_flags(imap, "INBOX") == {uid: ["\\Seen"]}
    assert len(imap.fetch("INBOX")) == 1


# ---- a server that sends the UID after the body (scripted) ---------------

def test_fetch_uid_after_body(probe, fake_imap, tmp_path):
    """Bodies whose UID comes after them are spooled and delivered once
    the FETCH response is complete; unsolicited FETCHes and UIDs not
    asked for are ignored; the commands are exactly these."""
    from oimaptest import fakeimap
    m1 = mail.make_message("s1")
    m2 = mail.make_message("s2", body="x" * 300000 + "\n")
    m9 = mail.make_message("s9")
    caps = "IMAP4rev1 LITERAL+ UIDPLUS UNSELECT AUTH=PLAIN"
    date = '"01-Jan-2020 00:00:00 +0000"'
    script = fakeimap.preamble(caps) + [
        (r'\S+ SELECT "?INBOX"?',
         "* 3 EXISTS\n* OK [UIDVALIDITY 7] v\n* OK [UIDNEXT 12] n\n"
         "{tag} OK [READ-WRITE] selected"),
        (r"\S+ UID FETCH 1:\* \(UID FLAGS RFC822\.SIZE INTERNALDATE\)",
         "* 1 FETCH (UID 9 FLAGS () RFC822.SIZE %d INTERNALDATE %s)\n"
         "* 2 FETCH (UID 10 FLAGS (\\Seen) RFC822.SIZE %d INTERNALDATE %s)\n"
         "* 3 FETCH (FLAGS (\\Answered) UID 11 RFC822.SIZE %d "
         "INTERNALDATE %s)\n{tag} OK done"
         % (len(m9), date, len(m1), date, len(m2), date)),
        (r"\S+ UID FETCH 10:11 \(UID BODY\.PEEK\[\]\)",
         "* 2 FETCH (BODY[] " + fakeimap.literal(m1) + " UID 10)\n"
         "* 1 FETCH (FLAGS (\\Seen))\n"
         "* 1 FETCH (UID 9 BODY[] " + fakeimap.literal(m9) + ")\n"
         "* 3 FETCH (BODY[] " + fakeimap.literal(m2) + " FLAGS () "
         "UID 11)\n{tag} OK done"),
        (r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye"),
    ]
    fake = fake_imap(script, greeting="* OK [CAPABILITY %s] fake" % caps)
    out = tmp_path / "o"
    out.mkdir()
    p = probe("fetch", "INBOX", str(out), "10", "11", user=fake)
    assert sorted(p.out.splitlines()) == ["fetched 10 %d" % len(m1),
                                          "fetched 11 %d" % len(m2)]
    assert (out / "10").read_bytes() == m1
    assert (out / "11").read_bytes() == m2
    assert not (out / "9").exists()
    assert fake.errors == []


def test_utf8_folder_names_open_and_save(probe, imap, tmp_path):
    probe("open", "Café/Bücher", opts=["--utf8", "--create"])
    assert "Café/Bücher" in imap.list()
    f = tmp_path / "m"
    f.write_bytes(mail.to_lf(mail.make_message("u8")))
    out = probe("save", "Café/Bücher", str(f), "-", "0",
                opts=["--utf8"]).out.split()
    uid = int(out[1])
    # the folder was empty when opened; a scan after the upload sees it
    assert out[2:] == ["scan", "1"]
    assert [m.uid for m in imap.fetch("Café/Bücher")] == [uid]
    # without utf8foldernames the same folder goes by its wire name
    st, msgs = scan(probe, "Caf&AOk-/B&APw-cher")
    assert [m[0] for m in msgs] == [uid]
    p = probe("open", b"Caf\xe9", opts=["--utf8"], check=False)  # not UTF-8
    assert p.returncode == 1 and "not valid UTF-8" in p.err


def test_append_refused_costs_the_message(probe, imap, tmp_path):
    f = tmp_path / "empty"
    f.write_bytes(b"")
    p = probe("save", "INBOX", str(f), "-", "0", check=False)
    assert p.returncode == 1
    assert p.err.startswith("error: message imap NO: ")
    assert "repository probe, folder INBOX" in p.err
    # the folder is still usable after it
    f.write_bytes(mail.to_lf(mail.make_message("after")))
    assert int(probe("save", "INBOX", str(f), "-", "0").out.split()[1]) > 0


def test_connection_errors_name_the_repository(probe, imap_user):
    class Nowhere:
        host = "127.0.0.1"
        port = 1
        user = imap_user.user
        password = imap_user.password
    p = probe("list", user=Nowhere, check=False)
    assert p.returncode == 1
    assert p.err.startswith("error: account ")
    assert "repository probe" in p.err
    class Wrong(Nowhere):
        port = imap_user.port
        password = "Wr0ng-s3cret"
    p = probe("list", user=Wrong, check=False)
    assert p.returncode == 1
    assert p.err.startswith("error: account ") and "probe" in p.err
    assert "Wr0ng-s3cret" not in p.err


def test_fetch_answered_no_delivers_what_came(probe, fake_imap, tmp_path):
    from oimaptest import fakeimap
    m1 = mail.make_message("n1")
    caps = "IMAP4rev1 LITERAL+ UIDPLUS UNSELECT AUTH=PLAIN"
    date = '"01-Jan-2020 00:00:00 +0000"'
    script = fakeimap.preamble(caps) + [
        (r'\S+ SELECT "?INBOX"?',
         "* 2 EXISTS\n* OK [UIDVALIDITY 7] v\n* OK [UIDNEXT 12] n\n"
         "{tag} OK [READ-WRITE] selected"),
        (r"\S+ UID FETCH 1:\* \(UID FLAGS RFC822\.SIZE INTERNALDATE\)",
         "* 1 FETCH (UID 10 FLAGS () RFC822.SIZE %d INTERNALDATE %s)\n"
         "* 2 FETCH (UID 11 FLAGS () RFC822.SIZE 5 INTERNALDATE %s)\n"
         "{tag} OK done" % (len(m1), date, date)),
        (r"\S+ UID FETCH 10:11 \(UID BODY\.PEEK\[\]\)",
         "* 1 FETCH (UID 10 BODY[] " + fakeimap.literal(m1) + ")\n"
         "* 2 FETCH (UID 11 BODY[] NIL)\n"
         "{tag} NO [EXPUNGEISSUED] Some messages were expunged"),
        (r"\S+ LOGOUT", "* BYE bye\n{tag} OK bye"),
    ]
    fake = fake_imap(script, greeting="* OK [CAPABILITY %s] fake" % caps)
    out = tmp_path / "o"
    out.mkdir()
    p = probe("fetch", "INBOX", str(out), "10", "11", user=fake)
    assert p.out.splitlines() == ["fetched 10 %d" % len(m1)]
    assert (out / "10").read_bytes() == m1
    assert "EXPUNGEISSUED" in p.err          # a warning, not an error
    assert fake.errors == []


def test_dot_separator(probe, dovecot_factory):
    from oimaptest import dovecot as dovecotmod
    server = dovecot_factory(separator=".")
    user = dovecotmod.new_user(server, hint="dotsep")
    probe("create", "Lists.Dev.Announce", user=user)
    lines = probe("list", user=user).out.splitlines()
    assert lines[0] == "sep ."
    names = {ln.split("\t")[0] for ln in lines[1:]}
    assert {"INBOX", "Lists", "Lists.Dev", "Lists.Dev.Announce"} <= names
    st, msgs = scan(probe, "Lists.Dev.Announce", user=user)
    assert st["exists"] == 0 and msgs == []
