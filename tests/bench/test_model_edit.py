"""Benchmarks 8 and 10 in quick mode: every save of a copy of model.py reaches an answer, the real one
untouched; with a model that trains for seconds, only a train() edit retrains and no prediction fails."""

from __future__ import annotations

import hashlib

import pytest

from bench import model_edit, slow_model
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


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_retrain_benchmark_retrains_only_for_the_train_edit_and_fails_no_prediction(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    results = model_edit.run_retrain(edits=1)
    assert results["trainings"] == [2]  # the first build and the train() edit; not the predict() edit
    [train] = results["train"]
    assert train >= slow_model.TRAIN_SECONDS * 0.99  # the training lasts what it says
    [(answered, failed)] = results["during"]
    assert answered > 0 and failed == 0 and results["failed_in_loop"] == [0, 0]
    [train_edit] = results["train_edit"]
    assert train_edit >= train  # the new answer came from the retrained model
    rows = model_edit.retrain_rows(results)
    assert rows[-1]["met"] is True and rows[-1]["target"] == "0"


def test_the_retrain_rows_judge_each_target():
    results = {"predict_edit": [0.4, 1.2], "train_edit": [5.5, 6.4], "train": [5.0, 5.2], "during": [(40, 0), (35, 1)],
               "failed_in_loop": [0, 0, 0, 0], "trainings": [3]}
    rows = model_edit.retrain_rows(results)
    assert [row["met"] for row in rows] == [False, False, "-", False, False]
    assert rows[3]["max"] == pytest.approx(1.2)
    assert "1 of 77" in rows[-1]["step"]
