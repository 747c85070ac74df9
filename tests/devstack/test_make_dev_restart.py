"""`make dev` (python -m devstack) stopped and started again: the jobs, results and feedback of
the first run are there in the second; `make dev-reset` forgets them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from jobkit import JobStatus

from bench import dash_calls
from devstack.settings import REPO_ROOT, DevSettings
from devstack.stack import DevStack
from tests.fixtures.apps import apps_with
from tests.offered_samples import first_offered_sample
from tests.support import stack_settings, wait_until


class DevRun:
    """One `python -m devstack` process on the given ports and state folder."""

    def __init__(self, env: dict[str, str], output: Path) -> None:
        self.output = output
        with output.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "devstack"], env=env, cwd=REPO_ROOT,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self) -> str:
        def ready() -> bool:
            assert self.process.poll() is None, self.output.read_text()[-3000:]
            return "Press Ctrl-C" in self.output.read_text()

        wait_until(ready, timeout=120, interval=0.5, what="make dev to print its banner")
        return self.output.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def read_result(stack: DevStack, job_id: str) -> bytes:
    answer = stack.store.s3.get_object(Bucket=stack.settings.bucket, Key=stack.store.get(job_id).result_key)
    return answer["Body"].read()


@pytest.mark.slow
def test_jobs_results_and_feedback_survive_a_restart_of_make_dev(tmp_path):
    ports = stack_settings(tmp_path / "state")
    env = {**os.environ, "DEVSTACK_DIR": str(ports.state_dir), "DASHBOARD_PORT": str(ports.dashboard_port),
           "AWS_PORT": str(ports.aws_port), "LAMBDA_PORT": str(ports.lambda_port), "LAMBDA_INSTANCES": "1",
           "DEVSTACK_APPS_DIR": str(apps_with(tmp_path / "apps"))}  # the fixture pair, whatever apps/ holds
    settings = DevSettings.from_env(env)
    local = DevStack(settings)  # never started: its store and login reach what `make dev` runs
    base = settings.dashboard_url
    first = DevRun(env, tmp_path / "first.log")
    try:
        banner = first.wait_ready()
        assert "nothing recorded yet" in banner
        session = requests.Session()
        assert dash_calls.sign_in(session, base, *local.login).ok
        sample = first_offered_sample(session, base)
        answer = session.post(f"{base}/_dash-update-component", timeout=60,
                              json=dash_calls.submit_sample(sample, "restart-token"))
        job_id = answer.json()["response"]["jobs-changed"]["data"]
        wait_until(lambda: local.store.get(job_id).status is JobStatus.SUCCEEDED, timeout=120, interval=0.5,
                   what="the job to succeed")
        local.store.add_feedback(target_kind="job", target_id=job_id, user="demo", rating=1, comment="kept?")
        result = read_result(local, job_id)
    finally:
        first.stop()
    assert "Jobs, results and feedback are kept" in (tmp_path / "first.log").read_text()

    second = DevRun(env, tmp_path / "second.log")
    try:
        banner = second.wait_ready()
        assert "restored" in banner and "nothing recorded yet" not in banner
        job = local.store.get(job_id)
        assert job.status is JobStatus.SUCCEEDED
        assert read_result(local, job_id) == result and local.store.read_summary(job)["charts"]
        assert [f.comment for f in local.store.list_feedback("job", job_id)] == ["kept?"]
        session = requests.Session()
        assert dash_calls.sign_in(session, base, *local.login).ok  # the same password and session key
    finally:
        second.stop()

    subprocess.run(["make", "dev-reset"], cwd=REPO_ROOT, env=env, check=True, capture_output=True)
    third = DevRun(env, tmp_path / "third.log")
    try:
        assert "nothing recorded yet" in third.wait_ready()
        assert local.store.list_recent().items == []
    finally:
        third.stop()
