"""The three images, built by a real engine (`make images-test`), run against the local twin: the
worker image drains a job to SUCCEEDED, the predictor image answers through awslambdaric against
the local Runtime API (devstack/lambda_runtime_api.py) as a read-only, non-root Lambda would run
it, and the dashboard image answers /health under gunicorn.

`make images-test` builds the images, then runs this file with IMAGES_TEST_TAG set; without it
(`make test`) this file is not collected (conftest.py).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import time
import urllib.request
import uuid

import pytest
from jobkit import JobStatus

from contractkit.tables import column_params
from devstack.lambda_runtime_api import Event, RuntimeApi
from tests.conftest import app_env
from tests.fixtures.tables import table_for
from tests.support import free_port, wait_until

TAG = os.environ.get("IMAGES_TEST_TAG", "")
CONTAINER_UID = 993  # not the build's user, as Lambda runs it
DOCKER = os.environ.get("DOCKER", "docker")
if not TAG:  # conftest.py keeps make test from collecting this file; run directly, say why it cannot
    pytest.fail("run by make images-test, which builds the images and sets IMAGES_TEST_TAG", pytrace=False)


def image(app: str) -> str:
    return f"ml-proto-{app}:{TAG}"


def docker(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False)


def env_args(env: dict[str, str]) -> list[str]:
    return [part for name, value in env.items() for part in ("-e", f"{name}={value}")]


def test_the_worker_image_drains_a_job_from_the_twin_to_succeeded(store, store_settings, aws_endpoint):
    from worker import algorithm  # whatever algorithm is there: its image must run it

    data = table_for(algorithm)
    job = store.submit(owner="images", client_token="engine", input_bytes=data, input_name="points.csv",
                       params=column_params(algorithm.PARAMS, data))
    env = {**app_env(store_settings, aws_endpoint), "LOG_LEVEL": "INFO", "WORKER_IDLE_SECONDS": "2"}
    started = time.monotonic()
    done = docker("run", "--rm", "--network", "host", *env_args(env), image("worker"), "--drain")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    finished = store.get(job.job_id, consistent=True)
    assert finished.status is JobStatus.SUCCEEDED, (finished, done.stdout[-3000:], done.stderr[-3000:])
    assert store.read_summary(finished)["model_version"] == algorithm.MODEL_VERSION
    print(f"worker container: job {job.job_id} SUCCEEDED, container ran {time.monotonic() - started:.1f}s")


def invoke(api: RuntimeApi, payload: dict, timeout: float = 60) -> dict:
    request_id = str(uuid.uuid4())
    api.send(Event(request_id, json.dumps(payload).encode(), int((time.time() + timeout) * 1000),
                   "arn:aws:lambda:us-east-1:000000000000:function:ml-proto-images"))
    while True:
        outcome = api.outcome(timeout)
        if outcome.kind in ("response", "error", "init_error", "exited"):
            assert outcome.kind == "response", (outcome.kind, outcome.body[:2000])
            return json.loads(outcome.body)


def test_the_predictor_image_answers_through_awslambdaric_against_the_runtime_api():
    api = RuntimeApi(allowed_uid=CONTAINER_UID)  # it answers only the instance's own user, as in the twin
    name = f"ml-proto-images-predictor-{uuid.uuid4().hex[:8]}"
    # As Lambda runs it: another user than the build's, a read-only file system but /tmp.
    env = {"AWS_LAMBDA_RUNTIME_API": api.address, "AWS_LAMBDA_FUNCTION_NAME": "ml-proto-images",
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    started = time.monotonic()
    container = subprocess.Popen([DOCKER, "run", "--rm", "--name", name, "--network", "host",
                                  "--user", f"{CONTAINER_UID}:990", "--read-only", "--tmpfs", "/tmp",
                                  *env_args(env), image("predictor")],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        try:
            ready = api.outcome(120)
        except queue.Empty:
            pytest.fail("the predictor container never asked the Runtime API for an event")
        assert ready.kind == "ready", ready
        init = time.monotonic() - started
        described = invoke(api, {"action": "describe"})
        assert described["ok"] is True and described["inputs"], described
        inputs = {f["name"]: f["choices"][0] if f["type"] == "choice" else f["default"] for f in described["inputs"]}
        predicted = invoke(api, {"action": "predict", "inputs": inputs})
        assert predicted["ok"] is True and predicted["model_version"] == described["model_version"], predicted
        print(f"predictor container: ready in {init:.1f}s, describe and predict answered "
              f"(model {predicted['model_version']})")
    finally:
        docker("rm", "-f", name, timeout=60)
        output = container.communicate(timeout=60)[0]
        api.close()
    assert "Traceback" not in output, output[-3000:]


def test_the_dashboard_image_answers_health(store_settings, aws_endpoint):
    port = free_port()
    name = f"ml-proto-images-dashboard-{uuid.uuid4().hex[:8]}"
    env = {
        **app_env(store_settings, aws_endpoint),
        "DASHBOARD_LOGINS": '{"images": "a-test-password"}',
        "DASHBOARD_SESSION_KEY": "a-test-session-key-of-at-least-32-characters",
        "PREDICTOR_FUNCTION": "ml-proto-images-predictor",
        "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9",  # never called by /health
        "WORKER_LAUNCHER": "subprocess",
        "MAX_WORKERS": "0",  # this image has no worker to start
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    started = time.monotonic()
    run = docker("run", "-d", "--name", name, "--network", "host", *env_args(env), image("dashboard"))
    assert run.returncode == 0, run.stderr
    try:
        def health() -> dict | None:
            state = docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip()
            assert state == "true", docker("logs", name).stdout[-3000:] + docker("logs", name).stderr[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=3) as answer:  # noqa: S310
                    return {"status": answer.status, "body": json.loads(answer.read())}
            except OSError:
                return None

        answered = wait_until(health, timeout=120, interval=0.5, what="the dashboard container's /health")
        assert answered == {"status": 200, "body": {"status": "ok"}}, answered
        print(f"dashboard container: /health 200 after {time.monotonic() - started:.1f}s")
    finally:
        docker("rm", "-f", name, timeout=60)
