"""Each broken fixture makes the kit FAIL with one line naming the file and line, the declaration or
function at fault, and the fix; never a traceback."""

from __future__ import annotations

import pytest

from contractkit.workspace import shown_path
from tests.contractkit.conftest import BROKEN, failures, kit, probe
from tests.fixtures.apps import CLASSIFIER, EVERY_PARAM

MODEL_FAULTS = [
    # fixture, probe group, where (file:line), subject, what the problem says, what the fix says
    ("default_out_of_range", "model", 14, "INPUTS Number('weight')", "default 45.0 is refused",
     "set default between 0.5 and 30.0"),
    ("step_not_aligned", "model", 14, "INPUTS Number('weight')", "not on the step grid", "use a default such as 2.5"),
    ("example_invalid", "model", 18, "EXAMPLES 'Too many stops'", "stops must be between 0 and 12",
     "give stops a value INPUTS accepts"),
    ("predict_key_error", "predict", 27, "predict()", "raised KeyError: 'weight_kg' on the defaults",
     "read only the fields INPUTS declares"),
    ("webgl_chart", "predict", 26, "predict()", "trace type 'scattergl' needs WebGL", "use 'scatter'"),
    ("writes_file_in_predict", "predict", 28, "predict()", "writes a file (/tmp/contractkit-predictions.log)",
     "must not do I/O"),
    ("train_only_import", "serve", 12, "serve-time imports", "only train() uses load_iris",
     "move this import inside train()"),
    ("import_error", "model", 5, "model.py import", "raised ModuleNotFoundError",
     "add a_package_nobody_installed to apps/predictor/requirements.in, then make lock"),
]
ALGORITHM_FAULTS = [
    ("param_default_out_of_range", 16, "PARAMS Integer('top')", "default 0 is refused", "set default between 1 and 50"),
    ("resources_not_fargate", 18, "RESOURCES", "memory_gb=16 does not go with vcpu=1 on Fargate",
     "pick a Fargate size"),
    ("unpinned_import", 8, "algorithm.py imports", "the algorithm imports yaml (PyYAML), which "
     "apps/worker/requirements.txt does not pin", "add PyYAML to apps/worker/requirements.in"),
    ("run_raises", 23, "run()", "raised ZeroDivisionError: division by zero on a generated table of 3 rows",
     "run() must handle every table INPUT allows"),
    ("param_stricter_than_form", 25, "PARAMS EvenInteger('pairs')",
     "1: the dashboard's form accepts it but the worker refuses it ('Rows per pair' must be even, got 1.)",
     "declare the parameter's real limits"),
    ("reads_own_limits", 15, "INPUT", "exactly min_rows (3) rows: the dashboard accepts it but run():",
     "read the table with INPUT's own limits"),
]


def assert_named(lines: list[str], path: str, line: int, subject: str, problem: str, fix: str) -> None:
    wanted = f"FAIL {path}:{line} {subject}: "
    named = [text for text in lines if text.startswith(wanted)]
    assert named, f"no FAIL line starting {wanted!r} in {lines}"
    head, _, tail = named[0].partition(" Fix: ")
    assert problem in head and fix in tail, named[0]
    assert "Traceback" not in "\n".join(lines)


@pytest.mark.parametrize(("name", "group", "line", "subject", "problem", "fix"), MODEL_FAULTS,
                         ids=[fault[0] for fault in MODEL_FAULTS])
def test_a_broken_model_fails_naming_the_fault(name, group, line, subject, problem, fix):
    path = BROKEN / f"{name}.py"
    lines = failures(probe(group, model=path, algorithm=EVERY_PARAM))
    assert_named(lines, shown_path(path), line, subject, problem, fix)


@pytest.mark.parametrize(("name", "line", "subject", "problem", "fix"), ALGORITHM_FAULTS,
                         ids=[fault[0] for fault in ALGORITHM_FAULTS])
def test_a_broken_algorithm_fails_naming_the_fault(name, line, subject, problem, fix):
    path = BROKEN / f"{name}.py"
    lines = failures(probe("algorithm", model=CLASSIFIER, algorithm=path))
    assert_named(lines, shown_path(path), line, subject, problem, fix)


def test_a_hand_written_formula_csv_is_stored_neutralised_and_the_kit_says_so():
    findings = probe("algorithm", algorithm=BROKEN / "run_formula_csv.py")
    assert failures(findings) == []
    ran = [f.what for f in findings if f.what.startswith("run() on a generated table of 3 rows")]
    assert ran == ["run() on a generated table of 3 rows meeting INPUT: a Result the worker stores, formula-safe "
                   "CSV, charts draw without WebGL; the worker neutralised 3 formula-like cells"]


def test_a_sample_the_algorithm_declares_beside_it_is_run_and_named_when_refused(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tiny.csv").write_text("x\n1\n")
    algorithm = tmp_path / "algorithm.py"
    algorithm.write_text(EVERY_PARAM.read_text() + '\nSAMPLES = ["data/tiny.csv"]\n')
    lines = failures(probe("algorithm", algorithm=algorithm))
    assert lines == [f"FAIL {shown_path(tmp_path / 'data' / 'tiny.csv')} sample tiny.csv: run() refuses it: The "
                     "file has 1 data rows; at least 3 are needed. Fix: make the sample meet INPUT, or remove it"]


def test_a_refused_default_does_not_hide_a_fault_in_predict(tmp_path):
    """Both faults of one broken model are named in one run: predict() is still tried on records
    its fields accept when a default is out of range."""
    model = tmp_path / "model.py"
    model.write_text((BROKEN / "predict_key_error.py").read_text().replace(
        'Integer("stops", "Stops", min=0, max=12, default=1)', 'Integer("stops", "Stops", min=0, max=12, default=20)'))
    code, lines = kit(model=model, algorithm=EVERY_PARAM)
    shown = shown_path(model)
    assert code == 1
    assert any(line.startswith(f"FAIL {shown}:15 INPUTS Integer('stops'): default 20 is refused") for line in lines)
    assert any(line.startswith(f"FAIL {shown}:27 predict(): raised KeyError: 'weight_kg'") for line in lines), lines
