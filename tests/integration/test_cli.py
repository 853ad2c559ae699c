# SPDX-License-Identifier: GPL-2.0-or-later
"""Command-line handling: usage errors exit 2 with a usage line."""
import pytest


def test_help_lists_every_offlineimap_flag(run_oimap):
    r = run_oimap("--help")
    assert r.rc == 0
    for flag in ["-1", "-P DIR", "-a ACCOUNT", "-c FILE", "-d TYPE", "-f FOLDER",
                 "-k [SECTION:]OPTION=VALUE", "-l FILE", "-o", "-q", "-u UI",
                 "--dry-run", "--info", "-V", "--version", "-h, --help"]:
        assert flag in r.out, flag


def test_version(run_oimap):
    r = run_oimap("--version")
    assert r.rc == 0
    assert r.out.strip().count(".") == 2


@pytest.mark.parametrize("args,what", [
    (["-x"], "no such option: -x"),
    (["--bogus"], "no such option: --bogus"),
    (["-c"], "-c option requires an argument"),
    (["-k"], "-k option requires an argument"),
    (["-a"], "-a option requires an argument"),
    (["extra"], "unexpected argument 'extra'"),
])
def test_usage_errors_exit_2(run_oimap, args, what):
    r = run_oimap(*args)
    assert r.rc == 2
    assert r.err.startswith("usage: oimap")
    assert what in r.err


def test_missing_config_file(run_oimap, tmp_path):
    r = run_oimap("-c", str(tmp_path / "nope"))
    assert r.rc == 1
    assert "nope" in r.err and "does not exist" in r.err


# ---- each flag's effect, observed through --info or the exit status ----

import textwrap

TWO = textwrap.dedent("""
    [DEFAULT]
    autorefresh = 3

    [general]
    accounts = One, Two

    [Account One]
    localrepository = L1
    remoterepository = R1
    autorefresh = 5

    [Account Two]
    localrepository = L2
    remoterepository = R2

    [Account Spare]
    localrepository = L1
    remoterepository = R1

    [Repository L1]
    type = Maildir
    localfolders = ~/Mail/one

    [Repository R1]
    type = IMAP
    remotehost = one.example
    remotepass = OnePassw0rd
    folderfilter = lambda f: True

    [Repository L2]
    type = Maildir
    localfolders = ~/Mail/two

    [Repository R2]
    type = Gmail
    remoteuser = two@gmail.com
""").lstrip()


@pytest.fixture
def cfg(run_oimap):
    path = run_oimap.home / "two.rc"
    path.write_text(TWO)
    return str(path)


def info(run_oimap, cfg, *args, **kw):
    r = run_oimap("-c", cfg, "--info", *args, **kw)
    assert r.rc == 0, r
    return r


def test_info_connects_nowhere_and_lists_accounts(run_oimap, cfg):
    r = info(run_oimap, cfg)
    assert "nothing contacted" in r.out
    assert "Accounts to sync (2): One, Two" in r.out
    assert "OnePassw0rd" not in r.out + r.err


def test_a_selects_accounts(run_oimap, cfg):
    r = info(run_oimap, cfg, "-a", "Two")
    assert "Accounts to sync (1): Two" in r.out
    assert "Account One [" not in r.out
    assert "accounts: Two" in r.out
    # an account not in [general] accounts can be chosen, as in OfflineIMAP
    r = info(run_oimap, cfg, "-a", "Spare,One")
    assert "Accounts to sync (2): Spare, One" in r.out


def test_a_unknown_account(run_oimap, cfg):
    r = run_oimap("-c", cfg, "--info", "-a", "One,Nope")
    assert r.rc == 1
    assert "account 'Nope' given with -a does not exist" in r.err
    assert "known accounts: One, Two, Spare" in r.err


def test_f_sets_folder_list(run_oimap, cfg):
    r = info(run_oimap, cfg, "-f", "INBOX,Sent Items")
    want = "folderfilter = lambda f: f in ['INBOX', 'Sent Items']  (from -f)"
    assert r.out.count(want) == 2  # both remote repositories
    assert "folderincludes = []  (from -f)" in r.out
    assert "folders: INBOX,Sent Items (-f" in r.out
    # the local side is untouched
    local = r.out.split("Local repository L1")[1].split("Remote repository")[0]
    assert "folderfilter" not in local


def test_q_quick(run_oimap, cfg):
    r = info(run_oimap, cfg, "-q")
    assert r.out.count("quick = -1  (from -q)") == 2
    assert "quick: yes" in r.out
    r = info(run_oimap, cfg)
    assert "quick = 0  (default)" in r.out


def test_o_removes_autorefresh(run_oimap, cfg):
    r = info(run_oimap, cfg)
    assert "autorefresh = 5" in r.out
    assert "autorefresh = 3  (from [DEFAULT])" in r.out
    r = info(run_oimap, cfg, "-o")
    assert "autorefresh = 5" not in r.out
    assert "autorefresh = 3" not in r.out
    assert "autorefresh = (not set)" in r.out
    assert "run once: yes" in r.out


def test_1_single_thread(run_oimap, cfg):
    assert "single thread: no" in info(run_oimap, cfg).out
    assert "single thread: yes (-1)" in info(run_oimap, cfg, "-1").out


@pytest.mark.parametrize("types,single", [
    ("imap", True), ("imap,maildir", True), ("thread", False),
    ("imap,thread", False), ("all", False),
])
def test_d_forces_single_thread_unless_thread(run_oimap, cfg, types, single):
    r = info(run_oimap, cfg, "-d", types)
    if single:
        assert "single thread: yes (forced by -d without 'thread')" in r.out
    else:
        assert "single thread: no" in r.out
    assert f"debug: {types} (-d)" in r.out


