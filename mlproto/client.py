"""The Python client for notebooks and scripts: predictions and batch jobs, local or cloud.

    from mlproto import Client
    client = Client.local()                      # the running `make dev`; Client.stack("dev") for AWS
    client.predict({"weight_kg": 2, ...})        # one record -> Prediction; a list or DataFrame -> many
    job = client.submit("data.csv", {"top": 5}, wait=True)
    result = client.fetch(job.job_id, "out/")    # result CSV + summary (+ a DataFrame with pandas)

It speaks the apps' own contract and nothing else: the Lambda Invoke API for predictions
(through the dashboard's own predictor client, so answers are checked the same way), and the job
contract (jobkit) for jobs, with a submit going the dashboard's path: the dashboard's file and
parameter checks, the input into S3 and a PENDING job through `JobStore.submit`, then the
dashboard's launcher to start a worker. Every refusal is a `mlproto.errors.ClientError`.
"""

from __future__ import annotations

import getpass
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard.launcher import Launcher
from dashboard.predictor_client import InvalidInputs, PredictorClient, PredictorUnavailable
from jobkit import Job, JobStatus, JobStore, Page, schema
from jobkit.aws import call
from jobkit.errors import JobConflict, JobKitError, JobNotFound, ObjectMissing

from mlproto import checks, workers
from mlproto.errors import BadInput, ClientError, JobFailed, JobNotFinished, NoSuchJob, Unavailable
from mlproto.targets import Target

log = logging.getLogger("mlproto.client")

DESCRIPTION_WAIT_SECONDS = 20.0  # how long a submit waits for a fresh worker to publish what the job needs


@dataclass(frozen=True)
class Prediction:
    """One prediction: the model's label and value, its version, the model's other details
    (class probabilities...), the chart and the round trip in milliseconds."""

    label: str
    value: Any
    model_version: str
    details: dict[str, Any] = field(default_factory=dict)
    chart: dict[str, Any] | None = field(default=None, repr=False)
    latency_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "model_version": self.model_version,
                "details": self.details, "latency_ms": self.latency_ms}


@dataclass(frozen=True)
class Fetched:
    """A finished job's files on disk, its summary, and the result as a DataFrame when pandas is there."""

    job: Job
    result_path: Path
    summary_path: Path
    summary: dict[str, Any]
    table: Any = field(default=None, repr=False)  # pandas.DataFrame, or None without pandas


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "to_dict")


def _frame(path: Path) -> Any:
    try:
        import pandas
    except ImportError:
        return None
    return pandas.read_csv(path)


