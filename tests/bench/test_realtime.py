"""Benchmark 3 in quick mode: cold, warm and in-process predictions all answer."""

from __future__ import annotations

import pytest

from bench import realtime


@pytest.mark.slow
def test_realtime_benchmark_measures_every_path():
    results = realtime.run(repeats=3, cold_samples=1)
    rows = realtime.rows(results)
    assert len(rows) == 5
    assert all(row["median_ms"] > 0 for row in rows)
    # A cold start includes the instance's init, which the handler reports separately.
    assert results["cold"][0] >= results["init"][0]