def test_d_unknown_type_warns(run_oimap, cfg):
    r = info(run_oimap, cfg, "-d", "imap,bogus")
    assert "unknown debug type 'bogus'" in r.err


def test_l_logs_to_file_too(run_oimap, cfg, tmp_path):
    path = run_oimap.home / "typo.rc"
    path.write_text(TWO + "\n[Repository R2]\nremotehots = x\n")
    log = tmp_path / "oimap.log"
    r = run_oimap("-c", str(path), "--info", "-l", str(log))
    assert r.rc == 0, r
    assert "remotehots" in r.err
    assert "remotehots" in log.read_text()
    assert f"log file: {log} (-l)" in r.out


def test_l_unwritable(run_oimap, cfg):
    r = run_oimap("-c", cfg, "--info", "-l", "/nonexistent/dir/log")
    assert r.rc == 1
    assert "/nonexistent/dir/log" in r.err


def test_k_overrides(run_oimap, cfg):
    r = info(run_oimap, cfg, "-k", "Repository_R1:remotehost=other.example",
             "-k", "maxsyncaccounts=2")
    assert "remotehost = other.example  (from -k Repository R1:remotehost)" in r.out
    assert "maxsyncaccounts = 2  (from -k general:maxsyncaccounts)" in r.out
    assert "override: -k Repository_R1:remotehost" in r.out
    # the last -k wins
    r = info(run_oimap, cfg, "-k", "Repository_R1:remotehost=a",
             "-k", "Repository_R1:remotehost=b")
    assert "remotehost = b  (from -k" in r.out


@pytest.mark.parametrize("spec,what", [
    ("maxsyncaccounts", "expected [section:]option=value"),
    ("Nope:x=1", "no section [Nope]"),
    ("Repository_R1:maxconnections=lots", "'lots' is not an integer"),
    ("Repository_R1:ssl=sometimes", "command line (-k Repository R1:ssl)"),
])
def test_k_errors(run_oimap, cfg, spec, what):
    r = run_oimap("-c", cfg, "--info", "-k", spec)
    assert r.rc == 1
    assert what in r.err


def test_k_password_not_echoed(run_oimap, cfg):
    r = info(run_oimap, cfg, "-k", "Repository_R2:remotepass=KPassw0rd")
    assert "KPassw0rd" not in r.out + r.err
    assert "remotepass = <redacted>  (from -k Repository R2:remotepass)" in r.out


def test_u_ui(run_oimap, cfg):
    assert "ui: ttyui (default)" in info(run_oimap, cfg).out
    assert "ui: basic (-u)" in info(run_oimap, cfg, "-u", "Basic").out
    r = info(run_oimap, cfg, "-u", "Curses.Blinkenlights")
    assert "ui: blinkenlights (-u)" in r.out
    assert "old interface name" in r.err
    r = info(run_oimap, cfg, "-k", "ui=machineui")
    assert "ui: machineui ([general] ui)" in r.out


def test_u_unknown(run_oimap, cfg):
    r = run_oimap("-c", cfg, "--info", "-u", "fancy")
    assert r.rc == 1
    assert "UI 'fancy' does not exist" in r.err


def test_dry_run(run_oimap, cfg):
    r = info(run_oimap, cfg, "--dry-run")
    assert "dry-run = True  (from --dry-run)" in r.out
    assert "dry run: yes" in r.out
    assert "dry-run = False  (default)" in info(run_oimap, cfg).out


def test_P_profile_dir(run_oimap, cfg, tmp_path):
    d = tmp_path / "prof"
    r = info(run_oimap, cfg, "-P", str(d))
    assert d.is_dir()
    assert "single thread: yes (forced by -P)" in r.out
    assert f"profile directory: {d} (-P)" in r.out
    r = info(run_oimap, cfg, "-P", str(d))
    assert "already exists" in r.err
    r = run_oimap("-c", cfg, "--info", "-P", "/nonexistent/x/y")
    assert r.rc == 1


def test_s_syslog(run_oimap, cfg):
    assert "syslog: yes (-s)" in info(run_oimap, cfg, "-s").out


def test_V_full_version(run_oimap):
    r = run_oimap("-V")
    assert r.rc == 0
    assert r.out.startswith("oimap v")
    assert "OpenSSL" in r.out and "SQLite" in r.out


def test_h_help(run_oimap):
    r = run_oimap("-h")
    assert r.rc == 0
    assert r.out.startswith("usage: oimap")


def test_sync_without_info_refuses_plainly(run_oimap, cfg):
    # Until the sync engine lands: a clear message, exit 1, nothing done.
    r = run_oimap("-c", cfg, "-o")
    assert r.rc == 1
    assert r.err


def test_empty_a_and_f_are_ignored(run_oimap, cfg):
    # optparse's "" is false: OfflineIMAP ignores them
    r = info(run_oimap, cfg, "-a", "", "-f", "")
    assert "Accounts to sync (2): One, Two" in r.out
    assert "(from -f)" not in r.out


def test_P_not_created_for_a_broken_config(run_oimap, tmp_path):
    bad = tmp_path / "bad.rc"
    bad.write_text("[general]\naccounts = Nope\n")
    d = tmp_path / "prof"
    r = run_oimap("-c", str(bad), "--info", "-P", str(d))
    assert r.rc == 1
    assert not d.exists()


def test_d_config_debug_names_the_file(run_oimap, cfg):
    r = info(run_oimap, cfg, "-d", "config")
    assert cfg in r.err and "sections" in r.err
