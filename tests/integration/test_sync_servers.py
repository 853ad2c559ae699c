# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 5: the sync against a server that offers only IMAP4rev1 (no
UIDPLUS, CONDSTORE, QRESYNC, LIST-STATUS, LITERAL+, ESEARCH) and uses '.'
as its hierarchy separator: uploads must find their UIDs without
APPENDUID and without touching the message, flag changes must be seen
without MODSEQ, and SIGKILLed uploads must not duplicate.
"""
import os
import random
import signal
import subprocess

import pytest

from conftest import Account
from oimaptest import dovecot as dovecotmod
from oimaptest import imap as imapmod
from oimaptest import mail
from oimaptest import maildir as maildirmod
from oimaptest.sync_helpers import (ENGINE, add_local, assert_synced,
                                    find_local, mid, msg, oimap_only,
                                    rename_flags,
                                    server_state, snapshot, sync_ok)

CAPS = "imap_capability = IMAP4rev1"


@pytest.fixture
def minimal(dovecot_factory, tmp_path):
    server = dovecot_factory(extra_conf=CAPS, separator=".")
    user = dovecotmod.new_user(server, hint="minimal")
    bin_ = os.environ.get("OIMAP_BIN", os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "build", "oimap"))
    acc = Account(user, tmp_path, bin_)
    acc.write_rc()
    c = user.client()
    assert "UIDPLUS" not in c.capabilities()
    yield acc, c
    c.close()


def same_name(lf):
    return imapmod.mutf7_decode(lf)


@oimap_only     # OfflineIMAP inserts an X-OfflineIMAP header to find it
def test_minimal_server(minimal):
    acc, imap = minimal
    imap.create("Archive")
    imap.create("Archive.2024")
    imap.create("Entwürfe")
    imap.append("INBOX", msg("m1"), flags=["\\Seen"])
    imap.append("INBOX", msg("m2"))
    imap.append("Archive.2024", msg("m3"), flags=["\\Flagged"])
    imap.append("Entwürfe", msg("m4"), flags=["\\Draft"])
    sync_ok(acc)
    assert sorted(acc.tree()) == ["Archive", "Archive.2024",
                                  "Entw&APw-rfe", "INBOX"]
    assert_synced(acc, imap, translate=same_name)
    # uploads: two messages sharing a Message-ID, one without any
    add_local(acc, "INBOX", "up1", flags="S")
    maildirmod.add_local_message(acc.maildir, "Archive.2024",
                                 mail.to_lf(msg("same", body="one\n")))
    maildirmod.add_local_message(acc.maildir, "Archive.2024",
                                 mail.to_lf(msg("same", body="two\n")))
    noid = b"From: a@example.org\nSubject: no id\n\nno id here\n"
    maildirmod.add_local_message(acc.maildir, "Entw&APw-rfe", noid)
    # flags and deletions both ways
    rename_flags(find_local(acc, "INBOX", "m2"), "F")
    m1 = [m for m in imap.fetch("INBOX") if m.message_id == mid("m1")][0]
    imap.set_flags("INBOX", m1.uid, ["\\Answered"], "+")
    m3 = [m for m in imap.fetch("Archive.2024")][0]
    imap.expunge("Archive.2024", [m3.uid])
    os.unlink(find_local(acc, "Entw&APw-rfe", "m4").path)
    sync_ok(acc)
    # the messages went up unchanged (no X-OfflineIMAP header) and once
    bodies = sorted(m.body for m in imap.fetch("Archive.2024"))
    assert bodies == sorted([msg("same", body="one\n"),
                             msg("same", body="two\n")])
    assert [m.body for m in imap.fetch("Entwürfe")] == [mail.to_crlf(noid)]
    srv = server_state(imap, ["INBOX"])
    assert dict(srv["INBOX"]) == {mid("m1"): "RS", mid("m2"): "F",
                                  mid("up1"): "S"}
    # every local file now carries the right server UID
    for lf in ("Archive.2024", "Entw&APw-rfe"):
        uids = {m.uid: m.body for m in imap.fetch(same_name(lf))}
        for m in acc.tree()[lf]:
            assert m.uid is not None, m.name
            assert mail.to_crlf(m.read()) == uids[m.uid], m.name
    if ENGINE == "oimap":   # OfflineIMAP cannot name the Message-ID-less one
        before = snapshot(acc, imap)
        sync_ok(acc)
        assert snapshot(acc, imap) == before


@oimap_only
def test_sigkill_during_uploads_without_uidplus(minimal):
    """Uploads interrupted at random points on a server without UIDPLUS:
    the journal finds them on the server afterwards; none twice."""
    acc, imap = minimal
    seed_value = int(os.environ.get("OIMAPTEST_SEED",
                                    random.randrange(1 << 30)))
    print("OIMAPTEST_SEED=%d" % seed_value)
    rnd = random.Random(seed_value)
    sync_ok(acc)
    want = set()
    line = "upload body line for the kill test, long enough\n"
    argv = ([acc.oimap_bin] if ENGINE == "oimap" else
            ["/usr/bin/offlineimap"]) + ["-c", acc.rc, "-o", "-u", "basic"]
    env = dict(os.environ, HOME=acc.home)
    for i in range(12):
        for j in range(rnd.randrange(3, 12)):
            tag = "k%d_%d" % (i, j)
            want.add(mid(tag))
            maildirmod.add_local_message(
                acc.maildir, "INBOX", mail.to_lf(msg(
                    tag, body=line * rnd.randrange(10, 20000))))
        p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            p.wait(timeout=rnd.uniform(0, 0.8))
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
    sync_ok(acc)
    srv = [m.message_id for m in imap.fetch("INBOX", bodies=False)]
    assert sorted(srv) == sorted(want), "seed %d" % seed_value
    loc = [m.message_id for m in acc.tree()["INBOX"]]
    assert sorted(loc) == sorted(want), "seed %d" % seed_value
