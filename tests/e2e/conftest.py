"""The local stack (moto, the real predictor behind the Invoke endpoint, the dashboard under
gunicorn, real worker subprocesses) and a headless chromium driving it, once per module."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from devstack.stack import DevStack
from tests.support import stack_settings

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    settings = stack_settings(
        tmp_path_factory.mktemp("stack"), lambda_instances=1, max_workers=1,
        extra_env={"WORKER_IDLE_SECONDS": "20", "WORKER_HEARTBEAT_SECONDS": "0.5", "RECONCILE_SECONDS": "3"},
    )
    local = DevStack(settings)
    local.start()
    yield local
    local.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (make browser)")
    profile = tempfile.mkdtemp(prefix="ml-proto-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 f"--user-data-dir={profile}", "--window-size=1360,1000", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """On a failed browser test, keep what the browser showed (a screenshot and the page's text)."""
    outcome = yield
    report = outcome.get_result()
    driver = item.funcargs.get("browser") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and driver is not None:
        folder = Path(tempfile.gettempdir()) / "ml-proto-e2e-failures"
        folder.mkdir(exist_ok=True)
        driver.save_screenshot(str(folder / f"{item.name}.png"))
        body = driver.find_element("tag name", "body").text[:2000]
        report.sections.append(("browser", f"url: {driver.current_url}\nscreenshot: {folder / item.name}.png\n"
                                           f"page text:\n{body}"))
