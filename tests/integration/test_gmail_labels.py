# SPDX-License-Identifier: GPL-2.0-or-later
"""Gmail labels (OfflineIMAP's synclabels) against a fake Gmail server
(oimaptest.fakegmail: Dovecot has no X-GM-LABELS).

Remote type Gmail, local type GmailMaildir, synclabels = yes: labels come
down into the X-Keywords header (labelsheader) and the status cache's
labels column; label changes on the server rewrite the header; header
changes (seen by the file's mtime) go up as UID STORE +/-X-GM-LABELS;
ignorelabels are left alone; offlineimap3 on the same server writes the
same header and status, and each finds nothing to do after the other.
"""
import os
import re
import shutil
import time

import pytest

from oimaptest import maildir as maildirmod
from oimaptest import rc as rcmod
from oimaptest.fakegmail import FakeGmail
from oimaptest.status import read_status


def body(mid, extra=""):
    return ("From: a@example.org\nTo: b@example.org\nSubject: %s\n"
            "Message-ID: <%s@test>\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n"
            "%s\n%s body\n" % (mid, mid, extra, mid))


class GAccount:
    def __init__(self, srv, tmp, oimap_bin, overrides=None):
        self.srv = srv
        self.maildir = str(tmp / "Mail")
        self.metadata = str(tmp / "metadata")
        self.home = str(tmp / "home")
        self.rc = str(tmp / "offlineimaprc")
        self.oimap_bin = oimap_bin
        os.makedirs(self.home, exist_ok=True)
        ov = {"account": {"synclabels": True},
              "local": {"type": "GmailMaildir"},
              "remote": {"type": "Gmail", "ssl": False, "starttls": False},
              "general": {"fsync": False}}
        for sec, opts in (overrides or {}).items():
            ov.setdefault(sec, {}).update(opts)
        rcmod.write_rc(self.rc, srv, self.maildir, self.metadata,
                       overrides=ov)

    def oimap(self, *args):
        return rcmod.run(self.oimap_bin, self.rc,
                         *(args or ("-o", "-u", "basic")), home=self.home)

    def offlineimap(self, *args):
        return rcmod.run_offlineimap(self.rc, *args, home=self.home)

    def local(self, folder="INBOX"):
        """{uid: LocalMessage} of the folder's messages with a UID."""
        tree = maildirmod.read_tree(self.maildir)
        return {m.uid: m for m in tree.get(folder, []) if m.uid}

    def status(self, folder="INBOX"):
        return read_status(self.metadata, rcmod.ACCOUNT, folder)


def sync_ok(acc):
    n = len(acc.srv.commands)
    r = acc.oimap()
    assert r.rc == 0, r
    assert acc.srv.errors == []
    return [c for _, c in acc.srv.commands[n:]]


def label_headers(data, name=b"X-Keywords"):
    """Values of the labels header fields (unfolded), and where the
    first one is among the header lines (index from the end)."""
    head = data.split(b"\n\n", 1)[0].split(b"\n")
    out = []
    for i, line in enumerate(head):
        if line.lower().startswith(name.lower() + b":"):
            out.append((line.split(b":", 1)[1].strip().decode(),
                        len(head) - i))
    return out


def labels_of(msg):
    vals = label_headers(msg.read())
    assert len(vals) == 1, vals
    return vals[0][0]


def stores(cmds):
    return [c for c in cmds if re.search(r"(?i)^\S+ UID STORE", c)]


def set_local_labels(m, value, bump=10):
    """Rewrite the labels header of a local message as a mail reader
    would (a new file with the same name), with a later mtime."""
    data = m.read()
    head, rest = data.split(b"\n\n", 1)
    lines = [x for x in head.split(b"\n")
             if not x.lower().startswith(b"x-keywords:")]
    lines.append(b"X-Keywords: " + value.encode())
    st = os.stat(m.path)
    with open(m.path + ".new", "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n\n" + rest)
    os.rename(m.path + ".new", m.path)
    os.utime(m.path, (st.st_atime, st.st_mtime + bump))


