"""gunicorn settings for the dashboard (`gunicorn -c python:dashboard.gunicorn_conf dashboard.app:server`).

Threads serve many stakeholders at once: Dash callbacks mostly wait on DynamoDB, S3 and Lambda.
GUNICORN_WORKERS / GUNICORN_THREADS size it; GUNICORN_BIND or PORT choose the address;
GUNICORN_ACCESS_LOG=json (default) writes one JSON line per request, =none writes none.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from gunicorn.glogging import Logger


def _bind(environ: dict[str, str]) -> str:
    if environ.get("GUNICORN_BIND"):
        return environ["GUNICORN_BIND"]
    return f"0.0.0.0:{environ.get('PORT', '8050')}"


class JsonAccessLogger(Logger):
    """gunicorn's logger with access lines as JSON objects (no cookies or query strings)."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.cfg.accesslog or environ.get("PATH_INFO") == "/health":
            return
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "level": "INFO",
            "service": "dashboard",
            "logger": "gunicorn.access",
            "message": "request",
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": getattr(resp, "status_code", None) or str(getattr(resp, "status", "")).split(" ")[0],
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "client": environ.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip() or environ.get("REMOTE_ADDR"),
            "trace_id": environ.get("HTTP_X_AMZN_TRACE_ID"),
        }
        self.access_log.info(json.dumps(entry))


bind = _bind(dict(os.environ))
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# Must outlast the load balancer's idle timeout (Pulumi sets it), so the ALB never reuses a
# connection gunicorn already closed.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
graceful_timeout = 20
accesslog = None if os.environ.get("GUNICORN_ACCESS_LOG", "json") == "none" else "-"
logger_class = JsonAccessLogger
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn 27's runtime control socket defaults to one fixed path per user, which several local
# stacks (or test runs) on one machine would fight over; the dashboard does not use it.
control_socket_disable = True
