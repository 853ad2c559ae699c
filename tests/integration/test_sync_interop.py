# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 5: oimap and offlineimap3 take turns on the same Maildir and
metadata.  Whoever ran last, the other one finds nothing to do: no new
files, the same names, no server change, the same status cache."""
import os
import re
import signal
import subprocess
import time

import pytest

from oimaptest.sync_helpers import (NONASCII, add_local, assert_synced,
                                    find_local, local_names, mid, msg,
                                    rename_flags,
                                    seed_standard, server_state, snapshot,
                                    status_records, sync_ok)

# offlineimap3's -u basic lines for work it does
WORK_RE = re.compile(r"(?m)^(Copy message|Deleting \d+ message|Adding flag|"
                     r"Deleting flag|Creating folder|Creating new Local)")


def offlineimap_ok(account):
    r = account.offlineimap()
    assert r.rc == 0, r
    assert "ERROR" not in r.output, r
    return r


def statuses(account):
    return {f: status_records(account, f) for f in account.tree()}


def test_offlineimap_first_then_oimap(account, imap):
    seed_standard(imap)
    offlineimap_ok(account)
    assert_synced(account, imap)
    before, st = snapshot(account, imap), statuses(account)
    sync_ok(account)
    assert snapshot(account, imap) == before
    assert statuses(account) == st
    # new mail and changes on both sides: oimap syncs them...
    imap.append("INBOX", msg("i1"), flags=["\\Seen"])
    imap.append(NONASCII, msg("i2"))
    add_local(account, "Archive.2024", "i3", flags="F")
    rename_flags(find_local(account, "INBOX", "in2"), "S")
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert (mid("i1"), "S") in srv["INBOX"]
    assert (mid("in2"), "S") in srv["INBOX"]
    assert (mid("i2"), "") in srv[NONASCII]
    assert (mid("i3"), "F") in srv["Archive/2024"]
    # ...and offlineimap3 then has nothing to do
    before, st = snapshot(account, imap), statuses(account)
    r = offlineimap_ok(account)
    assert not WORK_RE.search(r.out), r
    assert snapshot(account, imap) == before
    assert statuses(account) == st


def test_oimap_first_then_offlineimap(account, imap):
    seed_standard(imap)
    sync_ok(account)
    assert_synced(account, imap)
    before, st = snapshot(account, imap), statuses(account)
    r = offlineimap_ok(account)
    assert not WORK_RE.search(r.out), r
    assert snapshot(account, imap) == before
    assert statuses(account) == st
    # offlineimap3 syncs a change, oimap then has nothing to do
    imap.append("Archive", msg("j1"))
    add_local(account, "INBOX", "j2")
    offlineimap_ok(account)
    before, st = snapshot(account, imap), statuses(account)
    sync_ok(account)
    assert snapshot(account, imap) == before
    assert statuses(account) == st
    srv = assert_synced(account, imap)
    assert (mid("j1"), "") in srv["Archive"]
    assert (mid("j2"), "") in server_state(imap)["INBOX"]


def test_oimap_finishes_a_killed_offlineimap(account, imap):
    """offlineimap3 dies in the middle of the first download (files with
    their UID, not all in its status yet): oimap completes it without
    fetching anything twice, and offlineimap3 then finds nothing to do."""
    for f in ("INBOX", "Lists"):
        if f != "INBOX":
            imap.create(f)
        for i in range(150):
            imap.append(f, msg("%s%d" % (f, i), body="x\n"),
                        flags=["\\Seen"] if i % 3 else [])
    account.write_rc()
    env = dict(os.environ, HOME=account.home)
    p = subprocess.Popen(["/usr/bin/offlineimap", "-c", account.rc, "-o",
                          "-u", "basic"], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # kill it once it has written some mail, or when it ends by itself
    deadline = time.monotonic() + 60
    while p.poll() is None and time.monotonic() < deadline:
        if len(local_names(account.maildir)) > 60:
            os.kill(p.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    p.wait()
    partial = set(local_names(account.maildir))
    sync_ok(account)
    srv = assert_synced(account, imap, tmp_ok=True)
    assert len(srv["INBOX"]) == 150 and len(srv["Lists"]) == 150
    # what offlineimap3 had written is kept as it was (not fetched again)
    assert partial <= set(local_names(account.maildir))
    before, st = snapshot(account, imap), statuses(account)
    r = offlineimap_ok(account)
    assert not WORK_RE.search(r.out), r
    assert snapshot(account, imap) == before
    assert statuses(account) == st


NT_REMOTE = "lambda f: 'R_' + f"
NT_LOCAL = "lambda f: f[2:] if f.startswith('R_') else f"
CONFIGS = {
    "nametrans": ({"remote": {"nametrans": NT_REMOTE},
                   "local": {"nametrans": NT_LOCAL}}, "R_INBOX"),
    "windows": ({"account": {"maildir-windows-compatible": True}}, "INBOX"),
    "utf8": ({"account": {"utf8foldernames": True}}, "INBOX"),
    "connections": ({"remote": {"maxconnections": 3}}, "INBOX"),
}


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_turns_with_options(account, imap, config):
    """The same turns with options that change names: each program finds
    the other's Maildir, names and status its own."""
    overrides, inbox = CONFIGS[config]
    seed_standard(imap)
    account.write_rc(overrides=overrides)
    offlineimap_ok(account)
    if config == "utf8":
        assert NONASCII in account.tree()
    before, st = snapshot(account, imap), statuses(account)
    sync_ok(account)
    assert snapshot(account, imap) == before
    assert statuses(account) == st
    imap.append("INBOX", msg("c1"))
    # (with maildir-windows-compatible a mail reader writes '!2,S', which
    # add_local does not know: no flags there)
    fl = "" if config == "windows" else "S"
    add_local(account, inbox, "c2", flags=fl)
    sync_ok(account)
    srv = server_state(imap)
    assert (mid("c1"), "") in srv["INBOX"] and (mid("c2"), fl) in srv["INBOX"]
    assert mid("c1") in [m.message_id for m in account.tree()[inbox]]
    before, st = snapshot(account, imap), statuses(account)
    r = offlineimap_ok(account)
    assert not WORK_RE.search(r.out), r
    assert snapshot(account, imap) == before
    assert statuses(account) == st
