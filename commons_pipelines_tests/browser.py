"""Headless Chromium from Debian's packages, driven by Selenium through Debian's chromedriver (never a download of
a browser or a driver of Selenium's own)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PACKAGES = ["chromium", "chromium-driver"]


def ensure_chromium() -> None:
    """Install Debian's chromium and chromium-driver when they are missing (as root), or fail saying what to install."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(f"the UI test needs {CHROMIUM} and {CHROMEDRIVER}: run `sudo apt-get update && "
                    f"sudo apt-get install -y --no-install-recommends {' '.join(PACKAGES)}` (Debian packages)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` failed:\n{done.stderr[-2000:]}")


def chromium(width: int = 1600, height: int = 1000):
    """A headless Chromium under Selenium; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    ensure_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--no-first-run", "--lang=en-US"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
