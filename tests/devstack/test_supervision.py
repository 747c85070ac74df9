"""The local stack watches over what it started: a dashboard, Lambda endpoint or local AWS that
dies is reported at once and restarted, and the local AWS keeps its data through it."""

from __future__ import annotations

import os
import signal
import threading

import pytest
import requests

from devstack.stack import DevStack
from tests.support import stack_settings, wait_until


@pytest.mark.slow
def test_a_part_that_dies_is_reported_and_restarted(tmp_path):
    stack = DevStack(stack_settings(tmp_path, lambda_instances=1))
    stack.start()
    reports: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(target=stack.supervise, args=(stop, reports.append, 0.2), daemon=True)
    watcher.start()
    try:
        job = stack.store.submit(owner="a", client_token="kept", input_bytes=b"x\n1\n")
        health = f"{stack.settings.dashboard_url}/health"

        os.kill(stack._dashboard.pid, signal.SIGKILL)  # the crash under test
        wait_until(lambda: any("dashboard stopped" in r for r in reports), timeout=10, what="the death reported")
        wait_until(lambda: "The dashboard is running again." in reports, timeout=90, what="the dashboard restarted")
        assert requests.get(health, timeout=5).json() == {"status": "ok"}

        stack.lambda_server.stop()  # as if its server thread had died
        wait_until(lambda: "The Lambda endpoint is running again." in reports, timeout=30,
                   what="the Lambda endpoint restarted")
        assert requests.post(f"{stack.settings.lambda_url}/2015-03-31/functions/{stack.settings.function_name}"
                             "/invocations", data=b'{"action": "describe"}', timeout=60).ok

        stack.aws.stop()
        wait_until(lambda: "The local AWS is running again." in reports, timeout=30, what="the local AWS restarted")
        assert stack.store.get(job.job_id).job_id == job.job_id  # moto's data lives on in this process
        print("\nsupervisor said:\n  " + "\n  ".join(reports))
        assert [r for r in reports if "stopped" in r] == [
            "The dashboard stopped (failure 1); restarting it...",
            "The Lambda endpoint stopped (failure 1); restarting it...",
            "The local AWS stopped (failure 1); restarting it...",
        ]
    finally:
        stop.set()
        watcher.join(timeout=120)
        stack.stop()


@pytest.mark.slow
def test_a_hung_dashboard_is_reported_and_restarted(tmp_path):
    stack = DevStack(stack_settings(tmp_path, lambda_instances=1))
    stack.start()
    reports: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(target=stack.supervise, args=(stop, reports.append, 0.2), daemon=True)
    watcher.start()
    try:
        hung = stack._dashboard.pid
        os.killpg(hung, signal.SIGSTOP)  # the hang under test: the port still accepts, nothing answers
        wait_until(lambda: any("not answering /health" in r for r in reports), timeout=60,
                   what="the hang reported")
        wait_until(lambda: "The dashboard is running again." in reports, timeout=120, what="the dashboard restarted")
        print("\nsupervisor said:\n  " + "\n  ".join(reports))
        assert reports[0].startswith("The dashboard is not answering /health (hung: 3 probes of 5s unanswered)")
        assert stack._dashboard.pid != hung
        assert requests.get(f"{stack.settings.dashboard_url}/health", timeout=5).json() == {"status": "ok"}
    finally:
        stop.set()
        watcher.join(timeout=120)
        stack.stop()


def test_a_port_held_by_another_program_is_named_at_start(tmp_path):
    import socket

    settings = stack_settings(tmp_path, lambda_instances=1)
    with socket.socket() as holder:
        holder.bind((settings.host, settings.dashboard_port))
        holder.listen()
        with pytest.raises(RuntimeError, match=f"Port {settings.dashboard_port} is already in use"):
            DevStack(settings).start()
