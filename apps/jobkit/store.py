"""JobStore: every operation on jobs, predictions and feedback, over DynamoDB and S3 (the front the apps use).

The queue is a visibility-timeout queue: a worker claims the oldest available job with a
conditional write that gives it a lease, heartbeats to extend the lease, and completes or fails
the job on condition that it still holds it. A job whose lease runs out is claimable again.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from jobkit import aws, schema, transitions
from jobkit.codec import decode_token, deserialize, encode_token, serialize
from jobkit.errors import ConditionFailed, InvalidRequest, JobConflict, JobNotFound, LeaseLost
from jobkit.feedback import PredictionsAndFeedback
from jobkit.records import Job, JobStatus, Page, utc_now_iso
from jobkit.settings import StoreSettings
from jobkit.transitions import Transition

log = logging.getLogger("jobkit.store")

_TOKEN_NAMESPACE = uuid.UUID("6f1c1a52-3d0e-4d4c-9a55-5b8f7e0c2a11")
_CLAIM_PAGE = 10


def job_id_for(owner: str, client_token: str) -> str:
    """The job id a submit with this token gets: the same token always names the same job."""
    return uuid.uuid5(_TOKEN_NAMESPACE, f"{owner}\n{client_token}").hex


class JobStore(PredictionsAndFeedback):
    """The job contract's operations. Thread-safe; create one per process and share it."""

    def __init__(
        self,
        settings: StoreSettings,
        *,
        dynamodb: Any = None,
        s3: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.dynamodb = dynamodb or aws.client("dynamodb", settings.region, settings.aws_max_attempts)
        self.s3 = s3 or aws.client("s3", settings.region, settings.aws_max_attempts)
        self.clock = clock

    # --- AWS plumbing -------------------------------------------------------------------

    def _ddb(self, operation: str, context: dict[str, Any], **kwargs: Any) -> Any:
        method = getattr(self.dynamodb, _snake(operation))
        return aws.call(method, f"dynamodb.{operation}", context, TableName=self.settings.table, **kwargs)

    def _s3(self, operation: str, context: dict[str, Any], **kwargs: Any) -> Any:
        method = getattr(self.s3, _snake(operation))
        return aws.call(method, f"s3.{operation}", context, Bucket=self.settings.bucket, **kwargs)

    def _update_job(
        self,
        job: str,
        context: dict[str, Any],
        *,
        took_effect: Callable[[Job], bool] | None = None,
        **kwargs: Any,
    ) -> Job:
        """UpdateItem on one job; `#name` placeholders in the expressions are declared here.

        When the condition fails, `took_effect(current job)` may say that an earlier try of
        this same write succeeded and only its answer was lost (the SDK retried after a reset
        connection): the current job is then returned instead of the condition failure.
        """
        expressions = kwargs.get("UpdateExpression", "") + kwargs.get("ConditionExpression", "")
        names = {f"#{name}": name for name in re.findall(r"#(\w+)", expressions)}
        try:
            response = self._ddb(
                "UpdateItem",
                context,
                Key=serialize(schema.job_key(job)),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ExpressionAttributeNames=names,
                **kwargs,
            )
        except ConditionFailed as error:
            current = error.item
            if took_effect is not None and current:
                now = Job.from_item(deserialize(current))
                if took_effect(now):
                    log.info("an earlier try of this write took effect; its answer was lost", extra=context)
                    return now
            raise
        return Job.from_item(deserialize(response["Attributes"]))

    # --- submit and read jobs ------------------------------------------------------------

    def submit(
        self,
        *,
        owner: str,
        client_token: str,
        input_bytes: bytes,
        input_name: str = schema.INPUT_NAME,
        params: dict[str, Any] | None = None,
        note: str = "",
    ) -> Job:
        """Store the input and create a PENDING job; the same owner and token give the same job."""
        if not client_token or not owner:
            raise InvalidRequest("A submit needs an owner and a client token")
        job_id = job_id_for(owner, client_token)
        try:
            return self.get(job_id, consistent=True)
        except JobNotFound:
            pass
        context = {"job_id": job_id}
        key = schema.input_key(job_id)
        self._s3("PutObject", context, Key=key, Body=input_bytes, ContentType="text/csv")
        now = self.clock()
        job = Job(
            job_id=job_id,
            status=JobStatus.PENDING,
            owner=owner,
            created_at=utc_now_iso(now),
            input_key=key,
            input_name=input_name[:200],
            note=str(note or "").strip()[:200],
            params=params or {},
            max_attempts=self.settings.max_attempts,
            available_at=now,
        )
        item = {**schema.job_key(job_id), "kind": "job", "queue": schema.QUEUE, **vars(job)}
        try:
            self._ddb(
                "PutItem",
                context,
                Item=serialize(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ConditionFailed:  # a concurrent submit with the same token won the race
            return self.get(job_id, consistent=True)
        log.info("job submitted", extra={"job_id": job_id, "owner": owner})
        return job

    def get(self, job_id: str, *, consistent: bool = False) -> Job:
        """The job with this id, or JobNotFound."""
        response = self._ddb(
            "GetItem", {"job_id": job_id}, Key=serialize(schema.job_key(job_id)), ConsistentRead=consistent
        )
        if "Item" not in response:
            raise JobNotFound(f"No job {job_id}")
        return Job.from_item(deserialize(response["Item"]))

    def list_recent(self, limit: int = 50, page_token: str | None = None) -> Page:
        """Newest jobs first, one page of at most `limit`, read from the `recent` index."""
        return self._list_kind("job", Job, limit, page_token)

    def _list_kind(self, kind: str, record: Any, limit: int, page_token: str | None) -> Page:
        if not 1 <= limit <= 1000:
            raise InvalidRequest("limit must be between 1 and 1000")
        kwargs: dict[str, Any] = {}
        start = decode_token(page_token)
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = self._ddb(
            "Query",
            {"listing": kind},
            IndexName=schema.RECENT_INDEX.name,
            KeyConditionExpression="kind = :kind",
            ExpressionAttributeValues={":kind": {"S": kind}},
            ScanIndexForward=False,
            Limit=limit,
            **kwargs,
        )
        items = [record.from_item(deserialize(item)) for item in response.get("Items", [])]
        return Page(items, encode_token(response.get("LastEvaluatedKey")), response.get("ScannedCount", 0))

    def read_input(self, job: Job) -> bytes:
        """The job's input; ObjectMissing if it is gone."""
        # S3 answers AccessDenied, not NoSuchKey, for a missing key to a caller without s3:ListBucket
        # (S3 API Reference, GetObject, Permissions): for the job's own input both mean it is gone.
        response = self._s3("GetObject", {"job_id": job.job_id}, Key=job.input_key,
                            missing_codes=("NoSuchKey", "AccessDenied"))
        return response["Body"].read()

    def read_summary(self, job: Job) -> dict[str, Any]:
        """The result summary (chart description, metrics) a SUCCEEDED job carries."""
        response = self._s3("GetObject", {"job_id": job.job_id}, Key=job.summary_key or schema.summary_key(job.job_id))
        return json.loads(response["Body"].read())

    def result_url(self, job: Job, expires_seconds: int = 900) -> str:
        """A presigned GET URL for the job's result CSV, valid for `expires_seconds`."""
        if job.status is not JobStatus.SUCCEEDED:
            raise JobConflict(f"Job {job.job_id} has no result yet")
        filename = (job.input_name.rsplit(".", 1)[0] or "job") + "-result.csv"
        return self.s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.settings.bucket,
                "Key": job.result_key or schema.result_key(job.job_id),
                "ResponseContentDisposition": f'attachment; filename="{_safe_filename(filename)}"',
            },
            ExpiresIn=expires_seconds,
        )

    # --- the batch algorithm's description ---------------------------------------------

    def publish_description(self, description: dict[str, Any]) -> None:
        """Record what the batch job does (title, input rules, parameters) for the dashboard."""
        self._ddb(
            "UpdateItem",
            {"operation": "publish_description"},
            Key=serialize(schema.DESCRIPTION_KEY),
            # A worker that publishes has loaded its algorithm: it can start, so the failure is gone.
            UpdateExpression="SET description = :description, published_at = :now "
                             "REMOVE start_failure, start_failed_at, start_failures",
            ExpressionAttributeValues=serialize({":description": description, ":now": utc_now_iso(self.clock())}),
        )

    def read_description(self) -> dict[str, Any] | None:
        """The batch algorithm's last published description (with `published_at`), or None if none was."""
        response = self._ddb("GetItem", {"operation": "read_description"}, Key=serialize(schema.DESCRIPTION_KEY))
        item = deserialize(response["Item"]) if "Item" in response else None
        if not item or not isinstance(item.get("description"), dict):
            return None
        return {**item["description"], "published_at": item.get("published_at", "")}

    # --- why the batch algorithm cannot work (docs/contracts.md, "Start failures") ---------
    # Kept on the description's item: a worker that publishes a description has started, and the
    # same UpdateItem forgets the failure; the worker role needs no call beyond UpdateItem.

    def publish_start_failure(self, failure: dict[str, Any]) -> int:
        """Record why the batch algorithm cannot start or fails every job (`failure`: kind, file,
        line, error, fix); how many times in a row it was recorded."""
        response = self._ddb(
            "UpdateItem",
            {"operation": "publish_start_failure"},
            Key=serialize(schema.DESCRIPTION_KEY),
            UpdateExpression="SET start_failure = :failure, start_failed_at = :now ADD start_failures :one",
            ExpressionAttributeValues=serialize({":failure": failure, ":now": utc_now_iso(self.clock()), ":one": 1}),
            ReturnValues="UPDATED_NEW",
        )
        return int(deserialize(response.get("Attributes", {})).get("start_failures", 1))

    def clear_start_failure(self) -> None:
        """The algorithm works again (it ran a job): forget the failure."""
        self._ddb(
            "UpdateItem",
            {"operation": "clear_start_failure"},
            Key=serialize(schema.DESCRIPTION_KEY),
            UpdateExpression="REMOVE start_failure, start_failed_at, start_failures",
        )

    def read_start_failure(self) -> dict[str, Any] | None:
        """The last start failure (with `at` and `failures`, the count in a row), or None."""
        # Only these attributes: the item also holds the description with its samples' contents.
        response = self._ddb("GetItem", {"operation": "read_start_failure"}, Key=serialize(schema.DESCRIPTION_KEY),
                             ProjectionExpression="start_failure, start_failed_at, start_failures")
        item = deserialize(response["Item"]) if "Item" in response else {}
        failure = item.get("start_failure")
        if not isinstance(failure, dict):
            return None
        return {**failure, "at": item.get("start_failed_at", ""), "failures": int(item.get("start_failures", 1))}

    # --- the queue: claim, heartbeat, complete, fail, release -----------------------------

    def claimable(self, limit: int = _CLAIM_PAGE) -> list[Job]:
        """Active jobs whose time has come: pending ones and those whose lease ran out."""
        response = self._ddb(
            "Query",
            {"listing": "claimable"},
            IndexName=schema.ACTIVE_INDEX.name,
            KeyConditionExpression="queue = :queue AND available_at <= :now",
            ExpressionAttributeValues={
                ":queue": {"S": schema.QUEUE},
                ":now": {"N": repr(self.clock())},
            },
            Limit=limit,
        )
        return [Job.from_item(deserialize(item)) for item in response.get("Items", [])]

    def claim(self, worker_id: str) -> Job | None:
        """Claim one available job for `worker_id` with a lease, or None if there is none.

        Candidates are tried in random order so that racing workers rarely collide. A job that
        has used all its attempts while its workers kept dying is failed here instead.
        """
        for _ in range(3):
            candidates = self.claimable()
            if not candidates:
                return None
            random.shuffle(candidates)
            for candidate in candidates:
                if candidate.attempts >= candidate.max_attempts:
                    self._fail_abandoned(candidate)
                    continue
                job = self._try_claim(candidate, worker_id)
                if job:
                    return job
        return None

    def _try_claim(self, candidate: Job, worker_id: str) -> Job | None:
        now = self.clock()
        started = utc_now_iso(now)
        try:
            job = self._move(
                transitions.CLAIM,
                candidate.job_id,
                {"job_id": candidate.job_id, "worker_id": worker_id},
                {"worker_id": worker_id, "available_at": now + self.settings.lease_seconds, "started_at": started,
                 "heartbeat_at": started, "now": now},
                took_effect=lambda job: job.status is JobStatus.RUNNING and job.worker_id == worker_id
                and job.started_at == started,
            )
        except ConditionFailed:
            return None  # another worker claimed it first, or it was cancelled
        log.info("job claimed", extra={"job_id": job.job_id, "worker_id": worker_id, "attempt": job.attempts})
        return job

    def _fail_abandoned(self, job: Job) -> None:
        error = job.error or "The worker running this job stopped responding."
        message = f"Gave up after {job.attempts} attempts. Last error: {error}"
        now = self.clock()
        try:
            self._move(transitions.GIVE_UP, job.job_id, {"job_id": job.job_id},
                       {**self._finished(now), "error": message, "now": now})
            log.warning("job failed after its workers were lost", extra={"job_id": job.job_id})
        except ConditionFailed:
            pass  # someone else settled it first

    def _move(
        self,
        transition: Transition,
        job_id: str,
        context: dict[str, Any],
        values: dict[str, Any],
        *,
        worker_id: str | None = None,
        took_effect: Callable[[Job], bool] | None = None,
    ) -> Job:
        """Make `transition` on one job with these values; ConditionFailed if it is not allowed now."""
        kwargs = transition.update_kwargs(values, worker_id)
        kwargs["ExpressionAttributeValues"] = serialize(kwargs["ExpressionAttributeValues"])
        return self._update_job(job_id, context, took_effect=took_effect, **kwargs)

    def _owned(self, job: Job, transition: Transition, values: dict[str, Any]) -> Job:
        """Make `transition`, which applies only while `job.worker_id` still holds the RUNNING job.

        A move that ends the job keeps its worker id, so a retry whose first try took effect (answer
        lost) is recognised as this worker's own.
        """
        ends_as = transition.to_status if transition.to_status in (JobStatus.SUCCEEDED, JobStatus.FAILED) else None
        try:
            return self._move(
                transition,
                job.job_id,
                {"job_id": job.job_id, "worker_id": job.worker_id, "operation": transition.name},
                values,
                worker_id=job.worker_id,
                took_effect=(lambda now: now.status is ends_as and now.worker_id == job.worker_id)
                if ends_as else None,
            )
        except ConditionFailed as error:
            raise LeaseLost(f"Job {job.job_id} is no longer held by {job.worker_id}") from error

    def heartbeat(self, job: Job, progress: float, message: str = "") -> Job:
        """Extend the lease and record progress (0..1); LeaseLost if cancelled or taken over."""
        now = self.clock()
        return self._owned(job, transitions.HEARTBEAT, {
            "available_at": now + self.settings.lease_seconds,
            "progress": min(max(float(progress), 0.0), 1.0),
            "message": str(message)[:300],
            "heartbeat_at": utc_now_iso(now),
        })

    def write_result(self, job: Job, result_csv: bytes, summary: dict[str, Any]) -> None:
        """Store the result CSV and the summary (chart description, metrics) under this claim's own
        attempt; nobody reads them until `complete` by the same claim makes them the job's."""
        context = {"job_id": job.job_id, "worker_id": job.worker_id, "attempt": job.attempts}
        attempt = _attempt(job)
        self._s3("PutObject", context, Key=schema.result_key(job.job_id, attempt), Body=result_csv,
                 ContentType="text/csv")
        body = json.dumps(summary, separators=(",", ":")).encode()
        self._s3("PutObject", context, Key=schema.summary_key(job.job_id, attempt), Body=body,
                 ContentType="application/json")

    def complete(self, job: Job, model_version: str, message: str = "Done") -> Job:
        """Mark the job SUCCEEDED with this claim's result (`write_result` first); LeaseLost, and
        its result never served, if the claim no longer holds the job."""
        attempt = _attempt(job)
        done = self._owned(job, transitions.COMPLETE, {
            **self._finished(self.clock()),
            "progress": 1,
            "message": message,
            "model_version": model_version,
            "result_key": schema.result_key(job.job_id, attempt),
            "summary_key": schema.summary_key(job.job_id, attempt),
        })
        log.info("job succeeded", extra={"job_id": job.job_id, "model_version": model_version})
        return done

    def fail(self, job: Job, error: str, *, retryable: bool = True) -> Job:
        """Record an error: the job is retried later while attempts remain, else FAILED."""
        error = str(error)[:1000]
        now = self.clock()
        if retryable and job.attempts < job.max_attempts:
            backoff = min(self.settings.retry_backoff_seconds * 2 ** (job.attempts - 1), 60)
            result = self._owned(job, transitions.FAIL_RETRY, {
                "available_at": now + backoff,
                "error": error,
                "message": f"Attempt {job.attempts} failed; retrying in {backoff:g}s",
            })
            log.warning(
                "job attempt failed, will retry",
                extra={"job_id": job.job_id, "attempt": job.attempts, "error": error},
            )
            return result
        result = self._owned(job, transitions.FAIL, {**self._finished(now), "error": error, "message": "Failed"})
        log.error("job failed", extra={"job_id": job.job_id, "attempts": job.attempts, "error": error})
        return result

    def release(self, job: Job, message: str = "Interrupted; it will resume") -> Job:
        """Hand the job back to the queue at once, without spending an attempt (worker stopping)."""
        result = self._owned(job, transitions.RELEASE, {"available_at": self.clock(), "message": message})
        log.info("job released", extra={"job_id": job.job_id})
        return result

    # --- stakeholder actions: cancel and retry -------------------------------------------

    def cancel(self, job_id: str, by: str) -> Job:
        """Cancel a PENDING or RUNNING job; its worker notices at its next heartbeat."""
        try:
            job = self._move(transitions.CANCEL, job_id, {"job_id": job_id, "user": by},
                             {**self._finished(self.clock()), "cancelled_by": by, "message": f"Cancelled by {by}"})
        except ConditionFailed as error:
            self.get(job_id)  # JobNotFound if it never existed
            raise JobConflict("Only a pending or running job can be cancelled") from error
        log.info("job cancelled", extra={"job_id": job_id, "user": by})
        return job

    def retry(self, job_id: str, by: str) -> Job:
        """Put a FAILED or CANCELLED job back in the queue with a fresh set of attempts."""
        try:
            job = self._move(transitions.RETRY, job_id, {"job_id": job_id, "user": by}, {
                "queue": schema.QUEUE,
                "available_at": self.clock(),
                "attempts": 0,
                "progress": 0,
                "message": f"Retried by {by}",
                "error": "",
                "finished_at": "",
            })
        except ConditionFailed as error:
            self.get(job_id)
            raise JobConflict("Only a failed or cancelled job can be retried") from error
        log.info("job retried", extra={"job_id": job_id, "user": by})
        return job

    def _finished(self, now: float) -> dict[str, Any]:
        """The values of a move that ends a job: when it finished and when its item expires."""
        return {"finished_at": utc_now_iso(now), "expires_at": self._expiry(now)}

    def _expiry(self, now: float) -> int:
        return int(now + self.settings.retention_days * 86400)


def _attempt(job: Job) -> str:
    """The attempt name of the claim `job` came from (its attempt number and worker)."""
    if not job.worker_id:
        raise InvalidRequest(f"Job {job.job_id} is not a claimed job")
    return schema.attempt_name(job.attempts, job.worker_id)


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def _safe_filename(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in "._-")[:100] or "result.csv"
