"""The shipped model trained once for the example's own tests (replace along with the example)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.predictor.lambda_support import readable_dir


@pytest.fixture(scope="session")
def example_model_dir() -> Iterator[Path]:
    from predictor import artifact, model

    path = readable_dir("example-model-")
    artifact.load_or_train(model, path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def trained(example_model_dir: Path):
    """The shipped model, fitted (from its artifact)."""
    from predictor import artifact, model

    return artifact.load_or_train(model, example_model_dir).model
