"""mlproto: predictions and batch jobs from notebooks, scripts and the `ml-proto` command.

`Client.local()` reaches the running `make dev`, `Client.stack("dev")` a deployed stack; see
docs/client.md. Refusals are `mlproto.errors.ClientError`s.
"""

from __future__ import annotations

from mlproto.client import Client, Fetched, Prediction
from mlproto.errors import BadInput, ClientError, JobFailed, JobNotFinished, NoSuchJob, RefusedFile, TargetNotFound
from mlproto.targets import Target

__all__ = ["BadInput", "Client", "ClientError", "Fetched", "JobFailed", "JobNotFinished", "NoSuchJob", "Prediction",
           "RefusedFile", "Target", "TargetNotFound"]
