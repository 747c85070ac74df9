"""The dashboard's settings write the environment they read: the ECS task's and the laptop's."""

from __future__ import annotations

from pathlib import Path

from dashboard.settings import SECRET_VARIABLES, DashboardSettings, EcsWorkerSettings, ServerSettings
from hypothesis import given
from hypothesis import strategies as st
from jobkit import StoreSettings

from tests.envcheck import FALLBACKS, assert_owns_its_environment, folders, levels, names, read_by, seconds
from tests.jobkit.test_settings_env import stores

ids = st.lists(names, min_size=1, max_size=3).map(tuple)
ecs_workers = st.builds(
    EcsWorkerSettings, cluster=names, task_definition=names, subnets=ids,
    security_groups=st.one_of(st.just(()), ids), capacity_provider=st.sampled_from(["FARGATE", "FARGATE_SPOT"]),
    assign_public_ip=st.booleans(), container_name=st.one_of(st.just(""), names),
    network_mode=st.sampled_from(["awsvpc", "host"]),
)
commands = st.lists(st.text(alphabet="abc -'\"./", min_size=1, max_size=8), min_size=1, max_size=4).map(tuple)


@st.composite
def dashboards(draw: st.DrawFn) -> DashboardSettings:
    store = draw(stores)
    launcher = draw(st.sampled_from(["ecs", "subprocess"]))
    return DashboardSettings(
        store=store,
        logins=draw(st.dictionaries(names, names, min_size=1, max_size=3)),
        predictor_function=draw(names),
        region=store.region,
        upload_max_bytes=draw(st.integers(1, 10**10)),
        upload_parse_slots=draw(st.integers(1, 64)),
        launcher=launcher,
        max_workers=draw(st.integers(0, 100)),
        ecs=draw(ecs_workers) if launcher == "ecs" else None,
        worker_command=draw(commands) if launcher == "subprocess" else draw(st.one_of(st.just(()), commands)),
        worker_log_group=draw(st.one_of(st.just(""), names)),
        predictor_log_group=draw(st.one_of(st.just(""), names)),
        local_log_dir=draw(st.one_of(st.none(), folders.map(Path))),
        log_level=draw(levels),
        describe_cache_seconds=draw(seconds),
        predictor_timeout_seconds=draw(seconds),
        reconcile_seconds=draw(seconds),
        proxy_hops=draw(st.integers(0, 5)),
        session_key=draw(st.one_of(st.just(b""), st.text(alphabet="abcXYZ019-_", min_size=32, max_size=64)
                                   .map(str.encode))),
        session_key_file=draw(st.one_of(st.none(), folders.map(Path))),
    )


servers = st.builds(
    ServerSettings, bind=st.sampled_from(["0.0.0.0:8050", "127.0.0.1:9000"]), workers=st.integers(1, 32),
    threads=st.integers(1, 256), timeout=st.integers(1, 600), keepalive=st.integers(1, 600),
    access_log=st.booleans(), log_level=levels.map(str.lower),
)


@given(dashboards())
def test_dashboard_settings_round_trip_through_their_environment(dashboard: DashboardSettings) -> None:
    # Optional values left empty are not written; everything set is.
    assert_owns_its_environment(dashboard, unwritten={
        "WORKER_SECURITY_GROUPS", "WORKER_CONTAINER_NAME", "WORKER_COMMAND", "WORKER_LOG_GROUP", "LOCAL_LOG_DIR",
        "PREDICTOR_LOG_GROUP",
        "DASHBOARD_SESSION_KEY", "DASHBOARD_SESSION_KEY_FILE", "WORKER_NETWORK_MODE"})


@given(servers)
def test_server_settings_round_trip_through_their_environment(server: ServerSettings) -> None:
    assert_owns_its_environment(server, lambda env: ServerSettings.from_env(env))


def test_every_variable_the_dashboard_reads_is_written() -> None:
    store = StoreSettings(table="t", bucket="b")
    ecs = EcsWorkerSettings("c", "td", ("s1", "s2"), ("g1",), "FARGATE_SPOT", True, "worker", network_mode="host")
    full_ecs = DashboardSettings(store=store, logins={"u": "p"}, predictor_function="f", launcher="ecs", ecs=ecs,
                                 worker_command=("python", "-m", "worker"), worker_log_group="/w",
                                 predictor_log_group="/p", local_log_dir=Path("/tmp/logs"), session_key=b"k" * 32,
                                 session_key_file=Path("/tmp/logs/session-key"))
    full_local = DashboardSettings(store=store, logins={"u": "p"}, predictor_function="f",
                                   worker_command=("python", "-m", "worker", "--drain"), local_log_dir=Path("/tmp/l"),
                                   worker_log_group="/w", predictor_log_group="/p",
                                   session_key_file=Path("/tmp/l/session-key"),
                                   session_key=b"k" * 32)
    for full in (full_ecs, full_local):
        assert_owns_its_environment(full)
    minimal = {"JOBS_TABLE": "t", "JOBS_BUCKET": "b", "DASHBOARD_LOGINS": '{"u": "p"}', "PREDICTOR_FUNCTION": "f"}
    everything = set(full_ecs.to_env()) | set(full_local.to_env())
    assert read_by(DashboardSettings.from_env, minimal) - everything <= set(FALLBACKS)
    minimal_ecs = {**minimal, "WORKER_LAUNCHER": "ecs", "ECS_CLUSTER": "c", "WORKER_TASK_DEFINITION": "t",
                   "WORKER_SUBNETS": "s"}
    assert read_by(DashboardSettings.from_env, minimal_ecs) - everything <= set(FALLBACKS)
    assert set(full_ecs.to_env()) >= SECRET_VARIABLES


def test_every_variable_gunicorn_reads_is_written() -> None:
    assert_owns_its_environment(ServerSettings(workers=1, keepalive=125, access_log=False, log_level="debug"))
    assert read_by(ServerSettings.from_env, {}) - set(ServerSettings().to_env()) <= set(FALLBACKS)
