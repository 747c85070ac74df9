"""Benchmark 8: from saving apps/predictor/model.py to the new model's answer in the dashboard.

A copy of the predictor's code runs behind the local Lambda endpoint (devstack.lambda_server), warm.
Each round saves model.py with a new MODEL_VERSION, then at once asks for a prediction through the
dashboard's own Lambda client (what its predict callback waits for) until an answer carries the new
version, then re-describes the model as the page does when an answer's version differs from the
form's (pages/predict.py `refresh_form`). The real model.py is never touched. Each save waits until
the endpoint has its reserves ready (the build's process and a spare instance, their libraries
imported: devstack.lambda_pool `settled`), as a developer's next save comes minutes after the last
answer, not seconds; that wait is reported too. A save sooner than that finds them still importing.
"""

from __future__ import annotations

import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from dashboard.predictor_client import PredictorClient, lambda_client

from bench.support import free_port
from devstack.lambda_server import LambdaServer
from devstack.settings import REPO_ROOT

FUNCTION = "bench-model-edit"
VERSION = re.compile(r'^MODEL_VERSION = ".*"$', re.MULTILINE)


def _copy_apps(target: Path) -> Path:
    for package in ("predictor", "jobkit"):
        shutil.copytree(REPO_ROOT / "apps" / package, target / package,
                        ignore=shutil.ignore_patterns("__pycache__", "artifacts"))
    return target / "predictor" / "model.py"


def _save(model: Path, source: str, version: str) -> float:
    """Write model.py as an editor saves it; the moment of the save (perf_counter)."""
    model.write_text(VERSION.sub(f'MODEL_VERSION = "{version}"', source))
    return time.perf_counter()


def wait_settled(server: LambdaServer, timeout: float = 120.0) -> None:
    """Wait until the endpoint has its reserves in place (the build's process and a spare instance,
    done importing), as after the minutes a developer spends between two saves."""
    deadline = time.monotonic() + timeout
    while not server.pool.settled():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the local Lambda did not settle within {timeout:g} s")
        time.sleep(0.05)


def run(edits: int = 5, region: str = "us-east-1") -> dict[str, Any]:
    """Seconds from each save to (a) the first answer carrying the new version and (b) the page's
    form header matching it (answer + describe); and (settled) how long after the previous answer
    the endpoint had its reserves ready again, which each save waits for."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-model-edit-"))
    model = _copy_apps(workdir / "apps")
    source = model.read_text()
    # As `make dev` runs it: the artifact built into the function's code, rebuilt and prewarmed on save.
    env = {"LOG_LEVEL": "WARNING", "AWS_REGION": region}
    server = LambdaServer(host="127.0.0.1", port=free_port(), apps_dir=workdir / "apps", function_name=FUNCTION,
                          env=env, instances=1, build_cache=workdir / "lambda-build-cache", prewarm=True)
    server.start()
    try:
        predictor = PredictorClient(lambda_client(region, 60.0, endpoint_url=server.url), FUNCTION)
        inputs = {field["name"]: field["default"] for field in predictor.describe()["inputs"]}
        predictor.predict(inputs)  # warm: the stakeholder has been using the page
        answers, headers, settled = [], [], []
        previous = time.perf_counter()
        for n in range(edits):
            version = f"bench-edit-{n}"
            wait_settled(server)
            settled.append(time.perf_counter() - previous)
            saved = _save(model, source, version)
            while predictor.predict(inputs).model_version != version:
                pass  # an answer from the old code: the save was not seen yet; ask again, as a click would
            answers.append(time.perf_counter() - saved)
            predictor.forget_description()
            assert predictor.describe()["model_version"] == version
            headers.append(time.perf_counter() - saved)
            previous = time.perf_counter()
            time.sleep(1.1)  # the next save gets a later mtime even on coarse-grained file systems
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return {"answer": answers, "header": headers, "settled": settled}


def rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    labels = [("answer", "first answer carrying the new MODEL_VERSION (dashboard's Lambda client)"),
              ("header", "and the form's header re-described to match it")]
    timed = [{"step": label, "median_s": statistics.median(results[key]), "max_s": max(results[key]),
              "target": "<= 2 s", "met": max(results[key]) <= 2.0} for key, label in labels]
    wait = results["settled"]
    return [*timed, {"step": "(before each save: the endpoint's reserves ready again, from the previous answer)",
                     "median_s": statistics.median(wait), "max_s": max(wait), "target": "-", "met": "-"}]
