"""Predictor fixtures: one trained artifact per run, and a local Lambda on the real apps folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.lambda_server import LambdaServer
from tests.predictor.lambda_support import APPS, lambda_client, readable_dir, start_server


@pytest.fixture(scope="session")
def model_dir() -> Iterator[Path]:
    """A MODEL_DIR holding the example model, trained once for the whole run (readable by the
    local Lambda's instance user, as the image's artifact is by Lambda's)."""
    from predictor import artifact, model

    path = readable_dir("predictor-model-")
    artifact.load_or_train(model, path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def trained(model_dir: Path):
    """The very model object the predictor's instances load (same artifact file)."""
    from predictor import artifact, model

    loaded = artifact.load_or_train(model, model_dir)
    assert not loaded.trained
    return loaded.model


@pytest.fixture(scope="module")
def predictor_server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LambdaServer]:
    server = start_server(APPS, model_dir, log_path=tmp_path_factory.mktemp("logs") / "predictor.log", instances=2)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(predictor_server: LambdaServer):
    return lambda_client(predictor_server.url)
