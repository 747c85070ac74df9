"""The queue's state machine as data: every move of a job, from which statuses to which, and what
it sets and removes. `JobStore._move` is the one function that applies them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobkit.records import JobStatus

PENDING, RUNNING = JobStatus.PENDING, JobStatus.RUNNING
SUCCEEDED, FAILED, CANCELLED = JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED


@dataclass(frozen=True)
class Transition:
    """One move of a job: allowed while its status is one of `from_statuses` (and, when `held`, while
    the worker that asks still holds it, and `condition` holds); it ends in `to_status` (None: the
    status stays), sets each of `sets` to the value given for it, adds `adds` and removes `removes`."""

    name: str
    from_statuses: tuple[JobStatus, ...]
    to_status: JobStatus | None
    sets: tuple[str, ...] = ()
    removes: tuple[str, ...] = ()
    adds: dict[str, int] = field(default_factory=dict)
    held: bool = False
    condition: str = ""

    def update_kwargs(self, values: dict[str, Any], worker_id: str | None = None) -> dict[str, Any]:
        """UpdateExpression, ConditionExpression and the plain values (`values` holds one per name
        in `sets` and any `:placeholder` of `condition`) for an UpdateItem making this move."""
        missing = set(self.sets) - set(values)
        if missing:
            raise ValueError(f"{self.name} needs a value for {sorted(missing)}")
        assignments = [f"#{name} = :{name}" for name in self.sets]
        assignments += [f"#{name} = #{name} + :add_{name}" for name in self.adds]
        plain = {f":{name}": value for name, value in values.items()}
        plain.update({f":add_{name}": amount for name, amount in self.adds.items()})
        if self.to_status is not None:
            assignments.insert(0, "#status = :to_status")
            plain[":to_status"] = self.to_status.value
        statuses = [f":from_{status.value.lower()}" for status in self.from_statuses]
        plain.update({f":from_{status.value.lower()}": status.value for status in self.from_statuses})
        conditions = [f"#status = {statuses[0]}" if len(statuses) == 1 else f"#status IN ({', '.join(statuses)})"]
        if self.held:
            conditions.append("worker_id = :holder")
            plain[":holder"] = worker_id
        if self.condition:
            conditions.append(self.condition)
        update = "SET " + ", ".join(assignments)
        if self.removes:
            update += " REMOVE " + ", ".join(f"#{name}" for name in self.removes)
        return {"UpdateExpression": update, "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeValues": plain}


_FINISHED = ("finished_at", "expires_at")
_OFF_THE_QUEUE = ("queue", "available_at")

CLAIM = Transition(
    "claim", (PENDING, RUNNING), RUNNING,
    sets=("worker_id", "available_at", "started_at", "heartbeat_at"), adds={"attempts": 1},
    condition="available_at <= :now AND attempts < max_attempts",
)
HEARTBEAT = Transition(
    "heartbeat", (RUNNING,), None, sets=("available_at", "progress", "message", "heartbeat_at"), held=True,
)
COMPLETE = Transition(
    "complete", (RUNNING,), SUCCEEDED,
    sets=(*_FINISHED, "progress", "message", "model_version", "result_key", "summary_key"),
    removes=_OFF_THE_QUEUE, held=True,
)
FAIL_RETRY = Transition(
    "fail-retry", (RUNNING,), PENDING, sets=("available_at", "error", "message"), removes=("worker_id",), held=True,
)
FAIL = Transition(
    "fail", (RUNNING,), FAILED, sets=(*_FINISHED, "error", "message"), removes=_OFF_THE_QUEUE, held=True,
)
RELEASE = Transition(
    "release", (RUNNING,), PENDING, sets=("available_at", "message"), adds={"attempts": -1},
    removes=("worker_id",), held=True,
)
CANCEL = Transition(
    "cancel", (PENDING, RUNNING), CANCELLED, sets=(*_FINISHED, "cancelled_by", "message"),
    removes=(*_OFF_THE_QUEUE, "worker_id"),
)
GIVE_UP = Transition(  # every attempt used while its workers kept dying
    "give-up", (PENDING, RUNNING), FAILED, sets=(*_FINISHED, "error"), removes=(*_OFF_THE_QUEUE, "worker_id"),
    condition="available_at <= :now AND attempts >= max_attempts",
)
RETRY = Transition(
    "retry", (FAILED, CANCELLED), PENDING,
    sets=("queue", "available_at", "attempts", "progress", "message", "error", "finished_at"),
    removes=("expires_at", "cancelled_by", "worker_id"),
)
