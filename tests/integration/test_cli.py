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
