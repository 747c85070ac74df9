"""Benchmark 4 in quick mode: a few simulated stakeholders do everything without one error."""

from __future__ import annotations

import pytest

from bench import load
from tests.fixtures.apps import apps_with


@pytest.mark.slow
def test_simulated_stakeholders_get_no_errors(tmp_path):
    # The fixture pair, so the load test passes whatever model and algorithm apps/ holds.
    rows = load.run(users=8, seconds=12, spawn_rate=8, apps_dir=apps_with(tmp_path / "apps"))
    failures = [row for row in rows if row["name"] == "failure"]
    assert failures == []
    done = {row["name"]: row["requests"] for row in rows}
    # Every user logs in and opens the predict page; predictions are 2 of 11 task picks, so some
    # of the ~50 picks are predictions (all 50 missing them has odds under 1 in 10,000).
    assert done["log in"] == done["open predict page"] == 8
    assert done["request prediction"] > 0 and done["poll jobs table"] > 0
    total = next(row for row in rows if row["name"] == "Aggregated")
    assert total["errors"] == 0
