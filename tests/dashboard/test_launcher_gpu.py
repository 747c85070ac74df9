"""The launcher starts a GPU worker on its Managed Instances capacity provider with a host-network RunTask.

moto runs no Managed Instances capacity provider, so botocore's Stubber stands in for ECS: the request is
still validated against the real RunTask API model, and its exact parameters are asserted.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from dashboard.launcher import STARTED_BY, EcsLauncher, ensure_worker, launch_health
from dashboard.settings import DashboardSettings, EcsWorkerSettings, SettingsError

GPU = EcsWorkerSettings(cluster="ml-proto-dev-cluster", task_definition="ml-proto-dev-worker",
                        subnets=("subnet-a", "subnet-b"), security_groups=("sg-worker",),
                        capacity_provider="ml-proto-dev-worker-gpu", assign_public_ip=True, container_name="worker",
                        network_mode="host")


def test_a_host_network_worker_runs_on_its_capacity_provider_without_awsvpc_configuration() -> None:
    client = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    expected = {"cluster": GPU.cluster, "taskDefinition": GPU.task_definition, "count": 1, "startedBy": STARTED_BY,
                "capacityProviderStrategy": [{"capacityProvider": "ml-proto-dev-worker-gpu", "weight": 1}]}
    launcher = EcsLauncher(client, GPU, max_workers=1)
    assert launcher.run_task_kwargs() == expected  # no launchType, no networkConfiguration
    with Stubber(client) as stub:
        stub.add_response("list_tasks", {"taskArns": []}, {"cluster": GPU.cluster, "startedBy": STARTED_BY})
        stub.add_response("run_task", {"tasks": [{"taskArn": "arn:aws:ecs:us-east-1:1:task/c/t"}], "failures": []},
                          expected)
        assert ensure_worker(launcher) is True
        stub.assert_no_pending_responses()
    assert launch_health(launcher).recent_failure() is None


def test_the_network_mode_travels_through_the_dashboards_environment() -> None:
    env = {"JOBS_TABLE": "t", "JOBS_BUCKET": "b", "DASHBOARD_LOGINS": '{"u": "p"}', "PREDICTOR_FUNCTION": "f",
           "WORKER_LAUNCHER": "ecs", **GPU.to_env()}
    assert env["WORKER_NETWORK_MODE"] == "host"
    assert DashboardSettings.from_env(env).ecs == GPU
    fargate = {k: v for k, v in env.items() if k != "WORKER_NETWORK_MODE"}
    assert DashboardSettings.from_env(fargate).ecs.network_mode == "awsvpc"


def test_an_unknown_network_mode_is_refused_by_name() -> None:
    env = {"JOBS_TABLE": "t", "JOBS_BUCKET": "b", "DASHBOARD_LOGINS": '{"u": "p"}', "PREDICTOR_FUNCTION": "f",
           "WORKER_LAUNCHER": "ecs", **GPU.to_env(), "WORKER_NETWORK_MODE": "bridge"}
    with pytest.raises(SettingsError, match="WORKER_NETWORK_MODE must be one of awsvpc, host, not 'bridge'"):
        DashboardSettings.from_env(env)
