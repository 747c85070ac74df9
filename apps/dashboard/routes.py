"""The dashboard's plain Flask routes: the load balancer's /health and a job's local log lines."""

from __future__ import annotations

import html
import json
from collections import deque
from pathlib import Path
from typing import Any

import flask
from jobkit import schema
from jobkit.errors import InvalidRequest

MAX_LOG_LINES = 1000


def is_line_of(line: str, job_id: str) -> bool:
    """Whether a worker.log JSON line was logged for `job_id` (its `job_id` field, not a quote of it)."""
    if job_id not in line:  # cheap pre-filter; most lines are other jobs'
        return False
    try:
        entry = json.loads(line)
    except ValueError:
        return False
    return isinstance(entry, dict) and entry.get("job_id") == job_id


def job_log_lines(log_dir: Path, job_id: str, limit: int = MAX_LOG_LINES) -> list[str]:
    """The last `limit` lines of worker.log whose `job_id` field is this job's id."""
    path = log_dir / "worker.log"
    if not path.exists():
        return []
    with path.open(encoding="utf-8", errors="replace") as lines:
        return list(deque((line.rstrip("\n") for line in lines if is_line_of(line, job_id)), maxlen=limit))


def install(server: flask.Flask, log_dir: Path | None) -> None:
    @server.route("/health")
    def health() -> Any:
        return flask.jsonify(status="ok")

    @server.route("/jobs/<job_id>/logs")
    def job_logs(job_id: str) -> Any:
        try:
            schema.job_prefix(job_id)
        except InvalidRequest:
            flask.abort(404)
        if log_dir is None:
            flask.abort(404)
        lines = job_log_lines(log_dir, job_id)
        text = "\n".join(html.escape(line) for line in lines) or "No log lines mention this job yet."
        page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Logs {job_id[:8]}</title>'
                f'<link rel="stylesheet" href="/assets/style.css"></head><body><main class="page">'
                f'<h1>Worker logs for job {job_id}</h1><p class="muted">{len(lines)} lines from worker.log '
                f'mentioning this job (newest last).</p><pre class="logs" id="job-logs">{text}</pre>'
                f'</main></body></html>')
        return flask.Response(page, mimetype="text/html")


def install_download(server: flask.Flask, store: Any, expires_seconds: int = 300) -> None:
    """GET /jobs/<id>/result.csv: sign the result's S3 URL when it is clicked and redirect to it, so a
    page left open for hours still downloads (signed-in users only, as every non-public route)."""

    @server.route("/jobs/<job_id>/result.csv")
    def download_result(job_id: str) -> Any:
        from jobkit import JobConflict, JobKitError, JobNotFound

        try:
            job = store.get(job_id)
            return flask.redirect(store.result_url(job, expires_seconds=expires_seconds), code=302)
        except (InvalidRequest, JobNotFound):
            flask.abort(404)
        except JobConflict:
            return flask.Response("This job has no result to download (yet).", status=409, mimetype="text/plain")
        except JobKitError:
            return flask.Response("The result cannot be reached right now; please try again.", status=503,
                                  mimetype="text/plain")
