"""A worker whose lease was taken over while its algorithm ran: it gives the job up when it tries to
complete it, and what it wrote is never what the job serves."""

from __future__ import annotations

import dataclasses
import urllib.request

from jobkit import JobStatus, JobStore
from worker.runner import Outcome

from tests.support import wait_until
from tests.worker.test_runner import make_worker, submit


def test_a_stale_workers_result_is_never_served_and_its_outcome_is_abandoned(store_settings):
    store = JobStore(dataclasses.replace(store_settings, lease_seconds=0.5))
    job_id = submit(store).job_id
    stale = store.claim("worker-a")  # A's algorithm is slow: its lease lapses before it finishes
    fresh = wait_until(lambda: store.claim("worker-b"), timeout=15, what="A's lease to lapse")
    store.write_result(fresh, b"who\nB\n", {"by": "B"})
    store.complete(fresh, "v-b")
    worker = make_worker(store)  # runs A's claim to its end now: the trivial algorithm echoes the input
    worker.worker_id = stale.worker_id
    assert worker.process(stale) is Outcome.ABANDONED
    done = store.get(job_id, consistent=True)
    assert (done.status, done.worker_id, done.model_version) == (JobStatus.SUCCEEDED, "worker-b", "v-b")
    with urllib.request.urlopen(store.result_url(done), timeout=30) as answer:  # noqa: S310 - moto's loopback URL
        assert answer.read() == b"who\nB\n"
    assert store.read_summary(done) == {"by": "B"}
    written = [item["Key"] for item in store.s3.list_objects_v2(Bucket=store.settings.bucket)["Contents"]]
    assert sum(key.endswith("/result.csv") for key in written) == 2  # A's stays beside, under its own attempt
