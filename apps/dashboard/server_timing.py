"""A `Server-Timing` header on every response (when DASHBOARD_SERVER_TIMING is on): how long the
request waited on each AWS service and in all, so a load test can tell the local AWS's share of a
request (which DynamoDB, S3 and Lambda replace in the cloud) from the dashboard's own work.

Timed with botocore's `before-call` / `after-call` events on the dashboard's own clients, which fire
once per API call around all of its retries. The request's tally lives in a context variable, so
calls the request makes from a pool thread in a copy of its context (the login throttle's two
counters, written at once) count too; calls made in parallel are summed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import flask

# The current request's AWS calls as (service, seconds), and when the request began.
_calls: ContextVar[list[tuple[str, float]] | None] = ContextVar("server_timing_calls", default=None)
_began: ContextVar[float] = ContextVar("server_timing_began", default=0.0)


def _started(context: dict[str, Any], **_: Any) -> None:
    context["server_timing_started"] = time.perf_counter()


def _finisher(service: str) -> Any:
    def finished(context: dict[str, Any], **_: Any) -> None:
        started, calls = context.pop("server_timing_started", None), _calls.get()
        if started is not None and calls is not None:
            calls.append((service, time.perf_counter() - started))  # list.append: safe from two threads
    return finished


def header(calls: list[tuple[str, float]], total_seconds: float) -> str:
    """`dynamodb;dur=12.5, total;dur=20.1`: milliseconds per service, then the whole request."""
    totals: dict[str, float] = {}
    for service, seconds in calls:
        totals[service] = totals.get(service, 0.0) + seconds
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
        _calls.set([])
        _began.set(time.perf_counter())

    @server.after_request
    def add_timing(response: flask.Response) -> flask.Response:
        calls = _calls.get()
        if calls is not None:
            response.headers["Server-Timing"] = header(calls, time.perf_counter() - _began.get())
        _calls.set(None)
        return response
