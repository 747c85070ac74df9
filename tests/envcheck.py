"""Checks that a settings class owns its environment: `to_env` writes every variable `from_env` reads.

Shared by the settings tests of each app; `read_by(from_env, env)` records which names a reader
looks up, so nothing depends on a hand-kept list of variables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st

# Read only when the variable that wins over it is missing; never written, by design.
FALLBACKS = {
    "AWS_DEFAULT_REGION": "boto3's own region setting; AWS_REGION, which to_env writes, wins",
    "PORT": "the container convention; GUNICORN_BIND, which to_env writes, wins",
}


class RecordingEnv(dict):
    """An environment that remembers every name looked up in it."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.read.add(name)
        return super().get(name, default)

    def __contains__(self, name: object) -> bool:
        self.read.add(str(name))
        return super().__contains__(name)


def read_by(from_env: Callable[[Mapping[str, str]], Any], env: Mapping[str, str]) -> set[str]:
    """The names `from_env(env)` looks up."""
    recording = RecordingEnv(env)
    from_env(recording)
    return recording.read


def assert_owns_its_environment(settings: Any, from_env: Callable[[Mapping[str, str]], Any] | None = None,
                                unwritten: frozenset[str] | set[str] = frozenset()) -> None:
    """`settings` round-trips through its environment; every name written is read, and every name read
    is written except `unwritten` (optional values these settings leave unset)."""
    from_env = from_env or type(settings).from_env
    written = settings.to_env()
    assert all(isinstance(value, str) for value in written.values()), written
    assert from_env(written) == settings
    read = read_by(from_env, written)
    assert set(written) <= read, f"written but never read: {sorted(set(written) - read)}"
    assert read - set(written) <= set(unwritten), f"read but not written: {sorted(read - set(written))}"


# Values that survive an environment variable unchanged (no padding, no separators).
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20).filter(
    lambda s: s.strip("-") == s)
seconds = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
levels = st.sampled_from(["DEBUG", "INFO", "WARNING", "ERROR"])
folders = st.lists(names, min_size=1, max_size=3).map(lambda parts: "/tmp/" + "/".join(parts))


def every_app_variable() -> set[str]:
    """Every variable some app's settings read: what fully set settings of each app write, and the fallbacks."""
    from pathlib import Path

    from dashboard.settings import DashboardSettings, EcsWorkerSettings, ServerSettings
    from jobkit import StoreSettings
    from predictor.settings import PredictorSettings
    from worker.settings import WorkerSettings

    store = StoreSettings(table="t", bucket="b")
    ecs = EcsWorkerSettings("c", "td", ("s1",), ("g1",), "FARGATE", True, "worker", network_mode="host")
    full = [
        WorkerSettings(store=store, log_dir=Path("/tmp/logs")),
        PredictorSettings(model_dir=Path("/tmp/model")),
        ServerSettings(),
        DashboardSettings(store=store, logins={"u": "p"}, predictor_function="f", launcher="ecs", ecs=ecs,
                          worker_command=("python",), worker_log_group="/w", local_log_dir=Path("/tmp/logs")),
    ]
    return {name for settings in full for name in settings.to_env()} | set(FALLBACKS)
