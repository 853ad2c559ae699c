# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for integration tests: the built binary (OIMAP_BIN)."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"Result(rc={self.rc}, out={self.out!r}, err={self.err!r})"


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
        e = dict(os.environ)
        e["HOME"] = str(home)
        e.pop("XDG_CONFIG_HOME", None)
        if env:
            e.update(env)
        proc = subprocess.run([oimap_bin, *args], env=e, stdin=stdin,
                              capture_output=True, text=True, timeout=timeout)
        return Result(proc)

    run.home = home
    return run
