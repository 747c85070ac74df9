"""The local stack builds each app's environment only through that app's settings (`to_env`),
as the Pulumi program does, plus boto3's local endpoints and credentials."""

from __future__ import annotations

from dashboard.settings import SECRET_VARIABLES, DashboardSettings, ServerSettings
from jobkit.settings import merge_env
from predictor.settings import PredictorSettings
from worker.settings import WorkerSettings

from devstack.stack import DevStack
from tests.support import stack_settings

# What points an app at the local AWS and the local code; boto3's and Python's own settings.
PLUMBING = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_LAMBDA", "PYTHONPATH", "PYTHONUNBUFFERED"}


def _app_part(env: dict[str, str], written: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name not in PLUMBING or name in written}


def test_each_local_app_is_given_exactly_what_its_settings_write(tmp_path) -> None:
    stack = DevStack(stack_settings(tmp_path))
    worker = stack.app_env("worker")
    written = WorkerSettings.from_env(worker).to_env()
    assert _app_part(worker, written) == written
    # Batch work yields the laptop to the dashboard, here and in the workers the dashboard starts.
    assert WorkerSettings.from_env(worker).niceness == 10

    predictor = stack.app_env("predictor")
    written = PredictorSettings.from_env(predictor).to_env()
    assert _app_part(predictor, written) == written
    # As on Lambda: the predictor reads no job-store variable, so it is told none.
    assert not {"JOBS_TABLE", "JOBS_BUCKET", "DASHBOARD_LOGINS"} & set(predictor)

    dashboard = stack.app_env("dashboard")
    # The dashboard's own variables, and the worker's, which the workers it starts inherit.
    written = merge_env(DashboardSettings.from_env(dashboard).to_env(), ServerSettings.from_env(dashboard).to_env(),
                        WorkerSettings.from_env(dashboard).to_env())
    assert _app_part(dashboard, written) == written
    assert WorkerSettings.from_env(dashboard).niceness == 10
    assert DashboardSettings.from_env(dashboard).logins == {stack.login[0]: stack.login[1]}


def test_the_shared_environment_has_every_apps_variables_but_no_logins(tmp_path) -> None:
    stack = DevStack(stack_settings(tmp_path))
    shared = stack.app_env()
    for app in ("worker", "predictor", "dashboard"):
        own = {k: v for k, v in stack.app_env(app).items() if k not in SECRET_VARIABLES}
        assert own.items() <= shared.items(), app
    assert not SECRET_VARIABLES & set(shared)


def test_local_knobs_are_typed_settings_and_test_overrides_still_win(tmp_path) -> None:
    plain = DevStack(stack_settings(tmp_path)).app_env("worker")
    assert WorkerSettings.from_env(plain).idle_seconds == 30.0  # DevSettings.worker_idle_seconds
    tuned = DevStack(stack_settings(tmp_path, worker_idle_seconds=4.5, log_level="DEBUG",
                                      extra_env={"WORKER_HEARTBEAT_SECONDS": "0.5"})).app_env("dashboard")
    worker = WorkerSettings.from_env(tuned)
    assert (worker.idle_seconds, worker.heartbeat_seconds, worker.log_level) == (4.5, 0.5, "DEBUG")
    assert ServerSettings.from_env(tuned).log_level == "debug"
