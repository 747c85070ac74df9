"""The worker's settings write the environment they read: Pulumi and the local stack use only this."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jobkit import StoreSettings
from worker.settings import SettingsError, WorkerSettings

from tests.envcheck import FALLBACKS, assert_owns_its_environment, folders, levels, names, read_by, seconds
from tests.jobkit.test_settings_env import stores

workers = st.builds(
    WorkerSettings,
    store=stores, idle_seconds=seconds, heartbeat_seconds=seconds,
    poll_seconds=seconds.filter(lambda s: s >= 0.01),
    algorithm=names.map(lambda n: f"algorithms.{n}".replace("-", "_")),
    log_level=levels, log_dir=st.one_of(st.none(), folders.map(Path)), niceness=st.integers(0, 19),
)


@given(workers)
def test_worker_settings_round_trip_through_their_environment(worker: WorkerSettings) -> None:
    unwritten = ({"LOCAL_LOG_DIR"} if worker.log_dir is None else set()) | ({"WORKER_NICENESS"} if not worker.niceness
                                                                              else set())
    assert_owns_its_environment(worker, unwritten=unwritten)


def test_every_variable_the_worker_reads_is_written() -> None:
    full = WorkerSettings(store=StoreSettings(table="t", bucket="b"), idle_seconds=5, log_dir=Path("/tmp/logs"),
                          niceness=10)
    assert_owns_its_environment(full)
    minimal = {"JOBS_TABLE": "t", "JOBS_BUCKET": "b"}
    assert read_by(WorkerSettings.from_env, minimal) - set(full.to_env()) <= set(FALLBACKS)
    assert full.to_env()["WORKER_IDLE_SECONDS"] == "5"


@pytest.mark.parametrize("raw", ["-5", "20", "high"])
def test_a_niceness_outside_0_to_19_is_refused_with_its_name(raw: str) -> None:
    with pytest.raises(SettingsError, match=f"WORKER_NICENESS.*{raw}"):
        WorkerSettings.from_env({"JOBS_TABLE": "t", "JOBS_BUCKET": "b", "WORKER_NICENESS": raw})


def test_the_worker_sinks_to_its_niceness_once_and_never_rises() -> None:
    """Run in a child, whose priority the test may lower: 7, then 7 again (a restart), then 3."""
    script = ("from worker.__main__ import lower_priority as low; "
              "print(low(7), low(7), low(3))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["7", "7", "7"]
