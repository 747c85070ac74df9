"""The worker's settings write the environment they read: Pulumi and the local stack use only this."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from jobkit import StoreSettings
from worker.settings import WorkerSettings

from tests.envcheck import FALLBACKS, assert_owns_its_environment, folders, levels, names, read_by, seconds
from tests.jobkit.test_settings_env import stores

workers = st.builds(
    WorkerSettings,
    store=stores, idle_seconds=seconds, heartbeat_seconds=seconds,
    poll_seconds=seconds.filter(lambda s: s >= 0.01),
    algorithm=names.map(lambda n: f"algorithms.{n}".replace("-", "_")),
    log_level=levels, log_dir=st.one_of(st.none(), folders.map(Path)),
)


@given(workers)
def test_worker_settings_round_trip_through_their_environment(worker: WorkerSettings) -> None:
    assert_owns_its_environment(worker, unwritten={"LOCAL_LOG_DIR"} if worker.log_dir is None else set())


def test_every_variable_the_worker_reads_is_written() -> None:
    full = WorkerSettings(store=StoreSettings(table="t", bucket="b"), idle_seconds=5, log_dir=Path("/tmp/logs"))
    assert_owns_its_environment(full)
    minimal = {"JOBS_TABLE": "t", "JOBS_BUCKET": "b"}
    assert read_by(WorkerSettings.from_env, minimal) - set(full.to_env()) <= set(FALLBACKS)
    assert full.to_env()["WORKER_IDLE_SECONDS"] == "5"
