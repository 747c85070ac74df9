"""Attacks on the dashboard app, sent as an attacker would (bodies and headers no browser sends):
oversized bodies, framing, passwords typed as names, and workers started past the limit."""

from __future__ import annotations

import json
import logging
import os
import sys

import pytest
from dashboard.launcher import SubprocessLauncher, ensure_worker

from bench.dash_calls import login_form
from tests.dashboard.conftest import sign_in
from tests.support import wait_until


def test_a_body_over_the_limit_is_refused_with_413(app, alice, dashboard_settings):
    limit = dashboard_settings.max_request_bytes
    body = b'{"output": "page.children", "inputs": [], "pad": "' + b"x" * limit + b'"}'
    answer = alice.post("/_dash-update-component", data=body, content_type="application/json")
    assert answer.status_code == 413
    # A largest allowed upload still fits: the limit leaves room for base64 and the callback around it.
    fits = b'{"output": "nowhere", "pad": "' + b"x" * (dashboard_settings.upload_max_bytes * 4 // 3) + b'"}'
    assert alice.post("/_dash-update-component", data=fits, content_type="application/json").status_code == 400


def test_an_anonymous_oversized_login_is_refused_too(client, dashboard_settings):
    answer = client.post("/login", data={"user": "x" * (dashboard_settings.max_request_bytes + 1), "password": "p"})
    assert answer.status_code == 413


@pytest.mark.parametrize("path", ["/login", "/health", "/", "/_dash-layout", "/jobs/" + "a" * 32 + "/logs", "/nope"])
def test_every_response_forbids_framing_and_sets_a_content_security_policy(alice, path):
    answer = alice.get(path, headers={"Accept": "text/html"})
    assert answer.headers["X-Frame-Options"] == "DENY"
    policy = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    assert "script-src 'self' 'sha256-" in policy  # Dash's one inline script by hash, no 'unsafe-inline'
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_the_anonymous_login_page_and_refusals_carry_the_headers_too(client):
    for answer in (client.get("/login"), client.get("/_dash-layout")):
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]


def test_a_password_typed_as_the_name_is_never_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    typed = "Sup3r-Secret-Typed-In-The-Name-Field"
    form = login_form(client.get("/login").get_data(as_text=True), typed, "x")
    assert client.post("/login", data=form).status_code == 401
    assert sign_in(client, "alice", "wrong").status_code == 401  # a known name is logged as such
    logged = [json.dumps(record.__dict__, default=str) for record in caplog.records]
    assert not [line for line in logged if typed in line]
    assert any('"user": "alice"' in line for line in logged)
    assert any('"unknown_name_length": 36' in line for line in logged)


def test_a_fresh_launcher_counts_the_workers_another_process_started(tmp_path):
    """A restarted (or a second) gunicorn worker has an empty memory: it must still see the
    worker processes already running and start none past MAX_WORKERS."""
    env = {**os.environ, "JOBS_TABLE": f"attack-{tmp_path.name}"}
    command = (sys.executable, "-c", "import time; time.sleep(30)")
    first = SubprocessLauncher(command, 2, tmp_path / "logs", env=env)
    try:
        assert ensure_worker(first) and ensure_worker(first)
        wait_until(lambda: first.running() == 2, timeout=10, what="two workers to run")
        restarted = SubprocessLauncher(command, 2, tmp_path / "logs", env=env)  # nothing in its memory
        assert restarted.running() == 2
        assert not ensure_worker(restarted)
        other_stack = SubprocessLauncher(command, 2, tmp_path / "other-logs", env=env)
        assert other_stack.running() == 0  # another local stack's workers are its own
    finally:
        first.stop_all()
    assert SubprocessLauncher(command, 2, tmp_path / "logs", env=env).running() == 0
