"""Benchmark 2 in quick mode: every job succeeds and costs about six AWS calls."""

from __future__ import annotations

import pytest

from bench import drain


@pytest.mark.slow
def test_draining_costs_about_six_calls_a_job(local_aws, aws_endpoint):
    rows = drain.run(local_aws, jobs=30, worker_counts=(1, 2))
    assert [row["succeeded"] for row in rows] == [30, 30]
    single = rows[0]
    # 6 per job, plus a handful of idle polls before the worker exits.
    assert 6.0 <= single["calls_per_job"] <= 6.5
