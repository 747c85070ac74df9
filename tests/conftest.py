"""Fixtures every test folder shares: moto's server as the local AWS, and a fresh job store."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from jobkit import JobStore, StoreSettings

from devstack.local_aws import LOCAL_CREDENTIALS, LocalAws, bootstrap
from tests.support import free_port

REGION = "us-east-1"


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    """moto's real server on a loopback port (with call counting and fault injection)."""
    server = LocalAws("127.0.0.1", free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def aws_endpoint(local_aws: LocalAws) -> Iterator[str]:
    """The local AWS's URL, with boto3 pointed at it for this whole run."""
    endpoint = local_aws.url
    saved = dict(os.environ)
    os.environ.update(
        {
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    yield endpoint
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def store_settings(aws_endpoint: str) -> StoreSettings:
    """A new, empty table and bucket (created from jobkit.schema) for one test."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    bootstrap(aws_endpoint, REGION, name, name)
    return StoreSettings(table=name, bucket=name, region=REGION, lease_seconds=30, max_attempts=3)


@pytest.fixture
def store(store_settings: StoreSettings) -> JobStore:
    return JobStore(store_settings)


def app_env(settings: StoreSettings, endpoint: str) -> dict[str, str]:
    """The environment variables an app process needs to reach this test's store."""
    return {
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": settings.region,
        "JOBS_TABLE": settings.table,
        "JOBS_BUCKET": settings.bucket,
        "JOB_LEASE_SECONDS": str(settings.lease_seconds),
        "JOB_MAX_ATTEMPTS": str(settings.max_attempts),
    }
