"""The Dagster UI as a person sees it: `dagster dev` over an instance where the nightly job has run, read in headless
Chromium. Screenshots of every page are kept in COMMONS_TEST_ARTIFACTS (default .commons/test-artifacts/ui)."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from selenium.common.exceptions import (ElementClickInterceptedException, ElementNotInteractableException,
                                        NoSuchElementException, StaleElementReferenceException, WebDriverException)

from .browser import chromium
from .conftest import ROOT
from .test_cli import notices_catalog

pytestmark = pytest.mark.slow  # `dagster dev` (webserver, daemon, code server) and a headless browser

ARTIFACTS = Path(os.environ.get("COMMONS_TEST_ARTIFACTS") or ROOT / ".commons" / "test-artifacts" / "ui")
WAIT = 60  # seconds for a page to show what is asked of it
# what a React page re-rendering or a pop-up opening and closing raise now and then: retried until WAIT runs out
FLEETING = [NoSuchElementException, StaleElementReferenceException, ElementClickInterceptedException,
            ElementNotInteractableException]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """The base URL of `dagster dev` on an instance where the nightly job has run once."""
    tmp = tmp_path_factory.mktemp("ui")
    dagster_home = tmp / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n")
    env = {**os.environ, "COMMONS_HOME": str(tmp / "home"), "DAGSTER_HOME": str(dagster_home),
           "COMMONS_CATALOG": str(notices_catalog(tmp))}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with open(ARTIFACTS / "dagster-dev.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml",
                                   "-h", "127.0.0.1", "-p", str(port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        # while the server starts: the run it will show
        run = subprocess.run([sys.executable, "-m", "commons_pipelines.cli", "run"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0 and "school_notices: published v1 (19 rows)" in run.stdout, run.stderr[-3000:]
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"dagster dev exited: see {ARTIFACTS / 'dagster-dev.log'}"
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "dagster dev did not answer /server_info within 120 s"
            time.sleep(0.5)
        yield url
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    """End dagster dev and everything it started (webserver, daemon, code server): its whole process group."""
    for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; its children may still be shutting down
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(server.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def dismiss_dialogs(driver) -> None:
    """Close Dagster's first-load pop-ups (the community sign-up, a "what's new"): their own button, else Escape."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    for dialog in driver.find_elements(By.CSS_SELECTOR, '[role="dialog"]'):
        if not dialog.is_displayed():
            continue
        closers = [b for b in dialog.find_elements(By.CSS_SELECTOR, "button")
                   if b.text.strip().lower() in {"skip", "close", "dismiss", "got it", "not now", "no thanks"}
                   or (b.get_attribute("aria-label") or "").lower() == "close"]
        if closers:
            closers[0].click()
        else:
            ActionChains(driver).send_keys(Keys.ESCAPE).perform()


def click(driver, css: str) -> None:
    """Click an element once no pop-up covers it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def clicked(d):
        dismiss_dialogs(d)
        d.find_element(By.CSS_SELECTOR, css).click()
        return True

    WebDriverWait(driver, WAIT, ignored_exceptions=FLEETING).until(clicked)


def body_text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def wait_for(driver, *patterns: str) -> str:
    """Wait until the page shows every regex (closing pop-ups meanwhile); return the page's text."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(d):
        dismiss_dialogs(d)
        text = body_text(d)
        return text if all(re.search(p, text, re.M) for p in patterns) else False

    try:
        return WebDriverWait(driver, WAIT, ignored_exceptions=FLEETING).until(shown)
    except TimeoutException:
        text = body_text(driver)
        missing = [p for p in patterns if not re.search(p, text, re.M)]
        raise AssertionError(f"{driver.current_url} never showed {missing}; it shows:\n{text[:3000]}") from None


@contextmanager
def page(driver, url: str, name: str):
    """Open a page; keep its screenshot, and its HTML when an assertion about it fails."""
    (ARTIFACTS / f"{name}.html").unlink(missing_ok=True)
    driver.get(url)
    try:
        yield
    except BaseException:
        (ARTIFACTS / f"{name}.html").write_text(driver.page_source, encoding="utf-8")
        print(f"page HTML: {ARTIFACTS / f'{name}.html'}")
        raise
    finally:
        with suppress(WebDriverException):
            dismiss_dialogs(driver)
        driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
        print(f"screenshot: {ARTIFACTS / f'{name}.png'}")


def test_catalog_and_lineage_show_the_three_materialised_layers(ui, browser):
    with page(browser, f"{ui}/assets", "catalog"):
        # a row: the asset's key, its description, code location, group, then its status
        wait_for(browser, *(rf"^school_notices / {layer}\n(.*\n){{1,4}}Materialized$"
                            for layer in ("raw", "curated", "published")))
    with page(browser, f"{ui}/asset-groups/school_notices", "lineage"):
        # a node of the graph: raw with its listing check, curated with its two suites, published with none
        wait_for(browser, *(rf"^Asset checks\n{checks}\n(.*\n){{1,3}}Materialized$"
                            for checks in ("1 / 1 Passed", "2 / 2 Passed", "–")))
        # each node is labelled with its stage (the key's last part), not three times with the source id
        wait_for(browser, *(rf"^{layer}\nLatest event" for layer in ("raw", "curated", "published")))


def test_published_asset_shows_its_materialisation_metadata(ui, browser):
    with page(browser, f"{ui}/assets/school_notices/published", "published"):
        wait_for(browser, r"^Row count\n19$", r"^version\n.*\nv1$", r"^changed\n.*\ntrue$",
                 r"^exact_dedup 20 19 1 exact_duplicate: 1$")


def test_curated_checks_tab_shows_both_suites_passed(ui, browser):
    def passed(suite):
        return rf"^Great Expectations, {suite} suite: .*\nLatest execution\nEvaluation result\nPassed$"

    with page(browser, f"{ui}/assets/school_notices/curated?view=checks", "curated-checks"):
        wait_for(browser, r"^Checks \(2\)$", r"^declared_suite\nSucceeded$", r"^generic_suite\nSucceeded$",
                 passed("declared"))
        click(browser, '[title="generic_suite"]')
        wait_for(browser, passed("generic"))
