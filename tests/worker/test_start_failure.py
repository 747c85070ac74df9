"""A batch algorithm that cannot start is loud: the file, the error and the fix, published to the
job table for the dashboard and the terminal; the worker backs off (and says so) instead of
crash-looping, and restarts as soon as the code is fixed."""

from __future__ import annotations

import shutil
import sys
import uuid
from pathlib import Path

import pytest
from jobkit import JobStatus
from worker.__main__ import retry_wait
from worker.failure_streak import FailureStreak
from worker.interface import load_algorithm
from worker.settings import WorkerSettings
from worker.start_failure import explain

from tests.fixtures.apps import FIXTURES
from tests.support import wait_until
from tests.worker.conftest import REPO_ROOT

MISSING_MODULE = FIXTURES / "broken" / "algorithm_missing_module.py"
WORKING = REPO_ROOT / "tests" / "worker" / "trivial_algorithm.py"


def module_in(folder: Path, source: str) -> str:
    """A module named uniquely, written under `folder` (on sys.path), holding `source`."""
    name = f"algo_{uuid.uuid4().hex[:8]}"
    (folder / f"{name}.py").write_text(source)
    return name


@pytest.fixture
def code_dir(tmp_path: Path):
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))


def failure_of(module: str):
    with pytest.raises(Exception) as raised:  # noqa: PT011 - whatever the broken module raises
        load_algorithm(module)
    return explain(raised.value, module)


def test_a_missing_package_names_the_file_the_line_and_the_requirements_to_edit(code_dir):
    module = module_in(code_dir, "import math\nimport sklearn_nobody_has.cluster\n")
    failure = failure_of(module)
    assert (failure.kind, failure.line) == ("import", 2)
    assert failure.file == str(code_dir / f"{module}.py")
    assert failure.error == "ModuleNotFoundError: No module named 'sklearn_nobody_has'"
    assert failure.fix == "add sklearn_nobody_has to apps/worker/requirements.in, then make lock"


def test_an_import_name_is_turned_into_its_package_name(code_dir):
    module = module_in(code_dir, "import sys\nsys.modules['sklearn'] = None\nimport sklearn\n")
    failure = failure_of(module)
    assert failure.fix == "add scikit-learn to apps/worker/requirements.in, then make lock"


def test_a_syntax_error_names_its_line(code_dir):
    module = module_in(code_dir, "MODEL_VERSION = 'x'\n\ndef run(:\n    pass\n")
    failure = failure_of(module)
    assert (failure.kind, failure.line) == ("syntax", 3)
    assert failure.error.startswith("SyntaxError: ") and "line 3" in failure.fix


def test_an_error_at_import_names_the_algorithms_own_line(code_dir):
    module = module_in(code_dir, "MODEL_VERSION = 'x'\nTABLE = {}\nLIMIT = TABLE['rows']\n")
    failure = failure_of(module)
    assert (failure.kind, failure.line, failure.error) == ("load", 3, "KeyError: 'rows'")
    assert failure.sentence() == f"KeyError: 'rows' ({code_dir / module}.py line 3). Fix: fix {code_dir / module}.py" \
                                 " at line 3."


def test_a_file_of_the_worker_is_named_as_the_repository_names_it(code_dir):
    module = module_in(code_dir, "import x_missing_module\n")
    (code_dir / "worker").mkdir()
    shutil.move(code_dir / f"{module}.py", code_dir / "worker" / "algorithm.py")
    (code_dir / "worker" / "__init__.py").write_text("")
    from worker.start_failure import repo_path

    assert repo_path(str(code_dir / "worker" / "algorithm.py")) == "apps/worker/algorithm.py"


def test_each_failure_in_a_row_waits_twice_as_long_up_to_a_cap():
    settings = WorkerSettings(store=None, idle_seconds=60)  # type: ignore[arg-type]
    assert [retry_wait(settings, n) for n in (1, 2, 3, 4, 5, 6)] == [60, 120, 240, 480, 900, 900]


