# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 5: never lose or duplicate mail, whatever is killed when.

test_sigkill_loop: ~1,000 small messages in a few folders, mail moving
both ways; oimap is started and SIGKILLed after a random delay, again and
again, with more changes between some runs; after one clean run every
message is on both sides exactly once (by Message-ID) with the same flags,
and nothing that was deleted came back.  The random seed is printed (set
OIMAPTEST_SEED to replay a run).

test_stop_after_every_step: the hidden --debug-stop-after-step=N stops
oimap right after its N-th step; for every N of a small scenario the
interrupted run plus a clean run must end where one clean run ends.
"""
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import Account
from oimaptest import dovecot as dovecotmod
from oimaptest import maildir as maildirmod
from oimaptest.sync_helpers import (ENGINE, add_local, assert_synced,
                                    imap_flags, local_state, mid, msg,
                                    oimap_only, remote_name, rename_flags,
                                    seed, server_state, sync, sync_ok)

FOLDERS = ["INBOX", "Lists", "Lists/Dev", "Archive"]
N_MESSAGES = 1000
ITERATIONS = 30
MAX_DELAY = 2.0
FLAG_LETTERS = "DFRS"


def _start(account, log):
    """Start one run of the engine in the background, output to log."""
    if ENGINE == "offlineimap":
        argv = ["/usr/bin/offlineimap", "-c", account.rc, "-o", "-u",
                "basic"]
    else:
        argv = [account.oimap_bin, "-c", account.rc, "-o", "-u", "basic"]
    env = dict(os.environ, HOME=account.home)
    env.pop("XDG_CONFIG_HOME", None)
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT)


def _kill_after(proc, delay):
    """SIGKILL proc after delay seconds unless it ended; its exit status."""
    try:
        return proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        return proc.wait()


class World:
    """What the test did: every message it created and which it deleted."""

    def __init__(self, rnd, account, imap):
        self.rnd = rnd
        self.account = account
        self.imap = imap
        self.alive = {}       # message-id -> folder
        self.deleted = set()
        self.moved = set()    # moved since the last clean run
        self.folders = list(FOLDERS)
        self.seq = 0

    def tag(self, prefix):
        self.seq += 1
        return "%s%d" % (prefix, self.seq)

    def on_server(self):
        """Folders of the test that exist on the server now (a new local
        folder does once a run created it)."""
        there = set(self.imap.list())
        return [f for f in self.folders if f in there]

    def server_new(self, n):
        folders = self.on_server()
        for _ in range(n):
            f = self.rnd.choice(folders)
            t = self.tag("s")
            fl = self.rnd.sample(FLAG_LETTERS, self.rnd.randrange(3))
            self.imap.append(f, msg(t, body="x\n"), flags=imap_flags(
                sorted(fl)))
            self.alive[mid(t)] = f

    def local_new(self, n):
        for _ in range(n):
            f = self.rnd.choice(self.folders)
            t = self.tag("l")
            lf = f.replace("/", ".")
            add_local(self.account, lf, t,
                      flags="".join(self.rnd.sample("FS", self.rnd.randrange(
                          2))))
            self.alive[mid(t)] = f

    def server_flags(self, n):
        for f in self.on_server():
            msgs = self.imap.fetch(f, bodies=False)
            for m in self.rnd.sample(msgs, min(n, len(msgs))):
                letter = self.rnd.choice(FLAG_LETTERS)
                self.imap.set_flags(f, m.uid, imap_flags(letter),
                                    self.rnd.choice("+-"))

    def local_flags(self, n):
        tree = maildirmod.read_tree(self.account.maildir)
        for lf, msgs in tree.items():
            for m in self.rnd.sample(msgs, min(n, len(msgs))):
                fl = set(m.flags)
                fl ^= {self.rnd.choice(FLAG_LETTERS)}
                try:
                    rename_flags(m, "".join(sorted(fl)))
                except FileNotFoundError:
                    pass

    def deletions(self, n):
        """Delete n messages on each side; only messages both sides and
        the status have (called right after a clean run)."""
        tree = maildirmod.read_tree(self.account.maildir)
        for lf, msgs in tree.items():
            msgs = [m for m in msgs if m.message_id not in self.moved]
            for m in self.rnd.sample(msgs, min(n, len(msgs))):
                os.unlink(m.path)
                self.deleted.add(m.message_id)
                self.alive.pop(m.message_id, None)
        for f in self.on_server():
            msgs = [m for m in self.imap.fetch(f, bodies=False)
                    if m.message_id not in self.deleted
                    and m.message_id not in self.moved]
            gone = self.rnd.sample(msgs, min(n, len(msgs)))
            if gone:
                self.imap.expunge(f, [m.uid for m in gone])
            for m in gone:
                self.deleted.add(m.message_id)
                self.alive.pop(m.message_id, None)

    def moves(self, n):
        """Move n messages between folders on each side, as a mail reader
        does (called right after a clean run, before deletions)."""
        self.moved = set()
        tree = maildirmod.read_tree(self.account.maildir)
        for lf, msgs in tree.items():
            for m in self.rnd.sample(msgs, min(n, len(msgs))):
                to = self.rnd.choice([f for f in tree if f != lf])
                os.rename(m.path, os.path.join(self.account.maildir, to,
                                               "cur", m.name))
                self.moved.add(m.message_id)
                self.alive[m.message_id] = remote_name(to)
        folders = self.on_server()
        for f in folders:
            msgs = [m for m in self.imap.fetch(f)
                    if m.message_id not in self.moved]
            gone = self.rnd.sample(msgs, min(n, len(msgs)))
            for m in gone:
                to = self.rnd.choice([x for x in folders if x != f])
                self.imap.append(to, m.body, flags=m.flags)
                self.moved.add(m.message_id)
                self.alive[m.message_id] = to
            if gone:
                self.imap.expunge(f, [m.uid for m in gone])

    def new_folders(self, i):
        """A new folder with mail on each side."""
        srv, loc = "Lists/S%d" % i, "L%d" % i
        self.imap.create(srv)
        for j in range(3):
            t = self.tag("sf")
            self.imap.append(srv, msg(t, body="y\n"))
            self.alive[mid(t)] = srv
            t = self.tag("lf")
            add_local(self.account, loc, t)
            self.alive[mid(t)] = loc
        self.folders += [srv, loc]


# offlineimap3 fails this one: killed while downloading, it leaves files its
# status does not know and uploads them again (e.g. OIMAPTEST_SEED=1047211526:
# a message twice in the server's INBOX).
@oimap_only
@pytest.mark.parametrize("backend,n_messages,iterations",
                         [("sqlite", N_MESSAGES, ITERATIONS),
                          ("plain", 300, 12)])
def test_sigkill_loop(account, imap, backend, n_messages, iterations):
    seed_value = int(os.environ.get("OIMAPTEST_SEED",
                                    random.randrange(1 << 30)))
    print("OIMAPTEST_SEED=%d" % seed_value)
    rnd = random.Random(seed_value)
    w = World(rnd, account, imap)
    for f in FOLDERS:
        if f != "INBOX":
            imap.create(f)
    w.server_new(n_messages)
    account.write_rc(overrides={"remote": {"maxconnections": 2},
                                "account": {"status_backend": backend}})
    kills = 0
    log_path = os.path.join(account.home, "runs.log")
    for i in range(iterations):
        if i in (8, 16, 24):
            # a clean run, then deletions both ways of messages it synced
            sync_ok(account)
            w.moves(2)
            w.deletions(3)
        if i % 2 == 1:
            w.server_new(rnd.randrange(5, 40))
            w.local_new(rnd.randrange(5, 20))
        if i % 5 == 3:
            w.new_folders(i)
        if i % 3 == 2:
            w.server_flags(5)
            w.local_flags(5)
        # most runs here take well under a second: favour short delays
        delay = rnd.uniform(0, MAX_DELAY) * rnd.random()
        with open(log_path, "w") as log:
            rc = _kill_after(_start(account, log), delay)
        if rc == -signal.SIGKILL:
            kills += 1
        else:
            with open(log_path) as log:
                out = log.read()
            assert rc == 0, "run %d ended with %r (seed %d):\n%s" % (
                i, rc, seed_value, out[-3000:])
    print("killed %d of %d runs" % (kills, iterations))
    sync_ok(account)
    srv = server_state(imap)
    loc = local_state(account.maildir)
    for side, state in (("server", srv), ("local", loc)):
        seen = {}
        for f, msgs in state.items():
            for i, _ in msgs:
                assert i not in seen, ("%s: %s twice (%s, %s), seed %d" % (
                    side, i, seen[i], f, seed_value))
                seen[i] = f
        back = set(seen) & w.deleted
        assert not back, ("%s: deleted mail came back: %s (seed %d)"
                          % (side, sorted(back)[:10], seed_value))
        lost = set(w.alive) - set(seen)
        assert not lost, ("%s: lost %s (seed %d)" % (
            side, sorted(lost)[:10], seed_value))
        assert {i: f for i, f in seen.items()} == w.alive
    # the same flags on both sides, the status agrees, names are right
    # (tmp/ may hold files of killed runs: not checked)
    assert srv == loc
    assert_synced(account, imap, tmp_ok=True, backend=backend)


def diff(want, got):
    """Per folder, the (message-id, flags) in one of want and got only."""
    return {f: sorted(set(got.get(f, [])) ^ set(want.get(f, [])))
            for f in set(want) | set(got)
            if set(got.get(f, [])) != set(want.get(f, []))}


# --debug-stop-after-step ---------------------------------------------------

SCENARIO_SEED = {"INBOX": [("a%d" % i, ["\\Seen"] if i % 2 else [])
                           for i in range(6)],
                 "Work": [("w%d" % i, []) for i in range(4)]}


def _scenario(dovecot, tmp, oimap_bin, name, overrides=None):
    """A fresh user and local side, synced, then changed on both sides.
    Returns (account, imap client)."""
    user = dovecotmod.new_user(dovecot, hint=name[:8])
    d = tmp / name
    d.mkdir()
    acc = Account(user, d, oimap_bin)
    acc.write_rc(overrides=overrides)
    c = user.client()
    uids = seed(c, SCENARIO_SEED)
    sync_ok(acc)
    u = uids["INBOX"]
    c.append("INBOX", msg("n1"), flags=["\\Flagged"])
    c.append("Work", msg("n2"))
    c.set_flags("INBOX", u["a1"], ["\\Seen"], "-")
    c.set_flags("INBOX", u["a2"], ["\\Answered"], "+")
    c.expunge("INBOX", [u["a3"]])
    add_local(acc, "INBOX", "l1", flags="S")
    add_local(acc, "Work", "l2")
    add_local(acc, "Newfolder", "l3")
    tree = maildirmod.read_tree(acc.maildir)
    by = {m.message_id: m for ms in tree.values() for m in ms}
    rename_flags(by[mid("a4")], "F")
    rename_flags(by[mid("w1")], "S")
    os.unlink(by[mid("a5")].path)
    os.unlink(by[mid("w2")].path)
    return acc, c


@oimap_only
@pytest.mark.parametrize("backend", ["sqlite", "plain"])
def test_stop_after_every_step(dovecot, tmp_path, backend):
    oimap_bin = os.environ.get("OIMAP_BIN", os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "build", "oimap"))
    ov = {"account": {"status_backend": backend}}
    ref, rc_ = _scenario(dovecot, tmp_path, oimap_bin, "ref", ov)
    sync_ok(ref)
    want = assert_synced(ref, rc_, backend=backend)
    rc_.close()
    n = 0
    deadline = time.monotonic() + 120
    bad = []
    while time.monotonic() < deadline:
        n += 1
        acc, c = _scenario(dovecot, tmp_path, oimap_bin, "stop%d" % n, ov)
        try:
            r = sync(acc, "--debug-stop-after-step=%d" % n)
            if n == 1 and r.rc not in (0, 77):
                if "debug-stop-after-step" in r.output:
                    pytest.xfail("--debug-stop-after-step not there: %r"
                                 % r.output[-300:])
            assert r.rc in (0, 77), r
            stopped = r.rc == 77
            sync_ok(acc)
            got = server_state(c)
            if got != want or local_state(acc.maildir) != want:
                bad.append((n, diff(want, got),
                            diff(want, local_state(acc.maildir))))
                continue
            assert_synced(acc, c, backend=backend)
            before = (maildirmod.read_tree(acc.maildir), server_state(c))
            sync_ok(acc)
            assert (maildirmod.read_tree(acc.maildir),
                    server_state(c)) == before
        finally:
            c.close()
        if not stopped:
            break
    else:
        pytest.fail("more steps than the time allows (n=%d)" % n)
    assert not bad, "stopped after step N, then a clean run: (N, " \
        "server vs wanted, local vs wanted (symmetric differences)): %r" % bad
    assert n > 5, "the scenario should have more than 5 steps"
    assert remote_name("Newfolder") in want
