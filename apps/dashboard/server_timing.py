"""A `Server-Timing` header on every response (when DASHBOARD_SERVER_TIMING is on): how long the
request waited on each AWS service and in all, so a load test can tell the local AWS's share of a
request (which DynamoDB, S3 and Lambda replace in the cloud) from the dashboard's own work.

Timed with botocore's `before-call` / `after-call` events on the dashboard's own clients, which fire
once per API call around all of its retries, in the request's own thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import flask

_spent = threading.local()


def _started(context: dict[str, Any], **_: Any) -> None:
    context["server_timing_started"] = time.perf_counter()


def _finisher(service: str) -> Any:
    def finished(context: dict[str, Any], **_: Any) -> None:
        started = context.pop("server_timing_started", None)
        totals = getattr(_spent, "totals", None)
        if started is not None and totals is not None:
            totals[service] = totals.get(service, 0.0) + time.perf_counter() - started
    return finished


def header(totals: Mapping[str, float], total_seconds: float) -> str:
    """`store;dur=12.5, total;dur=20.1`: milliseconds per service, then the whole request."""
    parts = [f"{name};dur={seconds * 1000:.1f}" for name, seconds in sorted(totals.items())]
    return ", ".join([*parts, f"total;dur={total_seconds * 1000:.1f}"])


def install(server: flask.Flask, clients: Mapping[str, Any]) -> None:
    """Time every call of `clients` ({metric name: boto3 client}) per request of `server`."""
    for name, client in clients.items():
        events = client.meta.events
        events.register("before-call", _started, unique_id=f"server-timing-start-{name}")
        events.register("after-call", _finisher(name), unique_id=f"server-timing-end-{name}")
        events.register("after-call-error", _finisher(name), unique_id=f"server-timing-error-{name}")

    @server.before_request
    def start_timing() -> None:
        _spent.totals, _spent.started = {}, time.perf_counter()

    @server.after_request
    def add_timing(response: flask.Response) -> flask.Response:
        totals = getattr(_spent, "totals", None)
        if totals is not None:
            response.headers["Server-Timing"] = header(totals, time.perf_counter() - _spent.started)
        _spent.totals = None
        return response
