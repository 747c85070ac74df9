"""Benchmark 4: concurrent stakeholders on the local stack, driven by locust in headless mode.

Starts a DevStack on free loopback ports, runs bench/locustfile.py for a fixed time with a
fixed number of users, and returns locust's per-request statistics. Traffic goes to 127.0.0.1
only and stops when the time is up.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench import server_timing
from bench.support import free_port
from devstack.local_aws import local_client
from devstack.settings import REPO_ROOT, DevSettings
from devstack.stack import DevStack

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def run(users: int = 100, seconds: int = 60, spawn_rate: int = 20,
        apps_dir: Path | None = None) -> list[dict[str, Any]]:
    """One row per request type plus an 'Aggregated' row, from locust's stats CSV (the stack runs
    `apps_dir`, by default the apps/ in this checkout). A row also holds, where the dashboard
    sent Server-Timing, the time measured inside the dashboard (`app_p50`) and the part of it spent
    waiting on the local AWS (`aws_p50`, `aws_share`)."""
    state = Path(tempfile.mkdtemp(prefix="bench-load-"))
    # Names of its own: moto keeps one set of resources per process.
    name = f"bench-load-{uuid.uuid4().hex[:8]}"
    settings = DevSettings(dashboard_port=free_port(), aws_port=free_port(), lambda_port=free_port(),
                           state_dir=state, lambda_instances=2, table=name, bucket=name, function_name=name,
                           extra_env={"DASHBOARD_SERVER_TIMING": "1"},
                           **({"apps_dir": apps_dir} if apps_dir else {}))
    stack = DevStack(settings)
    stack.start()
    try:
        # A deployed stack is warm: train and load the model once before the users arrive.
        local_client("lambda", settings.lambda_url, settings.region).invoke(
            FunctionName=settings.function_name, Payload=b'{"action": "describe"}'
        )
        user, password = stack.login
        prefix = state / "locust"
        command = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "-u", str(users), "-r", str(spawn_rate), "-t", f"{seconds}s",
            "-H", settings.dashboard_url, "--csv", str(prefix), "--only-summary", "--stop-timeout", "10",
            "--exit-code-on-error", "0", "--loglevel", "WARNING",
        ]
        timings_file = state / "server-timing.json"
        env = {**os.environ, "LOAD_USER": user, "LOAD_PASSWORD": password, "PYTHONPATH": str(REPO_ROOT),
               "LOAD_TIMINGS_FILE": str(timings_file)}
        subprocess.run(command, env=env, check=True, timeout=seconds + 120, cwd=REPO_ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with open(f"{prefix}_stats.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        with open(f"{prefix}_failures.csv", newline="") as handle:
            failures = list(csv.DictReader(handle))
        timings = server_timing.summarize(server_timing.load(timings_file))
    finally:
        stack.stop()
    return [_row(row) | timings.get(row["Name"], {}) for row in rows] + [{"name": "failure", "detail": f["Error"][:120],
                                           "count": int(f["Occurrences"])} for f in failures]


def _row(row: dict[str, str]) -> dict[str, Any]:
    def number(key: str) -> float:
        value = row.get(key, "")
        return float(value) if value not in ("", "N/A") else 0.0

    return {
        "name": row["Name"] or row["Type"],
        "requests": int(number("Request Count")),
        "errors": int(number("Failure Count")),
        "rps": number("Requests/s"),
        "p50": number("50%"),
        "p95": number("95%"),
        "p99": number("99%"),
        "max": number("Max Response Time"),
    }
