"""Server-Timing, when switched on: each response says how long it waited on each AWS service and
in all, so the load benchmark can tell the local AWS's share from the dashboard's own."""

from __future__ import annotations

from dataclasses import replace

from dashboard.app import create_app

from bench.server_timing import parse
from tests.dashboard.conftest import sign_in


def test_a_sign_in_reports_its_dynamodb_time_and_its_total(app, dashboard_settings):
    timed = create_app(replace(dashboard_settings, server_timing=True), services=app.services, reconcile=False)
    client = timed.server.test_client()
    response = sign_in(client)
    assert response.status_code == 302
    timings = parse(response.headers["Server-Timing"])
    assert 0 < timings["dynamodb"] <= timings["total"]  # the throttle's counters are DynamoDB calls
    assert "dynamodb" not in parse(client.get("/health").headers["Server-Timing"])


def test_off_by_default(client):
    assert "Server-Timing" not in sign_in(client).headers
