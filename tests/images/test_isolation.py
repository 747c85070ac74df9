"""Each image's dependency set is complete and independent.

Every app runs in a fresh virtualenv holding only its own requirements.txt, with only
`jobkit/` and its own folder (copied through the build context's ignore rules) on the path:
exactly what its image holds. The dev virtualenv only hosts moto and submits jobs.
"""

from __future__ import annotations

import pytest
from jobkit import JobStatus

from contractkit.tables import column_params
from tests.conftest import app_env
from tests.fixtures.tables import table_for
from tests.images.context import APPS

DEV_ONLY = ("moto", "pytest", "hypothesis", "selenium", "locust", "pulumi", "devstack", "components")

LEAK_CHECK = """
import importlib.util, json, sys
others = {others!r}
print(json.dumps({{
    "found": [name for name in {dev_only!r} + tuple(others) if importlib.util.find_spec(name)],
    "own": importlib.util.find_spec({app!r}).origin,
    "jobkit": importlib.util.find_spec("jobkit").origin,
    "python": "%d.%d" % sys.version_info[:2],
}}))
"""

PREDICTOR_SMOKE = """
import json
from predictor import handler
described = handler.handler({"action": "describe"})
inputs = {f["name"]: f["choices"][0] if f["type"] == "choice" else f["default"] for f in described["inputs"]}
predicted = handler.handler({"action": "predict", "inputs": inputs})
print(json.dumps({"describe": described, "predict": predicted,
                  "trained_at_init": handler.PREDICTOR.loaded.trained}))
"""

DASHBOARD_SMOKE = """
import json, os, sys
from dashboard.app import server
client = server.test_client()
health = client.get("/health")
print(json.dumps({"status": health.status_code, "body": health.get_json()}))
sys.stdout.flush()
os._exit(0)  # the worker reconciler thread starts with the first request; don't wait for it
"""


@pytest.mark.slow
@pytest.mark.parametrize("app", APPS)
def test_only_its_own_code_and_dependencies_are_importable(app, app_image):
    image = app_image(app)
    others = [other for other in APPS if other != app]
    seen = image.run_json(LEAK_CHECK.format(app=app, others=others, dev_only=DEV_ONLY))
    assert seen["found"] == [], f"{app}'s image would import {seen['found']}"
    assert seen["own"].startswith(str(image.root)) and seen["jobkit"].startswith(str(image.root))


@pytest.mark.slow
def test_predictor_describes_and_predicts_in_its_own_venv(app_image):
    image = app_image("predictor")
    out = image.run_json(PREDICTOR_SMOKE)
    described, predicted = out["describe"], out["predict"]
    assert described["ok"] is True and described["inputs"], described
    assert predicted["ok"] is True, predicted
    assert predicted["model_version"] == described["model_version"]
    assert isinstance(predicted["prediction"]["label"], str) and predicted["chart"]["data"]
    # The Dockerfile's build step trained the artifact, so the handler's init only loaded it.
    assert out["trained_at_init"] is False


@pytest.mark.slow
def test_worker_runs_one_job_against_moto_in_its_own_venv(app_image, store, store_settings, aws_endpoint):
    image = app_image("worker")
    from worker import algorithm  # whatever algorithm is there: its image must run it

    data = table_for(algorithm)
    job = store.submit(owner="images", client_token="isolation", input_bytes=data,
                       input_name="points.csv", params=column_params(algorithm.PARAMS, data))
    done = image.run(["-m", "worker", "--once"], {**app_env(store_settings, aws_endpoint), "LOG_LEVEL": "INFO"})
    assert done.returncode == 0, done.stdout + done.stderr
    finished = store.get(job.job_id, consistent=True)
    assert finished.status == JobStatus.SUCCEEDED, (finished, done.stderr[-3000:])
    summary = store.read_summary(finished)
    assert summary["model_version"] == algorithm.MODEL_VERSION


@pytest.mark.slow
def test_dashboard_answers_health_through_its_wsgi_app_in_its_own_venv(app_image, store_settings, aws_endpoint):
    image = app_image("dashboard")
    env = {
        **app_env(store_settings, aws_endpoint),
        "DASHBOARD_LOGINS": '{"images": "a-test-password"}',
        "DASHBOARD_SESSION_KEY": "a-test-session-key-of-at-least-32-characters",
        "PREDICTOR_FUNCTION": "ml-proto-images-predictor",
        "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9",  # never called by /health
        "WORKER_LAUNCHER": "subprocess",
        "MAX_WORKERS": "0",  # this image has no worker to start
    }
    out = image.run_json(DASHBOARD_SMOKE, env)
    assert out == {"status": 200, "body": {"status": "ok"}}
