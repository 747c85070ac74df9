"""The few exception types every jobkit operation raises."""


class JobKitError(Exception):
    """Base class: anything jobkit raises on purpose."""


class InvalidRequest(JobKitError):
    """The caller passed something malformed (a bad job id, page token, rating...)."""


class JobNotFound(JobKitError):
    """No job (or prediction) has that id."""


class JobConflict(JobKitError):
    """The job is not in a state that allows the operation (cancel a finished job...)."""


class LeaseLost(JobKitError):
    """This worker no longer holds the job: it was cancelled or its lease was taken over."""


class StoreUnavailable(JobKitError):
    """AWS failed even after botocore's retries; the message says which call and why."""
