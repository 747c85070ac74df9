"""`--watch`: a local worker restarts itself when its code changes, so edits take effect at once."""

from __future__ import annotations

import shutil
import signal

from jobkit import JobStatus

from tests.support import wait_until
from tests.worker.conftest import REPO_ROOT


def test_watch_restarts_on_a_code_edit_and_runs_the_edited_algorithm(store, start_worker, tmp_path):
    apps = tmp_path / "apps"
    for package in ("worker", "jobkit"):
        shutil.copytree(REPO_ROOT / "apps" / package, apps / package, ignore=shutil.ignore_patterns("__pycache__"))
    # The fixture algorithm stands in for whatever apps/worker/algorithm.py the data scientist ships.
    shutil.copyfile(REPO_ROOT / "tests" / "worker" / "trivial_algorithm.py", apps / "worker" / "algorithm.py")
    worker = start_worker("--watch", PYTHONPATH=f"{apps}:{REPO_ROOT}", WORKER_ALGORITHM="worker.algorithm")
    [started] = wait_until(lambda: worker.messages("worker started"), timeout=60, what="the worker to start")
    assert started["model_version"] == "trivial-1"

    algorithm = apps / "worker" / "algorithm.py"
    source = algorithm.read_text()
    algorithm.write_text(source.replace(f'MODEL_VERSION = "{started["model_version"]}"', 'MODEL_VERSION = "edited-1"'))
    restarted = wait_until(
        lambda: worker.messages("worker started")[1:], timeout=60, what="the worker to restart itself"
    )[0]
    assert restarted["model_version"] == "edited-1"
    changed = worker.messages("code changed; restarting")[0]
    assert changed["files"] == [str(algorithm)]
    # os.execv: the same process, a new run of the code.
    assert restarted["worker_id"].split("-")[-2] == started["worker_id"].split("-")[-2] == str(worker.pid)

    # A broken edit is reported, and the worker waits for the fix instead of exiting.
    algorithm.write_text(source.replace("def run(", "def run(:"))
    wait_until(lambda: worker.messages("cannot load the algorithm module"), timeout=60, what="the error")
    assert worker.popen.poll() is None
    algorithm.write_text(source.replace(f'MODEL_VERSION = "{started["model_version"]}"', 'MODEL_VERSION = "edited-1"'))
    wait_until(lambda: worker.messages("worker started")[2:], timeout=60, what="the worker to start again")

    job = store.submit(owner="alice", client_token="after-edit", input_bytes=b"a,b\n1,2\n")
    wait_until(lambda: store.get(job.job_id).status is JobStatus.SUCCEEDED, timeout=60, what="the job")
    assert store.get(job.job_id).model_version == "edited-1"
    assert store.read_summary(store.get(job.job_id))["model_version"] == "edited-1"

    worker.popen.send_signal(signal.SIGTERM)
    assert worker.popen.wait(timeout=10) == 0
