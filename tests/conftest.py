"""Fixtures every test folder shares: moto's server as the local AWS, and a fresh job store.

`app_env(settings, endpoint)` (from devstack) is the environment an app process needs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from jobkit import JobStore, StoreSettings

from devstack.local_aws import LOCAL_CREDENTIALS, LocalAws, app_env, bootstrap
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


__all__ = ["REGION", "app_env"]
