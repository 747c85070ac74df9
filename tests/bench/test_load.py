"""Benchmark 4 in quick mode: a few simulated stakeholders do everything without one error."""

from __future__ import annotations

import pytest

from bench import load


@pytest.mark.slow
def test_simulated_stakeholders_get_no_errors():
    rows = load.run(users=6, seconds=10, spawn_rate=6)
    failures = [row for row in rows if row["name"] == "failure"]
    assert failures == []
    names = {row["name"] for row in rows}
    assert {"log in", "open predict page", "poll jobs table", "Aggregated"} <= names
    total = next(row for row in rows if row["name"] == "Aggregated")
    assert total["requests"] > 20 and total["errors"] == 0
