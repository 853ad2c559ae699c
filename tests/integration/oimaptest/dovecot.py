# SPDX-License-Identifier: GPL-2.0-or-later
"""A throwaway Dovecot (Debian's dovecot-imapd 2.3) on free loopback ports.

    d = Dovecot("/tmp/x")          # the directory is created, chmod 755
    d.start()                      # picks free ports, retries on a clash
    user, password = d.add_user()  # unique name, random password
    ... d.port (plain + STARTTLS), d.sslport (implicit TLS), d.host
    d.stop()                       # always safe; also registered atexit

Everything lives in the directory: dovecot.conf, passwd.d/<user> (passdb
and userdb, one file per user), run/ (base_dir), state/,
home/<user>/Maildir (the server's mail), dovecot.log, certs/.

As root, mail processes run as nobody:nogroup and the login/internal
processes as Dovecot's own users; as an ordinary user everything runs as
that user.  The master runs in the foreground (-F) in its own process
group so stop() can always kill whatever is left of it.
"""
import atexit
import os
import pwd
import grp
import secrets
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

from . import certs as certsmod

DOVECOT = "/usr/sbin/dovecot"
IMAP_BIN = "/usr/lib/dovecot/imap"
HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

_live = set()
_user_seq = 0
_user_lock = threading.Lock()


def _have_v6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


HAVE_V6 = _have_v6_loopback()


def free_ports(n):
    """n distinct ports that were free on 127.0.0.1 (and ::1 if the host
    has it) a moment ago.  Another process may still take one before we
    bind it: callers retry."""
    socks = []
    ports = []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind((HOST, 0))
            socks.append(s)
            port = s.getsockname()[1]
            if HAVE_V6:
                s6 = socket.socket(socket.AF_INET6)
                socks.append(s6)
                try:
                    s6.bind(("::1", port))
                except OSError:
                    continue
            ports.append(port)
        return ports
    finally:
        for s in socks:
            s.close()


def _alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            st = fh.read()
        return st[st.rindex(")") + 2] != "Z"
    except (OSError, ValueError, IndexError):
        return False


def _stop_pid(pid, conf_path):
    """Stop a master that is not our child (started by another process,
    in its own session, so its process group id is its pid) -- if pid is
    still that master and not a reused pid."""
    if not _alive(pid):
        return
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            if conf_path.encode() not in fh.read().split(b"\0"):
                return
    except OSError:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    end = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < end and _alive(pid):
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _die_with_parent_fn():
    """A preexec_fn: in the child before exec, ask for SIGTERM when the
    process that started the master dies, even by SIGKILL (atexit and
    finalizers never run then).  Linux only; harmless elsewhere."""
    parent = os.getpid()
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None

    def fn():
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        # The parent may have died before prctl(): then no signal comes.
        if os.getppid() != parent:
            os._exit(1)
    return fn


def _stop_all():
    for d in list(_live):
        d.stop()


atexit.register(_stop_all)


class DovecotError(RuntimeError):
    pass


