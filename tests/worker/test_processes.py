"""Real `python -m worker` processes against moto's server: draining, crashes, stops, poison."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from jobkit import JobStatus, JobStore, schema

from tests.support import wait_until
from tests.worker.conftest import runs


def submit(store: JobStore, token: str, **params) -> str:
    job = store.submit(owner="alice", client_token=token, input_bytes=f"{token}\n1,2\n".encode(), params=params)
    return job.job_id


def result_keys(store: JobStore) -> Counter[str]:
    keys: Counter[str] = Counter()
    paginator = store.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=store.settings.bucket, Prefix=schema.JOBS_PREFIX):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def settled(store: JobStore, job_ids: list[str]) -> bool:
    return all(not store.get(job_id).status.is_active for job_id in job_ids)


@pytest.mark.slow
def test_four_workers_drain_200_jobs_each_exactly_once(store, start_worker, runs_log):
    with ThreadPoolExecutor(8) as pool:
        job_ids = list(pool.map(lambda n: submit(store, f"job-{n:03d}"), range(200)))
    workers = [start_worker("--drain", WORKER_IDLE_SECONDS="1") for _ in range(4)]

    for worker in workers:
        assert worker.popen.wait(timeout=120) == 0, worker.log_path.read_text()[-2000:]

    jobs = store.list_recent(limit=1000).items
    assert len(jobs) == 200
    assert Counter(job.status for job in jobs) == {JobStatus.SUCCEEDED: 200}
    assert all(job.attempts == 1 for job in jobs)
    keys = result_keys(store)
    done = {job.job_id: job for job in jobs}
    for job_id in job_ids:
        assert keys[done[job_id].result_key] == 1
        assert keys[done[job_id].summary_key] == 1
    assert sum(key.endswith("/" + schema.RESULT_NAME) for key in keys) == 200  # one result per job, no strays
    first = store.get(job_ids[0])
    assert store.s3.get_object(Bucket=store.settings.bucket, Key=first.result_key)["Body"].read() == (
        b"job-000\n1,2\ndone\n"
    )
    # No job ran twice: the algorithm saw each input once, and each job was claimed once.
    assert Counter(runs(runs_log)) == {f"job-{n:03d}": 1 for n in range(200)}
    claims = [line["job_id"] for worker in workers for line in worker.messages("job claimed")]
    assert sorted(claims) == sorted(job_ids)
    # Every log line about a job carries its id.
    for worker in workers:
        for line in worker.lines():
            assert not line.get("unparsed"), line
            if line["message"].startswith("job "):
                assert len(line.get("job_id", "")) == 32, line


def test_a_killed_workers_job_is_completed_by_another_after_its_lease(store, start_worker, tmp_path):
    marker = tmp_path / "started"
    job_id = submit(store, "blocked", behaviour="block_once", marker=str(marker), seconds=60)
    first = start_worker("--drain", JOB_LEASE_SECONDS="2")
    wait_until(marker.exists, timeout=30, what="the first worker to start the job")
    assert store.get(job_id).status is JobStatus.RUNNING

    first.popen.send_signal(signal.SIGKILL)
    first.popen.wait(timeout=5)
    killed_at = time.monotonic()
    second = start_worker("--drain", JOB_LEASE_SECONDS="2", WORKER_IDLE_SECONDS="5")
    wait_until(lambda: store.get(job_id).status is JobStatus.SUCCEEDED, timeout=30, what="the job to succeed")

    job = store.get(job_id)
    assert job.attempts == 2  # the killed attempt counts
    claimed = second.messages("job claimed")
    assert [line["job_id"] for line in claimed] == [job_id]
    assert time.monotonic() - killed_at < 15
    assert not first.messages("job finished")  # the first worker never got to finish it


def test_sigterm_releases_the_job_and_exits_promptly(store, start_worker, tmp_path):
    marker = tmp_path / "started"
    job_id = submit(store, "interrupted", behaviour="block_once", marker=str(marker), seconds=60)
    first = start_worker("--drain")
    wait_until(marker.exists, timeout=30, what="the first worker to start the job")

    sent = time.monotonic()
    first.popen.send_signal(signal.SIGTERM)
    assert first.popen.wait(timeout=10) == 0
    assert time.monotonic() - sent < 5
    released = store.get(job_id, consistent=True)
    assert released.status is JobStatus.PENDING
    assert released.attempts == 0  # a release does not spend an attempt
    assert [line["job_id"] for line in first.messages("job released")] == [job_id]

    second = start_worker("--drain", WORKER_IDLE_SECONDS="1")
    assert second.popen.wait(timeout=30) == 0
    done = store.get(job_id)
    assert done.status is JobStatus.SUCCEEDED
    assert done.attempts == 1
    assert [line["job_id"] for line in second.messages("job claimed")] == [job_id]


def test_sigterm_while_idle_exits_at_once(start_worker):
    worker = start_worker("--watch")
    wait_until(lambda: worker.messages("worker started"), timeout=30, what="the worker to start")
    worker.popen.send_signal(signal.SIGTERM)
    assert worker.popen.wait(timeout=5) == 0
    assert worker.messages("worker stopping")[0]["reason"] == "SIGTERM"


def test_a_poison_job_fails_after_its_attempts_and_the_others_complete(store, start_worker, runs_log):
    poison = submit(store, "poison", behaviour="raise")
    others = [submit(store, f"fine-{n}") for n in range(6)]
    workers = [start_worker("--drain", WORKER_IDLE_SECONDS="1.5") for _ in range(2)]
    for worker in workers:
        assert worker.popen.wait(timeout=60) == 0

    job = store.get(poison)
    assert job.status is JobStatus.FAILED
    assert job.attempts == store.settings.max_attempts == 3
    assert job.error == "The algorithm failed: RuntimeError: poison: this job always fails"
    assert "Traceback" not in job.error
    assert all(store.get(job_id).status is JobStatus.SUCCEEDED for job_id in others)
    assert Counter(runs(runs_log))["poison"] == 3
    tracebacks = [
        line for worker in workers for line in worker.messages("the algorithm raised an exception")
    ]
    assert len(tracebacks) == 3
    assert all(line["job_id"] == poison and "Traceback" in line["exception"] for line in tracebacks)


def test_bad_settings_exit_with_a_message_naming_the_variable(start_worker):
    worker = start_worker("--once", JOB_LEASE_SECONDS="soon")
    assert worker.popen.wait(timeout=30) == 2
    [line] = worker.messages("invalid worker settings")
    assert line["error"] == "JOB_LEASE_SECONDS must be a number, got 'soon'"

    worker = start_worker("--once", WORKER_ALGORITHM="no.such.module")
    assert worker.popen.wait(timeout=30) == 2
    assert worker.messages("cannot load the algorithm module")[0]["algorithm"] == "no.such.module"


def test_with_local_log_dir_the_json_lines_go_to_worker_log(start_worker, tmp_path):
    worker = start_worker("--once", LOCAL_LOG_DIR=str(tmp_path / "logs"))
    assert worker.popen.wait(timeout=30) == 0
    lines = [json.loads(line) for line in (tmp_path / "logs" / "worker.log").read_text().splitlines()]
    assert [line["message"] for line in lines] == [
        "algorithm description published", "worker started", "worker exiting"]
    assert {line["service"] for line in lines} == {"worker"}
    assert worker.lines() == []  # nothing on stdout or stderr
