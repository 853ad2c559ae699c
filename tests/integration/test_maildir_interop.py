# SPDX-License-Identifier: GPL-2.0-or-later
"""Maildir interoperability with OfflineIMAP 8 (Debian's offlineimap3).

OfflineIMAP syncs a Dovecot account into a local Maildir; oimap's Maildir
code (src/store/maildir*.c, driven by a small C tool compiled here against
the built liboimap.a) must read every name OfflineIMAP wrote, and
OfflineIMAP must read every name oimap writes (flag renames, deliveries,
UIDs given to local mail).

Dovecot runs without a daemon or a port: OfflineIMAP's `preauthtunnel`
starts /usr/lib/dovecot/imap on a pipe, and the test talks to the same
mailbox with imaplib.IMAP4_stream.  (The shared Dovecot fixtures of the
harness branch can replace this once they are on main.)
"""
import hashlib
import imaplib
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DOVECOT_IMAP = "/usr/lib/dovecot/imap"
OFFLINEIMAP = shutil.which("offlineimap") or "/usr/bin/offlineimap"

pytestmark = pytest.mark.skipif(
    not (os.access(DOVECOT_IMAP, os.X_OK) and os.access(OFFLINEIMAP, os.X_OK)),
    reason="needs dovecot-imapd and offlineimap3")

TOOL_C = r'''
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/maildir.h"
#include "util/err.h"
#include "util/strbuf.h"

static void die_err(const struct oim_err *err)
{
	fprintf(stderr, "%s\n", err->msg);
	exit(1);
}

/* tool ROOT SEP WIN FOLDER list
 * tool ROOT SEP WIN FOLDER flags NAME FLAGS
 * tool ROOT SEP WIN FOLDER deliver UID FLAGS  < message
 * tool ROOT SEP WIN FOLDER folders */
int main(int argc, char **argv)
{
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_repo_opts o = { .localfolders = argv[1],
				       .sep = argv[2],
				       .windows_compatible = argv[3][0] == '1',
				       .fsync = true };
	struct maildir_repo *repo = maildir_repo_new(&o, &err);
	char fb[MAILDIR_FLAGS_STR_MAX];
	char *name = NULL;

	if (argc < 6)
		return 2;
	if (!repo)
		die_err(&err);
	if (!strcmp(argv[5], "folders")) {
		struct maildir_folder_names l = { 0 };
		if (maildir_repo_list(repo, &l, &err) < 0)
			die_err(&err);
		for (size_t i = 0; i < l.nr; i++)
			printf("%s\n", l.names[i]);
		maildir_folder_names_release(&l);
		maildir_repo_free(repo);
		return 0;
	}
	struct maildir_folder *f = maildir_folder_open(repo, argv[4], NULL,
						       &err);
	if (!f)
		die_err(&err);
	if (!strcmp(argv[5], "list")) {
		struct maildir_msglist l = { 0 };
		if (maildir_folder_scan(f, NULL, &l, &err) < 0)
			die_err(&err);
		for (size_t i = 0; i < l.nr; i++)
			printf("%lu\t%s\t%s\n", (unsigned long)l.msgs[i].uid,
			       maildir_flags_str(l.msgs[i].flags, fb),
			       l.msgs[i].name);
		printf("fmd5\t%s\n", maildir_folder_fmd5(f));
		maildir_msglist_release(&l);
		goto out;
	}
	if (!strcmp(argv[5], "flags") && argc == 8) {
		if (maildir_msg_set_flags(f, argv[6],
					  maildir_flags_parse(argv[7],
							      strlen(argv[7])),
					  &name, &err) < 0)
			die_err(&err);
		printf("%s\n", name);
		goto out;
	}
	if (!strcmp(argv[5], "deliver") && argc == 8) {
		struct maildir_delivery *d;
		char buf[7];	/* small chunks: CRs split from LFs */
		size_t n;
		if (maildir_delivery_begin(f, (uint32_t)strtoul(argv[6], NULL, 10),
					   maildir_flags_parse(argv[7],
							       strlen(argv[7])),
					   &d, &err) < 0)
			die_err(&err);
		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			if (maildir_delivery_write(d, buf, n, &err) < 0)
				die_err(&err);
		if (maildir_delivery_commit(d, &name, &err) < 0)
			die_err(&err);
		printf("%s\n", name);
		goto out;
	}
	return 2;
out:
	free(name);
	maildir_folder_free(f);
	maildir_repo_free(repo);
	return 0;
}
'''


