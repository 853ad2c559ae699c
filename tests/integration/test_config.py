# SPDX-License-Identifier: GPL-2.0-or-later
"""The config reader through the real binary: real-world configs printed
with --info (no server contacted), every error naming file and line, and
no password ever printed.  Values are compared with Python's own
configparser, which is what OfflineIMAP reads configs with."""
import configparser
import os
import re
import textwrap

import pytest

SAMPLES = "/usr/share/doc/offlineimap3/examples"


@pytest.fixture
def rc(tmp_path):
    """Write a config file; returns its path."""
    def write(text, name="offlineimaprc"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return str(path)
    return write


def python_value(path, section, option):
    cp = configparser.ConfigParser(strict=False)
    cp.read(path)
    return cp.get(section, option)


def info_value(out, option, indent):
    """The value printed for 'option' at 'indent', continuation lines
    joined back with \\n (they are printed aligned under the value)."""
    lines = out.split("\n")
    prefix = " " * indent + option + " = "
    for i, line in enumerate(lines):
        if line.startswith(prefix):
            val = [line[len(prefix):]]
            for cont in lines[i + 1:]:
                if cont.startswith(" " * len(prefix)) or cont == " " * len(prefix):
                    val.append(cont[len(prefix):])
                else:
                    break
            v = "\n".join(val)
            return re.sub(r"  \([^()]*(\([^()]*\))?[^()]*\)$", "", v)
    raise AssertionError(f"{option} not printed at indent {indent}:\n{out}")


GMAIL = """
    [general]
    accounts = Gmail
    pythonfile = ~/.offlineimap.py

    [Account Gmail]
    localrepository = Gmail-Local
    remoterepository = Gmail-Remote
    synclabels = yes
    autorefresh = 0.5

    [Repository Gmail-Local]
    type = GmailMaildir
    localfolders = ~/Mail/gmail

    [Repository Gmail-Remote]
    type = Gmail
    remoteuser = someone@gmail.com
    remotepasseval = get_pass("gmail")
    oauth2_client_secret = ClientSecretXyz123
    sslcacertfile = /etc/ssl/certs/ca-certificates.crt
    folderfilter = lambda f: f not in ['[Gmail]/All Mail',
                                       '[Gmail]/Spam',
                                       '[Gmail]/Trash']
    nametrans = lambda f: f.replace('[Gmail]/', '')
"""


def test_gmail_account(run_oimap, rc):
    path = rc(GMAIL)
    r = run_oimap("-c", path, "--info")
    assert r.rc == 0, r
    assert "Accounts to sync (1): Gmail" in r.out
    assert "Local repository Gmail-Local: type GmailMaildir" in r.out
    assert "Remote repository Gmail-Remote: type Gmail" in r.out
    # Gmail's own defaults
    assert "remotehost = imap.gmail.com  (default)" in r.out
    assert "remoteport = 993  (default)" in r.out
    assert "trashfolder = [Gmail]/Trash  (default)" in r.out
    ff = info_value(r.out, "folderfilter", 4)
    assert ff == python_value(path, "Repository Gmail-Remote", "folderfilter")
    assert "remotepasseval = <redacted>" in r.out
    assert "oauth2_client_secret = <redacted>" in r.out
    assert "ClientSecretXyz123" not in r.out + r.err
    assert 'get_pass("gmail")' not in r.out
    assert r.err == ""


SEVERAL = """
    [general]
    accounts = Work, Home ,Old
    maxsyncaccounts = 3
    metadata = ~/.cache/oimap

    [Account Work]
    localrepository = WorkLocal
    remoterepository = WorkRemote

    [Account Home]
    localrepository = HomeLocal
    remoterepository = HomeRemote
    presynchook = notmuch new --quiet

    [Account Old]
    localrepository = OldLocal
    remoterepository = OldRemote
    maxage = 30

    [Repository WorkLocal]
    type = Maildir
    localfolders = ~/Mail/work
    sep = /

    [Repository WorkRemote]
    type = IMAP
    remotehost = imap.work.example
    remoteport = 1993
    remoteuser = me
    maxconnections = 3

    [Repository HomeLocal]
    type = Maildir
    localfolders = ~/Mail/home

    [Repository HomeRemote]
    type = IMAP
    remotehost = mail.home.example
    ssl = no
    starttls = yes

    [Repository OldLocal]
    type = Maildir
    localfolders = ~/Mail/old

    [Repository OldRemote]
    type = IMAP
    remotehost = old.example
    readonly = True
"""


def test_several_accounts(run_oimap, rc):
    r = run_oimap("-c", rc(SEVERAL), "--info")
    assert r.rc == 0, r
    assert "Accounts to sync (3): Work, Home, Old" in r.out
    for acct in ("Work", "Home", "Old"):
        assert f"Account {acct} [Account {acct}]" in r.out
    assert "remoteport = 1993" in r.out
    assert "maxconnections = 3" in r.out
    assert "sep = /" in r.out
    assert "presynchook = notmuch new --quiet" in r.out
    home = run_oimap.home
    assert f"expands to {home}/Mail/work" in r.out


LAMBDAS = """
    [general]
    accounts = A

    [Account A]
    localrepository = L
    remoterepository = R

    [Repository L]
    type = Maildir
    localfolders = ~/Mail
    nametrans = lambda folder: {'drafts':  'Drafts',
                                'sent':    'Sent',
                                # comments inside are skipped

                                'archive': 'Archive',
                               }.get(folder, folder)

    [Repository R]
    type = IMAP
    remotehost = imap.example.org
    folderfilter = lambda folder: folder not in [
        'Trash',
        'Junk',
        ] and not folder.startswith('Archive/19')
    nametrans = lambda folder: {'Drafts':  'drafts',
                                'Sent':    'sent',
                                'Archive': 'archive',
                               }.get(folder, folder)
    foldersort = lambda x, y: -cmp(x, y)
    # a trailing comment line
"""


def test_multiline_lambdas(run_oimap, rc):
    path = rc(LAMBDAS)
    r = run_oimap("-c", path, "--info")
    assert r.rc == 0, r
    for section, option, indent in [("Repository L", "nametrans", 4),
                                    ("Repository R", "folderfilter", 4)]:
        want = python_value(path, section, option)
        block = r.out.split(f"[{section}]")[1]
        assert info_value(block, option, indent) == want
    assert "comments inside" not in r.out
    assert r.err == ""


INTERP = """
    [DEFAULT]
    mailroot = ~/Maildirs
    domain = example.org
    gmailtrash = [Gmail]/Papierkorb
    secret = S3cretFromDefault

    [general]
    accounts = A

    [Account A]
    localrepository = L
    remoterepository = R

    [Repository L]
    type = Maildir
    localfolders = %(mailroot)s/a

    [Repository R]
    type = Gmail
    user = alice
    remoteuser = %(user)s@%(domain)s
    remotepass = %(secret)s
    trashfolder = %(gmailtrash)s
    spamfolder = 100%% spam
"""


def test_interpolation_and_default(run_oimap, rc):
    path = rc(INTERP)
    r = run_oimap("-c", path, "--info")
    assert r.rc == 0, r
    assert "localfolders = ~/Maildirs/a" in r.out
    assert "remoteuser = alice@example.org" in r.out
    assert "trashfolder = [Gmail]/Papierkorb" in r.out
    assert "spamfolder = 100% spam" in r.out
    for opt in ("remoteuser", "trashfolder", "spamfolder"):
        v = python_value(path, "Repository R", opt)
        assert f"{opt} = {v}" in r.out
    # the [DEFAULT] section is shown, its secret redacted
    assert "[DEFAULT]" in r.out
    assert "secret = <redacted>" in r.out
    assert "S3cretFromDefault" not in r.out + r.err
    # a variable used by %(user)s is not reported as an unknown option
    assert "unknown option" not in r.err


@pytest.mark.parametrize("sample", ["offlineimap.conf",
                                    "offlineimap.conf.minimal"])
def test_offlineimap_samples(run_oimap, sample):
    path = os.path.join(SAMPLES, sample)
    if not os.path.exists(path):
        pytest.skip("offlineimap3 samples not installed")
    r = run_oimap("-c", path, "--info")
    assert r.rc == 0, r
    assert "Accounts to sync (1): Test" in r.out


def test_no_password_anywhere(run_oimap, rc, tmp_path):
    path = rc("""
        [DEFAULT]
        pwbase = Base0fPw
        [general]
        accounts = A
        [Account A]
        localrepository = L
        remoterepository = R
        [Repository L]
        type = Maildir
        localfolders = /tmp/x
        [Repository R]
        type = IMAP
        remotehost = h
        remotepass = %(pwbase)sTail9
        oauth2_access_token = AccessTok77
        oauth2_refresh_token_eval = "RefreshTok55"
        remotepasseval = "EvalPw44"
    """)
    log = tmp_path / "log"
    r = run_oimap("-c", path, "--info", "-l", str(log), "-d", "all",
                  "-k", "Repository_R:oauth2_client_secret=CliSecret66")
    assert r.rc == 0, r
    text = r.out + r.err + log.read_text()
    for secret in ("Base0fPw", "Tail9", "AccessTok77", "RefreshTok55",
                   "EvalPw44", "CliSecret66"):
        assert secret not in text, secret
    assert text.count("<redacted>") >= 5


@pytest.mark.parametrize("body,where,what", [
    ("accounts = A\n", "1", "text before the first [section]"),
    ("[general]\naccounts = A\njunk line\n", "3", "not a [section] header"),
    ("[general]\n[unterminated\n", "2", "unterminated section header"),
    ("[general]\naccounts = A\n", "2",
     "account 'A' listed in [general] accounts has no [Account A]"),
    ("[general]\n", "1", "[general] has no 'accounts'"),
    ("[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
     "remoterepository = R\n", "4", "no [Repository L] section"),
    ("[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
     "remoterepository = R\n[Repository L]\ntype = Maildir\n"
     "localfolders = /x\n[Repository R]\ntype = imap\nremotehost = h\n",
     "10", "'imap' is not one of IMAP, Maildir, Gmail, GmailMaildir"),
    ("[general]\naccounts = A\nmaxsyncaccounts = many\n", "3",
     "option 'maxsyncaccounts' in [general]: 'many' is not an integer"),
    ("[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
     "remoterepository = R\n[Repository L]\ntype = Maildir\n"
     "localfolders = /x\n[Repository R]\ntype = IMAP\nremotehost = h\n"
     "maxconnections = many\n", "12", "'many' is not an integer"),
    ("[general]\naccounts = A\n[Account A]\nautorefresh = 5%\n", "4",
     "'%' must be followed by '%' or '('"),
    ("[general]\naccounts = A\n[Account A]\nautorefresh = %(nope)s\n", "4",
     "there is no option 'nope'"),
    ("[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
     "remoterepository = R\n[Repository L]\ntype = Maildir\n"
     "localfolders = /x\n[Repository R]\ntype = IMAP\nremotehost = h\n"
     "ssl = perhaps\n", "12", "'perhaps' is not a boolean"),
])
def test_errors_name_file_and_line(run_oimap, rc, body, where, what):
    path = rc(body)
    r = run_oimap("-c", path, "--info")
    assert r.rc == 1, r
    assert f"{path}:{where}:" in r.err, r.err
    assert what in r.err, r.err
    assert r.out == ""


def test_unreadable_file(run_oimap, rc):
    path = rc("[general]\naccounts = A\n")
    os.chmod(path, 0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: cannot make a file unreadable")
        r = run_oimap("-c", path, "--info")
        assert r.rc == 1
        assert path in r.err
    finally:
        os.chmod(path, 0o600)


def test_warnings_name_file_and_line(run_oimap, rc):
    path = rc("""
        [general]
        accounts = A
        [Account A]
        localrepository = L
        remoterepository = R
        status_backend = plain
        [Repository L]
        type = Maildir
        localfolders = /x
        [Repository R]
        type = IMAP
        remotehost = h
        remotehots = typo
        ssl = yes
        ssl = no
        [Repository L]
        sep = /
    """)
    r = run_oimap("-c", path, "--info")
    assert r.rc == 0, r
    assert f"{path}:6: option 'status_backend' in [Account A] is retired" in r.err
    assert (f"{path}:13: unknown option 'remotehots' in [Repository R] "
            "(an IMAP repository); did you mean 'remotehost'?") in r.err
    assert f"{path}:15: option 'ssl' given twice in [Repository R]" in r.err
    assert f"{path}:16: section [Repository L] given twice" in r.err
    # last one wins, sections merged
    assert "ssl = no" in r.out
    assert "sep = /" in r.out


def test_default_file_locations(run_oimap):
    home = run_oimap.home
    body = ("[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
            "remoterepository = R\n[Repository L]\ntype = Maildir\n"
            "localfolders = /x\n[Repository R]\ntype = IMAP\n"
            "remotehost = from-{}\n")
    # nothing: the error names ~/.offlineimaprc
    r = run_oimap("--info")
    assert r.rc == 1
    assert f"{home}/.offlineimaprc" in r.err
    (home / ".offlineimaprc").write_text(body.format("rc"))
    r = run_oimap("--info")
    assert r.rc == 0, r
    assert "remotehost = from-rc" in r.out
    # XDG wins over ~/.offlineimaprc when it exists (init.py's order)
    xdg = home / ".config" / "offlineimap"
    xdg.mkdir(parents=True)
    (xdg / "config").write_text(body.format("xdg-default"))
    r = run_oimap("--info")
    assert "remotehost = from-xdg-default" in r.out
    other = home / "xdg"
    (other / "offlineimap").mkdir(parents=True)
    (other / "offlineimap" / "config").write_text(body.format("xdg-env"))
    r = run_oimap("--info", env={"XDG_CONFIG_HOME": str(other)})
    assert "remotehost = from-xdg-env" in r.out
    # -c with ~
    (home / "alt.rc").write_text(body.format("tilde"))
    r = run_oimap("-c", "~/alt.rc", "--info")
    assert r.rc == 0, r
    assert "remotehost = from-tilde" in r.out
