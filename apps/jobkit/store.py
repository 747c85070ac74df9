"""JobStore: every operation on jobs, predictions and feedback, over DynamoDB and S3.

The queue is a visibility-timeout queue: a worker claims the oldest available job with a
conditional write that gives it a lease, heartbeats to extend the lease, and completes or fails
the job on condition that it still holds it. A job whose lease runs out is claimable again.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import random
import re
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from jobkit import aws, schema
from jobkit.errors import ConditionFailed, InvalidRequest, JobConflict, JobNotFound, LeaseLost
from jobkit.records import Feedback, Job, JobStatus, Page, Prediction, utc_now_iso
from jobkit.settings import StoreSettings

log = logging.getLogger("jobkit.store")

_TOKEN_NAMESPACE = uuid.UUID("6f1c1a52-3d0e-4d4c-9a55-5b8f7e0c2a11")
_CLAIM_PAGE = 10
_MAX_COMMENT = 2000
# DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 to 9.99E+125.
_MIN_NUMBER, _MAX_NUMBER = 1e-125, 9.9e125
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > _MAX_NUMBER:
            raise InvalidRequest(f"{value!r} is not a number DynamoDB can store")
        return Decimal(repr(value)) if abs(value) >= _MIN_NUMBER else Decimal(0)
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    if isinstance(value, JobStatus):
        return value.value
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    """A plain dict as DynamoDB attribute values (floats become Decimals)."""
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values back to plain Python (whole numbers become ints)."""
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


def job_id_for(owner: str, client_token: str) -> str:
    """The job id a submit with this token gets: the same token always names the same job."""
    return uuid.uuid5(_TOKEN_NAMESPACE, f"{owner}\n{client_token}").hex


def _job_key(job_id: str) -> dict[str, Any]:
    schema.job_prefix(job_id)  # validates the id
    return {"pk": {"S": f"job#{job_id}"}, "sk": {"S": "job"}}


