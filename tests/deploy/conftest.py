"""Fake command-line tools for the pre-flight tests: the Pulumi CLI and Docker are not on this
machine, so each test puts the versions of them it needs on PATH (shell scripts in a temp folder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import boto3
import pytest


@pytest.fixture
def fake_bin(tmp_path: Path) -> Callable[..., Path]:
    """fake_bin(pulumi="echo v3.200.0", docker=...) -> a folder of scripts with those bodies."""
    folder = tmp_path / "bin"
    folder.mkdir()

    def make(**scripts: str) -> Path:
        for name, body in scripts.items():
            path = folder / name
            path.write_text(f"#!/bin/sh\n{body}\n")
            path.chmod(0o755)
        return folder

    return make


WORKING_DOCKER = """case "$1" in
  info) echo 27.3.1 ;;
  buildx) echo "github.com/docker/buildx v0.35.0" ;;
  *) exit 1 ;;
esac"""


class NewAccountLambda:
    """Lambda's GetAccountSettings as a new account gets it, quota 10 (moto's server lacks the call)."""

    def get_account_settings(self):
        return {"AccountLimit": {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 10,
                                 "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                                 "CodeSizeZipped": 52428800},
                "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0}}


class AmpleQuotas:
    """Service Quotas for an account whose Fargate quotas hold any stack (moto knows only VPC quotas)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_service_quota(self, ServiceCode: str, QuotaCode: str) -> dict:  # noqa: N803 (boto3's names)
        self.asked.append(f"{ServiceCode}/{QuotaCode}")
        return {"Quota": {"ServiceCode": ServiceCode, "QuotaCode": QuotaCode, "Value": 1000.0}}


@pytest.fixture
def clean_iam(aws_endpoint):
    """moto's IAM without service-linked roles (moto keeps one account for the whole run)."""
    iam = boto3.client("iam")

    def clear() -> None:
        for role in iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]:
            iam.delete_role(RoleName=role["RoleName"])

    clear()
    yield iam
    clear()
