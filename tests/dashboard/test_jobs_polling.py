"""The jobs table's refresh tick answers with what changed: a tick that finds the page as shown
sends only the interval back, not the rows again."""

from __future__ import annotations

import json

from tests.dashboard.test_jobs import _make_jobs, refresh

FIRST_PAGE = {"tokens": [None], "index": 0, "next": None}


def test_a_tick_that_finds_nothing_changed_sends_no_rows(dash_call, store, app):
    _make_jobs(store, 3)
    first = refresh(dash_call, FIRST_PAGE)
    assert len(first["jobs-grid"]["rowData"]) == 3
    paging = first["jobs-paging"]["data"]
    assert paging["stamp"]
    app.services.jobs_cache.clear()
    same = refresh(dash_call, paging)
    assert set(same) == {"jobs-refresh"}  # the interval only
    assert len(json.dumps(same)) < len(json.dumps(first)) / 5


def test_a_tick_after_a_change_sends_the_rows(dash_call, store, app):
    _make_jobs(store, 2)
    paging = refresh(dash_call, FIRST_PAGE)["jobs-paging"]["data"]
    job_id = store.list_recent(limit=1).items[0].job_id
    store.cancel(job_id, by="bob")
    app.services.jobs_cache.clear()
    changed = refresh(dash_call, paging)
    assert {row["job_id"]: row["status"] for row in changed["jobs-grid"]["rowData"]}[job_id] == "CANCELLED"
    assert changed["jobs-paging"]["data"]["stamp"] != paging["stamp"]


def test_paging_and_a_submit_always_send_the_rows(dash_call, store, app):
    """Only a tick may skip the rows: the buttons and a new job redraw the table whatever the stamp."""
    _make_jobs(store, 2)
    paging = refresh(dash_call, FIRST_PAGE)["jobs-paging"]["data"]
    app.services.jobs_cache.clear()
    again = refresh(dash_call, paging, trigger="jobs-newer.n_clicks", newer=1)
    assert len(again["jobs-grid"]["rowData"]) == 2
