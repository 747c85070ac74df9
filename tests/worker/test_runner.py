"""The drain loop in-process against moto's server: AWS calls per job, heartbeats, outcomes."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path

import pytest
from jobkit import JobStatus, JobStore, schema
from jobkit.logs import _context
from worker.heartbeat import Heartbeat, JobInterrupted
from worker.interface import load_algorithm
from worker.runner import Mode, Outcome, Worker
from worker.settings import SettingsError, WorkerSettings
from worker.watch import CodeWatcher

from tests.support import count_aws_calls, wait_until
from tests.worker.conftest import TRIVIAL

INPUT = b"token\n1,2\n"


def make_worker(store: JobStore, mode: Mode = Mode.ONCE, algorithm: str = TRIVIAL, **timing) -> Worker:
    settings = WorkerSettings(store=store.settings, algorithm=algorithm, poll_seconds=0.05, **timing)
    return Worker(store, load_algorithm(algorithm), settings, mode=mode)


def submit(store: JobStore, name: str = "t", data: bytes = INPUT, **params):
    return store.submit(owner="alice", client_token=name, input_bytes=data, params=params)


def update_calls(calls) -> int:
    return calls["dynamodb.UpdateItem"]


def test_a_small_job_costs_six_aws_calls_and_no_heartbeat(store):
    job = submit(store)
    worker = make_worker(store)
    with count_aws_calls(store.dynamodb, store.s3) as calls:
        assert worker.run() == 0
    assert worker.outcomes == [Outcome.SUCCEEDED]
    assert calls == {
        "dynamodb.Query": 1,  # claimable jobs
        "dynamodb.UpdateItem": 2,  # claim, complete
        "s3.GetObject": 1,  # input
        "s3.PutObject": 2,  # result, summary
    }
    assert sum(calls.values()) <= 6
    done = store.get(job.job_id)
    assert (done.status, done.progress, done.model_version) == (JobStatus.SUCCEEDED, 1, "trivial-1")
    assert store.s3.get_object(Bucket=store.settings.bucket, Key=done.result_key)["Body"].read() == INPUT + b"done\n"
    assert store.read_summary(done) == {"rows": 2, "metrics": {}, "charts": [], "model_version": "trivial-1"}


def test_progress_heartbeats_are_throttled(store):
    job = submit(store, behaviour="busy", steps=40, step=0.03)  # 40 progress calls in about 1.2 s
    worker = make_worker(store, heartbeat_seconds=0.5)
    with count_aws_calls(store.dynamodb) as calls:
        worker.run()
    heartbeats = update_calls(calls) - 2
    assert 1 <= heartbeats <= 3
    assert store.get(job.job_id).status is JobStatus.SUCCEEDED


def test_progress_reaches_the_job_record_while_it_runs(store):
    job = submit(store, behaviour="busy", steps=15, step=0.1)
    worker = make_worker(store, heartbeat_seconds=0.3)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        seen = wait_until(
            lambda: (j := store.get(job.job_id)).message.startswith("step") and j, timeout=10, what="a heartbeat"
        )
        assert 0 < seen.progress < 1
        assert seen.status is JobStatus.RUNNING
    finally:
        thread.join(30)
    assert store.get(job.job_id).status is JobStatus.SUCCEEDED


def test_a_long_silent_step_keeps_its_lease(store_settings):
    store = JobStore(dataclasses.replace(store_settings, lease_seconds=1.5))
    job = submit(store, behaviour="silent", seconds=2.5)  # longer than the lease, no progress calls
    worker = make_worker(store, heartbeat_seconds=10)
    rival = JobStore(store.settings)
    with count_aws_calls(store.dynamodb) as calls:
        thread = threading.Thread(target=worker.run)
        thread.start()
        wait_until(lambda: store.get(job.job_id).status is JobStatus.RUNNING, timeout=10, what="the claim")
        stolen = []
        while thread.is_alive():
            if (other := rival.claim("rival")) is not None:
                stolen.append(other)
            time.sleep(0.1)
        thread.join()
    assert stolen == []
    assert worker.outcomes == [Outcome.SUCCEEDED]
    assert update_calls(calls) - 2 >= 3  # a keepalive every lease/3 = 0.5 s


def test_a_cancelled_job_is_abandoned_quietly_and_its_algorithm_stops(store_settings):
    store = JobStore(dataclasses.replace(store_settings, lease_seconds=1.5))
    job = submit(store, behaviour="busy", steps=200, step=0.05)  # 10 s if nobody stops it
    worker = make_worker(store, heartbeat_seconds=0.2)
    thread = threading.Thread(target=worker.run)
    started = time.monotonic()
    thread.start()
    wait_until(lambda: store.get(job.job_id).progress > 0, timeout=10, what="progress")
    store.cancel(job.job_id, by="alice")
    thread.join(10)
    assert not thread.is_alive()
    assert time.monotonic() - started < 6
    assert worker.outcomes == [Outcome.ABANDONED]
    cancelled = store.get(job.job_id)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.error) == (JobStatus.CANCELLED, "alice", "")
    listed = store.s3.list_objects_v2(Bucket=store.settings.bucket, Prefix=schema.job_prefix(job.job_id))
    assert [item["Key"] for item in listed["Contents"]] == [schema.input_key(job.job_id)]


def test_invalid_input_fails_at_once_without_retry(store):
    job = submit(store, behaviour="invalid")
    assert make_worker(store).run() == 0
    failed = store.get(job.job_id)
    assert failed.status is JobStatus.FAILED
    assert failed.attempts == 1 < failed.max_attempts
    assert failed.error == "Column 'x' has a non-numeric value 'abc' in row 7."


def test_an_algorithm_error_is_retried_with_a_short_message_and_the_traceback_logged(store, caplog):
    job = submit(store, behaviour="raise")
    worker = make_worker(store)
    with caplog.at_level(logging.ERROR, logger="worker"):
        worker.run()
    assert worker.outcomes == [Outcome.RETRY]
    retried = store.get(job.job_id)
    assert retried.status is JobStatus.PENDING
    assert retried.error == "The algorithm failed: RuntimeError: poison: this job always fails"
    [record] = [r for r in caplog.records if r.getMessage() == "the algorithm raised an exception"]
    assert record.exc_info[0] is RuntimeError
    assert "trivial_algorithm.py" in logging.Formatter().formatException(record.exc_info)


def test_a_result_that_is_not_a_result_fails_the_attempt_clearly(store):
    job = submit(store, behaviour="bad_result")
    make_worker(store).run()
    assert store.get(job.job_id).error == (
        "The algorithm failed: TypeError: run() returned str; it must return Result(csv=bytes, summary=dict)"
    )


def test_numpy_values_in_the_summary_are_stored_as_plain_json(store):
    job = submit(store, behaviour="numpy")
    make_worker(store).run()
    summary = store.read_summary(store.get(job.job_id))
    assert summary["metrics"] == {"mean": 1.5, "count": 3}
    assert summary["charts"][0]["data"][0]["y"] == [0, 1, 2]


def test_bad_params_or_a_missing_input_fail_the_job_at_once(store, caplog):
    odd = store.submit(owner="alice", client_token="odd", input_bytes=INPUT, params="k=3")
    lost = submit(store, "lost")
    store.s3.delete_object(Bucket=store.settings.bucket, Key=lost.input_key)
    worker = make_worker(store, mode=Mode.DRAIN, idle_seconds=0)
    with caplog.at_level(logging.ERROR, logger="worker.runner"):
        worker.run()
    assert worker.outcomes == [Outcome.FAILED, Outcome.FAILED]
    assert store.get(odd.job_id).error == "The job's parameters must be a JSON object."
    assert store.get(lost.job_id).error == "The job's input file is missing; submit it again."
    assert {store.get(job.job_id).attempts for job in (odd, lost)} == {1}
    # As on AWS for a role without an unconditioned s3:ListBucket: a missing key reads as AccessDenied.
    (record,) = [r for r in caplog.records if r.getMessage() == "the job's input cannot be read"]
    assert record.error_code == "AccessDenied" and record.key == lost.input_key


def test_a_draining_worker_restarts_between_jobs_when_its_code_changes(store, tmp_path, monkeypatch):
    module = tmp_path / "edited_algorithm_for_test.py"
    module.write_text((Path(__file__).parent / "trivial_algorithm.py").read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    settings = WorkerSettings(store=store.settings, idle_seconds=30, poll_seconds=0.05)
    restarts: list[float] = []
    worker = Worker(
        store,
        load_algorithm("edited_algorithm_for_test"),
        settings,
        mode=Mode.DRAIN,
        watch_code=True,
        restart=lambda: (restarts.append(time.monotonic()), worker.request_stop("restarted")),
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        submit(store, "before")
        wait_until(lambda: worker.outcomes, timeout=10, what="the first job")
        assert restarts == []
        module.write_text(module.read_text().replace('"trivial-1"', '"trivial-2"'))
        wait_until(lambda: restarts, timeout=10, what="a restart")
    finally:
        worker.request_stop()
        thread.join(10)
    assert worker.outcomes == [Outcome.SUCCEEDED]


def test_drain_exits_after_the_idle_grace_period(store):
    worker = make_worker(store, mode=Mode.DRAIN, idle_seconds=0.5)
    started = time.monotonic()
    assert worker.run() == 0
    assert 0.5 <= time.monotonic() - started < 3
    assert worker.outcomes == []


def test_a_stop_request_releases_the_running_job(store):
    job = submit(store, behaviour="busy", steps=300, step=0.1)
    worker = make_worker(store, mode=Mode.DRAIN)
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_until(lambda: store.get(job.job_id).status is JobStatus.RUNNING, timeout=10, what="the claim")
    worker.request_stop("test")
    thread.join(5)
    assert not thread.is_alive()
    assert worker.outcomes == [Outcome.RELEASED]
    worker.stray.thread.join(2)
    assert not worker.stray.thread.is_alive()  # the algorithm stopped at its next progress call
    released = store.get(job.job_id, consistent=True)
    assert (released.status, released.attempts, released.message) == (
        JobStatus.PENDING,
        0,
        "Interrupted; it will resume",
    )


# --- the parts on their own --------------------------------------------------------------------


def current_context() -> dict:
    return _context.get({})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_heartbeat_rule_news_after_interval_or_keepalive_anyway(store):
    submit(store)
    job = store.claim("w1")
    clock = FakeClock()
    beat = Heartbeat(store, job, interval=10, keepalive=20, clock=clock)
    beat.progress(0.2, "a")
    clock.now += 9.9
    assert not beat.beat_if_due()  # news, but too soon
    clock.now += 0.1
    assert beat.beat_if_due()
    assert store.get(job.job_id).progress == 0.2
    clock.now += 15
    assert not beat.beat_if_due()  # no news and the lease is young
    clock.now += 5
    assert beat.beat_if_due()  # keepalive
    assert beat.sent == 2
    beat.interrupt()
    with pytest.raises(JobInterrupted):
        beat.progress(0.5)
    with pytest.raises(ValueError, match="finite"):
        Heartbeat(store, job, interval=1, keepalive=1).progress(float("nan"))


def test_code_watcher_sees_edits_additions_and_removals(tmp_path):
    (tmp_path / "pkg").mkdir()
    module = tmp_path / "pkg" / "a.py"
    module.write_text("x = 1\n")
    watcher = CodeWatcher([tmp_path / "pkg"])
    assert watcher.changed() == []
    (tmp_path / "pkg" / "notes.txt").write_text("not code")
    assert watcher.changed() == []
    module.write_text("x = 22\n")
    assert watcher.changed() == [str(module)]
    module.unlink()
    assert watcher.changed() == [str(module)]


def test_settings_from_env_defaults_and_messages():
    base = {"JOBS_TABLE": "t", "JOBS_BUCKET": "b"}
    settings = WorkerSettings.from_env(base)
    assert (settings.idle_seconds, settings.heartbeat_seconds, settings.algorithm) == (60, 10, "worker.algorithm")
    assert settings.keepalive_seconds == 20
    tuned = WorkerSettings.from_env({**base, "WORKER_IDLE_SECONDS": "5", "JOB_LEASE_SECONDS": "9"})
    assert (tuned.idle_seconds, tuned.keepalive_seconds) == (5, 3)
    for env, message in [
        ({}, "Missing required environment variable(s): JOBS_TABLE, JOBS_BUCKET"),
        ({**base, "WORKER_IDLE_SECONDS": "-1"}, "WORKER_IDLE_SECONDS must be a finite number of seconds >= 0"),
        ({**base, "WORKER_HEARTBEAT_SECONDS": "often"}, "WORKER_HEARTBEAT_SECONDS must be a number of seconds"),
        ({**base, "JOB_MAX_ATTEMPTS": "2.5"}, "JOB_MAX_ATTEMPTS must be a whole number, got '2.5'"),
        ({**base, "JOB_LEASE_SECONDS": "0"}, "JOB_LEASE_SECONDS must be > 0"),
        ({**base, "LOG_LEVEL": "loud"}, "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR"),
    ]:
        with pytest.raises(SettingsError) as error:
            WorkerSettings.from_env(env)
        assert str(error.value).startswith(message), (env, str(error.value))


def test_lines_logged_inside_the_algorithm_carry_the_job_id(store, caplog):
    """The algorithm runs in a thread of its own; its log lines still carry the job's id."""
    seen: list[tuple[str, str | None]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            # What the JSON formatter writes: the context's job_id, or one passed with extra=
            seen.append((record.getMessage(), current_context().get("job_id") or getattr(record, "job_id", None)))

    caplog.set_level(logging.INFO)
    handler = Capture()
    logging.getLogger().addHandler(handler)
    try:
        job = submit(store, behaviour="raise")
        make_worker(store).run()
    finally:
        logging.getLogger().removeHandler(handler)
    assert ("trivial algorithm running", job.job_id) in seen
    assert ("the algorithm raised an exception", job.job_id) in seen
    about_the_job = [job_id for message, job_id in seen if message.startswith("job ")]
    assert len(about_the_job) >= 4 and set(about_the_job) == {job.job_id}    # submitted, claimed, started, finished