@pytest.fixture
def gmail():
    srv = FakeGmail(user="gmailuser", password="gmail pass").start()
    yield srv
    srv.stop()


@pytest.fixture
def gacc(gmail, tmp_path, oimap_bin):
    return GAccount(gmail, tmp_path, oimap_bin)


def test_fake_gmail_speaks_labels(gmail):
    import imaplib
    uid = gmail.add("INBOX", body("a"), labels={"\\Inbox", "Work"})
    c = imaplib.IMAP4(gmail.host, gmail.port)
    c.login(gmail.user, gmail.password)
    assert b"X-GM-EXT-1" in c.capability()[1][0]
    c.select("INBOX")
    typ, data = c.uid("FETCH", "1:*", "(UID X-GM-LABELS)")
    assert typ == "OK"
    assert b'X-GM-LABELS ("Work" "\\\\Inbox")' in data[0]
    assert c.uid("STORE", str(uid), "-X-GM-LABELS", '("\\\\Inbox")')[0] == \
        "OK"
    c.logout()
    assert gmail.msg("INBOX", uid).labels == {"Work"}
    assert gmail.errors == []


def test_labels_down_and_nothing_twice(gacc, gmail):
    u1 = gmail.add("INBOX", body("m1"), flags={"\\Seen"},
                   labels={"\\Inbox", "Work", "\\Important"})
    u2 = gmail.add("INBOX", body("m2", "X-Keywords: stale,old\n"))
    gmail.create("Archive")
    u3 = gmail.add("Archive", body("m3"), labels={"Trips 2026"})
    cmds = sync_ok(gacc)
    assert any("X-GM-LABELS" in c and "FETCH" in c.upper() for c in cmds)
    assert stores(cmds) == []

    loc = gacc.local()
    assert set(loc) == {u1, u2}
    # OfflineIMAP's header: the labels sorted, ',' joined, the field last
    data = loc[u1].read()
    assert label_headers(data) == [("Work,\\Important,\\Inbox", 1)]
    assert data.endswith(b"m1 body\n")
    # the server's copy had a stale header: replaced by the labels (none)
    assert label_headers(loc[u2].read()) == [("", 1)]
    assert labels_of(gacc.local("Archive")[u3]) == "Trips 2026"

    st = gacc.status()
    assert st[u1].labels == "Work, \\Important, \\Inbox"
    assert st[u2].labels == ""
    assert st[u1].mtime == int(os.stat(loc[u1].path).st_mtime)
    assert st[u2].mtime == int(os.stat(loc[u2].path).st_mtime)
    assert gacc.status("Archive")[u3].labels == "Trips 2026"

    # a second run changes nothing anywhere
    before = {u: (m.name, m.read(), os.stat(m.path).st_mtime_ns)
              for u, m in gacc.local().items()}
    cmds = sync_ok(gacc)
    assert stores(cmds) == []
    assert not [c for c in cmds if "APPEND" in c.upper()]
    assert {u: (m.name, m.read(), os.stat(m.path).st_mtime_ns)
            for u, m in gacc.local().items()} == before
    assert gacc.status() == st
    assert not os.listdir(os.path.join(gacc.maildir, "INBOX", "tmp"))


def test_label_change_on_server(gacc, gmail):
    u1 = gmail.add("INBOX", body("m1"), labels={"Work"})
    u2 = gmail.add("INBOX", body("m2"), labels={"Keep"})
    sync_ok(gacc)
    name = gacc.local()[u1].name
    keep = gacc.local()[u2].read()
    gmail.msg("INBOX", u1).labels = {"Later", "\\Starred"}
    cmds = sync_ok(gacc)
    assert stores(cmds) == []
    m = gacc.local()[u1]
    assert m.name == name                 # rewritten in place
    assert labels_of(m) == "Later,\\Starred"
    assert m.read().endswith(b"m1 body\n")
    assert gacc.local()[u2].read() == keep
    st = gacc.status()
    assert st[u1].labels == "Later, \\Starred"
    assert st[u1].mtime == int(os.stat(m.path).st_mtime)
    assert not os.listdir(os.path.join(gacc.maildir, "INBOX", "tmp"))
    assert stores(sync_ok(gacc)) == []


