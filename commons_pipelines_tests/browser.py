"""Headless Chromium from Debian's packages, driven by Selenium through Debian's chromedriver (never a download of
a browser or a driver of Selenium's own)."""

from pathlib import Path

from .apt import apt_install

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PACKAGES = ["chromium", "chromium-driver"]


def ensure_chromium() -> None:
    """Install Debian's chromium and chromium-driver when they are missing (as root), or fail saying what to install."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    apt_install(PACKAGES, f"the UI test needs {CHROMIUM} and {CHROMEDRIVER}: run `sudo apt-get update && "
                          f"sudo apt-get install -y --no-install-recommends {' '.join(PACKAGES)}` (Debian packages)")


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
