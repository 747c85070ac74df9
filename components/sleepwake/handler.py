"""Lambda entry point: an ALB request is a visit (wake, answer with the waking page); anything else is the
sleeper's scheduled look."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
import time
from typing import Any

import boto3

from components.sleepwake import control
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


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Visit (ALB event) -> the waking page; scheduled event -> look, decide, act."""
    settings = SleepWakeSettings.from_env()
    _configure(settings.log_level)
    _request_id.set(getattr(context, "aws_request_id", ""))
    ecs, elbv2 = boto3.client("ecs"), boto3.client("elbv2")
    if "elb" in event.get("requestContext", {}):
        ready = control.wake(ecs, elbv2, settings)
        log.info("visit while asleep", extra={"fields": {"ready": ready, "path": event.get("path", "")}})
        return alb_response(event.get("httpMethod", "GET"), ready)
    now = dt.datetime.now(dt.UTC)
    seen = control.observe(ecs, elbv2, boto3.client("cloudwatch"), settings, now)
    action = control.decide(seen, settings.sleep_after_minutes, now)
    control.apply(ecs, elbv2, settings, action)
    log.info("look", extra={"fields": {"action": action.value, "desired": seen.desired, "healthy": seen.healthy,
                                       "requests": seen.requests, "routed_to_waker": seen.routed_to_waker}})
    return {"action": action.value}
