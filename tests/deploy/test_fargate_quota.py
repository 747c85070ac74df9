"""Pre-flight for Fargate: the On-Demand and Spot vCPU quotas against the stack's peak (dashboard at its most
tasks + the most workers). Service Quotas answers come from botocore's Stubber on a real client (moto's Service
Quotas knows only VPC quotas): each request is still checked against the real API model."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from deploy import preflight
from deploy.fargate_quota import ON_DEMAND, SPOT, fargate_quota_problems, peak_vcpus
from deploy.stack_config import stack_settings
from tests.deploy.conftest import WORKING_DOCKER, NewAccountLambda
from tests.deploy.quota_stub import expect


@pytest.fixture
def quotas() -> Iterator[tuple[object, Stubber]]:
    client = boto3.client("service-quotas", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_the_peak_is_the_dashboard_at_its_most_tasks_plus_the_most_workers() -> None:
    demo = stack_settings("demo")  # 4 x 0.5 vCPU dashboard tasks; 4 x 2 vCPU on-demand workers
    peak = peak_vcpus(demo)
    assert (peak.on_demand, peak.spot) == (4 * 0.5 + 4 * 2, 0)
    dev = stack_settings("dev")  # 1 x 0.25 vCPU dashboard task; 1 Spot worker of RESOURCES' size
    peak = peak_vcpus(dev)
    assert peak.on_demand == 0.25 and peak.spot == dev.worker.cpu / 1024
    spot_dashboard = stack_settings("demo", {"ml-proto:dashboardCapacityProvider": "FARGATE_SPOT"})
    peak = peak_vcpus(spot_dashboard)  # on-demand base 1, three more on Spot
    assert (peak.on_demand, peak.spot) == (0.5 + 8, 1.5)
    gpu = stack_settings("dev", {"ml-proto:workerCompute": "gpu", "ml-proto:workerGpus": 1})
    assert peak_vcpus(gpu).spot == 0  # GPU workers run on EC2 instances, not Fargate


def test_a_low_on_demand_quota_is_named_with_the_peak_and_how_to_ask_for_more(quotas) -> None:
    client, stub = quotas
    expect(stub, ON_DEMAND, 6.0)
    problems = fargate_quota_problems(client, stack_settings("demo"), "us-east-1")
    print("\n" + "\n".join(problems))
    (problem,) = problems
    assert "runs 10 vCPUs on Fargate On-Demand" in problem
    assert "4 dashboard task(s) x 0.5 vCPU (dashboardMaxCount) + 4 worker(s) x 2 vCPU (maxWorkers)" in problem
    assert "\"Fargate On-Demand vCPU resource count\" (L-3032A538) in us-east-1 is 6 vCPUs" in problem
    assert "servicequotas/home/services/fargate/quotas/L-3032A538" in problem
    assert "--service-code fargate --quota-code L-3032A538 --desired-value 10 --region us-east-1" in problem


def test_each_capacity_is_checked_against_its_own_quota(quotas) -> None:
    client, stub = quotas
    expect(stub, ON_DEMAND, 6.0)  # holds 0.25
    expect(stub, SPOT, 0.0)
    settings = stack_settings("dev")
    (problem,) = fargate_quota_problems(client, settings, "us-east-1")
    assert "on Fargate Spot" in problem and "(L-36FBB829) in us-east-1 is 0 vCPUs" in problem
    assert f"--desired-value {-(-settings.worker.cpu // 1024)}" in problem


def test_quotas_that_hold_the_peak_pass_and_unused_capacity_is_not_asked(quotas) -> None:
    client, stub = quotas
    expect(stub, ON_DEMAND, 10.0)  # demo's peak exactly; demo runs nothing on Spot, so Spot is not asked
    assert fargate_quota_problems(client, stack_settings("demo"), "us-east-1") == []


class QuotaSession(boto3.Session):
    """moto for STS and IAM; a new account's Lambda settings; the stubbed Service Quotas."""

    def __init__(self, quotas_client, **kwargs) -> None:
        super().__init__(**kwargs)
        self.quotas_client = quotas_client

    def client(self, service, *args, **kwargs):
        if service == "lambda":
            return NewAccountLambda()
        if service == "service-quotas":
            return self.quotas_client
        return super().client(service, *args, **kwargs)


def test_preflight_stops_a_stack_the_quota_cannot_hold_before_any_role_is_made(fake_bin, monkeypatch, clean_iam,
                                                                              quotas) -> None:
    client, stub = quotas
    expect(stub, ON_DEMAND, 4.0)
    monkeypatch.setenv("PATH", str(fake_bin(pulumi="echo v3.200.1", docker=WORKING_DOCKER)))
    with pytest.raises(preflight.PreflightFailed) as failed:
        preflight.run("demo", QuotaSession(client, region_name="us-east-1"))
    message = str(failed.value)
    assert message.startswith("Cannot deploy; fix these first:\n  - Fargate quota: ") and "L-3032A538" in message
    assert clean_iam.list_roles(PathPrefix="/aws-service-role/")["Roles"] == []
