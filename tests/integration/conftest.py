# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for integration tests: the built binary (OIMAP_BIN), a real
Dovecot on free loopback ports, per-test users, offlineimaprc writer and
runners for oimap and offlineimap3, a scripted fake IMAP server.

Session fixtures
  oimap_bin          path of the binary (OIMAP_BIN, default build/oimap)
  certs              oimaptest.certs.Certs: ca_cert, wrong_ca_cert,
                     server_cert/key, fingerprints {sha1,sha256,sha512}
  dovecot            oimaptest.dovecot.Dovecot, started once: host, port
                     (plain + STARTTLS), sslport (implicit TLS), certs,
                     log_path, add_user(), preauth_command(user)
Per-test fixtures
  run_oimap(*args, env=None, timeout=120, stdin=DEVNULL) -> Result
  imap_user          a fresh UserInfo: user, password, host, port, sslport,
                     cafile, wrong_cafile, fingerprints, preauth (shell
                     command), preauth_argv, maildir (server side),
                     client(mode) -> ImapClient
  imap               an ImapClient logged in as imap_user (seed/inspect)
  account            Account: a local side (maildir, metadata, home, rc
                     under tmp_path) for imap_user; write_rc(), oimap(),
                     offlineimap(), tree(), summary()
  fake_imap(script, **kw) -> a started FakeImap, stopped after the test
  dovecot_factory(**kw)   -> another started Dovecot (extra_conf=... to
                     change capabilities), stopped after the test
Dovecot's log for the test is attached to the report of a failed test.
Set OIMAPTEST_KEEP=1 to keep the server directory for a post-mortem;
OIMAPTEST_CERTS=DIR to reuse certificates from DIR (made if missing).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from oimaptest import certs as certsmod  # noqa: E402
from oimaptest import dovecot as dovecotmod  # noqa: E402
from oimaptest import fakeimap as fakemod  # noqa: E402
from oimaptest import maildir as maildirmod  # noqa: E402
from oimaptest import rc as rcmod  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
Result = rcmod.Result          # what run_oimap and the runners return


def _reachable_by_all(path):
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _tempdir(prefix):
    # Not pytest's tmp_path: its parent is 0700, and as root Dovecot's
    # unprivileged processes must be able to reach the server directory.
    base = tempfile.gettempdir()
    if os.geteuid() == 0 and not _reachable_by_all(base):
        base = "/tmp"
    d = tempfile.mkdtemp(prefix=prefix, dir=base)
    os.chmod(d, 0o755)
    return d