def _build_dir():
    b = os.environ.get("OIMAP_BIN")
    return os.path.dirname(b) if b else os.path.join(ROOT, "build")


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    build = _build_dir()
    lib = os.path.join(build, "liboimap.a")
    if not os.path.exists(lib):
        pytest.fail(f"{lib} not found; run `make` first")
    d = tmp_path_factory.mktemp("tool")
    src = d / "maildir_tool.c"
    src.write_text(TOOL_C)
    exe = str(d / "maildir_tool")
    libs = subprocess.run(["pkg-config", "--libs", "openssl", "sqlite3",
                           "zlib"], capture_output=True, text=True,
                          check=True).stdout.split()
    base = [os.environ.get("CC", "cc"), "-std=c17", "-D_GNU_SOURCE",
            "-I", os.path.join(ROOT, "src"), "-I", build, "-o", exe,
            str(src), lib, *libs, "-lpthread"]
    r = subprocess.run(base, capture_output=True, text=True)
    if r.returncode != 0:
        # a sanitizer build needs the runtime too
        r = subprocess.run(base + ["-fsanitize=address,undefined"],
                           capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


class Env:
    """A Dovecot mailbox reached through a pipe, an OfflineIMAP config
    syncing it into a local Maildir, and the oimap tool on that Maildir."""

    def __init__(self, tmp, tool, sep="/", win=False):
        self.tmp = tmp
        self.tool_exe = tool
        self.sep = sep
        self.win = win
        self.local = tmp / "local"
        if os.geteuid() == 0:
            # Dovecot refuses root: serve as nobody, from a directory
            # nobody can reach (pytest's tmp_path parents are 0700)
            srv = Path(tempfile.mkdtemp(prefix="oimap-mdinterop-"))
            os.chmod(srv, 0o755)
            self.cleanup = srv
        else:
            srv = tmp / "srv"
            srv.mkdir()
            self.cleanup = None
        self.server = srv / "mail"
        self.server.mkdir()
        conf = [f"mail_location = maildir:{self.server}",
                f"log_path = {srv}/dovecot.log", "ssl = no"]
        env = f"HOME={srv}"
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for p in (srv, self.server):
                os.chown(p, nobody.pw_uid, nobody.pw_gid)
            conf += [f"mail_uid = {nobody.pw_uid}",
                     f"mail_gid = {nobody.pw_gid}"]
            env += " USER=nobody"
        else:
            env += f" USER={pwd.getpwuid(os.getuid()).pw_name}"
        (tmp / "dovecot.conf").write_text("\n".join(conf) + "\n")
        self.tunnel = (f"env {env} {DOVECOT_IMAP} -c "
                       f"{shlex.quote(str(tmp / 'dovecot.conf'))}")
        (tmp / "offlineimaprc").write_text(f"""
[general]
accounts = Test
metadata = {tmp}/meta
fsync = false

[Account Test]
localrepository = Local
remoterepository = Remote
maildir-windows-compatible = {'yes' if win else 'no'}

[Repository Local]
type = Maildir
localfolders = {self.local}
sep = {sep}

[Repository Remote]
type = IMAP
preauthtunnel = {self.tunnel}
""")

    def imap(self):
        return imaplib.IMAP4_stream(self.tunnel)

    def append(self, folder, flags, msg):
        m = self.imap()
        if folder != "INBOX":
            m.create(folder)
        typ, data = m.append(folder, flags, None, msg)
        assert typ == "OK", data
        m.logout()

    def server_flags(self, folder):
        """{uid: set of flags} on the server."""
        m = self.imap()
        m.select(folder)
        typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
        m.logout()
        out = {}
        for item in data:
            if not item:
                continue
            s = item.decode() if isinstance(item, bytes) else item[0].decode()
            uid = int(s.split("UID ")[1].split()[0].rstrip(")"))
            fl = s.split("FLAGS (")[1].split(")")[0].split()
            out[uid] = set(fl)
        return out

    def offlineimap(self):
        r = subprocess.run([OFFLINEIMAP, "-c", str(self.tmp / "offlineimaprc"),
                            "-o", "-u", "basic"], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "ERROR" not in r.stdout + r.stderr, r.stdout + r.stderr
        return r

    def tool(self, folder, *args, stdin=None):
        r = subprocess.run([self.tool_exe, str(self.local), self.sep,
                            "1" if self.win else "0", folder, *args],
                           input=stdin, capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr.decode()
        return r.stdout.decode()

    def list(self, folder):
        """{uid or name: (flags, name)} as oimap scans the folder."""
        msgs, fmd5 = [], None
        for line in self.tool(folder, "list").splitlines():
            a, b, *c = line.split("\t")
            if a == "fmd5":
                fmd5 = b
            else:
                msgs.append((int(a), b, c[0]))
        return msgs, fmd5


MSG = ("From: a@example.org\r\nTo: b@example.org\r\nSubject: {n}\r\n"
       "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <{n}@x>\r\n"
       "\r\nbody {n}\r\nline two\r\n")

IMAP2MD = {"\\Seen": "S", "\\Answered": "R", "\\Flagged": "F",
           "\\Deleted": "T", "\\Draft": "D"}


def md_flags(imapflags):
    return "".join(sorted(IMAP2MD[f] for f in imapflags if f in IMAP2MD))


@pytest.mark.parametrize("sep,win", [("/", False), (".", False),
                                     ("/", True)])
def test_offlineimap_roundtrip(tmp_path, tool, sep, win):
    env = Env(tmp_path, tool, sep=sep, win=win)
    try:
        roundtrip(env, sep, win)
    finally:
        if env.cleanup:
            shutil.rmtree(env.cleanup, ignore_errors=True)


def roundtrip(env, sep, win):
    env.append("INBOX", "(\\Seen)", MSG.format(n=1).encode())
    env.append("INBOX", "(\\Seen \\Flagged)", MSG.format(n=2).encode())
    env.append("INBOX", "()", MSG.format(n=3).encode())
    env.append("Archive.2023", "(\\Seen \\Answered)", MSG.format(n=4).encode())
    env.offlineimap()

    # oimap lists the folders OfflineIMAP made, with the same names
    local_name = "Archive" + sep + "2023"
    folders = env.tool("", "folders").split()
    assert "INBOX" in folders and local_name in folders

    # ... and reads every UID and flag OfflineIMAP wrote
    for folder, server_folder in [("INBOX", "INBOX"),
                                  (local_name, "Archive.2023")]:
        msgs, fmd5 = env.list(folder)
        assert fmd5 == hashlib.md5(folder.encode()).hexdigest()
        server = env.server_flags(server_folder)
        assert sorted(uid for uid, _, _ in msgs) == sorted(server)
        for uid, flags, name in msgs:
            assert flags == md_flags(server[uid]), name
            # OfflineIMAP's rule: seen mail in cur/, the rest in new/
            assert name.startswith("cur/" if "S" in flags else "new/")
            assert (("!2," if win else ":2,") in name)
            assert f",FMD5={fmd5}" in name

    # oimap renames for a flag change; OfflineIMAP pushes it to the server
    msgs, _ = env.list("INBOX")
    uid3 = [m for m in msgs if m[0] == 3][0]
    newname = env.tool("INBOX", "flags", uid3[2], "RS").strip()
    assert newname.startswith("cur/")
    env.offlineimap()
    assert env.server_flags("INBOX")[3] == {"\\Seen", "\\Answered"}

    # local mail under a mutt name: OfflineIMAP uploads it and renames it;
    # oimap then reads the UID OfflineIMAP gave it
    info = "!2,S" if win else ":2,S"
    mutt = env.local / "INBOX" / "cur" / f"1700000000.P1Q2.laptop{info}"
    mutt.write_bytes(MSG.format(n=5).replace("\r\n", "\n").encode())
    msgs, _ = env.list("INBOX")
    assert [m for m in msgs if m[2].endswith(mutt.name)][0][0] == 0
    env.offlineimap()
    server = env.server_flags("INBOX")
    assert len(server) == 4
    msgs, _ = env.list("INBOX")
    assert sorted(m[0] for m in msgs) == sorted(server)
    assert not mutt.exists()

    # a message oimap delivers (CRLF in, LF on disk, UID in the name) is
    # recognised by OfflineIMAP: no second download, no upload
    env.append("INBOX", "(\\Flagged)", MSG.format(n=6).encode())
    uid6 = max(env.server_flags("INBOX"))
    name = env.tool("INBOX", "deliver", str(uid6), "F",
                    stdin=MSG.format(n=6).encode()).strip()
    assert name.startswith("new/")
    data = (env.local / "INBOX" / name).read_bytes()
    assert data == MSG.format(n=6).replace("\r\n", "\n").encode()
    env.offlineimap()
    assert len(env.server_flags("INBOX")) == 5
    msgs, _ = env.list("INBOX")
    assert sorted(m[0] for m in msgs) == sorted(env.server_flags("INBOX"))
    assert len(msgs) == 5
