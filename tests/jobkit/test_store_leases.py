"""A lease taken over, a job given up, a pending job cancelled: what each leaves behind, against moto."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from urllib.parse import urlparse

import pytest
from jobkit import InvalidRequest, JobConflict, JobStatus, JobStore, LeaseLost, schema

from tests.support import wait_until

CSV = b"a,b\n1,2\n"


def submit(store: JobStore) -> str:
    return store.submit(owner="alice", client_token="t", input_bytes=CSV, input_name="data.csv").job_id


def served(store: JobStore, job_id: str) -> tuple[bytes, dict]:
    """What a stakeholder gets for the job: the CSV behind its download link, and its summary."""
    job = store.get(job_id, consistent=True)
    with urllib.request.urlopen(store.result_url(job), timeout=30) as answer:  # noqa: S310 - moto's loopback URL
        return answer.read(), store.read_summary(job)


@pytest.fixture
def taken_over(store_settings):
    """A claims the job, its lease lapses, B claims it: (store, job id, A's claim, B's claim)."""
    store = JobStore(dataclasses.replace(store_settings, lease_seconds=0.5))
    job_id = submit(store)
    stale = store.claim("worker-a")
    assert stale is not None
    fresh = wait_until(lambda: store.claim("worker-b"), timeout=15, what="A's lease to lapse")
    assert (fresh.job_id, fresh.attempts, fresh.worker_id) == (job_id, 2, "worker-b")
    return store, job_id, stale, fresh


def test_a_stale_workers_heartbeat_raises_lease_lost_while_the_new_owner_holds_the_job(taken_over):
    store, job_id, stale, fresh = taken_over
    # The job is RUNNING either way: only the held-by-worker condition tells A from B.
    with pytest.raises(LeaseLost):
        store.heartbeat(stale, 0.9, "A still thinks it runs this")
    job = store.get(job_id, consistent=True)
    assert (job.worker_id, job.message) == ("worker-b", "")
    assert store.heartbeat(fresh, 0.5).progress == 0.5


def test_nothing_a_stale_worker_writes_is_ever_served(taken_over):
    store, job_id, stale, fresh = taken_over
    store.write_result(stale, b"a,b,who\n1,2,A\n", {"by": "A"})  # before B's write...
    store.write_result(fresh, b"a,b,who\n1,2,B\n", {"by": "B"})
    assert store.complete(fresh, "v-b").status is JobStatus.SUCCEEDED
    store.write_result(stale, b"a,b,who\n1,2,A\n", {"by": "A"})  # ...and after B completed
    with pytest.raises(LeaseLost):
        store.complete(stale, "v-a")
    assert served(store, job_id) == (b"a,b,who\n1,2,B\n", {"by": "B"})
    job = store.get(job_id, consistent=True)
    assert (job.model_version, job.worker_id) == ("v-b", "worker-b")
    assert urlparse(store.result_url(job)).path.endswith(job.result_key)
    assert job.result_key.startswith(schema.job_prefix(job_id))  # inside the job's folder the roles may read


def test_each_claim_writes_under_a_name_of_its_own(taken_over):
    store, job_id, stale, fresh = taken_over
    names = {schema.attempt_name(job.attempts, job.worker_id) for job in (stale, fresh)}
    assert len(names) == 2
    assert schema.attempt_name(2, "worker-b") != schema.attempt_name(2, "worker-c")  # one attempt number, two claims
    with pytest.raises(InvalidRequest, match="Not an attempt name"):
        schema.result_key(job_id, "../other-job")


def test_a_job_given_up_after_its_attempts_shows_the_last_error(store_settings):
    """Attempt 1 fails with an error, attempt 2's worker dies: the FAILED job says what went wrong last."""
    store = JobStore(dataclasses.replace(store_settings, lease_seconds=0.3, max_attempts=2, retry_backoff_seconds=0.05))
    job_id = submit(store)
    first = store.claim("w1")
    store.fail(first, "ValueError: column 'b' is empty")
    wait_until(lambda: store.claim("dies"), timeout=15, what="the retry backoff")
    wait_until(lambda: store.get(job_id, consistent=True).available_at < store.clock(), timeout=15)
    assert store.claim("next") is None
    final = store.get(job_id, consistent=True)
    assert final.status is JobStatus.FAILED
    assert final.error == "Gave up after 2 attempts. Last error: ValueError: column 'b' is empty"


def test_cancelling_a_pending_job_takes_it_off_the_queue(store):
    job_id = submit(store)
    cancelled = store.cancel(job_id, by="bob")
    assert (cancelled.status, cancelled.cancelled_by, cancelled.attempts) == (JobStatus.CANCELLED, "bob", 0)
    assert cancelled.finished_at and cancelled.message == "Cancelled by bob"
    assert store.claimable() == []
    assert store.claim("w") is None  # no worker ever runs it
    assert store.get(job_id, consistent=True).status is JobStatus.CANCELLED
    with pytest.raises(JobConflict):
        store.cancel(job_id, by="bob")
    assert json.dumps(store.get(job_id).error) == '""'  # cancelled, not failed
