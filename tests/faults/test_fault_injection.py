"""With 20% of DynamoDB and S3 calls failing transiently, every job still succeeds once."""

from __future__ import annotations

import pytest

from bench.faults import run_drill


@pytest.mark.slow
def test_jobs_survive_a_fifth_of_aws_calls_failing(local_aws, aws_endpoint, tmp_path):
    result = run_drill(local_aws, jobs=24, workers=3, rate=0.2, seed=11, log_dir=tmp_path)
    print(
        f"\nfault drill: calls {result.calls}, injected {sum(result.injected.values())} {result.injected}, "
        f"jobs submitted {result.submitted}, succeeded {result.succeeded}, "
        f"lost {result.lost}, duplicated {result.duplicated}, algorithm runs {result.runs}"
    )
    assert sum(result.injected.values()) > 0.1 * result.calls  # faults really were injected
    assert set(result.injected) == {"throttle", "server_error", "reset_before", "reset_after"}
    assert result.submitted == 24
    assert result.succeeded == 24
    assert result.runs >= 24  # every run was recorded, so a job run twice would count as duplicated
    assert (result.lost, result.duplicated, result.failed) == (0, 0, 0)
