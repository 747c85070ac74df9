"""The cloud smoke test (deploy/smoke.py) against the local twin: the real local stack, the real
dashboard over HTTP, the predictor through boto3's Lambda client, the apps' JSON log files."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from deploy import smoke
from devstack.local_aws import LOCAL_CREDENTIALS
from devstack.stack import DevStack
from tests.support import stack_settings


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    settings = stack_settings(tmp_path_factory.mktemp("smoke"), lambda_instances=1, max_workers=1,
                              extra_env={"WORKER_IDLE_SECONDS": "10", "WORKER_HEARTBEAT_SECONDS": "0.5"})
    local = DevStack(settings)
    local.start()
    yield local
    local.stop()


def _target(stack: DevStack, password: str | None = None, **timeouts: float) -> smoke.SmokeTarget:
    s = stack.settings
    user, real_password = stack.login
    lambda_client = boto3.client("lambda", endpoint_url=s.lambda_url, region_name=s.region,
                                 aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    return smoke.SmokeTarget(base_url=s.dashboard_url, user=user, password=password or real_password,
                             lambda_client=lambda_client, function=s.function_name,
                             logs=smoke.LocalLogs(s.log_dir), ready_timeout_s=30, job_timeout_s=120,
                             log_timeout_s=30, poll_interval_s=0.5, **timeouts)


@pytest.mark.slow
def test_the_cloud_smoke_test_passes_against_the_local_twin(stack):
    said: list[str] = []
    steps = smoke.run(_target(stack), say=said.append)
    print("\n" + "\n".join(said))
    assert list(steps) == ["health", "login", "describe via Lambda", "describe via dashboard", "predict via dashboard",
                           "predict via Lambda", "submit job", "job succeeded", "charts and download",
                           "dashboard logs", "predictor logs", "worker logs"]
    # The job ran on the algorithm's own first sample (the dashboard has none of its own), or on a
    # table generated from its INPUT when it declares none or has columns to pick.
    published = stack.store.read_description() or {}
    first = next((sample["name"] for sample in published.get("samples") or []), None)
    picks = any(p.get("type") == "column" for p in published.get("params") or [])
    used = first if first and not picks else "a table generated from the published input rules"
    assert any(line.endswith(f"submitted ({used})") for line in said), said


@pytest.mark.slow
def test_a_refused_login_fails_the_smoke_test_at_that_step(stack):
    with pytest.raises(smoke.SmokeFailure, match="^login: the dashboard refused the login"):
        smoke.run(_target(stack, password="not-the-password"), say=lambda _: None)


def test_a_dashboard_that_does_not_answer_fails_health_within_its_timeout():
    target = smoke.SmokeTarget(base_url="http://127.0.0.1:9", user="u", password="p", lambda_client=None,
                               function="f", logs=smoke.LocalLogs(Path("/nonexistent")),
                               ready_timeout_s=1, poll_interval_s=0.2)
    started = time.monotonic()
    with pytest.raises(smoke.SmokeFailure, match="^health: GET /health never answered"):
        smoke.run(target, say=lambda _: None)
    assert time.monotonic() - started < 10


def test_cloudwatch_reader_returns_each_apps_lines_from_its_log_group(aws_endpoint):
    logs = boto3.client("logs")
    groups = {app: f"/ml-proto/smoke-test/{app}-{time.time_ns()}" for app in smoke.APPS}
    for app, group in groups.items():
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
            {"timestamp": int(time.time() * 1000), "message": f'{{"app": "{app}", "job_id": "j-1"}}'}])
    reader = smoke.CloudWatchLogs(logs, groups, since_ms=int((time.time() - 60) * 1000))
    assert reader.lines("worker") == ['{"app": "worker", "job_id": "j-1"}']
    assert smoke._has_log_lines(reader.lines("worker"), "j-1") and not smoke._has_log_lines(["plain text"], None)
