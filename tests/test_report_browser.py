"""The report page opened in a real browser: headless Chromium through chromedriver.

No console error, every image loaded, every section heading present; a full-page
screenshot is kept (in the test's tmp folder, and in ``$BAYES_QCT_ARTIFACTS`` when set).
CI installs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run``); elsewhere the test
is skipped when they are missing.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

from bayes_qct.reporting.render import SECTION_TITLES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
)

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()),
    reason="headless Chromium is not installed (apt-get install chromium chromium-driver; "
    ".ci/run installs them)",
)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _keep(png: bytes, tmp_path: Path) -> Path:
    path = tmp_path / "report-offending.png"
    path.write_bytes(png)
    artifacts = os.environ.get("BAYES_QCT_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(artifacts) / path.name)
    return path


def test_the_report_opens_cleanly_in_chromium(browser, report_files, tmp_path):
    report, written = report_files
    browser.get(written.html.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"
    )
    assert len(images) == len(report.figures())
    assert all(done and width > 0 for done, width, _ in images), images
    headings = browser.execute_script(
        "return Array.from(document.querySelectorAll('h2')).map(h => h.textContent)"
    )
    assert headings == [f"{i}. {title}" for i, title in enumerate(SECTION_TITLES, start=1)]
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path = _keep(base64.b64decode(shot["data"]), tmp_path)
    assert path.stat().st_size > 10_000