class Client:
    """Predictions and batch jobs at one target. Create one and reuse it; thread-safe for reads."""

    def __init__(self, target: Target, *, user: str | None = None, poll_seconds: float = 1.0) -> None:
        self.target = target
        self.user = user or getpass.getuser()
        self.poll_seconds = poll_seconds
        self.store = JobStore(target.store, dynamodb=target.client("dynamodb"), s3=target.client("s3"))
        # Never re-sent on a timeout (a retry would run the model twice), as the dashboard's.
        invoker = target.client("lambda", max_attempts=1, read_timeout=target.predictor_timeout_seconds)
        self.predictor = PredictorClient(invoker, target.function_name, describe_cache_seconds=5.0)
        self._launcher: Launcher | None = None
        self._no_launcher = ""
        log.info("client ready", extra={"target": target.label, "table": target.store.table, "user": self.user})

    @classmethod
    def local(cls, state_dir: Path | str | None = None, **kwargs: Any) -> Client:
        """The running `make dev` (TargetNotFound when it is not running)."""
        return cls(Target.local(state_dir), **kwargs)

    @classmethod
    def stack(cls, name: str, **kwargs: Any) -> Client:
        """A deployed Pulumi stack, with AWS credentials from the environment."""
        return cls(Target.stack(name), **kwargs)

    # --- predictions ----------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """What the model needs: title, version and its input fields (the predictor's `describe`)."""
        try:
            return self.predictor.describe()
        except PredictorUnavailable as error:
            raise Unavailable(str(error)) from None

    def predict(self, records: dict[str, Any] | Iterable[dict[str, Any]] | Any) -> Any:
        """One record (a dict) -> Prediction; a list of records -> list[Prediction]; a pandas
        DataFrame -> the DataFrame with `label`, `value` and `model_version` columns added.
        BadInput names the field (and, for many, the record) the predictor refused."""
        if isinstance(records, dict):
            return self._predict_one(records, None)
        if _is_frame(records):
            answers = [self._predict_one(r, n) for n, r in enumerate(records.to_dict("records"))]
            out = records.copy()
            out["label"] = [a.label for a in answers]
            out["value"] = [a.value for a in answers]
            out["model_version"] = [a.model_version for a in answers]
            return out
        if isinstance(records, str | bytes):
            raise BadInput("predict takes a record (a dict of inputs), a list of them or a DataFrame.")
        return [self._predict_one(record, n) for n, record in enumerate(records)]

    def _predict_one(self, record: Any, index: int | None) -> Prediction:
        where = f"Record {index}: " if index is not None else ""
        if not isinstance(record, dict):
            raise BadInput(f"{where}a record is a dict of inputs by name, not {type(record).__name__}.",
                           record=index)
        try:
            answer = self.predictor.predict({str(k): v for k, v in record.items()})
        except InvalidInputs as error:
            fields = dict(error.fields)
            first = next(iter(fields), "")
            message = str(error)
            unsaid = {name: problem for name, problem in fields.items() if name not in message}
            if unsaid:  # the predictor's message may already name every field; say only what it did not
                message += " (" + "; ".join(f"{name}: {problem}" for name, problem in unsaid.items()) + ")"
            raise BadInput(f"{where}{message}", first, fields, record=index) from None
        except PredictorUnavailable as error:
            raise Unavailable(str(error)) from None
        prediction = answer.prediction
        return Prediction(label=str(prediction.get("label", prediction.get("value", ""))),
                          value=prediction.get("value"), model_version=answer.model_version,
                          details={k: v for k, v in prediction.items() if k not in ("label", "value")},
                          chart=answer.chart,
                          latency_ms=answer.latency_ms)

    # --- batch jobs -----------------------------------------------------------------------

    def batch_description(self, wait: float = 0.0) -> dict[str, Any] | None:
        """What the batch job needs (title, input rules, parameters) as its worker last published
        it; with `wait`, start a worker when none has published yet and wait that long for it."""
        description = self._store(self.store.read_description)
        deadline = time.monotonic() + wait
        if description is None and wait > 0 and self._start_worker()[0]:
            while description is None and time.monotonic() < deadline:
                time.sleep(0.25)
                description = self._store(self.store.read_description)
        return description

    def submit(self, path: Path | str, params: dict[str, Any] | None = None, *, note: str = "",
               token: str | None = None, wait: bool = False,
               on_progress: Callable[[Job], None] | None = None) -> Job:
        """Submit a CSV file with parameters, as the dashboard does; with `wait`, watch it to the end.

        RefusedFile (the dashboard's message) when the file cannot be the job's input, BadInput for a
        wrong parameter, JobFailed when waiting on a job that fails. The same `token` gives the same job.
        """
        name, data = checks.read_file(path)
        description = self.batch_description(wait=DESCRIPTION_WAIT_SECONDS)
        clean = checks.check_params(description, params)
        name, data = checks.check_file(name, data, description, str(path))
        job = self._store(lambda: self.store.submit(owner=self.user, client_token=token or uuid.uuid4().hex,
                                                    input_bytes=data, input_name=name, params=clean, note=note))
        started, why_not = self._start_worker()
        log.info("job submitted", extra={"job_id": job.job_id, "input_name": name, "worker_started": started,
                                         "no_worker_because": why_not or None})
        return self.watch(job.job_id, on_progress) if wait else job

    def status(self, job_id: str) -> Job:
        """The job as it is now; NoSuchJob when no job has that id."""
        return self._job(job_id)

    def watch(self, job_id: str, on_progress: Callable[[Job], None] | None = None, *,
              timeout: float | None = None, raise_on_failure: bool = True) -> Job:
        """Poll the job until it ends, calling `on_progress(job)` whenever it moved; the finished job.

        While it waits for a worker, it starts one as the dashboard's reconciler would. JobFailed
        when it ends FAILED or CANCELLED (unless `raise_on_failure=False`); TimeoutError after `timeout`.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: tuple[Any, ...] = ()
        nudged = time.monotonic()
        while True:
            job = self._job(job_id, consistent=True)
            state = (job.status, job.progress, job.message, job.attempts)
            if state != seen and on_progress is not None:
                on_progress(job)
            seen = state
            if not job.status.is_active:
                if raise_on_failure and job.status is not JobStatus.SUCCEEDED:
                    raise JobFailed(job)
                return job
            if job.status is JobStatus.PENDING and time.monotonic() - nudged > 10:
                nudged = time.monotonic()
                self._start_worker()
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"Job {job_id} is still {job.status.value.lower()} after {timeout:g}s")
            time.sleep(self.poll_seconds)

    def fetch(self, job_id: str, dest: Path | str = ".") -> Fetched:
        """Write a SUCCEEDED job's result CSV and summary JSON into `dest`; JobFailed for a failed
        job, JobNotFinished for one still pending or running."""
        job = self._job(job_id)
        if job.status.is_active:
            raise JobNotFinished(f"Job {job_id} is {job.status.value.lower()} ({job.progress:.0%}); "
                                 "it has no result yet. Wait for it: ml-proto status, or watch().")
        if job.status is not JobStatus.SUCCEEDED:
            raise JobFailed(job)
        folder = Path(dest)
        folder.mkdir(parents=True, exist_ok=True)
        stem = "".join(c for c in (job.input_name.rsplit(".", 1)[0] or "job") if c.isalnum() or c in "._-")[:80]
        key = job.result_key or schema.result_key(job_id)  # the attempt that completed it (older jobs: no key)
        result = self._store(lambda: call(self.store.s3.get_object, "s3.GetObject", {"job_id": job_id},
                                          Bucket=self.target.store.bucket, Key=key))
        summary = self._store(lambda: self.store.read_summary(job))
        result_path = folder / f"{stem or 'job'}-{job_id[:8]}-result.csv"
        summary_path = folder / f"{stem or 'job'}-{job_id[:8]}-summary.json"
        result_path.write_bytes(result["Body"].read())
        summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True))
        return Fetched(job, result_path, summary_path, summary, _frame(result_path))

    def jobs(self, limit: int = 25, page_token: str | None = None) -> Page:
        """The newest jobs first, one page (`.items`, `.next_token` for the next page)."""
        return self._store(lambda: self.store.list_recent(limit=limit, page_token=page_token))

    def cancel(self, job_id: str) -> Job:
        """Cancel a pending or running job (its worker stops at its next heartbeat)."""
        self._job(job_id)  # NoSuchJob for an id no job has
        try:
            return self._store(lambda: self.store.cancel(job_id, by=self.user))
        except JobConflict as error:
            job = self._job(job_id)
            raise ClientError(f"Job {job_id} is {job.status.value.lower()}: {error}.") from None

    # --- plumbing -------------------------------------------------------------------------

    def _job(self, job_id: str, consistent: bool = False) -> Job:
        if not job_id or not all(c in "0123456789abcdef" for c in job_id) or len(job_id) != 32:
            raise NoSuchJob(f"{job_id!r} is not a job id (32 hexadecimal characters, as `ml-proto jobs` lists).")
        try:
            return self._store(lambda: self.store.get(job_id, consistent=consistent))
        except JobNotFound:
            raise NoSuchJob(f"No job {job_id} at {self.target.label}.") from None

    @staticmethod
    def _store(operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except (JobNotFound, JobConflict):
            raise
        except ObjectMissing as error:
            raise Unavailable(f"A file of this job is missing from the bucket ({error}).") from None
        except JobKitError as error:
            raise Unavailable(f"The job store did not answer: {error}") from None

    def _start_worker(self) -> tuple[bool, str]:
        """Start a worker with the dashboard's launcher unless enough run: (started, why not)."""
        if self._launcher is None and not self._no_launcher:
            self._launcher, self._no_launcher = workers.launcher_for(self.target)
        if self._launcher is None:
            return False, self._no_launcher
        return workers.start_worker(self._launcher)