def test_label_change_in_local_header(gacc, gmail):
    u1 = gmail.add("INBOX", body("m1"), labels={"\\Inbox", "Work"})
    u2 = gmail.add("INBOX", body("m2"), labels={"Work"})
    u3 = gmail.add("INBOX", body("m3"), labels={"Other"})
    sync_ok(gacc)
    loc = gacc.local()
    set_local_labels(loc[u1], "Work,Personal")    # -\Inbox +Personal
    set_local_labels(loc[u2], "Work,Personal")    # +Personal
    # touched, labels as they were: nothing to send
    os.utime(loc[u3].path, (time.time(), os.stat(loc[u3].path).st_mtime
                            + 10))
    cmds = sync_ok(gacc)
    st_cmds = stores(cmds)
    assert any(re.search(r'UID STORE %d:%d \+X-GM-LABELS \("Personal"\)'
                         % (u1, u2), c) for c in st_cmds), st_cmds
    assert any(re.search(r'UID STORE %d -X-GM-LABELS \("\\\\Inbox"\)' % u1,
                         c) for c in st_cmds), st_cmds
    assert len(st_cmds) == 2, st_cmds
    assert gmail.msg("INBOX", u1).labels == {"Work", "Personal"}
    assert gmail.msg("INBOX", u2).labels == {"Work", "Personal"}
    assert gmail.msg("INBOX", u3).labels == {"Other"}
    st = gacc.status()
    assert st[u1].labels == "Personal, Work"
    assert st[u2].labels == "Personal, Work"
    for u in (u1, u2, u3):
        assert st[u].mtime == int(os.stat(gacc.local()[u].path).st_mtime)
    # nothing more to do
    assert stores(sync_ok(gacc)) == []
    assert gacc.status() == st


def test_both_sides_changed_server_wins(gacc, gmail):
    """OfflineIMAP runs the server's label pass first: the header is
    rewritten to the server's labels and the local edit is lost."""
    u1 = gmail.add("INBOX", body("m1"), labels={"A"})
    sync_ok(gacc)
    set_local_labels(gacc.local()[u1], "A,Local")
    gmail.msg("INBOX", u1).labels = {"A", "Remote"}
    cmds = sync_ok(gacc)
    assert stores(cmds) == []
    assert labels_of(gacc.local()[u1]) == "A,Remote"
    assert gmail.msg("INBOX", u1).labels == {"A", "Remote"}
    assert gacc.status()[u1].labels == "A, Remote"
    assert stores(sync_ok(gacc)) == []


def test_ignorelabels(gmail, tmp_path, oimap_bin):
    acc = GAccount(gmail, tmp_path, oimap_bin, overrides={
        "account": {"ignorelabels": "\\Inbox, \\Important"}})
    u1 = gmail.add("INBOX", body("m1"),
                   labels={"\\Inbox", "\\Important", "Work"})
    sync_ok(acc)
    m = acc.local()[u1]
    assert labels_of(m) == "Work"
    assert acc.status()[u1].labels == "Work"
    # a local header naming an ignored label: not sent, not removed
    set_local_labels(m, "Work,Home,\\Important")
    cmds = sync_ok(acc)
    assert [c for c in stores(cmds)] and all(
        "Important" not in c and "Inbox" not in c for c in stores(cmds))
    assert gmail.msg("INBOX", u1).labels == {"\\Inbox", "\\Important",
                                             "Work", "Home"}
    # the server drops Work (and an ignored label): the header keeps its
    # ignored label, loses Work
    gmail.msg("INBOX", u1).labels = {"\\Inbox", "Home"}
    cmds = sync_ok(acc)
    assert stores(cmds) == []
    assert labels_of(acc.local()[u1]) == "Home,\\Important"
    assert acc.status()[u1].labels == "Home"
    assert gmail.msg("INBOX", u1).labels == {"\\Inbox", "Home"}
    assert stores(sync_ok(acc)) == []


