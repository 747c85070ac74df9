"""Start batch workers the way the dashboard does, with the dashboard's own launchers.

Locally: `dashboard.launcher.SubprocessLauncher` with the command, limit, log folder and
environment the running `make dev` published (its workers carry the same marker, so the
dashboard and the client count each other's workers against one limit). In the cloud:
`dashboard.launcher.EcsLauncher` (RunTask), with the launch settings read from the dashboard
service's own task definition (ECS_CLUSTER, WORKER_TASK_DEFINITION, WORKER_SUBNETS...), so
the client starts exactly the task the dashboard would. Where those cannot be read, there is no
launcher: the job waits for the dashboard's reconciler.
"""

from __future__ import annotations

import logging
import shutil
from typing import Any

from dashboard.launcher import EcsLauncher, Launcher, SubprocessLauncher, ensure_worker, launch_health
from dashboard.settings import DashboardSettings
from jobkit import aws
from jobkit.errors import JobKitError
from jobkit.settings import SettingsError

from mlproto.targets import Target

log = logging.getLogger("mlproto.workers")

# The dashboard's logins are its secret (an SSM parameter in the cloud); its launch settings are
# plain environment. DashboardSettings' parser wants a login, so this placeholder stands in:
# it is never used to sign in anywhere.
_NOT_A_LOGIN = '{"-": "-"}'


def launcher_for(target: Target) -> tuple[Launcher | None, str]:
    """(the launcher, "") or (None, why there is none)."""
    if target.local_workers is not None:
        w = target.local_workers
        # In a session of its own (where `setsid` exists), so a Ctrl-C on the command that started it
        # does not stop the worker mid-job; it exits by itself once the queue is empty.
        command = ("setsid", *w.command) if shutil.which("setsid") else w.command
        return SubprocessLauncher(command, w.max_workers, w.log_dir, env=dict(w.env)), ""
    if not target.cluster:
        return None, "the stack has no `cluster` output"
    try:
        env = dashboard_environment(target.client("ecs"), target.cluster)
        settings = DashboardSettings.from_env({**env, "DASHBOARD_LOGINS": _NOT_A_LOGIN})
    except (JobKitError, SettingsError) as error:
        return None, f"the dashboard's launch settings cannot be read ({error})"
    if settings.launcher != "ecs" or settings.ecs is None:
        return None, "the dashboard service does not launch workers on ECS"
    return EcsLauncher(target.client("ecs"), settings.ecs, settings.max_workers), ""


def dashboard_environment(ecs: Any, cluster: str) -> dict[str, str]:
    """The plain environment of the dashboard container in `cluster`: the service whose task
    definition sets WORKER_LAUNCHER. SettingsError when no service's does."""
    arns, token = [], None
    while True:
        page = aws.answer(ecs.list_services, cluster=cluster, **({"nextToken": token} if token else {}))
        arns += page.get("serviceArns", [])
        token = page.get("nextToken")
        if not token:
            break
    for start in range(0, len(arns), 10):  # DescribeServices takes at most 10
        for service in aws.answer(ecs.describe_services, cluster=cluster, services=arns[start:start + 10])["services"]:
            definition = aws.answer(ecs.describe_task_definition, taskDefinition=service["taskDefinition"])
            for container in definition["taskDefinition"].get("containerDefinitions", []):
                env = {item["name"]: item["value"] for item in container.get("environment", [])}
                if "WORKER_LAUNCHER" in env:
                    return env
    raise SettingsError(f"no service in cluster {cluster} runs the dashboard")


def start_worker(launcher: Launcher | None) -> tuple[bool, str]:
    """Start a worker unless enough run (the dashboard's `ensure_worker`): (started, why not)."""
    if launcher is None:
        return False, "no launcher"
    started = ensure_worker(launcher)
    failure = launch_health(launcher).recent_failure()
    return started, str(failure) if failure else ""
