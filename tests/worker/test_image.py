"""The worker's Dockerfile (no Docker engine here: check its shape; tests/images lints it)."""

from __future__ import annotations

import importlib.metadata
import re
import sys

from bench.image_sizes import requirement_lines
from tests.images.context import Dockerfile
from tests.worker.conftest import REPO_ROOT

APPS = REPO_ROOT / "apps"
DOCKERFILE = APPS / "worker" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    return [(step.keyword, step.args) for step in Dockerfile(DOCKERFILE).instructions]


def test_pinned_slim_base_dependencies_before_code_non_root_drain_by_default():
    steps = instructions()
    assert re.fullmatch(r"python:3\.12\.\d+-slim(-\w+)?", Dockerfile(DOCKERFILE).base_image())
    steps = steps[next(i for i, (k, _) in enumerate(steps) if k == "FROM"):]
    install = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "pip install" in a)
    code = [i for i, (k, a) in enumerate(steps) if k == "COPY" and "requirements" not in a]
    assert "worker/requirements.txt" in steps[install - 1][1] and install < min(code)
    assert {a.split()[0] for k, a in steps if k == "COPY"} == {"worker/requirements.txt", "jobkit/", "worker/"}
    # every COPY source exists in the build context (apps/)
    assert all((APPS / a.split()[0]).exists() for k, a in steps if k == "COPY")
    users = [(i, a) for i, (k, a) in enumerate(steps) if k == "USER"]
    assert users and users[-1][1] not in ("root", "0") and users[-1][0] > max(code)
    assert steps[-2:] == [("ENTRYPOINT", '["python", "-m", "worker"]'), ("CMD", '["--drain"]')]


def test_requirements_are_pinned_and_cover_what_the_worker_imports():
    """Whatever the algorithm imports must come from a pin in apps/worker/requirements.txt (any
    algorithm: a new dependency passes once it is pinned, not only the example's numpy and sklearn)."""
    lines = requirement_lines(APPS / "worker" / "requirements.txt")
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][^\s]*", line) for line in lines), lines
    pinned = {canonical(line.split("==")[0]) for line in lines}
    assert "boto3" in pinned  # jobkit's only dependency
    imported = set()
    for source in (APPS / "worker").rglob("*.py"):
        imported |= set(re.findall(r"^\s*(?:from|import) (\w+)", source.read_text(), re.MULTILINE))
    third_party = imported - set(sys.stdlib_module_names) - {"__future__", "worker", "jobkit"}
    uncovered = {name: providers(name) for name in third_party if not providers(name) & pinned}
    assert not uncovered, f"imported but not pinned in apps/worker/requirements.txt: {uncovered}"
    assert not {"boto3", "botocore"} & third_party  # AWS only through jobkit


def canonical(distribution: str) -> str:
    """A distribution's name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def providers(module: str) -> set[str]:
    """The installed distributions that provide a top-level module (sklearn -> scikit-learn)."""
    return {canonical(name) for name in importlib.metadata.packages_distributions().get(module, [])}


def test_the_build_context_sends_only_the_worker_and_the_contract():
    ignore = (APPS / "worker" / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*"
    assert {"!jobkit", "!worker", "**/__pycache__"} <= set(rules)
