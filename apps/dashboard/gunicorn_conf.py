"""gunicorn settings for the dashboard (`gunicorn -c python:dashboard.gunicorn_conf dashboard.app:server`).

Threads serve many stakeholders at once: Dash callbacks mostly wait on DynamoDB, S3 and Lambda.
Its variables are read into `dashboard.settings.ServerSettings` (GUNICORN_WORKERS and
GUNICORN_THREADS size it, GUNICORN_BIND or PORT choose the address, GUNICORN_HEADER_TIMEOUT and
GUNICORN_REQUEST_TIMEOUT bound each request, GUNICORN_ACCESS_LOG=none turns off the JSON access
line per request).
"""

from __future__ import annotations

import json
import time
from typing import Any

from gunicorn.glogging import Logger

from dashboard.settings import ServerSettings
from dashboard.slow_clients import DeadlineThreadWorker


class JsonAccessLogger(Logger):
    """gunicorn's logger with access lines as JSON objects (no cookies or query strings); the client
    is the real one (the app's ProxyFix trusts only DASHBOARD_PROXY_HOPS proxies)."""

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
            # The app's ProxyFix has set REMOTE_ADDR from the hop the load balancer appended (it
            # edits this same environ); X-Forwarded-For's first entry is whatever the caller wrote.
            "client": environ.get("REMOTE_ADDR"),
            "trace_id": environ.get("HTTP_X_AMZN_TRACE_ID"),
        }
        self.access_log.info(json.dumps(entry))


SERVER = ServerSettings.from_env()
bind = SERVER.bind
workers = SERVER.workers
threads = SERVER.threads
# gthread with a deadline per request (slow_clients.py): slow clients cannot hold its threads.
worker_class = "dashboard.slow_clients.DeadlineThreadWorker"
DeadlineThreadWorker.header_seconds = SERVER.header_timeout
DeadlineThreadWorker.request_seconds = SERVER.request_timeout
timeout = SERVER.timeout
keepalive = SERVER.keepalive
graceful_timeout = 20
accesslog = "-" if SERVER.access_log else None
logger_class = JsonAccessLogger
errorlog = "-"
loglevel = SERVER.log_level
# gunicorn 27's runtime control socket defaults to one fixed path per user, which several local
# stacks (or test runs) on one machine would fight over; the dashboard does not use it.
control_socket_disable = True
