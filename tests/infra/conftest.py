"""Each stack's program runs once per session, in its own process, under Pulumi mocks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.infra.stackview import Deployment, run_program

STACKS = ("dev", "demo")


@pytest.fixture(scope="session")
def infra_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("infra")


@pytest.fixture(scope="session")
def deployments(infra_out: Path) -> dict[str, Deployment]:
    runs = {stack: run_program(stack, infra_out) for stack in STACKS}
    for stack, run in runs.items():
        assert run.error is None, f"{stack}: {run.error and run.error['traceback']}"
    return runs


@pytest.fixture(params=STACKS)
def deployment(request: pytest.FixtureRequest, deployments: dict[str, Deployment]) -> Deployment:
    """The real program run with one committed stack file (dev, then demo)."""
    return deployments[request.param]


@pytest.fixture(scope="session")
def run_with(infra_out: Path) -> Callable[..., Deployment]:
    """Run the program for a stack with config overrides (as `pulumi config set` would)."""

    def run(stack: str = "dev", secrets: tuple[str, ...] = (), **overrides: str) -> Deployment:
        return run_program(stack, infra_out, overrides, secrets)

    return run
