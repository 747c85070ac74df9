"""Benchmark 3: the realtime path. A prediction through boto3's Lambda Invoke on the local
endpoint versus the same handler and model called in-process, and a fresh instance's cold start
versus a warm invoke."""

from __future__ import annotations

import importlib
import json
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.support import free_port
from devstack.lambda_server import LambdaServer
from devstack.local_aws import local_client
from devstack.settings import REPO_ROOT

FUNCTION = "bench-predictor"


def _median_ms(call: Callable[[], Any], repeats: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def _server(model_dir: Path) -> LambdaServer:
    # As on Lambda, the function's image carries its artifact; the build cache trains it once for all servers.
    env = {"LOG_LEVEL": "WARNING", "AWS_REGION": "us-east-1"}
    server = LambdaServer(
        host="127.0.0.1", port=free_port(), apps_dir=REPO_ROOT / "apps", function_name=FUNCTION, env=env, instances=1,
        build_cache=model_dir / "lambda-build-cache",
    )
    server.start()
    return server


def _invoke(client: Any, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.invoke(FunctionName=FUNCTION, Payload=json.dumps(payload).encode())
    body = json.loads(response["Payload"].read())
    if response.get("FunctionError") or not body.get("ok"):
        raise RuntimeError(f"invoke failed: {body}")
    return body


def run(repeats: int = 200, cold_samples: int = 5) -> dict[str, Any]:
    """Latencies in ms: in-process model and handler, warm and cold invokes via the endpoint."""
    model_dir = Path(tempfile.mkdtemp(prefix="bench-model-"))
    os.environ.setdefault("MODEL_DIR", str(model_dir))  # read once, when the handler is imported
    handler_module = importlib.import_module("predictor.handler")  # trains once, caches the artifact
    model_dir = Path(os.environ["MODEL_DIR"])
    logging.getLogger().setLevel(logging.WARNING)  # the handler configured INFO for its own use
    model = importlib.import_module("predictor.model")
    record = {field.name: field.default for field in model.INPUTS}
    event = {"action": "predict", "inputs": record}
    trained = handler_module.PREDICTOR.loaded.model

    results: dict[str, Any] = {}
    results["model"] = _median_ms(lambda: model.predict(trained, record), repeats)
    results["handler"] = _median_ms(lambda: handler_module.handler(event), repeats)

    cold, init = [], []
    for _ in range(cold_samples):
        server = _server(model_dir)
        try:
            client = local_client("lambda", server.url, "us-east-1")
            started = time.perf_counter()
            body = _invoke(client, event)
            cold.append((time.perf_counter() - started) * 1000)
            init.append(body["timing_ms"]["init"])
            assert body["timing_ms"]["cold_start"] is True
        finally:
            server.stop()
    results["cold"] = (statistics.median(cold), max(cold))
    results["init"] = (statistics.median(init), max(init))

    server = _server(model_dir)
    try:
        client = local_client("lambda", server.url, "us-east-1")
        _invoke(client, event)  # warm the instance
        results["warm"] = _median_ms(lambda: _invoke(client, event), repeats)
    finally:
        server.stop()
    return results


def rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    warm = results["warm"][0]
    labels = [
        ("model", "model.predict(), in-process"),
        ("handler", "handler(event), in-process (validation + predict)"),
        ("warm", "boto3 Invoke, local endpoint, warm instance"),
        ("cold", "boto3 Invoke, local endpoint, fresh instance (cold start)"),
        ("init", "of which the instance's init (imports + model load), reported by the handler"),
    ]
    return [
        {"path": label, "median_ms": results[key][0], "p95_ms": results[key][1], "vs_warm": results[key][0] / warm}
        for key, label in labels
    ]
