"""Debian packages a test needs, installed with apt-get when missing (CI runs on a clean machine, as root). One
install at a time across pytest's worker processes: apt-get refuses to run beside another."""

import os
import shutil
import subprocess

import pytest
from filelock import FileLock

LOCK = "/tmp/commons-pipelines-tests-apt.lock"


def apt_install(packages: list[str], missing: str) -> None:
    """Install `packages`, or fail the test with `missing` (what to install by hand) and apt-get's own words."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(missing)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with FileLock(LOCK):
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *packages]):
            done = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=900)
            if done.returncode:
                pytest.fail(f"`{' '.join(cmd)}` failed:\n{done.stderr[-2000:]}\n{missing}")
