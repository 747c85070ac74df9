"""jobkit: the one contract the dashboard, predictor and worker share.

It defines the job record and lifecycle (`records`), the DynamoDB table, item keys and S3 layout
(`schema`), the operations on them (`store`, with the queue's moves in `transitions`, predictions
and feedback in `feedback`, the DynamoDB codec and page tokens in `codec`), typed settings
(`settings`), AWS client construction and the error boundary (`aws`, `errors`) and JSON logging
(`logs`). It depends on boto3 only.

Names are re-exported lazily, so `from jobkit import logs` (all the predictor needs) does not
import boto3 and lengthen a Lambda cold start.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "InvalidRequest": "jobkit.errors",
    "JobConflict": "jobkit.errors",
    "JobKitError": "jobkit.errors",
    "JobNotFound": "jobkit.errors",
    "LeaseLost": "jobkit.errors",
    "NotFound": "jobkit.errors",
    "PredictionNotFound": "jobkit.errors",
    "StoreUnavailable": "jobkit.errors",
    "Feedback": "jobkit.records",
    "Job": "jobkit.records",
    "JobStatus": "jobkit.records",
    "Page": "jobkit.records",
    "Prediction": "jobkit.records",
    "SettingsError": "jobkit.settings",
    "StoreSettings": "jobkit.settings",
    "JobStore": "jobkit.store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'jobkit' has no attribute {name!r}")
