"""jobkit: the one contract the dashboard, predictor and worker share.

It defines the job record and lifecycle (`records`), the DynamoDB table and S3 layout
(`schema`), the operations on them (`store`), typed settings (`settings`), AWS client
construction (`aws`) and JSON logging (`logs`). It depends on boto3 only.
"""

from jobkit.errors import (
    InvalidRequest,
    JobConflict,
    JobKitError,
    JobNotFound,
    LeaseLost,
    StoreUnavailable,
)
from jobkit.records import Feedback, Job, JobStatus, Page, Prediction
from jobkit.settings import StoreSettings
from jobkit.store import JobStore

__all__ = [
    "Feedback",
    "InvalidRequest",
    "Job",
    "JobConflict",
    "JobKitError",
    "JobNotFound",
    "JobStatus",
    "JobStore",
    "LeaseLost",
    "Page",
    "Prediction",
    "StoreSettings",
    "StoreUnavailable",
]
