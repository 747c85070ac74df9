"""The records jobkit stores: jobs with their lifecycle, predictions and feedback."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any


class JobStatus(str, enum.Enum):
    """PENDING -> RUNNING -> SUCCEEDED | FAILED, and CANCELLED from PENDING or RUNNING.

    A RUNNING job whose lease expires, or that failed with attempts left, is claimable again.
    """

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_active(self) -> bool:
        return self in (JobStatus.PENDING, JobStatus.RUNNING)


def utc_now_iso(epoch: float) -> str:
    """Epoch seconds as a sortable ISO-8601 UTC string with microseconds."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _from_item(cls: type, item: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in item.items() if k in names})


@dataclass
class Job:
    """One batch job: who asked, for what input, and how far it got."""

    job_id: str
    status: JobStatus
    owner: str
    created_at: str
    input_key: str
    input_name: str = ""
    note: str = ""  # an optional name or note the stakeholder gives the job
    params: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    max_attempts: int = 3
    progress: float = 0.0
    message: str = ""
    error: str = ""
    model_version: str = ""
    worker_id: str = ""
    started_at: str = ""
    finished_at: str = ""
    heartbeat_at: str = ""
    available_at: float | None = None
    expires_at: int | None = None
    result_key: str = ""
    summary_key: str = ""
    cancelled_by: str = ""

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Job:
        job = _from_item(cls, item)
        job.status = JobStatus(job.status)
        return job

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to finish (or None while it has not both started and ended)."""
        if not (self.started_at and self.finished_at):
            return None
        return (parse_iso(self.finished_at) - parse_iso(self.started_at)).total_seconds()


@dataclass
class Prediction:
    """One realtime prediction, recorded so stakeholders can give feedback on it."""

    prediction_id: str
    owner: str
    created_at: str
    model_version: str
    inputs: dict[str, Any]
    output: dict[str, Any]
    latency_ms: float = 0.0

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Prediction:
        return _from_item(cls, item)


@dataclass
class Feedback:
    """A thumbs up (+1) or down (-1) with an optional comment, on a job or a prediction."""

    target_kind: str
    target_id: str
    user: str
    rating: int
    comment: str
    model_version: str
    created_at: str

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Feedback:
        return _from_item(cls, item)


@dataclass
class Page:
    """One page of a listing; pass `next_token` back to get the following page."""

    items: list[Any]
    next_token: str | None
    scanned_count: int = 0
