"""The real `make check` target: CHECK_ARGS picks the pair; a broken pair fails naming the fault."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.contractkit.conftest import BROKEN
from tests.fixtures.apps import EVERY_PARAM

REPO = Path(__file__).resolve().parents[2]


def make_check(args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "check", f"CHECK_ARGS={args}"], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "MAKEFLAGS": ""})


@pytest.mark.slow
def test_make_check_fails_on_a_broken_pair_naming_the_function_and_the_fix():
    done = make_check(f"--model {BROKEN / 'predict_key_error.py'} --algorithm {EVERY_PARAM}")
    assert done.returncode != 0
    fails = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 1, done.stdout
    assert ":27 predict(): raised KeyError: 'weight_kg' on the defaults" in fails[0]
    assert "Fix: read only the fields INPUTS declares" in fails[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert "make check: 1 check(s) FAILED" in done.stdout


@pytest.mark.slow
def test_make_check_passes_on_a_good_pair():
    done = make_check(f"--model {BROKEN.parent / 'models' / 'regressor.py'} --algorithm {EVERY_PARAM}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "make check: all checks passed" in done.stdout
