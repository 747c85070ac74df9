"""Lambda entry point: an ALB request (a person's visit wakes the dashboard), the office-hours close, or the
sleeper's scheduled look."""

from __future__ import annotations

import base64
import contextvars
import datetime as dt
import json
import logging
import sys
import time
from typing import Any

import boto3

from components.sleepwake import control, moves
from components.sleepwake.decision import is_a_visit
from components.sleepwake.page import alb_response
from components.sleepwake.settings import SleepWakeSettings

log = logging.getLogger("sleepwake")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


class _Json(logging.Formatter):
    """One JSON object per line, every record (boto's too) carrying the invocation's request id."""

    def format(self, record: logging.LogRecord) -> str:
        body = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)), "level": record.levelname,
                "service": "sleepwake", "logger": record.name, "request_id": _request_id.get(),
                "message": record.getMessage()}
        body.update(getattr(record, "fields", {}))
        return json.dumps(body)


def _configure(level: str) -> None:
    root = logging.getLogger()
    for existing in list(root.handlers):  # the Lambda runtime's own text handler
        root.removeHandler(existing)
    out = logging.StreamHandler(sys.stdout)
    out.setFormatter(_Json())
    root.addHandler(out)
    root.setLevel(level)


def _body(event: dict[str, Any]) -> str:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    return body[:4096]  # the one-click form is a few bytes; nothing larger is a visit


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Visit (ALB event) -> the waking page; {"sleepwake": "close"} (the office-hours schedule) -> close;
    anything else (the every-few-minutes rule) -> look, decide, act."""
    settings = SleepWakeSettings.from_env()
    _configure(settings.log_level)
    holder = getattr(context, "aws_request_id", "") or "sleepwake"
    _request_id.set(holder)
    ecs, elbv2 = boto3.client("ecs"), boto3.client("elbv2")
    dashboard = control.cloud_dashboard(ecs, elbv2, boto3.client("dynamodb"), settings)
    now = dt.datetime.now(dt.UTC)
    if "elb" in event.get("requestContext", {}):
        method, path = event.get("httpMethod", "GET"), event.get("path", "/")
        visit = is_a_visit(method, event.get("headers"), _body(event))
        ready = moves.wake(dashboard, holder, now) if visit else False  # only a person wakes it
        log.info("request while asleep", extra={"fields": {"visit": visit, "ready": ready, "method": method,
                                                           "path": path[:200]}})
        return alb_response(method, visit, ready, path, settings.office_hours)
    if event.get("sleepwake") == "close":
        action = moves.close(dashboard, holder, now)
        log.info("close", extra={"fields": {"action": action.value}})
        return {"action": action.value}
    action, seen = moves.look(dashboard, holder, now)
    fields: dict[str, Any] = {"action": action.value, "busy": seen is None}
    if seen is not None:
        fields.update(desired=seen.desired, healthy=seen.healthy, routed_to_waker=seen.routed_to_waker,
                      last_activity=seen.last_activity and seen.last_activity.isoformat(),
                      quiet_look_at=seen.quiet_look_at and seen.quiet_look_at.isoformat(), workers=seen.workers)
    log.info("look", extra={"fields": fields})
    return {"action": action.value}