class Dovecot:
    """One server.  dir: its directory (created).  certs: a certs.Certs
    to use (default: made in dir/certs).  extra_conf: appended to
    dovecot.conf (e.g. "imap_capability = IMAP4rev1 IDLE" to advertise
    less).  separator: the namespace separator.  auth_mechanisms: what
    Dovecot offers.  compress: load imap_zlib (COMPRESS=DEFLATE).
    die_with_parent: SIGTERM the master when the starting process dies.
    Attributes once started: host, port, sslport, tls_host (the name in
    the certificate), certs, log_path, users {name: password}."""

    tls_host = "localhost"

    def __init__(self, dir, certs=None, extra_conf="", separator="/",
                 auth_mechanisms="plain login", compress=True,
                 die_with_parent=True):
        self.dir = os.path.abspath(dir)
        self.host = HOST
        self.port = None
        self.sslport = None
        self.extra_conf = extra_conf
        self.separator = separator
        self.auth_mechanisms = auth_mechanisms
        self.compress = compress
        self.die_with_parent = die_with_parent
        # ::1 too, so that clients resolving "localhost" (the name in the
        # certificate) to ::1 first find the server there as well.
        self.listen = HOST + (", ::1" if HAVE_V6 else "")
        self.proc = None
        self._pid = None        # a detached master (not our child)
        self.token = secrets.token_hex(8)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.certs = certs or certsmod.make_certs(os.path.join(self.dir,
                                                               "certs"))
        self.root = os.geteuid() == 0
        if self.root:
            pw = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = pw.pw_uid, pw.pw_gid
            self.internal_user, self.login_user = "dovecot", "dovenull"
            self.internal_group = "dovecot"
        else:
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()
            me = pwd.getpwuid(os.getuid()).pw_name
            self.internal_user = self.login_user = me
            self.internal_group = grp.getgrgid(os.getgid()).gr_name
        self.users = {}
        for sub in ("run", "state", "home", "passwd.d"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
            os.chmod(os.path.join(self.dir, sub), 0o755)
        if self.root:
            os.chown(os.path.join(self.dir, "home"), self.mail_uid,
                     self.mail_gid)

    # paths -------------------------------------------------------------
    @property
    def conf_path(self):
        return os.path.join(self.dir, "dovecot.conf")

    @property
    def log_path(self):
        return os.path.join(self.dir, "dovecot.log")

    @property
    def passwd_dir(self):
        return os.path.join(self.dir, "passwd.d")

    def user_home(self, user):
        return os.path.join(self.dir, "home", user)

    def user_maildir(self, user):
        """The server-side Maildir of user (owned by the mail user)."""
        return os.path.join(self.user_home(user), "Maildir")

    # users -------------------------------------------------------------
    def _write_passwd(self, user):
        """One passwd-file per user (the passdb path is .../%u): a new
        user is a new file, so nothing depends on Dovecot noticing that a
        file changed."""
        line = "%s:{PLAIN}%s:%d:%d::%s::\n" % (
            user, self.users[user], self.mail_uid, self.mail_gid,
            self.user_home(user))
        path = os.path.join(self.passwd_dir, user)
        tmp = path + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(line)
        if self.root:
            # Only Dovecot's auth process (default_internal_user) reads it.
            os.chown(tmp, 0, grp.getgrnam(self.internal_group).gr_gid)
            os.chmod(tmp, 0o640)
        else:
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    def add_user(self, user=None, password=None, hint="u"):
        """Create a user (unique name unless given) and return
        (user, password).  Its mail home exists and is empty."""
        global _user_seq
        with _user_lock:
            _user_seq += 1
            seq = _user_seq
        if user is None:
            hint = "".join(c for c in hint.lower() if c.isalnum())[:20] or "u"
            user = "%s%d%s" % (hint, seq, secrets.token_hex(3))
        if password is None:
            password = secrets.token_urlsafe(12)
        home = self.user_home(user)
        os.makedirs(home, exist_ok=True)
        if self.root:
            os.chown(home, self.mail_uid, self.mail_gid)
        if not user.replace("-", "").replace("_", "").replace(".", "") \
                .isalnum() or user.startswith("."):
            raise ValueError("user names here are [A-Za-z0-9._-]")
        self.users[user] = password
        self._write_passwd(user)
        return user, password

    # config ------------------------------------------------------------
    def _conf(self):
        c = self.certs
        plugins = ""
        if self.compress and os.path.exists(
                "/usr/lib/dovecot/modules/lib30_imap_zlib_plugin.so"):
            plugins = "  mail_plugins = $mail_plugins imap_zlib\n"
        return f"""# generated by oimaptest.dovecot; throwaway test server
base_dir = {self.dir}/run
state_dir = {self.dir}/state
instance_name = oimaptest-{self.token}
log_path = {self.log_path}
info_log_path = {self.log_path}
debug_log_path = {self.log_path}
protocols = imap
listen = {self.listen}
default_internal_user = {self.internal_user}
default_login_user = {self.login_user}
default_internal_group = {self.internal_group}
first_valid_uid = 1
first_valid_gid = 1
login_greeting = oimaptest {self.token} ready.
ssl = yes
ssl_cert = <{c.server_cert}
ssl_key = <{c.server_key}
disable_plaintext_auth = no
auth_mechanisms = {self.auth_mechanisms}
auth_verbose = yes
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd_dir}/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.passwd_dir}/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = {self.separator}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.listen}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.listen}
    port = {self.sslport}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No growing delay per IP after failed logins: tests log in wrongly on
  # purpose, and many helpers share 127.0.0.1.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
{plugins}}}
{self.extra_conf}
"""

    # lifecycle ---------------------------------------------------------
    def start(self, port=None, sslport=None, tries=10):
        """Start on the given ports, or on free ones (retrying with new
        ones when another process takes a port first)."""
        if self.proc is not None:
            return self
        last = ""
        for _ in range(tries if port is None else 1):
            if port is None:
                self.port, self.sslport = free_ports(2)
            else:
                self.port, self.sslport = port, sslport
            ok, last = self._try_start()
            if ok:
                _live.add(self)
                return self
            if "Address already in use" not in last:
                break
        raise DovecotError("dovecot did not start in %s:\n%s" % (self.dir,
                                                                  last))

    def _try_start(self):
        with open(self.conf_path, "w") as fh:
            fh.write(self._conf())
        log_start = self.log_size()
        err_path = os.path.join(self.dir, "dovecot.stderr")
        try:
            err_start = os.path.getsize(err_path)
        except OSError:
            err_start = 0
        with open(err_path, "ab") as errfh:
            self.proc = subprocess.Popen(
                [DOVECOT, "-F", "-c", self.conf_path],
                stdin=subprocess.DEVNULL, stdout=errfh, stderr=errfh,
                start_new_session=True, close_fds=True,
                preexec_fn=_die_with_parent_fn() if self.die_with_parent
                else None)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self._is_ours():
                return True, ""
            time.sleep(0.05)
        self.stop()
        with open(err_path, "rb") as fh:
            fh.seek(err_start)
            err = fh.read().decode("utf-8", "replace")[-3000:]
        return False, err + self.log_text(log_start)[-3000:]

    def _is_ours(self):
        """True once both listeners answer and are this server (a port may
        have been taken by someone else's server in the meantime)."""
        try:
            with socket.create_connection((HOST, self.port), 1) as s:
                s.settimeout(2)
                greeting = s.recv(4096).decode("latin-1")
            if self.token not in greeting:
                return False
            ctx = ssl.create_default_context(cafile=self.certs.ca_cert)
            with socket.create_connection((HOST, self.sslport), 1) as raw:
                raw.settimeout(2)
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    greeting = s.recv(4096).decode("latin-1")
            return self.token in greeting
        except (OSError, ssl.SSLError):
            return False

    # state for the command line (scripts/test-dovecot) ------------------
    @property
    def state_path(self):
        return os.path.join(self.dir, "server.json")

    def save_state(self):
        import json
        st = {"pid": self.proc.pid if self.proc else self._pid,
              "host": self.host, "port": self.port, "sslport": self.sslport,
              "users": self.users}
        fd = os.open(self.state_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(st, fh, indent=1)

    @classmethod
    def from_state(cls, dir, **kw):
        """The server a previous process started in dir (see detach())."""
        import json
        d = cls(dir, **kw)
        with open(d.state_path) as fh:
            st = json.load(fh)
        d.port, d.sslport, d.users = st["port"], st["sslport"], st["users"]
        d._pid = st["pid"]
        return d

    def detach(self):
        """Leave the server running after this process exits (for the
        command line); stop it later with from_state(dir).stop()."""
        _live.discard(self)
        self._pid = self.proc.pid
        self.proc = None
        self.save_state()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Stop the master and everything in its process group.  Safe to
        call twice, from atexit, or after a failed start."""
        _live.discard(self)
        p, self.proc = self.proc, None
        if p is None:
            if self._pid:
                _stop_pid(self._pid, self.conf_path)
                self._pid = None
            return
        pgid = p.pid
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
            except OSError:
                pass
        # Children left behind (an imap process stuck on a client): the
        # master ran in its own session, so its group id is its pid.
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
        try:
            p.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # logs --------------------------------------------------------------
    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_text(self, offset=0):
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # PREAUTH -----------------------------------------------------------
    def preauth_argv(self, user):
        """argv that runs Dovecot's imap binary for user's mail, speaking
        IMAP with a PREAUTH greeting on stdin/stdout (a preauthtunnel).
        As root, -u makes imap look the user up through the running
        server's auth socket and drop to the mail user; otherwise the
        process runs as the caller with USER/HOME from the environment."""
        if self.root:
            return [IMAP_BIN, "-c", self.conf_path, "-u", user]
        return ["env", "USER=" + user, "HOME=" + self.user_home(user),
                IMAP_BIN, "-c", self.conf_path]

    def preauth_command(self, user):
        """The same as one shell command line (OfflineIMAP runs
        preauthtunnel with a shell)."""
        return shlex.join(self.preauth_argv(user))


class UserInfo:
    """One test user on a server: what a client needs to log in.  Fields
    are attributes and also items (info["port"])."""

    def __init__(self, server, user, password):
        self.server = server
        self.user = user
        self.password = password
        self.host = server.host
        self.tls_host = "localhost"     # the name in the certificate
        self.port = server.port
        self.sslport = server.sslport
        self.cafile = server.certs.ca_cert
        self.wrong_cafile = server.certs.wrong_ca_cert
        self.fingerprints = dict(server.certs.fingerprints)
        self.preauth_argv = server.preauth_argv(user)
        self.preauth = server.preauth_command(user)
        # A transporttunnel: the plain port over a command's pipes.
        self.tunnel_argv = [
            "env", "PYTHONPATH=" + os.path.dirname(os.path.dirname(
                os.path.abspath(__file__))), sys.executable, "-m",
            "oimaptest.relay", server.host, str(server.port)]
        self.tunnel = shlex.join(self.tunnel_argv)

    def __getitem__(self, k):
        return getattr(self, k)

    def keys(self):
        return ["user", "password", "host", "tls_host", "port", "sslport",
                "cafile", "wrong_cafile", "fingerprints", "preauth",
                "tunnel"]

    def __repr__(self):     # no password: it ends up in test reports
        return "UserInfo(user=%r, host=%r, port=%r, sslport=%r)" % (
            self.user, self.host, self.port, self.sslport)

    @property
    def maildir(self):
        """The server-side Maildir (for looking, not for writing)."""
        return self.server.user_maildir(self.user)

    def client(self, mode="plain", cafile=None):
        """A logged-in imap.ImapClient (mode plain, starttls or ssl)."""
        from .imap import ImapClient
        port = self.sslport if mode == "ssl" else self.port
        return ImapClient.connect(self.host, port, self.user, self.password,
                                  mode=mode, cafile=cafile or self.cafile)


def new_user(server, hint="u"):
    user, password = server.add_user(hint=hint)
    return UserInfo(server, user, password)
