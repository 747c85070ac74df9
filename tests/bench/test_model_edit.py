"""Benchmark 8 in quick mode: every save of a copy of model.py reaches an answer, the real one untouched."""

from __future__ import annotations

import hashlib

import pytest

from bench import model_edit
from devstack.settings import REPO_ROOT


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_model_edit_benchmark_times_each_save_to_the_new_answer(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")  # the local endpoint does not check them; boto3 must sign
    real = REPO_ROOT / "apps" / "predictor" / "model.py"
    before = hashlib.sha256(real.read_bytes()).hexdigest()
    results = model_edit.run(edits=2)
    assert hashlib.sha256(real.read_bytes()).hexdigest() == before
    assert len(results["answer"]) == len(results["header"]) == len(results["settled"]) == 2
    assert all(0 < answer <= header for answer, header in zip(results["answer"], results["header"], strict=True))
    assert all(wait > 0 for wait in results["settled"])
    timed = model_edit.rows(results)[:2]
    assert [row["met"] for row in timed] == [max(results[k]) <= 2.0 for k in ("answer", "header")]
