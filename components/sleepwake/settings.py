"""Typed settings of the sleep/wake function, read once from the environment and written by `to_env()`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class SettingsError(ValueError):
    """A variable is missing or malformed; the message names it.

    The apps share one in their job contract; this function's zip carries only its own package,
    so it has its own, of the same kind (a ValueError).
    """


@dataclass(frozen=True)
class SleepWakeSettings:
    """Which service to stop and start, which listener to switch, and the table that records activity."""

    cluster: str
    service: str
    listener_arn: str
    dashboard_target_group_arn: str
    waker_target_group_arn: str
    table: str  # the job table: the dashboard's activity record and the sleeper's ledger
    awake_count: int  # tasks the waker starts
    sleep_after_minutes: int
    workers_started_by: str  # the startedBy of the batch workers the dashboard runs
    log_level: str = "INFO"
    office_hours: str = ""  # e.g. "Mon-Fri 08:00-19:00 America/New_York", told to visitors; "" when none

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SleepWakeSettings:
        env = os.environ if env is None else env

        def need(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise SettingsError(f"{name} is not set")
            return value

        def whole(name: str, minimum: int) -> int:
            raw = need(name)
            if not raw.isdigit() or int(raw) < minimum:
                raise SettingsError(f"{name}={raw!r} is not a whole number >= {minimum}")
            return int(raw)

        return cls(
            cluster=need("ECS_CLUSTER"),
            service=need("DASHBOARD_SERVICE"),
            listener_arn=need("LISTENER_ARN"),
            dashboard_target_group_arn=need("DASHBOARD_TARGET_GROUP_ARN"),
            waker_target_group_arn=need("WAKER_TARGET_GROUP_ARN"),
            table=need("JOBS_TABLE"),
            awake_count=whole("AWAKE_COUNT", 1),
            sleep_after_minutes=whole("SLEEP_AFTER_MINUTES", 1),
            workers_started_by=need("WORKERS_STARTED_BY"),
            log_level=env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO",
            office_hours=env.get("OFFICE_HOURS", "").strip(),
        )

    def to_env(self) -> dict[str, str]:
        """Every variable `from_env` reads."""
        return {
            "ECS_CLUSTER": self.cluster,
            "DASHBOARD_SERVICE": self.service,
            "LISTENER_ARN": self.listener_arn,
            "DASHBOARD_TARGET_GROUP_ARN": self.dashboard_target_group_arn,
            "WAKER_TARGET_GROUP_ARN": self.waker_target_group_arn,
            "JOBS_TABLE": self.table,
            "AWAKE_COUNT": str(self.awake_count),
            "SLEEP_AFTER_MINUTES": str(self.sleep_after_minutes),
            "WORKERS_STARTED_BY": self.workers_started_by,
            "LOG_LEVEL": self.log_level,
            "OFFICE_HOURS": self.office_hours,
        }
