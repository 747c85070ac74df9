"""Worker launchers: a real subprocess locally; ECS RunTask against moto (API shape only: moto
records the task but runs nothing). And the reconciler that starts workers for waiting jobs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import boto3
import pytest
from dashboard.launcher import STARTED_BY, EcsLauncher, Reconciler, SubprocessLauncher, ensure_worker
from dashboard.settings import DashboardSettings, EcsWorkerSettings, SettingsError

from tests.support import wait_until

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
    assert "could not launch a worker" in caplog.text


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
def ecs(aws_endpoint):
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
