# SPDX-License-Identifier: GPL-2.0-or-later
"""Write an offlineimaprc for one account and run oimap / offlineimap3.

    path = write_rc(path, server, maildir, metadata, mode="plain",
                    overrides={"remote": {"maxconnections": 2}})
    r = run(OIMAP_BIN, path, "-o", "-u", "basic", home=tmp_home)
    r.rc, r.out, r.err

server is anything with host, port, sslport, user, password, cafile and
preauth (a shell command) attributes (dovecot.UserInfo, fakeimap's).
mode:
  plain     ssl = no, starttls = no, remoteport = port
  starttls  ssl = no, starttls = yes, sslcacertfile = cafile,
            remotehost = server.tls_host ("localhost")
  ssl       ssl = yes, remoteport = sslport, sslcacertfile = cafile,
            remotehost = server.tls_host
  preauth   preauthtunnel = server.preauth (no host/port/user/pass)
  tunnel    transporttunnel = server.tunnel (a relay to the plain port;
            user and password as usual, no host/port)
overrides: {section: {option: value}}; section is "general", "account",
"local", "remote" or a full section name ("mbnames", "DEFAULT", ...);
value None removes the option; True/False become yes/no.
"""
import os
import subprocess

ACCOUNT = "Test"
OFFLINEIMAP = "/usr/bin/offlineimap"


def _fmt(v):
    if v is True:
        return "yes"
    if v is False:
        return "no"
    return str(v)


def rc_sections(server, maildir, metadata, mode="plain", account=ACCOUNT,
                overrides=None):
    """The config as an ordered {section name: {option: value}}."""
    local, remote = account + "-Local", account + "-Remote"
    general = {"accounts": account, "metadata": os.path.abspath(metadata)}
    acct = {"localrepository": local, "remoterepository": remote}
    loc = {"type": "Maildir", "localfolders": os.path.abspath(maildir)}
    rem = {"type": "IMAP", "remotehost": server.host,
           "remoteport": server.port, "remoteuser": server.user,
           "remotepass": server.password, "ssl": False, "starttls": False}
    # OfflineIMAP checks the certificate's names itself and only knows DNS
    # names, so TLS modes connect to "localhost" (the server listens on
    # 127.0.0.1 only; clients must try every address localhost has).
    tls_host = getattr(server, "tls_host", server.host)
    if mode == "starttls":
        rem.update(remotehost=tls_host, starttls=True,
                   sslcacertfile=server.cafile)
    elif mode == "ssl":
        rem.update(remotehost=tls_host, ssl=True, remoteport=server.sslport,
                   sslcacertfile=server.cafile)
        del rem["starttls"]
    elif mode == "preauth":
        for k in ("remotehost", "remoteport", "remoteuser", "remotepass",
                  "ssl", "starttls"):
            del rem[k]
        rem["preauthtunnel"] = server.preauth
    elif mode == "tunnel":
        for k in ("remotehost", "remoteport"):
            del rem[k]
        rem["transporttunnel"] = server.tunnel
    elif mode != "plain":
        raise ValueError("unknown mode %r" % mode)
    secs = {"general": general, "Account " + account: acct,
            "Repository " + local: loc, "Repository " + remote: rem}
    alias = {"general": "general", "account": "Account " + account,
             "local": "Repository " + local,
             "remote": "Repository " + remote}
    for sec, opts in (overrides or {}).items():
        sec = alias.get(sec, sec)
        d = secs.setdefault(sec, {})
        for k, v in opts.items():
            if v is None:
                d.pop(k, None)
            else:
                d[k] = v
    if "DEFAULT" in secs:           # ConfigParser wants it first
        secs = {"DEFAULT": secs.pop("DEFAULT"), **secs}
    return secs


def render(secs):
    out = ["# written by oimaptest.rc\n"]
    for sec, opts in secs.items():
        out.append("[%s]\n" % sec)
        for k, v in opts.items():
            v = _fmt(v).replace("\n", "\n    ")   # continuation lines
            out.append("%s = %s\n" % (k, v))
        out.append("\n")
    return "".join(out)


def write_rc(path, server, maildir, metadata, mode="plain", account=ACCOUNT,
             overrides=None):
    """Write the config to path (mode 0600: it holds a password); return
    path."""
    text = render(rc_sections(server, maildir, metadata, mode, account,
                              overrides))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return str(path)


class Result:
    """Exit status and output of one run."""

    def __init__(self, proc, argv=None):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.argv = argv

    @property
    def output(self):
        return (self.out or "") + (self.err or "")

    def __repr__(self):
        return "Result(rc=%r, argv=%r, out=%r, err=%r)" % (
            self.rc, self.argv, (self.out or "")[-2000:],
            (self.err or "")[-2000:])


def run(argv0, rc_path, *args, home=None, env=None, timeout=180,
        stdin=subprocess.DEVNULL):
    """Run `argv0 -c rc_path args...` with HOME=home (XDG_CONFIG_HOME
    unset); returns a Result."""
    argv = [str(argv0)]
    if rc_path is not None:
        argv += ["-c", str(rc_path)]
    argv += [str(a) for a in args]
    e = dict(os.environ)
    e.pop("XDG_CONFIG_HOME", None)
    if home is not None:
        os.makedirs(home, exist_ok=True)
        e["HOME"] = str(home)
    if env:
        e.update(env)
    p = subprocess.run(argv, env=e, stdin=stdin, capture_output=True,
                       text=True, errors="replace", timeout=timeout)
    return Result(p, argv)


def run_offlineimap(rc_path, *args, home=None, **kw):
    """Debian's offlineimap3 with the same config; default args -o -u
    basic (one run, plain output).  Do not use mode="starttls" with it:
    offlineimap3 8.0.0 hangs in about a third of STARTTLS connections
    (imaplib2's reader thread races the TLS handshake)."""
    return run(OFFLINEIMAP, rc_path, *(args or ("-o", "-u", "basic")),
               home=home, **kw)
