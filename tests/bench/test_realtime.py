"""Benchmark 3 in quick mode: cold, warm and in-process predictions all answer."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import realtime
from devstack.settings import REPO_ROOT


@pytest.mark.slow
def test_realtime_benchmark_measures_every_path(tmp_path):
    # In a process of its own: importing the handler configures that process's logging.
    script = "import json; from bench import realtime; print(json.dumps(realtime.run(repeats=3, cold_samples=1)))"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "MODEL_DIR": str(tmp_path),
                                            "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'apps'}"})
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    rows = realtime.rows(results)
    assert len(rows) == 5
    assert all(row["median_ms"] > 0 for row in rows)
    # A cold start includes the instance's init, which the handler reports separately.
    assert results["cold"][0] >= results["init"][0]
