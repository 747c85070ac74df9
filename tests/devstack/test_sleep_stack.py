"""Sleep and wake of the real local stack: gunicorn really stops after two quiet looks and a page load starts it,
with the dashboard's own activity record, the cloud's moves, and the supervisor leaving the sleeping part alone."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import requests

from bench.dash_calls import login_form
from components.sleepwake.page import WAKING_MESSAGE
from devstack import sleep
from devstack.stack import DevStack
from tests.support import free_port, stack_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
PAGE_LOAD = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}


@pytest.fixture
def sleeping_stack(tmp_path) -> Iterator[tuple[DevStack, sleep.LocalSleep, str]]:
    front = stack_settings(tmp_path, lambda_instances=1, max_workers=1)
    resting = sleep.LocalSleepSettings(sleep_after_seconds=20, look_seconds=3, back_port=free_port())
    stack = DevStack(dataclasses.replace(front, dashboard_port=resting.back_port))
    stack.start()
    local = sleep.attach(stack, front, resting)
    yield stack, local, front.dashboard_url
    local.stop()
    stack.stop()


def test_make_dev_with_a_short_sleep_stops_an_idle_dashboard_and_a_page_load_wakes_it(sleeping_stack) -> None:
    stack, local, url = sleeping_stack
    browser = requests.Session()
    page = browser.get(f"{url}/login", headers=PAGE_LOAD, timeout=30).text
    user, password = stack.login
    assert browser.post(f"{url}/login", data=login_form(page, user, password), allow_redirects=False,
                        timeout=30).status_code == 302
    assert "_dash-config" in browser.get(f"{url}/jobs", headers=PAGE_LOAD, timeout=30).text  # through the front
    assert sleep.wait_until(local.route.to_waker, 180, 1), "the idle dashboard never slept"
    assert sleep.wait_until(lambda: stack.dashboard_pid() is None, 30)  # gunicorn really stopped
    assert stack.dead_parts() == []  # asleep is not dead: the supervisor does not restart it
    poll = browser.post(f"{url}/_dash-update-component", json={"changedPropIds": ["jobs-refresh.n_intervals"]},
                        headers={"Sec-Fetch-Mode": "cors"}, timeout=30)
    assert poll.status_code == 503 and stack.dashboard_pid() is None  # an open tab's poll wakes nothing
    waking = browser.get(f"{url}/jobs", headers=PAGE_LOAD, timeout=30)
    assert waking.status_code == 200 and WAKING_MESSAGE in waking.text

    def woken() -> bool:  # a look may hold the lock at that moment: the waking page refreshes and asks again
        return (stack.dashboard_pid() is not None
                or (browser.get(f"{url}/jobs", headers=PAGE_LOAD, timeout=30).ok and stack.dashboard_pid() is not None))

    assert sleep.wait_until(woken, 60, 1), "the page load never woke the dashboard"
    assert sleep.wait_until(
        lambda: "_dash-config" in browser.get(f"{url}/jobs", headers=PAGE_LOAD, timeout=30).text, 120, 2)
    assert not local.route.to_waker() and stack.dead_parts() == []
