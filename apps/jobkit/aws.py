"""boto3 clients with botocore's standard retry mode, and the one place AWS's errors become jobkit's.

Endpoints come from boto3's own configuration: AWS_ENDPOINT_URL (or a service-specific
AWS_ENDPOINT_URL_<SERVICE>) points every client at the local stack; unset, they reach AWS.
Nothing above this module imports botocore: `call` (the store's calls) and `answer` (calls whose
caller handles AWS's refusal itself) raise the errors of jobkit.errors.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from jobkit.errors import AwsRefused, AwsUnreachable, ConditionFailed, ObjectMissing, StoreUnavailable

log = logging.getLogger("jobkit.aws")

# What S3 answers GetObject for a missing key.
MISSING_OBJECT_CODES = ("NoSuchKey",)


def client(service: str, region: str, max_attempts: int = 6, *, endpoint_url: str | None = None,
           **config: Any) -> Any:
    """A client for `service` that retries throttling and transient errors with backoff, making at
    most `max_attempts` attempts in all (botocore's `max_attempts` would count only retries)."""
    retries = {"mode": "standard", "total_max_attempts": max_attempts}
    if service == "s3":
        config.setdefault("signature_version", "s3v4")  # presigned URLs carry X-Amz-Expires
    config.setdefault("connect_timeout", 5)
    config.setdefault("read_timeout", 30)
    settings = Config(retries=retries, **config)
    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint_url, config=settings)


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def call(
    method: Any,
    operation: str,
    context: dict[str, Any],
    *,
    missing_codes: tuple[str, ...] = MISSING_OBJECT_CODES,
    **kwargs: Any,
) -> Any:
    """Call `method(**kwargs)`; a failed condition raises ConditionFailed (with the item as it is now
    when the call asked for it), a missing object (an answer in `missing_codes`) ObjectMissing, any
    other AWS failure StoreUnavailable; the last two are logged with `context`."""
    try:
        return method(**kwargs)
    except ClientError as error:
        code = error_code(error)
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed(f"{operation}: the condition failed", error.response.get("Item")) from error
        log.error("AWS call failed", extra={"operation": operation, "error_code": code, **context})
        if code in missing_codes:
            raise ObjectMissing(f"{operation} failed: {code}", code) from error
        raise StoreUnavailable(f"{operation} failed: {code or error}") from error
    except BotoCoreError as error:
        log.error(
            "AWS call failed", extra={"operation": operation, "error_code": type(error).__name__, **context}
        )
        raise StoreUnavailable(f"{operation} failed: {error}") from error


def answer(method: Any, **kwargs: Any) -> Any:
    """Call `method(**kwargs)`; AWS's error answer raises AwsRefused, no answer AwsUnreachable."""
    try:
        return method(**kwargs)
    except ClientError as error:
        details = error.response.get("Error", {})
        raise AwsRefused(
            error.operation_name,
            details.get("Code", ""),
            details.get("Message", "") or str(error),
            error.response.get("ResponseMetadata", {}).get("RequestId", ""),
        ) from error
    except (ReadTimeoutError, ConnectTimeoutError) as error:
        raise AwsUnreachable(str(error), type(error).__name__, timed_out=True) from error
    except BotoCoreError as error:
        raise AwsUnreachable(str(error), type(error).__name__, timed_out=False) from error
