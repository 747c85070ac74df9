"""The model artifact cache and the handler's once-per-instance init (no server), on the fixture
classifier in a copy of apps/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from predictor import artifact

from tests.fixtures.models import classifier as model

RECORD = {"weight_kg": 1.0, "stops": 0, "carrier": "air", "priority": 1}


@pytest.fixture
def run_python(fixture_apps: Path):
    """Run `code` in a fresh interpreter on the copy of apps/ holding the fixture classifier."""
    def run(code: str, model_dir: Path, **kwargs) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(fixture_apps), "MODEL_DIR": str(model_dir)}
        return subprocess.run([sys.executable, *kwargs.pop("argv", ["-c", textwrap.dedent(code)])], env=env,
                              capture_output=True, text=True, timeout=120, **kwargs)
    return run


def test_a_missing_artifact_is_trained_once_then_loaded(tmp_path, caplog):
    caplog.set_level("INFO", logger="predictor.artifact")
    first = artifact.load_or_train(model, tmp_path)
    assert first.trained and first.path.exists() and first.path.parent == tmp_path
    assert model.MODEL_VERSION in first.path.name
    assert any(r.message == "model trained and cached" for r in caplog.records)
    second = artifact.load_or_train(model, tmp_path)
    assert not second.trained and second.path == first.path
    assert second.model == first.model
    assert [p.name for p in tmp_path.iterdir()] == [first.path.name]  # no temp files left


def test_a_new_version_or_an_edit_of_train_gets_its_own_artifact(tmp_path):
    source = tmp_path / "model_copy.py"
    source.write_text(Path(model.__file__).read_text())
    copy = types.ModuleType("model_copy")
    copy.__file__ = str(source)
    copy.MODEL_VERSION = model.MODEL_VERSION
    same = artifact.artifact_path(copy, tmp_path)
    assert same.name == artifact.artifact_path(model, tmp_path).name
    copy.MODEL_VERSION = model.MODEL_VERSION + "-next"
    assert artifact.artifact_path(copy, tmp_path) != same
    copy.MODEL_VERSION = model.MODEL_VERSION
    source.write_text(source.read_text() + "\n# tweaked\n")
    assert artifact.artifact_path(copy, tmp_path) == same  # a comment trains nothing new
    source.write_text(source.read_text().replace('"weight": 0.01', '"weight": 0.02'))  # train()'s code
    assert artifact.artifact_path(copy, tmp_path) != same


def test_an_unwritable_model_dir_still_serves_a_model(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    loaded = artifact.load_or_train(model, blocked / "models")
    assert loaded.trained and not loaded.path.exists()
    assert model.predict(loaded.model, RECORD).value == "on time"


def test_the_build_step_trains_into_model_dir(tmp_path, run_python):
    result = run_python("", tmp_path, argv=["-m", "predictor.artifact"])
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.exists() and path.parent == tmp_path
    # the artifact an instance of this code looks for (its key counts the requirements beside
    # predictor/model.py, so it is computed where the model is that copy's predictor.model)
    looked_for = run_python("from predictor import artifact, model; from pathlib import Path; import os; "
                            "print(artifact.artifact_path(model, Path(os.environ['MODEL_DIR'])))", tmp_path)
    assert looked_for.returncode == 0, looked_for.stderr
    assert Path(looked_for.stdout.strip()) == path
    assert path.name.startswith(model.MODEL_VERSION + "-")


def test_the_build_step_writes_an_artifact_every_user_can_read(tmp_path, run_python):
    # The image build runs as root; Lambda runs the code as another user, who must read the artifact
    # (NamedTemporaryFile makes 0600 files) and enter its folders, whatever the build's umask.
    model_dir = tmp_path / "models" / "v1"
    result = run_python("", model_dir, argv=["-m", "predictor.artifact"], umask=0o077)
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.parent == model_dir
    assert path.stat().st_mode & 0o777 == 0o644
    for folder in (model_dir, model_dir.parent):
        assert folder.stat().st_mode & 0o777 == 0o755, folder


def test_init_happens_once_and_the_model_is_never_reloaded(model_dir, run_python):
    result = run_python(
        """
        import json, sys
        import predictor.handler as h
        import predictor.artifact as a
        def no_reload(*args, **kwargs):
            raise AssertionError("the model was loaded again during an invoke")
        a.load_or_train = no_reload
        h.Predictor.load = no_reload
        first = h.handler({"action": "describe"}, None)
        second = h.handler({"action": "predict", "inputs": RECORD}, None)
        print(json.dumps({"first": first["timing_ms"], "second": second["timing_ms"],
                          "trained": h.PREDICTOR.loaded.trained,
                          "value": second["prediction"]["value"]}))
        """.replace("RECORD", repr(RECORD)),
        model_dir,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["first"]["cold_start"] is True and out["second"]["cold_start"] is False
    assert out["first"]["init"] == out["second"]["init"] > 0
    assert out["trained"] is False
    assert out["value"] == "on time"
    logs = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    init = [line for line in logs if line["message"] == "predictor initialised"]
    assert len(init) == 1 and init[0]["init_ms"] == out["first"]["init"]
    invokes = [line for line in logs if line["message"] == "invoke"]
    assert [line["cold_start"] for line in invokes] == [True, False]
    assert all(line["request_id"] and line["level"] == "INFO" for line in invokes)


def test_a_model_crash_is_logged_with_the_request_id_and_raised(model_dir, run_python):
    result = run_python(
        """
        import types
        import predictor.handler as h
        def broken(model, record):
            raise ZeroDivisionError("boom")
        h.PREDICTOR.model_module.predict = broken
        context = types.SimpleNamespace(aws_request_id="req-123")
        try:
            h.handler({"action": "predict", "inputs": RECORD}, context)
        except ZeroDivisionError:
            print("raised")
        """.replace("RECORD", repr(RECORD)),
        model_dir,
    )
    assert result.stdout.strip() == "raised", result.stderr
    logs = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    failure = [line for line in logs if line["level"] == "ERROR"]
    assert len(failure) == 1
    assert failure[0]["request_id"] == "req-123" and "ZeroDivisionError: boom" in failure[0]["exception"]
