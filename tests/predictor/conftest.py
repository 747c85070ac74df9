"""Predictor fixtures: the fixture classifier trained once per run, and a local Lambda running it
in a copy of apps/ (never the data scientist's own model.py: ARCHITECTURE.md principle 7)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.lambda_server import LambdaServer
from tests.fixtures.apps import apps_with
from tests.fixtures.models import classifier
from tests.predictor.lambda_support import lambda_client, readable_dir, start_server


@pytest.fixture(scope="session")
def fixture_apps() -> Iterator[Path]:
    """A copy of apps/ whose predictor/model.py is the fixture classifier (readable by the local
    Lambda's instance user)."""
    root = readable_dir("predictor-apps-")
    yield apps_with(root / "apps", algorithm=None)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def model_dir() -> Iterator[Path]:
    """A MODEL_DIR holding the fixture classifier's artifact, trained once for the whole run; the
    copy's model.py has the same source, so its instances load this artifact and do not train."""
    from predictor import artifact

    path = readable_dir("predictor-model-")
    artifact.load_or_train(classifier, path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def trained(model_dir: Path):
    """The very model object the predictor's instances load (same artifact file)."""
    from predictor import artifact

    loaded = artifact.load_or_train(classifier, model_dir)
    assert not loaded.trained
    return loaded.model


@pytest.fixture(scope="module")
def predictor_server(fixture_apps: Path, model_dir: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[LambdaServer]:
    server = start_server(fixture_apps, model_dir, log_path=tmp_path_factory.mktemp("logs") / "predictor.log",
                          instances=2)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(predictor_server: LambdaServer):
    return lambda_client(predictor_server.url)
