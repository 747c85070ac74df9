"""The environment variables of docs/contracts.md that all three apps read, built in one place."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

# Lambda sets AWS_REGION itself and refuses functions that try to (a reserved key).
LAMBDA_RESERVED = frozenset({"AWS_REGION"})


@dataclass(frozen=True)
class SharedEnv:
    """JOBS_TABLE, JOBS_BUCKET, AWS_REGION, queue timing, retention and LOG_LEVEL."""

    table_name: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    region: str
    job_lease_seconds: int
    job_max_attempts: int
    job_retry_backoff_seconds: int
    result_retention_days: int
    log_level: str

    def variables(self, for_lambda: bool = False) -> dict[str, pulumi.Input[str]]:
        """The variables as strings; `for_lambda` leaves out the ones Lambda reserves."""
        env: dict[str, pulumi.Input[str]] = {
            "JOBS_TABLE": self.table_name,
            "JOBS_BUCKET": self.bucket_name,
            "AWS_REGION": self.region,
            "JOB_LEASE_SECONDS": str(self.job_lease_seconds),
            "JOB_MAX_ATTEMPTS": str(self.job_max_attempts),
            "JOB_RETRY_BACKOFF_SECONDS": str(self.job_retry_backoff_seconds),
            "RESULT_RETENTION_DAYS": str(self.result_retention_days),
            "LOG_LEVEL": self.log_level,
        }
        if for_lambda:
            env = {k: v for k, v in env.items() if k not in LAMBDA_RESERVED}
        return env


def container_environment(env: dict[str, pulumi.Input[str]]) -> list[dict[str, pulumi.Input[str]]]:
    """ECS container-definition form: a sorted list of {name, value}."""
    return [{"name": name, "value": env[name]} for name in sorted(env)]
