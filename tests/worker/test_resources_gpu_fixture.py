"""The GPU fixture algorithm runs in a real worker process on this machine's CPU, and its log says so.

No GPU (and no torch) here: the job must still succeed, computed by numpy, with one JSON log line
"no GPU found, running on CPU" that carries the job's id.
"""

from __future__ import annotations

import csv
import io

import pytest
from jobkit import JobStatus

from tests.fixtures.algorithms import gpu_matmul
from tests.fixtures.tables import table_for
from tests.support import wait_until

GPU_MATMUL = "tests.fixtures.algorithms.gpu_matmul"
pytestmark = pytest.mark.timeout(120)


def test_the_gpu_fixture_runs_on_the_cpu_and_logs_that_no_gpu_was_found(store, start_worker) -> None:
    table = table_for(gpu_matmul)
    job = store.submit(owner="alice", client_token="gpu-1", input_bytes=table, params={"iterations": 30})
    worker = start_worker("--drain", WORKER_ALGORITHM=GPU_MATMUL)
    wait_until(lambda: store.get(job.job_id).status in (JobStatus.SUCCEEDED, JobStatus.FAILED), timeout=60)
    done = store.get(job.job_id)
    assert done.status == JobStatus.SUCCEEDED, done.error
    summary = store.read_summary(done)
    assert summary["metrics"]["device"] == "cpu" and summary["model_version"] == "fixture-gpu-matmul-1"
    rows = list(csv.reader(io.StringIO(store.s3.get_object(Bucket=store.settings.bucket,
                                                            Key=done.result_key)["Body"].read().decode())))
    assert rows[0][-1] == "projection" and len(rows) == len(table.decode().strip().splitlines())
    wait_until(lambda: worker.messages("no GPU found, running on CPU"), timeout=10)
    (line,) = worker.messages("no GPU found, running on CPU")
    assert line["job_id"] == job.job_id and line["device"] == "cpu" and line["gpus_wanted"] == 1
    assert line["reason"] in ("torch is not installed", "torch sees no CUDA device")
    assert line["level"] == "WARNING" and line["logger"] == "worker.gpu"
