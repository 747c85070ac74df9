"""`make test` judges the data scientist's own model and algorithm: the kit runs on whatever
apps/predictor/model.py and apps/worker/algorithm.py hold, and every check must pass."""

from __future__ import annotations

import pytest

from tests.contractkit.conftest import kit


@pytest.mark.slow
def test_the_model_and_algorithm_in_apps_honour_every_contract():
    code, lines = kit()
    assert code == 0, "make check fails on apps/:\n" + "\n".join(line for line in lines if not line.startswith("ok"))
    assert lines[0] == "Checking apps/predictor/model.py and apps/worker/algorithm.py"
