"""A model whose train() loads a file kept under apps/predictor/pretrained/: the local Lambda holds
exactly the files the image holds, serves the pre-trained weights, and retrains when they change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.fixtures.apps import FIXTURES, apps_with
from tests.images.context import stage
from tests.predictor.lambda_support import invoke, lambda_client, readable_dir, start_server
from tests.support import wait_until

PRETRAINED = FIXTURES / "models" / "pretrained.py"


def image_files(root: Path) -> set[str]:
    """The code files an image folder holds (what the build step writes left out)."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and "artifacts" not in p.parts}


def test_a_pretrained_file_ships_in_the_local_lambda_as_in_the_image_and_an_edit_retrains(tmp_path):
    root = readable_dir("pretrained-")
    try:
        apps = apps_with(root / "apps", model=PRETRAINED, algorithm=None)
        weights = apps / "predictor" / "pretrained" / "weights.json"
        weights.parent.mkdir()
        weights.write_text(json.dumps({"weight": 3.0}))
        (apps / "predictor" / "data").mkdir()
        (apps / "predictor" / "data" / "training-set.csv").write_text("x,y\n1,3\n")  # stays out of both

        staged = image_files(stage("predictor", tmp_path / "staged", context=apps))
        assert "predictor/pretrained/weights.json" in staged
        assert "predictor/data/training-set.csv" not in staged

        server = start_server(apps, log_path=tmp_path / "predictor.log", instances=1)
        try:
            client = lambda_client(server.url)
            first = invoke(client, {"action": "predict", "inputs": {"x": 2.0}})
            assert first.function_error is None and first.body["prediction"]["value"] == 6.0, first.body
            [image] = [p for p in server.pool.workdir.iterdir() if (p / "predictor" / "model.py").exists()]
            assert image_files(image) == staged  # one ignore list: exactly the image's files

            weights.write_text(json.dumps({"weight": 5.0}))  # new weights, model.py untouched
            def reanswered():
                reply = invoke(client, {"action": "predict", "inputs": {"x": 2.0}})
                return reply.body["prediction"]["value"] == 10.0 and reply
            wait_until(reanswered, timeout=60, what="the new weights to be served")
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
