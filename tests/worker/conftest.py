"""Fixtures for the worker's tests: real `python -m worker` processes against moto's server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from jobkit import JobStore, StoreSettings

from tests.conftest import app_env

REPO_ROOT = Path(__file__).resolve().parents[2]
TRIVIAL = "tests.worker.trivial_algorithm"


class WorkerProcess:
    """A worker subprocess whose JSON-lines log goes to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with open(log_path, "ab") as log_file:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "worker", *args],
                env=env,
                cwd=REPO_ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def lines(self) -> list[dict[str, Any]]:
        """Every JSON log line so far (a half-written last line is skipped)."""
        entries = []
        for line in self.log_path.read_text().splitlines():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                if line.strip():
                    entries.append({"message": line, "unparsed": True})
        return entries

    def messages(self, message: str) -> list[dict[str, Any]]:
        return [entry for entry in self.lines() if entry.get("message") == message]

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()


@pytest.fixture
def settings(store_settings: StoreSettings) -> StoreSettings:
    """The test's store, with a quick retry backoff."""
    return replace(store_settings, retry_backoff_seconds=0.1)


@pytest.fixture
def store(settings: StoreSettings) -> JobStore:
    return JobStore(settings)


@pytest.fixture
def runs_log(tmp_path: Path) -> Path:
    """Where the trivial algorithm records each run (input's first line, pid)."""
    return tmp_path / "runs.log"


@pytest.fixture
def worker_env(settings: StoreSettings, aws_endpoint: str, runs_log: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LOCAL_LOG_DIR", "PYTHONPATH")}
    return {
        **env,
        **app_env(settings, aws_endpoint),
        "PYTHONPATH": str(REPO_ROOT),
        "PYTHONUNBUFFERED": "1",
        "WORKER_ALGORITHM": TRIVIAL,
        "WORKER_IDLE_SECONDS": "2",
        "WORKER_POLL_SECONDS": "0.1",
        "JOB_RETRY_BACKOFF_SECONDS": "0.1",
        "TRIVIAL_ALGORITHM_LOG": str(runs_log),
    }


@pytest.fixture
def start_worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start worker processes; every one still running at the end of the test is killed."""
    started: list[WorkerProcess] = []

    def start(*args: str, **env: str) -> WorkerProcess:
        log_path = tmp_path / f"worker-{len(started)}.log"
        process = WorkerProcess(list(args) or ["--drain"], {**worker_env, **env}, log_path)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def runs(runs_log: Path) -> list[str]:
    """The first input line of every run the trivial algorithm recorded."""
    if not runs_log.exists():
        return []
    return [line.rsplit(" ", 1)[0] for line in runs_log.read_text().splitlines()]
