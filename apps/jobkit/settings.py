"""Typed settings for the job store, read once from the environment and written back the same way."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def env_number(value: float) -> str:
    """A number as an environment value: whole numbers without a fraction ("60", not "60.0")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def merge_env(*envs: Mapping[str, str]) -> dict[str, str]:
    """One environment from several settings' `to_env()`; a name two of them write must agree."""
    merged: dict[str, str] = {}
    for env in envs:
        for name, value in env.items():
            if merged.setdefault(name, value) != value:
                raise ValueError(f"{name} is written twice with different values: {merged[name]!r} and {value!r}")
    return merged


class SettingsError(ValueError):
    """An environment variable is missing or malformed; the message names it (never a secret's value)."""


@dataclass(frozen=True)
class StoreSettings:
    """Where the job table and bucket are, and the queue's timing rules.

    Pulumi sets these variables in the cloud; the local stack sets them on a laptop, both through
    `to_env()`. AWS endpoints and credentials come from boto3's own configuration (AWS_ENDPOINT_URL...).
    """

    table: str
    bucket: str
    region: str = "us-east-1"
    lease_seconds: float = 60.0
    max_attempts: int = 3
    retention_days: int = 30
    retry_backoff_seconds: float = 2.0
    aws_max_attempts: int = 6  # in all, the first try included, as the AWS SDK reads AWS_MAX_ATTEMPTS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> StoreSettings:
        """Read JOBS_TABLE, JOBS_BUCKET and the optional tuning variables."""
        missing = [name for name in ("JOBS_TABLE", "JOBS_BUCKET") if not environ.get(name)]
        if missing:
            raise SettingsError(f"Missing required environment variable(s): {', '.join(missing)}")
        return cls(
            table=environ["JOBS_TABLE"],
            bucket=environ["JOBS_BUCKET"],
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            lease_seconds=float(environ.get("JOB_LEASE_SECONDS", 60)),
            max_attempts=int(environ.get("JOB_MAX_ATTEMPTS", 3)),
            retention_days=int(environ.get("RESULT_RETENTION_DAYS", 30)),
            retry_backoff_seconds=float(environ.get("JOB_RETRY_BACKOFF_SECONDS", 2)),
            aws_max_attempts=int(environ.get("AWS_MAX_ATTEMPTS", 6)),
        )

    def to_env(self) -> dict[str, str]:
        """The variables `from_env` reads, holding these settings: from_env(s.to_env()) == s."""
        return {
            "JOBS_TABLE": self.table,
            "JOBS_BUCKET": self.bucket,
            "AWS_REGION": self.region,
            "JOB_LEASE_SECONDS": env_number(self.lease_seconds),
            "JOB_MAX_ATTEMPTS": str(self.max_attempts),
            "RESULT_RETENTION_DAYS": str(self.retention_days),
            "JOB_RETRY_BACKOFF_SECONDS": env_number(self.retry_backoff_seconds),
            "AWS_MAX_ATTEMPTS": str(self.aws_max_attempts),
        }
