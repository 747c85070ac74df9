"""A local twin for the client's tests: the real local stack (moto server, the local Lambda, the
dashboard, subprocess workers) running a copy of apps/ with the fixture classifier and a fixture
algorithm that raises when told to: the every-parameter algorithm, plus a rule that a table with a
column named `explode` makes it raise (a job that fails and says why)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import DevStack
from mlproto import Client
from tests.fixtures.apps import CLASSIFIER, EVERY_PARAM, apps_with
from tests.support import stack_settings

EXPLODES = '''

_every_param_run = run


def run(input_csv: bytes, params: dict[str, Any], progress: Progress) -> Result:
    """As above, but a table with a column named `explode` makes the algorithm raise."""
    if b"explode" in input_csv.split(b"\\n", 1)[0]:
        raise RuntimeError("the fixture algorithm was told to explode")
    return _every_param_run(input_csv, params, progress)
'''


@pytest.fixture(scope="session")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """The running local stack; its state folder holds target.json, as `make dev`'s does."""
    root = tmp_path_factory.mktemp("client-twin")
    algorithm = root / "exploding_algorithm.py"
    algorithm.write_text(EVERY_PARAM.read_text() + EXPLODES)
    shutil.copytree(EVERY_PARAM.parent / "samples", root / "samples")  # its SAMPLES, beside it as apps_with expects
    apps = apps_with(root / "apps", model=CLASSIFIER, algorithm=algorithm)
    settings = stack_settings(root / "state", apps_dir=apps, lambda_instances=1, extra_env={
        "WORKER_IDLE_SECONDS": "3",  # workers leave soon, so a test can find none running
        "JOB_RETRY_BACKOFF_SECONDS": "0.2",
        "RECONCILE_SECONDS": "3600",  # only the client (and the batch page) start workers here
    })
    stack = DevStack(settings)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def client(twin: DevStack) -> Client:
    return Client.local(twin.settings.state_dir, user="tester", poll_seconds=0.1)


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """A CSV the fixture algorithm takes (its declared INPUT)."""
    from tests.fixtures.algorithms import every_param
    from tests.fixtures.tables import table_for

    path = tmp_path / "parcels.csv"
    path.write_bytes(table_for(every_param, rows=12))
    return path
