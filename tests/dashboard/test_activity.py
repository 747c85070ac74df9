"""The dashboard's activity record (dashboard/activity.py): what the sleeper reads to judge it idle."""

from __future__ import annotations

import time
from typing import Any

import flask
import pytest
from dashboard.activity import ACTIVITY_KEY, ActivityRecord, is_a_person

from components.sleepwake.ledger import ACTIVITY_KEY as READ_BY_THE_SLEEPER
from components.sleepwake.ledger import Ledger
from tests.dashboard.conftest import sign_in

pytestmark = pytest.mark.timeout(120)


def recorded(app: Any) -> float | None:
    at = Ledger(app.services.store.dynamodb, app.services.store.settings.table).last_activity()
    return None if at is None else at.timestamp()


def wait_for_record(app: Any, deadline: float = 20.0) -> float:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        at = recorded(app)
        if at is not None:
            return at
        time.sleep(0.1)
    raise AssertionError("no activity record was written")


def test_the_dashboard_writes_the_item_the_sleeper_reads() -> None:
    assert ACTIVITY_KEY == READ_BY_THE_SLEEPER


def test_a_signed_in_page_load_is_recorded_and_anonymous_requests_are_not(app, client) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302  # to the login page
    assert client.get("/login").status_code == 200
    assert sign_in(client).status_code == 302  # the login POST is public: not yet activity
    time.sleep(0.5)
    assert recorded(app) is None
    before = time.time()
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 200
    assert wait_for_record(app) >= before - 1


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_at_most_one_write_a_minute_per_process(app) -> None:
    store, clock = app.services.store, Clock()
    record = ActivityRecord(store.dynamodb, store.settings.table, clock=clock)
    first = record.note()
    assert first is not None
    first.join(10)
    clock.now += 59
    assert record.note() is None  # within the minute: no write, no thread
    clock.now += 1
    second = record.note()
    assert second is not None
    second.join(10)
    assert recorded(app) == pytest.approx(clock.now)
    record.write(clock.now - 30)  # a slower process's older stamp never moves the record back
    assert recorded(app) == pytest.approx(clock.now)


@pytest.mark.parametrize(("path", "body", "person"), [
    ("/jobs", None, True),
    ("/_dash-update-component", {"changedPropIds": ["sample-submit.n_clicks"]}, True),  # a click
    ("/_dash-update-component", {"changedPropIds": ["url.pathname"]}, True),  # a page change
    ("/_dash-update-component", {"changedPropIds": ["jobs-refresh.n_intervals"]}, False),  # an open tab's poll
    ("/_dash-update-component", {"changedPropIds": ["jobs-refresh.n_intervals", "batch-refresh.n_intervals"]},
     False),
    ("/assets/style.css", None, False),
    ("/_dash-component-suites/dash/dcc/dash_core_components.js", None, False),
    ("/_dash-layout", None, False),
])
def test_a_timer_poll_or_an_asset_is_not_a_person(path: str, body: Any, person: bool) -> None:
    app = flask.Flask(__name__)
    with app.test_request_context(path, method="POST" if body else "GET", json=body):
        assert is_a_person(flask.request) is person


def test_an_open_tabs_polls_leave_no_record(app, alice, dash_call) -> None:
    response = dash_call("launcher-banner.children", [{"id": "jobs-refresh", "property": "n_intervals", "value": 3}],
                         changed=["jobs-refresh.n_intervals"])
    assert response.status_code in (200, 204)
    time.sleep(0.5)
    assert recorded(app) is None


def test_the_jobs_page_stops_its_timers_while_the_tab_is_hidden(app) -> None:
    (key,) = [k for k in app.callback_map if "jobs-refresh.disabled" in k]
    assert "batch-refresh.disabled" in key
    script = app.callback_map[key].get("clientside_function") or ""
    inline = "".join(str(s) for s in getattr(app, "_inline_scripts", []))
    assert "visibilitychange" in inline and "visibilityState" in inline, script
