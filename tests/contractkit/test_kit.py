"""The kit passes fixture pairs that honour every contract: each line is `ok`, the exit code 0."""

from __future__ import annotations

import pytest

from tests.contractkit.conftest import kit
from tests.fixtures.apps import CLASSIFIER, EVERY_PARAM, REGRESSOR

EXPECTED = ["INPUTS", "EXAMPLES", "train()", "serve-time imports", "cold init", "predict() on the defaults",
            "PARAMS", "INPUT", "run() on a generated table", "dashboard pre-submit check"]


@pytest.mark.parametrize("model", [CLASSIFIER, REGRESSOR], ids=["classifier", "regressor"])
def test_a_fixture_pair_passes_every_check(model):
    code, lines = kit(model, EVERY_PARAM)
    assert code == 0, "\n".join(lines)
    assert not [line for line in lines if line.startswith("FAIL")]
    for wanted in EXPECTED:
        assert any(line.startswith(f"ok   {wanted}") for line in lines), (wanted, lines)
    assert lines[-1].startswith("make check: all checks passed in ")


def test_a_missing_file_is_one_fail_line():
    code, lines = kit(CLASSIFIER.with_name("no_such_model.py"), EVERY_PARAM)
    assert code == 1
    assert lines == [f"FAIL contractkit: --model {CLASSIFIER.with_name('no_such_model.py')}: no such file. "
                     "Fix: give the path of an existing file"]