def test_a_broken_worker_publishes_why_backs_off_and_restarts_once_fixed(store, start_worker, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    shutil.copyfile(MISSING_MODULE, code / "broken_algo.py")
    env = {"PYTHONPATH": f"{REPO_ROOT}:{code}", "WORKER_ALGORITHM": "broken_algo", "WORKER_IDLE_SECONDS": "1"}

    first = start_worker("--drain", **env)
    assert first.popen.wait(timeout=60) == 2  # gave up after its wait: no job is claimed meanwhile
    failure = store.read_start_failure()
    assert failure is not None, first.log_path.read_text()[-2000:]
    assert (failure["kind"], failure["line"], failure["failures"]) == ("import", 5, 1)
    assert failure["error"] == "ModuleNotFoundError: No module named 'a_package_nobody_installed'"
    assert failure["fix"] == "add a_package_nobody_installed to apps/worker/requirements.in, then make lock"
    (said,) = [line for line in first.lines() if line["message"].startswith("the batch algorithm cannot start")]
    assert said["level"] == "ERROR" and said["file"].endswith("broken_algo.py")
    assert first.messages("waiting for a fix before exiting")[0]["wait_seconds"] == 1

    second = start_worker("--drain", **{**env, "WORKER_IDLE_SECONDS": "30"})
    wait_until(lambda: second.messages("waiting for a fix before exiting"), timeout=60, what="the second wait")
    assert second.messages("waiting for a fix before exiting")[0]["wait_seconds"] == 60  # doubled: backing off
    assert store.read_start_failure()["failures"] == 2
    job = store.submit(owner="alice", client_token="waits", input_bytes=b"waits\n1,2\n")
    assert store.get(job.job_id).status is JobStatus.PENDING

    shutil.copyfile(WORKING, code / "broken_algo.py")  # the fix: the waiting worker restarts at once
    wait_until(lambda: store.get(job.job_id).status is JobStatus.SUCCEEDED, timeout=60, interval=0.2,
               what="the fixed worker to run the job")
    assert store.read_start_failure() is None  # its start published the description and forgot the failure
    assert second.messages("code changed; restarting")


class Boom(RuntimeError):
    pass


def test_an_algorithm_that_fails_every_job_is_published_and_cleared_by_a_success(store):
    streak = FailureStreak(store, "worker.algorithm")
    for job_id in ("a", "a", "a"):
        streak.failed(job_id, Boom("one bad input"))
    assert store.read_start_failure() is None  # one job failing its attempts is that job's problem
    streak.succeeded()
    for job_id in ("a", "b", "c"):
        try:
            raise Boom("division by zero")
        except Boom as error:
            streak.failed(job_id, error)
    failure = store.read_start_failure()
    assert failure["kind"] == "every_job" and failure["error"].startswith("Boom: division by zero (the last 3")
    assert failure["file"].endswith("test_start_failure.py") and failure["line"]
    streak.succeeded()
    assert store.read_start_failure() is None


def test_a_worker_waiting_for_a_missing_package_restarts_once_it_is_installed(store, start_worker, tmp_path):
    code, site = tmp_path / "code", tmp_path / "site"
    code.mkdir()
    site.mkdir()
    (code / "needs_pkg.py").write_text(WORKING.read_text() + "\nimport late_package_xyz  # noqa: E402, F401\n")
    worker = start_worker("--drain", PYTHONPATH=f"{REPO_ROOT}:{code}:{site}", WORKER_ALGORITHM="needs_pkg",
                          WORKER_IDLE_SECONDS="60")
    wait_until(lambda: worker.messages("waiting for a fix before exiting"), timeout=60, what="the wait")
    job = store.submit(owner="alice", client_token="after-install", input_bytes=b"after\n1,2\n")
    (site / "late_package_xyz.py").write_text("")  # as `pip install` would put it on the path
    wait_until(lambda: store.get(job.job_id).status is JobStatus.SUCCEEDED, timeout=60, interval=0.2,
               what="the worker to restart and run the job")
    assert worker.messages("code changed; restarting")[0]["files"] == ["(the missing package is installed now)"]
