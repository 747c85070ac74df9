"""The jobs page polls while its tab is visible and not while it is hidden (dashboard/hidden_tab.py), in chromium."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import flask
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from werkzeug.serving import make_server

from tests.dashboard.conftest import LOGINS
from tests.e2e.conftest import CHROMEDRIVER, CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

SET_VISIBILITY = """
Object.defineProperty(document, "visibilityState", {configurable: true, get: () => arguments[0]});
Object.defineProperty(document, "hidden", {configurable: true, get: () => arguments[0] === "hidden"});
document.dispatchEvent(new Event("visibilitychange"));
"""


def polls_in(counter: list[float], seconds: float) -> int:
    start = time.time()
    time.sleep(seconds)
    return sum(1 for at in counter if at >= start)


def test_a_hidden_tab_stops_polling_and_a_visible_one_resumes(app) -> None:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (make browser)")
    polls: list[float] = []

    @app.server.before_request
    def count_polls() -> None:
        body = flask.request.get_json(silent=True) if flask.request.path == "/_dash-update-component" else None
        # batch-refresh ticks every 2 s; jobs-refresh slows to 20 s with no active job.
        if isinstance(body, dict) and "batch-refresh.n_intervals" in (body.get("changedPropIds") or []):
            polls.append(time.time())

    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    profile = tempfile.mkdtemp(prefix="ml-proto-hidden-tab-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(f"{url}/login?next=/jobs")
        driver.find_element(By.ID, "user").send_keys("alice")
        driver.find_element(By.ID, "password").send_keys(LOGINS["alice"])
        driver.find_element(By.ID, "login-button").click()
        deadline = time.time() + 60
        while not polls and time.time() < deadline:
            time.sleep(0.5)
        assert polls, "the visible jobs page never polled"
        assert polls_in(polls, 6) >= 2  # every 2 s while visible
        driver.execute_script(SET_VISIBILITY, "hidden")
        time.sleep(1)  # a poll already on its way may still land
        assert polls_in(polls, 7) == 0
        driver.execute_script(SET_VISIBILITY, "visible")
        assert polls_in(polls, 6) >= 2
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
