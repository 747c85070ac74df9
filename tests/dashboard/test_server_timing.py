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
    # The throttle's two counters are DynamoDB calls, made at once from a pool thread: they count
    # (summed, so together they may exceed the request's own total).
    assert timings["dynamodb"] > 0 and timings["total"] > 0
    assert "dynamodb" not in parse(client.get("/health").headers["Server-Timing"])


def test_off_by_default(client):
    assert "Server-Timing" not in sign_in(client).headers
