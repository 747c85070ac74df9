"""What the client raises: every refusal is one of these, with a message a person can act on.

`ClientError` is the base; each subclass carries the contract's detail (which field, which file,
why the job failed) and the CLI's exit code for it (`exit_code`).
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Anything the client refuses or cannot do; `str()` is the message to show."""

    exit_code = 2


class BadInput(ClientError):
    """A prediction input or a job parameter is wrong: `field` names it, `problems` has them all."""

    def __init__(self, message: str, field: str = "", problems: dict[str, str] | None = None,
                 record: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.problems = dict(problems or ({field: message} if field else {}))
        self.record = record  # which record of a many-record predict, counted from 0


class RefusedFile(ClientError):
    """The file cannot be a job's input (the dashboard's own checks and messages)."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class JobFailed(ClientError):
    """The job ended FAILED or CANCELLED; `reason` is the job's own error (or who cancelled it)."""

    exit_code = 1

    def __init__(self, job: Any) -> None:
        status = job.status.value
        reason = job.error or job.message or "no reason recorded"
        super().__init__(f"Job {job.job_id} {status.lower()}: {reason}")
        self.job, self.status, self.reason = job, status, reason


class JobNotFinished(ClientError):
    """The job has no result yet (it is still pending or running)."""


class NoSuchJob(ClientError):
    """No job has that id."""


class Unavailable(ClientError):
    """The predictor or the job store could not answer (after the SDK's retries)."""

    exit_code = 3


class TargetNotFound(ClientError):
    """The local stack is not running, or the Pulumi stack or its outputs cannot be read."""

    exit_code = 3