def _encode_token(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_token(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeError) as error:
        raise InvalidRequest("Malformed page token") from error
    expected = {"pk", "sk", schema.RECENT_INDEX.hash_key, schema.RECENT_INDEX.range_key}
    if not (
        isinstance(key, dict)
        and set(key) == expected
        and all(isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in key.values())
    ):
        raise InvalidRequest("Malformed page token")
    return key


class JobStore:
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
                Key=_job_key(job),
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
        item = {"pk": f"job#{job_id}", "sk": "job", "kind": "job", "queue": schema.QUEUE, **vars(job)}
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
            "GetItem", {"job_id": job_id}, Key=_job_key(job_id), ConsistentRead=consistent
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
        start = _decode_token(page_token)
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
        return Page(items, _encode_token(response.get("LastEvaluatedKey")), response.get("ScannedCount", 0))

    def read_input(self, job: Job) -> bytes:
        """The job's input; ObjectMissing if it is gone."""
        # S3 answers AccessDenied, not NoSuchKey, for a missing key to a caller without s3:ListBucket
        # (S3 API Reference, GetObject, Permissions): for the job's own input both mean it is gone.
        response = self._s3("GetObject", {"job_id": job.job_id}, Key=job.input_key,
                            missing_codes=("NoSuchKey", "AccessDenied"))
        return response["Body"].read()

    def read_summary(self, job: Job) -> dict[str, Any]:
        """The result summary (chart description, metrics) a SUCCEEDED job carries."""
        response = self._s3("GetObject", {"job_id": job.job_id}, Key=schema.summary_key(job.job_id))
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
                "Key": schema.result_key(job.job_id),
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
            UpdateExpression="SET description = :description, published_at = :now",
            ExpressionAttributeValues=serialize({":description": description, ":now": utc_now_iso(self.clock())}),
        )

    def read_description(self) -> dict[str, Any] | None:
        """The batch algorithm's last published description (with `published_at`), or None if none was."""
        response = self._ddb("GetItem", {"operation": "read_description"}, Key=serialize(schema.DESCRIPTION_KEY))
        item = deserialize(response["Item"]) if "Item" in response else None
        if not item or not isinstance(item.get("description"), dict):
            return None
        return {**item["description"], "published_at": item.get("published_at", "")}

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
            job = self._update_job(
                candidate.job_id,
                {"job_id": candidate.job_id, "worker_id": worker_id},
                took_effect=lambda job: job.status is JobStatus.RUNNING and job.worker_id == worker_id
                and job.started_at == started,
                UpdateExpression=(
                    "SET #status = :running, worker_id = :worker, available_at = :lease, "
                    "attempts = attempts + :one, started_at = :started, heartbeat_at = :started"
                ),
                ConditionExpression=(
                    "#status IN (:pending, :running) AND available_at <= :now "
                    "AND attempts < max_attempts"
                ),
                ExpressionAttributeValues=serialize(
                    {
                        ":running": "RUNNING",
                        ":pending": "PENDING",
                        ":worker": worker_id,
                        ":lease": now + self.settings.lease_seconds,
                        ":one": 1,
                        ":started": started,
                        ":now": now,
                    }
                ),
            )
        except ConditionFailed:
            return None  # another worker claimed it first, or it was cancelled
        log.info("job claimed", extra={"job_id": job.job_id, "worker_id": worker_id, "attempt": job.attempts})
        return job

    def _fail_abandoned(self, job: Job) -> None:
        error = job.error or "The worker running this job stopped responding."
        message = f"Gave up after {job.attempts} attempts. Last error: {error}"
        try:
            self._finish(
                job.job_id,
                JobStatus.FAILED,
                {"job_id": job.job_id},
                condition="#status IN (:pending, :running) AND available_at <= :now AND attempts >= max_attempts",
                values={":pending": "PENDING", ":running": "RUNNING", ":now": self.clock()},
                sets={"error": message},
            )
            log.warning("job failed after its workers were lost", extra={"job_id": job.job_id})
        except ConditionFailed:
            pass  # someone else settled it first

    def _owned(self, job: Job, operation: str, *, ends_as: JobStatus | None = None, **kwargs: Any) -> Job:
        """An UpdateItem that applies only while `job.worker_id` still holds the RUNNING job.

        `ends_as`: the final status this write gives the job while keeping its worker id, so a
        retry whose first try took effect (answer lost) is recognised as this worker's own.
        """
        condition = "#status = :running AND worker_id = :worker"
        values = {":running": "RUNNING", ":worker": job.worker_id, **kwargs.pop("values", {})}
        try:
            return self._update_job(
                job.job_id,
                {"job_id": job.job_id, "worker_id": job.worker_id, "operation": operation},
                took_effect=(lambda now: now.status is ends_as and now.worker_id == job.worker_id)
                if ends_as else None,
                ConditionExpression=condition,
                ExpressionAttributeValues=serialize(values),
                **kwargs,
            )
        except ConditionFailed as error:
            raise LeaseLost(f"Job {job.job_id} is no longer held by {job.worker_id}") from error

    def heartbeat(self, job: Job, progress: float, message: str = "") -> Job:
        """Extend the lease and record progress (0..1); LeaseLost if cancelled or taken over."""
        now = self.clock()
        return self._owned(
            job,
            "heartbeat",
            UpdateExpression=(
                "SET available_at = :lease, progress = :progress, message = :message, heartbeat_at = :beat"
            ),
            values={
                ":lease": now + self.settings.lease_seconds,
                ":progress": min(max(float(progress), 0.0), 1.0),
                ":message": str(message)[:300],
                ":beat": utc_now_iso(now),
            },
        )

    def write_result(self, job: Job, result_csv: bytes, summary: dict[str, Any]) -> None:
        """Store the result CSV and the summary (chart description, metrics) under the job."""
        context = {"job_id": job.job_id}
        self._s3("PutObject", context, Key=schema.result_key(job.job_id), Body=result_csv, ContentType="text/csv")
        body = json.dumps(summary, separators=(",", ":")).encode()
        self._s3("PutObject", context, Key=schema.summary_key(job.job_id), Body=body, ContentType="application/json")

    def complete(self, job: Job, model_version: str, message: str = "Done") -> Job:
        """Mark the job SUCCEEDED (its result must already be written)."""
        now = self.clock()
        done = self._owned(
            job,
            "complete",
            ends_as=JobStatus.SUCCEEDED,
            UpdateExpression=(
                "SET #status = :succeeded, finished_at = :finished, progress = :one, message = :message, "
                "model_version = :version, result_key = :result, summary_key = :summary, expires_at = :expires "
                "REMOVE queue, available_at"
            ),
            values={
                ":succeeded": "SUCCEEDED",
                ":finished": utc_now_iso(now),
                ":one": 1,
                ":message": message,
                ":version": model_version,
                ":result": schema.result_key(job.job_id),
                ":summary": schema.summary_key(job.job_id),
                ":expires": self._expiry(now),
            },
        )
        log.info("job succeeded", extra={"job_id": job.job_id, "model_version": model_version})
        return done

    def fail(self, job: Job, error: str, *, retryable: bool = True) -> Job:
        """Record an error: the job is retried later while attempts remain, else FAILED."""
        error = str(error)[:1000]
        now = self.clock()
        if retryable and job.attempts < job.max_attempts:
            backoff = min(self.settings.retry_backoff_seconds * 2 ** (job.attempts - 1), 60)
            result = self._owned(
                job,
                "fail-retry",
                UpdateExpression=(
                    "SET #status = :pending, available_at = :later, #error = :error, message = :message "
                    "REMOVE worker_id"
                ),
                values={
                    ":pending": "PENDING",
                    ":later": now + backoff,
                    ":error": error,
                    ":message": f"Attempt {job.attempts} failed; retrying in {backoff:g}s",
                },
            )
            log.warning(
                "job attempt failed, will retry",
                extra={"job_id": job.job_id, "attempt": job.attempts, "error": error},
            )
            return result
        result = self._owned(
            job,
            "fail",
            ends_as=JobStatus.FAILED,
            UpdateExpression=(
                "SET #status = :failed, finished_at = :finished, #error = :error, message = :message, "
                "expires_at = :expires REMOVE queue, available_at"
            ),
            values={
                ":failed": "FAILED",
                ":finished": utc_now_iso(now),
                ":error": error,
                ":message": "Failed",
                ":expires": self._expiry(now),
            },
        )
        log.error("job failed", extra={"job_id": job.job_id, "attempts": job.attempts, "error": error})
        return result

    def release(self, job: Job, message: str = "Interrupted; it will resume") -> Job:
        """Hand the job back to the queue at once, without spending an attempt (worker stopping)."""
        result = self._owned(
            job,
            "release",
            UpdateExpression=(
                "SET #status = :pending, available_at = :now, attempts = attempts - :one, message = :message "
                "REMOVE worker_id"
            ),
            values={":pending": "PENDING", ":now": self.clock(), ":one": 1, ":message": message},
        )
        log.info("job released", extra={"job_id": job.job_id})
        return result

    # --- stakeholder actions: cancel and retry -------------------------------------------

    def cancel(self, job_id: str, by: str) -> Job:
        """Cancel a PENDING or RUNNING job; its worker notices at its next heartbeat."""
        try:
            job = self._finish(
                job_id,
                JobStatus.CANCELLED,
                {"job_id": job_id, "user": by},
                condition="#status IN (:pending, :running)",
                values={":pending": "PENDING", ":running": "RUNNING"},
                sets={"cancelled_by": by, "message": f"Cancelled by {by}"},
            )
        except ConditionFailed as error:
            self.get(job_id)  # JobNotFound if it never existed
            raise JobConflict("Only a pending or running job can be cancelled") from error
        log.info("job cancelled", extra={"job_id": job_id, "user": by})
        return job

    def retry(self, job_id: str, by: str) -> Job:
        """Put a FAILED or CANCELLED job back in the queue with a fresh set of attempts."""
        now = self.clock()
        try:
            job = self._update_job(
                job_id,
                {"job_id": job_id, "user": by},
                UpdateExpression=(
                    "SET #status = :pending, queue = :queue, available_at = :now, attempts = :zero, "
                    "progress = :zero, message = :message, #error = :empty, finished_at = :empty "
                    "REMOVE expires_at, cancelled_by, worker_id"
                ),
                ConditionExpression="#status IN (:failed, :cancelled)",
                ExpressionAttributeValues=serialize(
                    {
                        ":pending": "PENDING",
                        ":queue": schema.QUEUE,
                        ":now": now,
                        ":zero": 0,
                        ":message": f"Retried by {by}",
                        ":empty": "",
                        ":failed": "FAILED",
                        ":cancelled": "CANCELLED",
                    }
                ),
            )
        except ConditionFailed as error:
            self.get(job_id)
            raise JobConflict("Only a failed or cancelled job can be retried") from error
        log.info("job retried", extra={"job_id": job_id, "user": by})
        return job

    def _finish(
        self,
        job_id: str,
        status: JobStatus,
        context: dict[str, Any],
        *,
        condition: str,
        values: dict[str, Any],
        sets: dict[str, Any],
    ) -> Job:
        now = self.clock()
        assignments = ", ".join(f"#{name} = :set_{name}" for name in sets)
        return self._update_job(
            job_id,
            context,
            UpdateExpression=(
                f"SET #status = :status, finished_at = :finished, expires_at = :expires, {assignments} "
                "REMOVE queue, available_at, worker_id"
            ),
            ConditionExpression=condition,
            ExpressionAttributeValues=serialize(
                {
                    ":status": status.value,
                    ":finished": utc_now_iso(now),
                    ":expires": self._expiry(now),
                    **{f":set_{name}": value for name, value in sets.items()},
                    **values,
                }
            ),
        )

    def _expiry(self, now: float) -> int:
        return int(now + self.settings.retention_days * 86400)

    # --- realtime predictions and feedback -----------------------------------------------

    def record_prediction(
        self,
        *,
        owner: str,
        inputs: dict[str, Any],
        output: dict[str, Any],
        model_version: str,
        latency_ms: float,
    ) -> Prediction:
        """Keep a realtime prediction so it can be shown again and get feedback."""
        now = self.clock()
        prediction = Prediction(
            prediction_id=uuid.uuid4().hex,
            owner=owner,
            created_at=utc_now_iso(now),
            model_version=model_version,
            inputs=inputs,
            output=output,
            latency_ms=float(latency_ms),
        )
        item = {
            "pk": f"prediction#{prediction.prediction_id}",
            "sk": "prediction",
            "kind": "prediction",
            "expires_at": self._expiry(now),
            **vars(prediction),
        }
        self._ddb("PutItem", {"prediction_id": prediction.prediction_id}, Item=serialize(item))
        return prediction

    def get_prediction(self, prediction_id: str) -> Prediction:
        schema.job_prefix(prediction_id)  # same id format as jobs
        response = self._ddb(
            "GetItem",
            {"prediction_id": prediction_id},
            Key={"pk": {"S": f"prediction#{prediction_id}"}, "sk": {"S": "prediction"}},
        )
        if "Item" not in response:
            raise JobNotFound(f"No prediction {prediction_id}")
        return Prediction.from_item(deserialize(response["Item"]))

    def add_feedback(
        self,
        *,
        target_kind: str,
        target_id: str,
        user: str,
        rating: int,
        comment: str = "",
    ) -> Feedback:
        """Record `user`'s thumbs up (+1) or down (-1) on an existing job or prediction.

        One vote per user per target: a second vote replaces the first (an empty comment keeps the
        earlier one), and the per-version counters move by the difference, so every vote counts
        once. The vote counts for the model version the target itself records (JobNotFound if
        there is no such target), whatever the caller believes that version to be.
        """
        if target_kind not in ("job", "prediction"):
            raise InvalidRequest("Feedback goes on a job or a prediction")
        if rating not in (1, -1):
            raise InvalidRequest("A rating is +1 (thumbs up) or -1 (thumbs down)")
        if not user:
            raise InvalidRequest("Feedback needs a user")
        target = self.get(target_id) if target_kind == "job" else self.get_prediction(target_id)
        earlier = self.get_vote(target_kind, target_id, user)
        now = self.clock()
        feedback = Feedback(
            target_kind=target_kind,
            target_id=target_id,
            user=user,
            rating=rating,
            comment=str(comment or "")[:_MAX_COMMENT] or (earlier.comment if earlier else ""),
            model_version=target.model_version,
            created_at=utc_now_iso(now),
        )
        context = {"target_id": target_id, "user": user}
        response = self._ddb("PutItem", context, Item=serialize(_vote_item(feedback)), ReturnValues="ALL_OLD")
        # The replaced vote comes back with the write itself: two racing clicks each see exactly
        # the vote they replaced, so the counters' sum of differences stays right.
        old = deserialize(response["Attributes"]).get("rating") if response.get("Attributes") else None
        up = (rating == 1) - (old == 1)
        down = (rating == -1) - (old == -1)
        if up or down:
            self._ddb(
                "UpdateItem",
                context,
                Key=serialize(_summary_key(feedback.model_version)),
                UpdateExpression="ADD up :up, down :down SET model_version = :version, latest = :latest",
                ExpressionAttributeValues=serialize({":up": up, ":down": down, ":version": feedback.model_version,
                                                     ":latest": feedback.created_at}),
            )
        return feedback

    def get_vote(self, target_kind: str, target_id: str, user: str) -> Feedback | None:
        """`user`'s current vote on one job or prediction, or None."""
        schema.job_prefix(target_id)
        response = self._ddb(
            "GetItem",
            {"target_id": target_id, "user": user},
            Key={"pk": {"S": f"{target_kind}#{target_id}"}, "sk": {"S": f"feedback#{user}"}},
        )
        return Feedback.from_item(deserialize(response["Item"])) if "Item" in response else None

    def feedback_summary(self) -> list[dict[str, Any]]:
        """Thumbs up and down per model version, over every vote ever given (newest version first)."""
        rows: list[dict[str, Any]] = []
        start: dict[str, Any] = {}
        while True:
            response = self._ddb(
                "Query",
                {"listing": "feedback-summary"},
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": _FEEDBACK_SUMMARY}},
                **start,
            )
            rows += [deserialize(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                break
            start = {"ExclusiveStartKey": response["LastEvaluatedKey"]}
        summary = [{"model_version": row.get("model_version", ""), "up": int(row.get("up", 0)),
                    "down": int(row.get("down", 0)), "latest": row.get("latest", "")} for row in rows]
        return sorted(summary, key=lambda row: row["latest"], reverse=True)

    def list_feedback(self, target_kind: str, target_id: str) -> list[Feedback]:
        """All feedback on one job or prediction, oldest first (every page of it)."""
        schema.job_prefix(target_id)
        feedback: list[Feedback] = []
        start: dict[str, Any] = {}
        while True:
            response = self._ddb(
                "Query",
                {"target_id": target_id},
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={":pk": {"S": f"{target_kind}#{target_id}"}, ":prefix": {"S": "feedback#"}},
                **start,
            )
            feedback += [Feedback.from_item(deserialize(item)) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return feedback
            start = {"ExclusiveStartKey": response["LastEvaluatedKey"]}

    def list_recent_feedback(self, limit: int = 200, page_token: str | None = None) -> Page:
        """Newest feedback first, across every job and prediction."""
        return self._list_kind("feedback", Feedback, limit, page_token)

    def list_recent_predictions(self, limit: int = 50, page_token: str | None = None) -> Page:
        return self._list_kind("prediction", Prediction, limit, page_token)


_FEEDBACK_SUMMARY = "feedback-summary"


def _vote_item(feedback: Feedback) -> dict[str, Any]:
    return {"pk": f"{feedback.target_kind}#{feedback.target_id}", "sk": f"feedback#{feedback.user}",
            "kind": "feedback", **vars(feedback)}


def _summary_key(model_version: str) -> dict[str, Any]:
    return {"pk": _FEEDBACK_SUMMARY, "sk": f"version#{model_version}"}


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def _safe_filename(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in "._-")[:100] or "result.csv"
