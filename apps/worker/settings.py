"""Typed worker settings, read once from the environment and written back by `to_env()`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jobkit import StoreSettings
from jobkit.settings import SettingsError, env_number, merge_env

# The job store's numeric variables (read by jobkit), checked here so a typo names its variable.
_STORE_NUMBERS = {
    "JOB_LEASE_SECONDS": float,
    "JOB_MAX_ATTEMPTS": int,
    "JOB_RETRY_BACKOFF_SECONDS": float,
    "RESULT_RETENTION_DAYS": int,
    "AWS_MAX_ATTEMPTS": int,
}
_KIND_NAMES = {float: "a number", int: "a whole number"}


def _seconds(environ: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value >= minimum or value == float("inf"):
        raise SettingsError(f"{name} must be a finite number of seconds >= {minimum:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class WorkerSettings:
    """Where the jobs are (`store`), which algorithm runs them, and the worker's timing."""

    store: StoreSettings
    idle_seconds: float = 60.0
    heartbeat_seconds: float = 10.0
    poll_seconds: float = 1.0
    algorithm: str = "worker.algorithm"
    log_level: str = "INFO"
    log_dir: Path | None = None
    # The nice value the worker runs at, at least (0-19). The local stack runs batch work below
    # the dashboard's priority, as the cloud runs it on tasks of their own; the cloud leaves it 0.
    niceness: int = 0

    @property
    def keepalive_seconds(self) -> float:
        """The longest gap between heartbeats that still keeps the lease (a third of it)."""
        return self.store.lease_seconds / 3

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> WorkerSettings:
        """Read the store's variables plus WORKER_IDLE_SECONDS, WORKER_HEARTBEAT_SECONDS,
        WORKER_POLL_SECONDS, WORKER_ALGORITHM, WORKER_NICENESS, LOG_LEVEL and LOCAL_LOG_DIR."""
        for name, kind in _STORE_NUMBERS.items():
            raw = environ.get(name)
            try:
                if raw is not None:
                    kind(raw)
            except ValueError:
                raise SettingsError(f"{name} must be {_KIND_NAMES[kind]}, got {raw!r}") from None
        store = StoreSettings.from_env(environ)
        if not store.lease_seconds > 0 or store.max_attempts < 1:
            raise SettingsError("JOB_LEASE_SECONDS must be > 0 and JOB_MAX_ATTEMPTS >= 1")
        level = environ.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        log_dir = environ.get("LOCAL_LOG_DIR", "").strip()
        raw_niceness = environ.get("WORKER_NICENESS", "0").strip() or "0"
        if not raw_niceness.isdigit() or int(raw_niceness) > 19:
            raise SettingsError(f"WORKER_NICENESS must be a whole number from 0 to 19, got {raw_niceness!r}")
        return cls(
            store=store,
            idle_seconds=_seconds(environ, "WORKER_IDLE_SECONDS", 60.0),
            heartbeat_seconds=_seconds(environ, "WORKER_HEARTBEAT_SECONDS", 10.0),
            poll_seconds=_seconds(environ, "WORKER_POLL_SECONDS", 1.0, minimum=0.01),
            algorithm=environ.get("WORKER_ALGORITHM", "").strip() or "worker.algorithm",
            log_level=level,
            log_dir=Path(log_dir) if log_dir else None,
            niceness=int(raw_niceness),
        )

    def to_env(self) -> dict[str, str]:
        """The variables `from_env` reads, holding these settings: from_env(s.to_env()) == s.

        Pulumi (the worker's task definition) and the local stack build the worker's environment
        only through this, so a variable added here reaches the cloud and the laptop alike.
        """
        env = {
            "WORKER_IDLE_SECONDS": env_number(self.idle_seconds),
            "WORKER_HEARTBEAT_SECONDS": env_number(self.heartbeat_seconds),
            "WORKER_POLL_SECONDS": env_number(self.poll_seconds),
            "WORKER_ALGORITHM": self.algorithm,
            "LOG_LEVEL": self.log_level,
        }
        if self.log_dir is not None:
            env["LOCAL_LOG_DIR"] = str(self.log_dir)
        if self.niceness:
            env["WORKER_NICENESS"] = str(self.niceness)
        return merge_env(self.store.to_env(), env)
