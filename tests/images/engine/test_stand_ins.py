"""What `make images-test` relies on, checked without an engine: every Dockerfile takes its base
through `ARG BASE_IMAGE` (the real base as its default, the one the dashboard and worker share),
installs its lock hash-checked, and the stand-in bases lint clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.images.context import APPS, APPS_DIR, Dockerfile
from tests.images.test_dockerfiles import hadolint

ENGINE = Path(__file__).resolve().parent
DOCKERFILES = [APPS_DIR / app / "Dockerfile" for app in APPS] + [APPS_DIR / "worker" / "Dockerfile.gpu"]


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(APPS_DIR)))
def test_the_base_comes_through_an_arg_whose_default_is_the_real_base(path):
    image = Dockerfile(path)
    assert image.final_stage[0].words()[-1] in ("${BASE_IMAGE}", "$BASE_IMAGE"), f"{path}: FROM ${{BASE_IMAGE}}"
    default = image.build_args().get("BASE_IMAGE", "")
    assert default.startswith(("python:3.12.", "public.ecr.aws/lambda/python:3.12")), default
    installs = [s.args for s in image.final_stage if s.keyword == "RUN" and "pip install" in s.args]
    assert installs and all("--require-hashes" in args for args in installs), installs


def test_the_dashboard_and_the_worker_share_one_python_base():
    """run.sh reads the Python base from the worker's Dockerfile and builds both on it."""
    bases = {Dockerfile(APPS_DIR / app / "Dockerfile").build_args()["BASE_IMAGE"] for app in ("dashboard", "worker")}
    assert len(bases) == 1, bases


@pytest.mark.parametrize("name", ["python-base.Dockerfile", "lambda-base.Dockerfile"])
def test_the_stand_in_bases_lint_clean(name):
    result = hadolint(ENGINE / name)
    assert result.returncode == 0, result.stdout + result.stderr
