"""boto3 clients with botocore's standard retry mode, and one way to call AWS and log failures.

Endpoints come from boto3's own configuration: AWS_ENDPOINT_URL (or a service-specific
AWS_ENDPOINT_URL_<SERVICE>) points every client at the local stack; unset, they reach AWS.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from jobkit.errors import StoreUnavailable

log = logging.getLogger("jobkit.aws")


def client(service: str, region: str, max_attempts: int = 6, **config: Any) -> Any:
    """A client for `service` that retries throttling and transient errors with backoff, making at
    most `max_attempts` attempts in all (botocore's `max_attempts` would count only retries)."""
    retries = {"mode": "standard", "total_max_attempts": max_attempts}
    if service == "s3":
        config.setdefault("signature_version", "s3v4")  # presigned URLs carry X-Amz-Expires
    settings = Config(retries=retries, connect_timeout=5, read_timeout=30, **config)
    return boto3.session.Session().client(service, region_name=region, config=settings)


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def call(method: Any, operation: str, context: dict[str, Any], **kwargs: Any) -> Any:
    """Call `method(**kwargs)`; an AWS failure is logged with `context` and raised as
    StoreUnavailable. ConditionalCheckFailed is re-raised untouched: callers decide."""
    try:
        return method(**kwargs)
    except ClientError as error:
        code = error_code(error)
        if code == "ConditionalCheckFailedException":
            raise
        log.error("AWS call failed", extra={"operation": operation, "error_code": code, **context})
        raise StoreUnavailable(f"{operation} failed: {code or error}") from error
    except BotoCoreError as error:
        log.error(
            "AWS call failed", extra={"operation": operation, "error_code": type(error).__name__, **context}
        )
        raise StoreUnavailable(f"{operation} failed: {error}") from error
