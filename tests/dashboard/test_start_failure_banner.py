"""The batch page says when the batch algorithm cannot start (or fails every job), from what the
worker published to the job table, and each waiting job says why it waits."""

from __future__ import annotations

import json

from worker.start_failure import StartFailure

from tests.dashboard.conftest import prop
from tests.dashboard.test_jobs import _make_jobs, refresh
from tests.fixtures.published import fixture_description

MISSING = StartFailure("import", "apps/worker/algorithm.py", 5, "ModuleNotFoundError: No module named 'pandas'",
                       "add pandas to apps/worker/requirements.in, then make lock")
FIRST_PAGE = {"tokens": [None], "index": 0, "next": None}


def page_text(dash_call) -> str:
    return json.dumps(dash_call.call("page.children", [prop("url", "pathname", "/jobs")]))


def banner_text(dash_call) -> str:
    return json.dumps(dash_call.call("launcher-banner.children", [prop("jobs-refresh", "n_intervals", 1)]))


def test_a_start_failure_is_the_batch_pages_banner_and_every_waiting_jobs_reason(dash_call, store, app):
    store.publish_description(fixture_description(params=False))
    _make_jobs(store, 2)
    assert "cannot start" not in page_text(dash_call)
    store.publish_start_failure(MISSING.to_record())
    store.publish_start_failure(MISSING.to_record())  # the second worker in a row
    app.services.start_failure_cache.clear()  # as 2 s later: each process reads it once per 2 s

    text = page_text(dash_call)
    assert "The batch algorithm cannot start: " in text
    assert ("ModuleNotFoundError: No module named 'pandas' (apps/worker/algorithm.py line 5). "
            "Fix: add pandas to apps/worker/requirements.in, then make lock.") in text
    assert "Tried 2 times in a row" in text
    assert "algorithm-failure" in banner_text(dash_call)  # and the refreshing banner keeps it

    app.services.jobs_cache.clear()
    rows = refresh(dash_call, FIRST_PAGE)["jobs-grid"]["rowData"]
    assert {row["details"] for row in rows} == {
        "Waiting: the batch algorithm cannot start (ModuleNotFoundError: No module named 'pandas')"}

    store.publish_description(fixture_description(params=False))  # a worker that loads: fixed
    app.services.start_failure_cache.clear()
    assert "cannot start" not in banner_text(dash_call)
    app.services.jobs_cache.clear()
    assert all("Waiting" not in row["details"] for row in refresh(dash_call, FIRST_PAGE)["jobs-grid"]["rowData"])


def test_an_algorithm_that_fails_every_job_has_its_own_banner(dash_call, store):
    failure = StartFailure("every_job", "apps/worker/algorithm.py", 22,
                           "ZeroDivisionError: division by zero (the last 3 attempts in a row)",
                           "fix apps/worker/algorithm.py at line 22; failed jobs can be retried")
    store.publish_start_failure(failure.to_record())
    assert "The batch algorithm fails every job: " in banner_text(dash_call)