def test_upload_takes_its_labels(gacc, gmail):
    sync_ok(gacc)
    new = os.path.join(gacc.maildir, "INBOX", "new", "1700000000.x.host")
    with open(new, "w") as fh:
        fh.write(body("up", "X-Keywords: Up,Work\n"))
    cmds = sync_ok(gacc)
    (srv_msg,) = gmail.msgs("INBOX")
    assert srv_msg.labels == {"Up", "Work"}
    assert any('+X-GM-LABELS ("Up" "Work")' in c for c in stores(cmds))
    st = gacc.status()
    assert st[srv_msg.uid].labels == "Up, Work"
    m = gacc.local()[srv_msg.uid]
    assert st[srv_msg.uid].mtime == int(os.stat(m.path).st_mtime)
    assert stores(sync_ok(gacc)) == []


def test_synclabels_off_is_plain_sync(gmail, tmp_path, oimap_bin):
    acc = GAccount(gmail, tmp_path, oimap_bin,
                   overrides={"account": {"synclabels": False}})
    u1 = gmail.add("INBOX", body("m1"), labels={"Work"})
    cmds = sync_ok(acc)
    assert not [c for c in cmds if "X-GM-LABELS" in c]
    data = acc.local()[u1].read()
    assert label_headers(data) == []
    assert acc.status()[u1].labels == ""


def test_synclabels_needs_gmail_types(gmail, tmp_path, oimap_bin):
    acc = GAccount(gmail, tmp_path, oimap_bin,
                   overrides={"local": {"type": "Maildir"}})
    u1 = gmail.add("INBOX", body("m1"), labels={"Work"})
    r = acc.oimap()
    assert r.rc == 0, r
    assert "GmailMaildir" in r.output
    assert label_headers(acc.local()[u1].read()) == []


# ---- offlineimap3 on the same fake server ----

def seed(srv):
    srv.add("INBOX", body("m1"), flags={"\\Seen"},
            labels={"\\Inbox", "Work", "\\Important"})
    srv.add("INBOX", body("m2"))
    srv.add("INBOX", body("m3", "X-Keywords: stale\n"), labels={"Zeta a"})


def snapshot(acc):
    return {u: (m.name, m.read()) for u, m in acc.local().items()}


def test_offlineimap3_writes_the_same(tmp_path, oimap_bin):
    """Each program against its own copy of the same server state: the
    same header values and status labels."""
    a, b = FakeGmail().start(), FakeGmail().start()
    try:
        seed(a)
        seed(b)
        oa = GAccount(a, tmp_path / "o", oimap_bin)
        ob = GAccount(b, tmp_path / "p", oimap_bin)
        r = ob.offlineimap()
        assert r.rc == 0 and "ERROR" not in r.output, r
        sync_ok(oa)
        mine, theirs = oa.local(), ob.local()
        assert set(mine) == set(theirs) == {1, 2, 3}
        for u in mine:
            assert label_headers(mine[u].read()) == \
                label_headers(theirs[u].read()), u
        so, sp = oa.status(), ob.status()
        assert {u: (s.flags, s.labels) for u, s in so.items()} == \
            {u: (s.flags, s.labels) for u, s in sp.items()}
        for u, s in sp.items():
            assert s.mtime == int(os.stat(theirs[u].path).st_mtime)
    finally:
        a.stop()
        b.stop()


