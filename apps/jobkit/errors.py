"""The few exception types every jobkit operation raises; nothing above jobkit.aws sees the SDK's own."""

from __future__ import annotations

from typing import Any


class JobKitError(Exception):
    """Base class: anything jobkit raises on purpose."""


class InvalidRequest(JobKitError):
    """The caller passed something malformed (a bad job id, page token, rating...)."""


class NotFound(JobKitError):
    """Nothing has that id: catch this for a missing job or prediction alike."""


class JobNotFound(NotFound):
    """No job has that id."""


class PredictionNotFound(NotFound):
    """No prediction has that id."""


class JobConflict(JobKitError):
    """The job is not in a state that allows the operation (cancel a finished job...)."""


class LeaseLost(JobKitError):
    """This worker no longer holds the job: it was cancelled or its lease was taken over."""


class StoreUnavailable(JobKitError):
    """AWS failed even after the SDK's retries; the message says which call and why."""


class ConditionFailed(JobKitError):
    """A conditional write's condition did not hold; `item` is the item as it is now (DynamoDB's
    attribute values, when the write asked for them), or None."""

    def __init__(self, message: str, item: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.item = item


class ObjectMissing(JobKitError):
    """The object is not in the bucket; `code` is what S3 answered (NoSuchKey, or AccessDenied)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class AwsRefused(JobKitError):
    """AWS answered a call with an error: its `code`, `message`, `operation_name` and `request_id`."""

    def __init__(self, operation_name: str, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{operation_name}: {code}: {message}")
        self.operation_name, self.code, self.message, self.request_id = operation_name, code, message, request_id


class AwsUnreachable(JobKitError):
    """AWS did not answer a call (connection failed or timed out); `kind` names the failure."""

    def __init__(self, message: str, kind: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.kind, self.timed_out = kind, timed_out
