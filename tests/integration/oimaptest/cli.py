# SPDX-License-Identifier: GPL-2.0-or-later
"""Command line over the helpers, for scripts/test-dovecot and
scripts/demo (run as: PYTHONPATH=tests/integration python3 -m
oimaptest.cli ...).

  start DIR [--user U --password P]  start a Dovecot in DIR, leave it
                                     running; print shell assignments
                                     HOST PORT SSLPORT TLS_HOST CAFILE
                                     (and USER PASSWORD with --user)
  stop DIR                           stop it (safe if it is not running)
  adduser DIR [--user U --password P]  add a user; print USER PASSWORD
  seed-demo DIR USER                 put the demo mailbox into USER's mail
  write-rc DIR USER OUT --maildir M --metadata D [--mode ssl]
           [--account NAME]          write an offlineimaprc
  tree MAILDIR                       folders, message counts, a few names
"""
import argparse
import os
import shlex
import sys

from . import dovecot as dovecotmod
from . import demo
from . import maildir
from . import rc


def _print_vars(**kv):
    for k, v in kv.items():
        print("%s=%s" % (k, shlex.quote(str(v))))


def cmd_start(a):
    d = dovecotmod.Dovecot(a.dir, die_with_parent=False)
    d.start()
    try:
        if a.user:
            d.add_user(a.user, a.password)
    except Exception:
        d.stop()
        raise
    d.detach()
    _print_vars(HOST=d.host, PORT=d.port, SSLPORT=d.sslport,
                TLS_HOST="localhost", CAFILE=d.certs.ca_cert,
                LOG=d.log_path)
    if a.user:
        _print_vars(USER=a.user, PASSWORD=d.users[a.user])
    return 0


def cmd_stop(a):
    if not os.path.exists(os.path.join(a.dir, "server.json")):
        return 0
    dovecotmod.Dovecot.from_state(a.dir).stop()
    return 0


def cmd_adduser(a):
    d = dovecotmod.Dovecot.from_state(a.dir)
    user, pw = d.add_user(a.user, a.password)
    d.save_state()
    _print_vars(USER=user, PASSWORD=pw)
    return 0


def _info(a):
    d = dovecotmod.Dovecot.from_state(a.dir)
    return dovecotmod.UserInfo(d, a.user, d.users[a.user])


def cmd_seed_demo(a):
    with _info(a).client("ssl") as c:
        n = demo.seed(c)
        print("%d messages in %d folders: %s" % (
            n, len(demo.FOLDERS), ", ".join(demo.FOLDERS)))
    return 0


def cmd_write_rc(a):
    rc.write_rc(a.out, _info(a), a.maildir, a.metadata, mode=a.mode,
                account=a.account)
    return 0


def cmd_tree(a):
    tree = maildir.read_tree(a.maildir)
    if not tree:
        print("(no Maildir folders under %s)" % a.maildir)
        return 0
    for folder, msgs in tree.items():
        print("  %-28s %3d messages" % (folder or ".", len(msgs)))
    total = sum(len(m) for m in tree.values())
    print("  %-28s %3d messages" % ("(all)", total))
    folder = "INBOX" if tree.get("INBOX") else next(
        (f for f, m in tree.items() if m), None)
    if folder is not None:
        print("A few file names in %s:" % folder)
        for m in tree[folder][:3]:
            print("  %s/%s" % (m.subdir, m.name))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="test-dovecot")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("dir")
    s.add_argument("--user")
    s.add_argument("--password")
    s.set_defaults(fn=cmd_start)
    s = sub.add_parser("stop")
    s.add_argument("dir")
    s.set_defaults(fn=cmd_stop)
    s = sub.add_parser("adduser")
    s.add_argument("dir")
    s.add_argument("--user")
    s.add_argument("--password")
    s.set_defaults(fn=cmd_adduser)
    s = sub.add_parser("seed-demo")
    s.add_argument("dir")
    s.add_argument("user")
    s.set_defaults(fn=cmd_seed_demo)
    s = sub.add_parser("write-rc")
    s.add_argument("dir")
    s.add_argument("user")
    s.add_argument("out")
    s.add_argument("--maildir", required=True)
    s.add_argument("--metadata", required=True)
    s.add_argument("--mode", default="ssl",
                   choices=["plain", "starttls", "ssl", "preauth",
                            "tunnel"])
    s.add_argument("--account", default=rc.ACCOUNT)
    s.set_defaults(fn=cmd_write_rc)
    s = sub.add_parser("tree")
    s.add_argument("maildir")
    s.set_defaults(fn=cmd_tree)
    a = p.parse_args(argv)
    if hasattr(a, "dir"):
        a.dir = os.path.abspath(a.dir)
    try:
        return a.fn(a)
    except dovecotmod.DovecotError as e:
        print("test-dovecot: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
