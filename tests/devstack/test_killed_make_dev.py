"""A SIGKILLed `make dev` (no cleanup ran) leaves its gunicorn serving the dashboard's port; the
next `make dev` ends it and serves its own, instead of saying "running" while the orphan answers."""

from __future__ import annotations

import json
import os
import signal

import pytest
import requests

from devstack import process_record
from tests.devstack.test_make_dev_restart import DevRun
from tests.fixtures.apps import apps_with
from tests.support import stack_settings, wait_until


def recorded_pgid(state_dir) -> int:
    return json.loads((state_dir / process_record.FILE).read_text())["groups"][0]["pgid"]


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_the_next_make_dev_ends_what_a_killed_one_left_serving(tmp_path):
    ports = stack_settings(tmp_path / "state")
    env = {**os.environ, "DEVSTACK_DIR": str(ports.state_dir), "DASHBOARD_PORT": str(ports.dashboard_port),
           "AWS_PORT": str(ports.aws_port), "LAMBDA_PORT": str(ports.lambda_port), "LAMBDA_INSTANCES": "1",
           "DEVSTACK_APPS_DIR": str(apps_with(tmp_path / "apps"))}
    health = f"http://{ports.host}:{ports.dashboard_port}/health"
    first = DevRun(env, tmp_path / "first.log")
    second = None
    orphan = 0
    try:
        first.wait_ready()
        orphan = recorded_pgid(ports.state_dir)
        os.kill(first.process.pid, signal.SIGKILL)  # make dev alone: its dashboard lives on, orphaned
        first.process.wait()
        assert requests.get(health, timeout=10).ok  # the orphan still serves the port

        second = DevRun(env, tmp_path / "second.log")
        banner = second.wait_ready()
        assert f"Ended what a killed `make dev` left running (process groups {orphan})." in banner
        wait_until(lambda: not group_exists(orphan), timeout=30, what="the orphan to be gone")
        assert recorded_pgid(ports.state_dir) != orphan
        assert requests.get(health, timeout=10).json() == {"status": "ok"}  # served by the new dashboard
    finally:
        if second is not None:
            second.stop()
        first.stop()
        if orphan and group_exists(orphan):
            os.killpg(orphan, signal.SIGKILL)
