"""The whole local stack: it starts, answers /health, picks up code edits, and stops cleanly."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
import requests
from jobkit import JobStatus

from bench import dash_calls
from bench.support import processes_mentioning
from devstack.local_aws import local_client
from devstack.stack import DevStack
from tests.fixtures.algorithms import every_param
from tests.fixtures.apps import apps_with
from tests.fixtures.tables import table_for
from tests.support import stack_settings, wait_until


def _copy_apps(target: Path) -> Path:
    """A copy of apps/ with the fixture pair, so the test passes whatever model and algorithm ship."""
    return apps_with(target / "apps")


def _set_version(path: Path, version: str) -> None:
    source = path.read_text()
    path.write_text(re.sub(r'^MODEL_VERSION = ".*"$', f'MODEL_VERSION = "{version}"', source, flags=re.M))


@pytest.mark.slow
def test_local_stack_runs_edited_code_without_a_restart(tmp_path):
    apps = _copy_apps(tmp_path)
    settings = stack_settings(
        tmp_path / "state", apps_dir=apps, lambda_instances=1,
        extra_env={"WORKER_IDLE_SECONDS": "2", "DESCRIBE_CACHE_SECONDS": "0"},
    )
    stack = DevStack(settings)
    started = time.monotonic()
    stack.start()
    try:
        assert time.monotonic() - started < 60
        with urllib.request.urlopen(f"{settings.dashboard_url}/health", timeout=5) as response:
            assert response.status == 200

        lambda_client = local_client("lambda", settings.lambda_url, settings.region)

        def describe() -> dict:
            answer = lambda_client.invoke(FunctionName=settings.function_name, Payload=b'{"action": "describe"}')
            return json.loads(answer["Payload"].read())

        dashboard = requests.Session()
        user, password = stack.login
        assert dash_calls.sign_in(dashboard, settings.dashboard_url, user, password).ok

        def predict_page() -> str:
            answer = dashboard.post(f"{settings.dashboard_url}/_dash-update-component",
                                    json=dash_calls.open_page("/predict"), timeout=30)
            assert answer.status_code == 200
            return answer.text

        assert describe()["model_version"] != "edited-predictor-1"
        assert "edited-predictor-1" not in predict_page()
        _set_version(apps / "predictor" / "model.py", "edited-predictor-1")
        assert describe()["model_version"] == "edited-predictor-1"
        assert "edited-predictor-1" in predict_page()  # the stakeholder's form shows the new model

        # The next worker the dashboard starts runs the edited algorithm.
        _set_version(apps / "worker" / "algorithm.py", "edited-worker-1")
        table = table_for(every_param)  # what its INPUT declares (the copy's algorithm is this one, re-versioned)
        job = stack.store.submit(owner="test", client_token="quick-iteration", input_bytes=table)
        done = wait_until(
            lambda: (j := stack.store.get(job.job_id)).status not in (JobStatus.PENDING, JobStatus.RUNNING) and j,
            timeout=90,
            what="the reconciler to start a worker and the job to finish",
        )
        assert done.status is JobStatus.SUCCEEDED, done.error
        assert done.model_version == "edited-worker-1"
        assert (settings.log_dir / "worker.log").exists()
    finally:
        stack.stop()
    assert processes_mentioning(str(apps)) == []
