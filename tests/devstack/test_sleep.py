"""Sleep and wake on the laptop (devstack/sleep.py): the front, the waker and the sleeper, with the cloud's moves,
on moto's job table, in front of a stand-in dashboard process that really stops and starts."""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import threading
import urllib.error
import urllib.request

import pytest
from dashboard.activity import ActivityRecord

from components.sleepwake.decision import Action
from components.sleepwake.page import ASLEEP_MESSAGE, WAKING_MESSAGE
from devstack.sleep import LocalSleep, LocalSleepSettings, SleepSettingError, wait_until

pytestmark = pytest.mark.timeout(120)
PAGE_LOAD = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = b"ok" if self.path == "/health" else b"the dashboard itself"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class StandInStack:
    """What devstack/sleep.py needs of DevStack: a dashboard process to stop and start on the back port."""

    def __init__(self, port: int) -> None:
        self.port, self.resting, self.server = port, set(), None
        self.starts = self.stops = 0
        self.start_dashboard()
        self.starts = 0

    def start_dashboard(self) -> None:
        self.starts += 1
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop_dashboard(self) -> None:
        self.stops += 1
        self.resting.add("dashboard")
        self.server.shutdown()
        self.server.server_close()

    def dashboard_pid(self) -> None:
        return None


def get(url: str, headers: dict | None = None, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def local(store_settings, aws_endpoint):
    back, front_port = free_port(), free_port()
    stack = StandInStack(back)
    settings = LocalSleepSettings(sleep_after_seconds=120, look_seconds=3600, back_port=back)  # looks by hand
    front = LocalSleep(stack, "127.0.0.1", front_port, settings, aws_endpoint, "us-east-1", store_settings.table)
    front.start()
    yield front, stack, f"http://127.0.0.1:{front_port}"
    front.stop()
    if stack.server is not None and "dashboard" not in stack.resting:
        stack.stop_dashboard()


def test_an_idle_local_dashboard_stops_and_the_next_page_load_wakes_it(local) -> None:
    front, stack, url = local
    assert get(url + "/") == (200, "the dashboard itself")  # through the front
    ActivityRecord(front.dashboard.record.dynamodb, front.dashboard.record.table).write(
        dt.datetime.now(dt.UTC).timestamp())  # what the dashboard writes after a signed-in request
    now = dt.datetime.now(dt.UTC)
    assert front.look_once(now + dt.timedelta(seconds=60)) is Action.STAY  # active a minute ago
    assert front.look_once(now + dt.timedelta(seconds=150)) is Action.DROWSE  # quiet: the first look
    assert front.look_once(now + dt.timedelta(seconds=215)) is Action.SLEEP  # quiet again: asleep
    assert stack.stops == 1 and front.route.to_waker()

    status, body = get(url + "/jobs", {"Accept": "*/*"})  # a scanner, a script: the asleep page, no wake
    assert status == 200 and ASLEEP_MESSAGE in body
    assert get(url + "/_dash-update-component", {"Sec-Fetch-Mode": "cors", "Content-Type": "application/json"},
               b"{}")[0] == 503  # an open tab's poll
    assert stack.starts == 0

    status, body = get(url + "/jobs", PAGE_LOAD)  # a person's page load
    assert status == 200 and WAKING_MESSAGE in body
    assert stack.starts == 1
    assert wait_until(lambda: get(url + "/jobs", PAGE_LOAD)[1] == "the dashboard itself", 30, 0.5)
    assert not front.route.to_waker() and "dashboard" not in stack.resting  # supervised again


def test_the_one_click_form_wakes_a_browser_without_fetch_metadata(local) -> None:
    front, stack, url = local
    now = dt.datetime.now(dt.UTC)
    front.look_once(now + dt.timedelta(minutes=3))
    assert front.look_once(now + dt.timedelta(minutes=5)) is Action.SLEEP
    request = urllib.request.Request(url + "/jobs", data=b"wake=1", method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # follows the 303 to a GET
        assert answer.url.endswith("/jobs")
    assert stack.starts == 1


@pytest.mark.parametrize(("env", "expected"), [
    ({}, None),
    ({"DEVSTACK_SLEEP_AFTER": "120s"}, LocalSleepSettings(120, 30, 9050)),
    ({"DEVSTACK_SLEEP_AFTER": "2m", "DEVSTACK_SLEEP_LOOK": "10"}, LocalSleepSettings(120, 10, 9050)),
    ({"DEVSTACK_SLEEP_AFTER": "10"}, LocalSleepSettings(10, 5, 9050)),
    ({"DEVSTACK_SLEEP_AFTER": "1h"}, SleepSettingError("DEVSTACK_SLEEP_AFTER='1h' is not a duration")),
    ({"DEVSTACK_SLEEP_AFTER": "0"}, SleepSettingError("DEVSTACK_SLEEP_AFTER='0'")),
])
def test_the_sleep_setting(env: dict, expected) -> None:
    if isinstance(expected, Exception):
        with pytest.raises(SleepSettingError, match=str(expected.args[0]).replace("(", r"\(")):
            LocalSleepSettings.from_env(env, 8050)
    else:
        assert LocalSleepSettings.from_env(env, 8050) == expected
