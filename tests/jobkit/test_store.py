"""The job contract against moto's real server: the queue's guarantees and the listings."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from urllib.parse import parse_qs, urlparse

import pytest
from jobkit import (
    InvalidRequest,
    JobConflict,
    JobNotFound,
    JobStatus,
    JobStore,
    LeaseLost,
    PredictionNotFound,
    schema,
)
from jobkit.store import job_id_for

from devstack.faults import FaultPlan
from tests.support import wait_until

CSV = b"a,b\n1,2\n3,4\n"


def submit(store: JobStore, token: str, owner: str = "alice"):
    return store.submit(owner=owner, client_token=token, input_bytes=CSV, input_name="data.csv")


def test_submit_stores_input_and_a_pending_job(store):
    job = submit(store, "t1")
    assert job.status is JobStatus.PENDING
    assert store.read_input(job) == CSV
    fetched = store.get(job.job_id)
    assert (fetched.owner, fetched.input_name, fetched.attempts) == ("alice", "data.csv", 0)


def test_repeated_submit_with_the_same_token_returns_the_same_job(store):
    first = submit(store, "double-click")
    second = store.submit(owner="alice", client_token="double-click", input_bytes=b"x,y\n9,9\n")
    assert second.job_id == first.job_id
    assert store.read_input(second) == CSV  # the repeat neither replaced the input
    assert len(store.list_recent().items) == 1  # nor made a second job
    assert submit(store, "double-click", owner="bob").job_id != first.job_id


def test_concurrent_submits_with_one_token_make_one_job(store_settings):
    ids: list[str] = []

    def click() -> None:
        ids.append(submit(JobStore(store_settings), "same").job_id)  # a raising thread adds no answer

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == len(threads)  # every click was answered...
    assert len(set(ids)) == 1  # ...with the same job
    assert len(JobStore(store_settings).list_recent().items) == 1


def test_two_concurrent_claimers_never_get_the_same_job(store_settings):
    store = JobStore(store_settings)
    jobs = {submit(store, f"job-{n}").job_id for n in range(30)}
    claimed: Counter[str] = Counter()
    finished: list[str] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        mine = JobStore(store_settings)
        while (job := mine.claim(name)) is not None:
            with lock:
                claimed[job.job_id] += 1
        finished.append(name)  # reached only when this claimer saw an empty queue without raising

    threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(finished) == sorted(f"w{n}" for n in range(4))
    assert set(claimed) == jobs
    assert max(claimed.values()) == 1


def test_an_expired_lease_makes_the_job_claimable_again(store_settings):
    store = JobStore(dataclasses.replace(store_settings, lease_seconds=0.5))
    submit(store, "t")
    first = store.claim("worker-a")
    assert first is not None and first.status is JobStatus.RUNNING
    assert store.claim("worker-b") is None  # leased
    second = wait_until(lambda: store.claim("worker-b"), timeout=10, what="lease expiry")
    assert second.job_id == first.job_id and second.attempts == 2
    with pytest.raises(LeaseLost):
        store.complete(first, model_version="v1")  # the first worker lost it
    done = store.complete(second, model_version="v1")
    assert done.status is JobStatus.SUCCEEDED


def test_heartbeat_extends_the_lease_and_records_progress(store_settings):
    store = JobStore(dataclasses.replace(store_settings, lease_seconds=30))
    submit(store, "t")
    job = store.claim("w")
    beat = store.heartbeat(job, 0.4, "step 2 of 5")
    assert beat.available_at > job.available_at
    fetched = store.get(job.job_id)
    assert (fetched.progress, fetched.message) == (0.4, "step 2 of 5")


def test_a_job_that_fails_every_attempt_ends_failed_with_the_last_error(store_settings):
    store = JobStore(dataclasses.replace(store_settings, max_attempts=3, retry_backoff_seconds=0.05))
    job_id = submit(store, "poison").job_id
    for attempt in range(1, 4):
        job = wait_until(lambda: store.claim("w"), timeout=10, what="retry backoff")
        assert job.attempts == attempt
        store.fail(job, f"boom {attempt}")
    final = store.get(job_id)
    assert final.status is JobStatus.FAILED
    assert final.error == "boom 3"
    assert store.claimable() == []


def test_a_non_retryable_failure_ends_the_job_at_once(store):
    submit(store, "bad")
    job = store.claim("w")
    failed = store.fail(job, "column 'x' is not numeric", retryable=False)
    assert failed.status is JobStatus.FAILED and failed.attempts == 1


def test_a_job_whose_workers_keep_dying_is_failed_not_retried_forever(store_settings):
    store = JobStore(dataclasses.replace(store_settings, lease_seconds=0.2, max_attempts=2))
    job_id = submit(store, "t").job_id
    for _ in range(2):
        wait_until(lambda: store.claim("dies"), timeout=10)
    wait_until(lambda: store.get(job_id).available_at < store.clock(), timeout=10)
    assert store.claim("next") is None
    final = store.get(job_id)
    assert final.status is JobStatus.FAILED
    assert "Gave up after 2 attempts" in final.error


def test_release_hands_the_job_back_without_spending_an_attempt(store):
    submit(store, "t")
    job = store.claim("stopping")
    store.release(job)
    again = store.claim("other")
    assert again.job_id == job.job_id and again.attempts == 1


def test_cancel_stops_a_running_job_at_its_next_heartbeat(store):
    job_id = submit(store, "t").job_id
    job = store.claim("w")
    cancelled = store.cancel(job_id, by="bob")
    assert cancelled.status is JobStatus.CANCELLED and cancelled.cancelled_by == "bob"
    with pytest.raises(LeaseLost):
        store.heartbeat(job, 0.5)
    with pytest.raises(JobConflict):
        store.cancel(job_id, by="bob")
    assert store.claimable() == []


def test_retry_puts_a_failed_job_back_with_fresh_attempts(store):
    job_id = submit(store, "t").job_id
    store.fail(store.claim("w"), "bad", retryable=False)
    retried = store.retry(job_id, by="alice")
    assert retried.status is JobStatus.PENDING and retried.attempts == 0
    assert store.claim("w2").job_id == job_id
    with pytest.raises(JobConflict):
        store.retry(job_id, by="alice")


def test_complete_records_result_and_expiry(store):
    job = submit(store, "t")
    claimed = store.claim("w")
    store.write_result(claimed, b"a,b,segment\n1,2,0\n", {"charts": [], "rows": 1})
    done = store.complete(claimed, model_version="seg-1")
    assert done.status is JobStatus.SUCCEEDED and done.model_version == "seg-1"
    assert done.expires_at > store.clock() + 29 * 86400
    assert store.read_summary(done) == {"charts": [], "rows": 1}
    url = store.result_url(done, expires_seconds=60)
    parsed = urlparse(url)
    assert parsed.path.endswith(f"/jobs/{job.job_id}/attempts/{schema.attempt_name(1, 'w')}/result.csv")
    assert done.result_key == schema.result_key(job.job_id, schema.attempt_name(1, "w"))
    assert parse_qs(parsed.query)["X-Amz-Expires"] == ["60"]
    assert done.duration_seconds is not None and done.duration_seconds >= 0


def test_listing_50_recent_jobs_reads_one_page_whatever_the_table_size(store):
    for n in range(60):
        submit(store, f"a{n}")
    small = store.list_recent(limit=50)
    for n in range(60, 180):
        submit(store, f"a{n}")
    store.record_prediction(owner="a", inputs={}, output={}, model_version="v", latency_ms=1)
    large = store.list_recent(limit=50)
    assert small.scanned_count == large.scanned_count == 50
    created = [job.created_at for job in large.items]
    assert created == sorted(created, reverse=True)  # newest first
    rest = store.list_recent(limit=50, page_token=large.next_token)
    assert not {j.job_id for j in rest.items} & {j.job_id for j in large.items}


def test_paging_walks_the_whole_history_once(store):
    ids = {submit(store, f"p{n}").job_id for n in range(23)}
    seen, token = [], None
    while True:
        page = store.list_recent(limit=10, page_token=token)
        seen += [job.job_id for job in page.items]
        if not page.next_token:
            break
        token = page.next_token
    assert sorted(seen) == sorted(ids)


def test_bad_ids_and_tokens_are_refused_clearly(store):
    with pytest.raises(InvalidRequest, match="Not a job id"):
        store.get("../../etc/passwd")
    with pytest.raises(InvalidRequest, match="page token"):
        store.list_recent(page_token="not-base64!!")
    with pytest.raises(JobNotFound):
        store.get("0" * 32)


def test_feedback_on_predictions_and_jobs(store):
    prediction = store.record_prediction(
        owner="alice", inputs={"x": 1.5}, output={"label": "a"}, model_version="m1", latency_ms=12.5
    )
    assert store.get_prediction(prediction.prediction_id).inputs == {"x": 1.5}
    job = submit(store, "t")
    with pytest.raises(InvalidRequest, match="succeeded"):  # feedback is about a result
        store.add_feedback(target_kind="job", target_id=job.job_id, user="carol", rating=-1)
    claimed = store.claim("w")
    store.write_result(claimed, b"a\n1\n", {"charts": []})
    store.complete(claimed, "m2")
    store.add_feedback(target_kind="prediction", target_id=prediction.prediction_id, user="bob", rating=1)
    store.add_feedback(target_kind="job", target_id=job.job_id, user="carol", rating=-1, comment="odd")
    on_prediction = store.list_feedback("prediction", prediction.prediction_id)
    assert [(f.user, f.rating) for f in on_prediction] == [("bob", 1)]
    recent = store.list_recent_feedback()
    assert {(f.target_kind, f.rating) for f in recent.items} == {("prediction", 1), ("job", -1)}
    assert [f.model_version for f in on_prediction] == ["m1"]  # the prediction's own version
    with pytest.raises(InvalidRequest):
        store.add_feedback(target_kind="job", target_id=job.job_id, user="x", rating=5)
    with pytest.raises(PredictionNotFound):
        store.add_feedback(target_kind="prediction", target_id="f" * 32, user="x", rating=1)


def test_feedback_on_one_target_is_read_across_pages(store):
    prediction = store.record_prediction(owner="a", inputs={}, output={}, model_version="m", latency_ms=1)
    comment = "x" * 2000  # ~2 KB items: 600 of them pass DynamoDB's 1 MB page
    for n in range(600):
        store.add_feedback(target_kind="prediction", target_id=prediction.prediction_id, user=f"u{n:03}",
                           rating=1, comment=comment)
    assert len(store.list_feedback("prediction", prediction.prediction_id)) == 600


def test_job_ids_are_derived_from_owner_and_token():
    assert job_id_for("alice", "t") == job_id_for("alice", "t")
    assert job_id_for("alice", "t") != job_id_for("alice", "u")
    assert len(job_id_for("alice", "t")) == 32


@pytest.mark.parametrize("operation", ["claim", "complete"])
def test_a_write_whose_answer_was_lost_is_recognised_as_this_workers_own(local_aws, store, operation):
    """The UpdateItem takes effect, the connection resets before its answer, botocore retries,
    the retry's condition fails: the store sees the job is already this worker's and goes on."""
    submit(store, "t")
    resets_before = local_aws.traffic.faults.injected["reset_after"]
    plan = FaultPlan(rate=1.0, kinds=("reset_after",), operations=("dynamodb.UpdateItem",), limit=1)
    if operation == "claim":
        local_aws.traffic.faults.set_plan(plan)
    claimed = store.claim("w1")
    assert claimed is not None and claimed.attempts == 1
    if operation == "complete":
        store.write_result(claimed, b"a\n1\n", {"charts": []})
        local_aws.traffic.faults.set_plan(plan)
        done = store.complete(claimed, "m1")
        assert done.status is JobStatus.SUCCEEDED and done.model_version == "m1"
    local_aws.traffic.faults.set_plan(FaultPlan())
    assert local_aws.traffic.faults.injected["reset_after"] == resets_before + 1
    job = store.get(claimed.job_id)
    assert job.attempts == 1 and job.worker_id == "w1"  # no attempt burned, nobody else's
    assert job.status is (JobStatus.RUNNING if operation == "claim" else JobStatus.SUCCEEDED)


def test_a_start_failure_is_counted_in_a_row_and_forgotten_by_a_start_that_publishes(store):
    assert store.read_start_failure() is None
    failure = {"kind": "import", "file": "apps/worker/algorithm.py", "line": None,
               "error": "ModuleNotFoundError: No module named 'pandas'", "fix": "add pandas"}
    assert store.publish_start_failure(failure) == 1
    assert store.publish_start_failure(failure) == 2
    read = store.read_start_failure()
    assert {k: read[k] for k in failure} == failure and read["failures"] == 2 and read["at"].endswith("Z")
    store.publish_description({"title": "fixed", "model_version": "v2"})
    assert store.read_start_failure() is None
    assert store.read_description()["title"] == "fixed"
    assert store.publish_start_failure(failure) == 1  # the count starts again
    store.clear_start_failure()
    assert store.read_start_failure() is None and store.read_description()["title"] == "fixed"