def test_offlineimap3_then_oimap_nothing_to_do(gacc, gmail):
    seed(gmail)
    r = gacc.offlineimap()
    assert r.rc == 0 and "ERROR" not in r.output, r
    before, st = snapshot(gacc), gacc.status()
    cmds = sync_ok(gacc)
    assert stores(cmds) == []
    assert snapshot(gacc) == before
    assert gacc.status() == st
    # a change on each side, then offlineimap3 has nothing left to do
    gmail.msg("INBOX", 2).labels = {"New"}
    set_local_labels(gacc.local()[3], "Zeta a,Mine")
    cmds = sync_ok(gacc)
    assert gmail.msg("INBOX", 3).labels == {"Zeta a", "Mine"}
    assert labels_of(gacc.local()[2]) == "New"
    before, st = snapshot(gacc), gacc.status()
    n = len(gmail.commands)
    r = gacc.offlineimap()
    assert r.rc == 0 and "ERROR" not in r.output, r
    assert stores([c for _, c in gmail.commands[n:]]) == []
    assert snapshot(gacc) == before
    assert {u: s.labels for u, s in gacc.status().items()} == \
        {u: s.labels for u, s in st.items()}


def test_oimap_then_offlineimap3_label_changes(gacc, gmail):
    seed(gmail)
    sync_ok(gacc)
    before = snapshot(gacc)
    n = len(gmail.commands)
    r = gacc.offlineimap()
    assert r.rc == 0 and "ERROR" not in r.output, r
    assert stores([c for _, c in gmail.commands[n:]]) == []
    assert snapshot(gacc) == before
    # offlineimap3 sees oimap's labels and mtimes as its own: a local
    # edit made after oimap's sync goes up with offlineimap3
    set_local_labels(gacc.local()[1], "Work,\\Important,\\Inbox,Extra")
    r = gacc.offlineimap()
    assert r.rc == 0 and "ERROR" not in r.output, r
    assert "Extra" in gmail.msg("INBOX", 1).labels
    assert stores(sync_ok(gacc)) == []


def test_crash_after_download_labels_on_next_run(gacc, gmail):
    """Killed right after a download, before the status and the header
    got the labels: the next run links the file and writes the header."""
    u1 = gmail.add("INBOX", body("m1"), labels={"Work"})
    u2 = gmail.add("INBOX", body("m2"), labels={"Home", "\\Inbox"})
    r = gacc.oimap("-o", "-u", "basic", "--debug-stop-after-step=1")
    assert r.rc == 77, r
    assert len(gacc.local()) == 1
    cmds = sync_ok(gacc)
    assert stores(cmds) == []
    loc, st = gacc.local(), gacc.status()
    assert labels_of(loc[u1]) == "Work"
    assert labels_of(loc[u2]) == "Home,\\Inbox"
    assert st[u1].labels == "Work" and st[u2].labels == "Home, \\Inbox"
    for u in (u1, u2):
        assert st[u].mtime == int(os.stat(loc[u].path).st_mtime)
    assert stores(sync_ok(gacc)) == []
    assert gacc.status() == st


def test_quick_sees_a_header_edit(gacc, gmail):
    u1 = gmail.add("INBOX", body("m1"), labels={"Work"})
    sync_ok(gacc)
    set_local_labels(gacc.local()[u1], "Work,Quick")
    n = len(gmail.commands)
    r = gacc.oimap("-o", "-q", "-u", "basic")
    assert r.rc == 0, r
    assert gmail.msg("INBOX", u1).labels == {"Work", "Quick"}
    assert stores([c for _, c in gmail.commands[n:]])


