"""Worker launchers: a real subprocess locally; ECS RunTask against moto behind the strict layer
(API shape only: moto records the task but runs nothing). The reconciler that starts workers for
waiting jobs, and how loudly a launcher that cannot start workers says so."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from pathlib import Path

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from dashboard.app import build_services, create_app
from dashboard.auth import LoginThrottle
from dashboard.launcher import (
    STARTED_BY,
    EcsLauncher,
    LaunchHealth,
    Reconciler,
    SubprocessLauncher,
    ensure_worker,
    launch_health,
)
from dashboard.settings import DashboardSettings, EcsWorkerSettings, SettingsError
from jobkit.logs import JsonFormatter

from tests.dashboard.conftest import DashCaller, predictor_for, prop, sign_in
from tests.fixtures.published import FIXTURE_SAMPLE, fixture_description
from tests.support import count_aws_calls, wait_until

CHILD = """
import os, sys, time
with open(sys.argv[1], "w") as f:
    f.write(f"{os.getpid()} {os.getpgid(0)} {os.environ.get('JOBS_TABLE', '')} {'DASHBOARD_LOGINS' in os.environ}")
print("worker says hello", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def launcher(tmp_path: Path):
    def make(seconds: float = 0.0, max_workers: int = 2) -> SubprocessLauncher:
        command = (sys.executable, "-c", CHILD, str(tmp_path / "marker"), str(seconds))
        env = {**os.environ, "JOBS_TABLE": "t1", "DASHBOARD_LOGINS": '{"alice": "s3cret"}'}
        made = SubprocessLauncher(command, max_workers, tmp_path / "logs", env=env)
        created.append(made)
        return made

    created: list[SubprocessLauncher] = []
    yield make
    for made in created:
        made.stop_all()


def test_subprocess_launcher_runs_the_command_in_our_process_group(launcher, tmp_path):
    local = launcher(seconds=0.0)
    local.launch()
    marker = tmp_path / "marker"
    wait_until(lambda: marker.exists() and marker.read_text(), timeout=15, what="the worker to start")
    pid, pgid, table, sees_logins = marker.read_text().split()
    assert int(pgid) == os.getpgid(0)  # stopping the stack's group stops its workers too
    assert table == "t1"
    assert sees_logins == "False"  # the dashboard's secret stays with the dashboard
    wait_until(lambda: local.running() == 0, timeout=15, what="the worker to exit")
    assert "worker says hello" in (tmp_path / "logs" / "worker.log").read_text()


def test_ensure_worker_respects_max_workers(launcher):
    local = launcher(seconds=30, max_workers=2)
    assert ensure_worker(local) and ensure_worker(local)
    assert not ensure_worker(local)
    assert local.running() == 2
    local.stop_all()
    assert local.running() == 0
    assert ensure_worker(local)


def test_a_failing_launch_is_logged_not_raised(tmp_path, caplog):
    broken = SubprocessLauncher(("/nonexistent/worker",), 1, tmp_path)
    assert ensure_worker(broken) is False
    assert "workers cannot be started" in caplog.text
    assert launch_health(broken).recent_failure().code == "FileNotFoundError"


def test_reconciler_starts_a_worker_only_when_a_job_waits(launcher, store):
    local = launcher(seconds=30, max_workers=1)
    reconciler = Reconciler(store, local, interval=60)
    assert reconciler.tick() is False and local.running() == 0
    store.submit(owner="bob", client_token="t", input_bytes=b"a\n1\n")
    assert reconciler.tick() is True and local.running() == 1
    assert reconciler.tick() is False  # max reached


def test_reconciler_thread_runs_on_its_own(launcher, store):
    local = launcher(seconds=30, max_workers=1)
    store.submit(owner="bob", client_token="t", input_bytes=b"a\n1\n")
    reconciler = Reconciler(store, local, interval=0.1).start()
    try:
        wait_until(lambda: local.running() == 1, timeout=10, what="the reconciler to launch a worker")
    finally:
        reconciler.stop()


@pytest.fixture
def ecs(aws_endpoint, local_aws):
    """A cluster, the worker's task definition and a VPC in moto. moto moves a task one state
    towards STOPPED each time it is described; here a task runs until it is stopped, as a worker
    with a long job does."""
    requests.post(f"{aws_endpoint}/moto-api/state-manager/set-transition", timeout=5,
                  headers=local_aws.control_headers,
                  json={"model_name": "ecs::task", "transition": {"progression": "manual", "times": 10**6}},
                  ).raise_for_status()
    yield _ecs_resources()
    requests.post(f"{aws_endpoint}/moto-api/state-manager/unset-transition", timeout=5,
                  headers=local_aws.control_headers,
                  json={"model_name": "ecs::task"})


def _ecs_resources():
    client = boto3.client("ecs", region_name="us-east-1")
    cluster = client.create_cluster(clusterName=f"ml-proto-{os.urandom(4).hex()}")["cluster"]["clusterArn"]
    task = client.register_task_definition(
        family="ml-proto-worker", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512",
        memory="1024", containerDefinitions=[{"name": "worker", "image": "worker:latest", "cpu": 512, "memory": 1024}],
    )["taskDefinition"]["taskDefinitionArn"]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    # As in a real Fargate VPC; moto's RunTask also needs it to describe the task's network interface.
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = tuple(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{n}.0/24")["Subnet"]["SubnetId"] for n in (1, 2))
    group = ec2.create_security_group(VpcId=vpc, GroupName=f"w-{vpc}", Description="worker")["GroupId"]
    return client, cluster, task, subnets, group


@pytest.mark.parametrize("provider", ["FARGATE", "FARGATE_SPOT"])
def test_ecs_launcher_run_task_shape_against_moto(ecs, provider):
    client, cluster, task, subnets, group = ecs
    settings = EcsWorkerSettings(cluster=cluster, task_definition=task, subnets=subnets,
                                 security_groups=(group,), capacity_provider=provider, assign_public_ip=True)
    launcher = EcsLauncher(client, settings, max_workers=2)
    kwargs = launcher.run_task_kwargs()
    assert kwargs["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": list(subnets), "securityGroups": [group], "assignPublicIp": "ENABLED"}
    assert kwargs["startedBy"] == STARTED_BY
    if provider == "FARGATE":
        assert kwargs["launchType"] == "FARGATE" and "capacityProviderStrategy" not in kwargs
    else:
        assert kwargs["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
        assert "launchType" not in kwargs
    assert launcher.running() == 0
    assert ensure_worker(launcher) and ensure_worker(launcher)
    assert launcher.running() == 2
    assert not ensure_worker(launcher)
    tasks = client.list_tasks(cluster=cluster, startedBy=STARTED_BY)["taskArns"]
    assert len(tasks) == 2


def ecs_settings(ecs, **changes) -> EcsWorkerSettings:
    _, cluster, task, subnets, group = ecs
    settings = EcsWorkerSettings(cluster=cluster, task_definition=task, subnets=subnets, security_groups=(group,))
    return dataclasses.replace(settings, **changes)


def test_the_strict_layer_refuses_the_old_list_tasks_call_and_the_launcher_passes(ecs, local_aws):
    client, cluster = ecs[0], ecs[1]
    with pytest.raises(ClientError) as refused:  # what running() sent before: startedBy with desiredStatus
        client.list_tasks(cluster=cluster, startedBy=STARTED_BY, desiredStatus="RUNNING")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    refusals_before = sum(local_aws.strict.refused.values())
    launcher = EcsLauncher(client, ecs_settings(ecs), max_workers=1)
    assert launcher.running() == 0
    assert ensure_worker(launcher) is True
    assert launcher.running() == 1 and ensure_worker(launcher) is False  # max reached, not an error
    assert launch_health(launcher).recent_failure() is None
    assert sum(local_aws.strict.refused.values()) == refusals_before  # nothing the launcher sent was refused


def test_running_counts_only_workers_that_have_not_stopped(ecs):
    client, cluster = ecs[0], ecs[1]
    launcher = EcsLauncher(client, ecs_settings(ecs), max_workers=2)
    with count_aws_calls(client) as idle:
        assert launcher.running() == 0
    assert idle == {"ecs.ListTasks": 1}  # no worker: no DescribeTasks
    assert ensure_worker(launcher) and ensure_worker(launcher)
    with count_aws_calls(client) as busy:
        assert launcher.running() == 2
    assert busy == {"ecs.ListTasks": 1, "ecs.DescribeTasks": 1}
    first = client.list_tasks(cluster=cluster, startedBy=STARTED_BY)["taskArns"][0]
    client.stop_task(cluster=cluster, task=first, reason="worker exited")
    # ListTasks may still list a stopped task (moto lists them all); it is not a running worker.
    assert len(client.list_tasks(cluster=cluster, startedBy=STARTED_BY)["taskArns"]) == 2
    assert launcher.running() == 1
    assert ensure_worker(launcher) is True and launcher.running() == 2


def test_a_launcher_that_cannot_start_workers_logs_the_aws_error_until_it_can(ecs, caplog):
    launcher = EcsLauncher(ecs[0], ecs_settings(ecs, cluster="no-such-cluster"), max_workers=1)
    with caplog.at_level(logging.ERROR, logger="dashboard.launcher"):
        assert ensure_worker(launcher) is False
    (record,) = [r for r in caplog.records if r.getMessage() == "workers cannot be started"]
    line = json.loads(JsonFormatter("dashboard").format(record))  # the JSON line the dashboard writes
    assert (line["level"], line["operation"], line["error_code"], line["error_message"]) == (
        "ERROR", "ListTasks", "ClusterNotFoundException", "Cluster not found.")
    failure = launch_health(launcher).recent_failure()
    assert str(failure) == "ClusterNotFoundException: Cluster not found."

    launcher.settings = ecs_settings(ecs)  # the cause is fixed: the next attempt clears the failure
    assert ensure_worker(launcher) is True
    assert launch_health(launcher).recent_failure() is None


class NoCapacityEcs:
    """AWS's answer when Fargate has no capacity: RunTask succeeds as a call but starts no task."""

    def list_tasks(self, **_: object) -> dict:
        return {"taskArns": []}

    def run_task(self, **_: object) -> dict:
        return {"tasks": [], "failures": [{"arn": "arn:aws:ecs:us-east-1:1:container-instance/x",
                                           "reason": "Capacity is unavailable at this time."}]}


def test_a_run_task_that_starts_nothing_is_a_failure_with_its_reason(ecs):
    launcher = EcsLauncher(NoCapacityEcs(), ecs_settings(ecs), max_workers=1)
    assert ensure_worker(launcher) is False
    assert str(launch_health(launcher).recent_failure()) == (
        "RunTaskFailure: RunTask started no task: Capacity is unavailable at this time.")


def test_a_launch_failure_counts_as_recent_for_five_minutes():
    now = [1000.0]
    health = LaunchHealth(clock=lambda: now[0])
    health.failed("AccessDeniedException", "not authorized to perform: ecs:RunTask")
    now[0] += 300
    assert health.recent_failure().code == "AccessDeniedException"
    now[0] += 1  # nobody tried since (no job waited): the banner goes
    assert health.recent_failure() is None


def test_the_jobs_page_says_when_workers_cannot_be_started(ecs, dashboard_settings, store, lambda_stub, clock):
    launcher = EcsLauncher(ecs[0], ecs_settings(ecs, cluster="no-such-cluster"), max_workers=1)
    services = build_services(dashboard_settings, store=store, predictor=predictor_for(lambda_stub),
                              launcher=launcher)
    app = create_app(dashboard_settings, services=services, throttle=LoginThrottle(store, clock=clock), reconcile=False)
    client = app.server.test_client()
    sign_in(client)
    call = DashCaller(app, client)

    def banner() -> str:
        return json.dumps(call.call("launcher-banner.children", [prop("jobs-refresh", "n_intervals", 1)]))

    assert "Workers cannot be started" not in banner()
    store.publish_description(fixture_description(params=False))  # as a worker would: its sample offered
    submitted = call.call(  # a stakeholder runs a sample: the job is queued, the launch fails
        "submit-message.children",
        [prop("job-upload", "contents", None), prop("sample-submit", "n_clicks", 1)],
        state=[prop("job-upload", "filename", None), prop("sample-choice", "value", FIXTURE_SAMPLE),
               prop("submit-token", "data", "t-banner"),
               # the batch form's parameter fields (none here) and its optional job note
               [], [],
               prop("job-note", "value", "")],
        changed=["sample-submit.n_clicks"],
    )
    assert "Job submitted" in json.dumps(submitted)
    assert "Workers cannot be started: " in banner() and "ClusterNotFoundException: Cluster not found." in banner()
    page = json.dumps(call.call("page.children", [prop("url", "pathname", "/jobs")]))
    assert "Workers cannot be started: " in page  # also on a fresh page load

    launcher.settings = dataclasses.replace(launcher.settings, cluster=ecs[1])
    assert services.start_worker() is True
    assert "Workers cannot be started" not in banner()


def test_ecs_settings_come_from_the_environment(store_settings):
    env = {"JOBS_TABLE": "t", "JOBS_BUCKET": "b", "DASHBOARD_LOGINS": '{"a": "b"}', "PREDICTOR_FUNCTION": "f",
           "WORKER_LAUNCHER": "ecs", "ECS_CLUSTER": "c", "WORKER_TASK_DEFINITION": "td",
           "WORKER_SUBNETS": "s1, s2", "WORKER_SECURITY_GROUPS": "g1", "WORKER_CAPACITY_PROVIDER": "FARGATE_SPOT",
           "WORKER_ASSIGN_PUBLIC_IP": "false", "MAX_WORKERS": "4"}
    settings = DashboardSettings.from_env(env)
    assert settings.ecs == EcsWorkerSettings("c", "td", ("s1", "s2"), ("g1",), "FARGATE_SPOT", False)
    assert settings.max_workers == 4 and "b" not in repr(settings.logins.keys())
    assert "'a': 'b'" not in repr(settings)  # the secret never shows up in a repr or a log
    with pytest.raises(SettingsError, match="WORKER_SUBNETS"):
        DashboardSettings.from_env({k: v for k, v in env.items() if k != "WORKER_SUBNETS"})
    local = DashboardSettings.from_env({**env, "WORKER_LAUNCHER": "subprocess",
                                        "WORKER_COMMAND": "python -m worker --drain", "UPLOAD_MAX_BYTES": "100"})
    assert local.worker_command == ("python", "-m", "worker", "--drain") and local.upload_max_bytes == 100