def _remove(d):
    if not os.environ.get("OIMAPTEST_KEEP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def oimap_bin():
    path = os.environ.get("OIMAP_BIN", os.path.join(ROOT, "build", "oimap"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"oimap binary not found at {path}; run `make` first")
    return path


@pytest.fixture
def run_oimap(oimap_bin, tmp_path):
    """Run the binary with HOME set to an empty dir; returns a Result."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)

    def run(*args, env=None, timeout=120, stdin=subprocess.DEVNULL):
        return rcmod.run(oimap_bin, None, *args, home=home, env=env,
                         timeout=timeout, stdin=stdin)

    run.home = home
    return run


@pytest.fixture(scope="session")
def certs():
    given = os.environ.get("OIMAPTEST_CERTS")
    if given:                       # reuse (and keep) a directory of certs
        yield certsmod.make_certs(given)
        return
    d = _tempdir("oimap-certs-")
    yield certsmod.make_certs(d)
    _remove(d)


@pytest.fixture(scope="session")
def dovecot(certs):
    d = _tempdir("oimap-dovecot-")
    server = dovecotmod.Dovecot(d, certs=certs)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        _remove(d)


@pytest.fixture
def dovecot_factory(certs):
    """Start another Dovecot: dovecot_factory(extra_conf="imap_capability
    = IMAP4rev1 ...", separator=".", auth_mechanisms=...)."""
    made = []

    def make(**kw):
        d = _tempdir("oimap-dovecot-")
        server = dovecotmod.Dovecot(d, certs=certs, **kw)
        made.append((server, d))
        return server.start()

    yield make
    for server, d in made:
        server.stop()
        _remove(d)


@pytest.fixture
def imap_user(dovecot, request):
    return dovecotmod.new_user(dovecot, hint=request.node.name[5:13])


@pytest.fixture
def imap(imap_user):
    c = imap_user.client()
    yield c
    c.close()


class Account:
    """The local side of one test account for a server user.

    maildir, metadata, home, rc: paths under the test's tmp dir.
    write_rc(mode="plain", overrides=None, **remote_opts) writes rc;
    extra keyword arguments are options of the remote repository.
    oimap(*args) / offlineimap(*args) run with `-c rc` (default args
    -o -u basic) and return a Result.  tree() / summary() read the
    Maildir (oimaptest.maildir)."""

    def __init__(self, server, tmp, oimap_bin, name=rcmod.ACCOUNT):
        self.server = server
        self.name = name
        self.maildir = str(tmp / "Mail")
        self.metadata = str(tmp / "metadata")
        self.home = str(tmp / "home")
        self.rc = str(tmp / "offlineimaprc")
        self.oimap_bin = oimap_bin
        os.makedirs(self.home, exist_ok=True)

    def write_rc(self, mode="plain", overrides=None, **remote_opts):
        ov = {k: dict(v) for k, v in (overrides or {}).items()}
        if remote_opts:
            ov.setdefault("remote", {}).update(remote_opts)
        return rcmod.write_rc(self.rc, self.server, self.maildir,
                              self.metadata, mode=mode, account=self.name,
                              overrides=ov)

    def _ensure_rc(self):
        if not os.path.exists(self.rc):
            self.write_rc()

    def oimap(self, *args, **kw):
        if not os.access(self.oimap_bin, os.X_OK):
            pytest.fail("oimap binary not found at %s; run `make` first"
                        % self.oimap_bin)
        self._ensure_rc()
        return rcmod.run(self.oimap_bin, self.rc,
                         *(args or ("-o", "-u", "basic")), home=self.home,
                         **kw)

    def offlineimap(self, *args, **kw):
        self._ensure_rc()
        return rcmod.run_offlineimap(self.rc, *args, home=self.home, **kw)

    def tree(self):
        return maildirmod.read_tree(self.maildir)

    def summary(self):
        return maildirmod.summary(self.maildir)


@pytest.fixture
def account(imap_user, tmp_path, request):
    # oimap_bin is looked up lazily so offlineimap-only tests run without
    # a build.
    path = os.environ.get("OIMAP_BIN", os.path.join(ROOT, "build", "oimap"))
    return Account(imap_user, tmp_path, path)


@pytest.fixture
def fake_imap(certs):
    made = []

    def make(script=None, **kw):
        kw.setdefault("certs", certs)
        f = fakemod.FakeImap(script, **kw).start()
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()


# Stop servers when pytest itself is killed --------------------------------

def pytest_configure(config):
    # atexit does not run on SIGTERM/SIGHUP (a CI timeout, a closed
    # terminal); a Dovecot left behind would hold its ports.  (SIGKILL is
    # covered by PR_SET_PDEATHSIG in oimaptest.dovecot.)
    import signal

    def on_signal(signum, frame):
        dovecotmod._stop_all()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, on_signal)


# Attach Dovecot's log to failing tests -----------------------------------

def pytest_runtest_setup(item):
    item._oimap_log_offsets = {id(d): d.log_size()
                               for d in list(dovecotmod._live)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    offsets = getattr(item, "_oimap_log_offsets", {})
    for d in list(dovecotmod._live):
        text = d.log_text(offsets.get(id(d), 0))
        if text:
            if len(text) > 20000:
                text = "...\n" + text[-20000:]
            rep.sections.append(("dovecot log (%s)" % d.dir, text))