def test_offlineimap3_folded_header_read_back(gacc, gmail):
    """offlineimap3 folds a long label list into RFC 2047 encoded words;
    oimap reads the same labels from it (nothing to send after a touch)."""
    many = {"Caf\u00e9", "Family", "Newsletters", "Personal",
            "Projects/oimap", "Receipts", "Travel/2026", "Work",
            "\\Important", "\\Inbox"}
    u1 = gmail.add("INBOX", body("m1"), labels=many)
    r = gacc.offlineimap()
    assert r.rc == 0 and "ERROR" not in r.output, r
    m = gacc.local()[u1]
    assert b"=?utf-8?q?" in m.read()          # folded as Python does
    os.utime(m.path, (time.time(), os.stat(m.path).st_mtime + 10))
    cmds = sync_ok(gacc)
    assert stores(cmds) == []
    assert gmail.msg("INBOX", u1).labels == many
    st = gacc.status()
    assert st[u1].labels == ", ".join(sorted(many))
    assert st[u1].mtime == int(os.stat(m.path).st_mtime)
    # a change from the server: oimap writes it on one line; offlineimap3
    # then reads the same set (nothing to do)
    gmail.msg("INBOX", u1).labels = many - {"Family"}
    sync_ok(gacc)
    assert labels_of(gacc.local()[u1]) == ",".join(sorted(many - {"Family"}))
    n = len(gmail.commands)
    os.utime(m.path, (time.time(), os.stat(m.path).st_mtime + 10))
    r = gacc.offlineimap()
    assert r.rc == 0 and "ERROR" not in r.output, r
    assert stores([c for _, c in gmail.commands[n:]]) == []
    assert gmail.msg("INBOX", u1).labels == many - {"Family"}


def test_labelsheader_x_label_is_space_separated(gmail, tmp_path, oimap_bin):
    acc = GAccount(gmail, tmp_path, oimap_bin,
                   overrides={"account": {"labelsheader": "X-Label"}})
    u1 = gmail.add("INBOX", body("m1"), labels={"b", "a"})
    sync_ok(acc)
    data = acc.local()[u1].read()
    assert label_headers(data, b"X-Label") == [("a b", 1)]
    assert label_headers(data) == []
    assert acc.status()[u1].labels == "a, b"
    m = acc.local()[u1]
    head, rest = data.split(b"\n\n", 1)
    head = head.replace(b"X-Label: a b", b"X-Label: a c")
    with open(m.path, "wb") as fh:
        fh.write(head + b"\n\n" + rest)
    os.utime(m.path, (time.time(), os.stat(m.path).st_mtime + 10))
    sync_ok(acc)
    assert gmail.msg("INBOX", u1).labels == {"a", "c"}
    assert acc.status()[u1].labels == "a, c"


def test_labels_not_sent_are_not_none(gacc, gmail):
    """A FETCH answer without X-GM-LABELS says nothing about the labels:
    the header and the status keep them."""
    u1 = gmail.add("INBOX", body("m1"), labels={"Work"})
    sync_ok(gacc)
    before, st = gacc.local()[u1].read(), gacc.status()
    gmail.send_labels = False
    gmail.add("INBOX", body("m2"), labels={"Home"})
    cmds = sync_ok(gacc)
    assert stores(cmds) == []
    assert gacc.local()[u1].read() == before
    assert gacc.status()[u1] == st[u1]
    gmail.send_labels = True
    cmds = sync_ok(gacc)
    assert stores(cmds) == []
    assert labels_of(gacc.local()[2]) == "Home"
    assert gacc.status()[2].labels == "Home"


def test_dry_run_reports_label_changes(gacc, gmail):
    u1 = gmail.add("INBOX", body("m1"), labels={"Work"})
    u2 = gmail.add("INBOX", body("m2"), labels={"Home"})
    sync_ok(gacc)
    gmail.msg("INBOX", u1).labels = {"Changed"}
    set_local_labels(gacc.local()[u2], "Home,Mine")
    before, st = snapshot(gacc), gacc.status()
    n = len(gmail.commands)
    r = gacc.oimap("-o", "-u", "basic", "--dry-run")
    assert r.rc == 0, r
    assert "[DRYRUN] Test: folder INBOX: setting labels of UID %d on " \
        "local: Changed" % u1 in r.output, r
    assert "[DRYRUN] Test: folder INBOX: adding label Mine to 1 message " \
        "on remote" in r.output, r
    assert stores([c for _, c in gmail.commands[n:]]) == []
    assert snapshot(gacc) == before
    assert gacc.status() == st
    assert gmail.msg("INBOX", u2).labels == {"Home"}
