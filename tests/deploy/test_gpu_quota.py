"""Pre-flight for GPU workers: the account's G-instance vCPU quota against one worker's instance.

moto's Service Quotas knows only VPC quotas, so GetServiceQuota answers come from botocore's Stubber
on a real client: the request is still checked against the real Service Quotas API model.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from deploy import fargate_quota, preflight
from deploy.cost import load_prices
from deploy.gpu_quota import ON_DEMAND, SPOT, gpu_quota_problem
from deploy.stack_config import stack_settings
from tests.deploy.conftest import WORKING_DOCKER, NewAccountLambda
from tests.deploy.quota_stub import expect as expect_fargate

GPU = {"ml-proto:workerCompute": "gpu", "ml-proto:workerGpus": 1}


def _quota_answer(code: str, name: str, value: float) -> dict:
    return {"Quota": {"ServiceCode": "ec2", "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
                      "QuotaCode": code, "QuotaName": name, "Value": value, "Unit": "None", "Adjustable": True,
                      "GlobalQuota": False}}


@pytest.fixture
def quotas() -> Iterator[tuple[object, Stubber]]:
    client = boto3.client("service-quotas", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def _expect(stub: Stubber, quota: tuple[str, str], value: float) -> None:
    stub.add_response("get_service_quota", _quota_answer(*quota, value),
                      {"ServiceCode": "ec2", "QuotaCode": quota[0]})


def test_a_zero_on_demand_quota_is_refused_with_the_quota_named_and_how_to_ask_for_more(quotas) -> None:
    client, stub = quotas
    _expect(stub, ON_DEMAND, 0.0)
    problem = gpu_quota_problem(client, stack_settings("dev", GPU), "us-east-1", load_prices())
    print(f"\n{problem}")
    assert "Running On-Demand G and VT instances\" (L-DB2E81BA) in us-east-1 is 0 vCPUs" in problem
    assert "g4dn.xlarge (4 vCPUs" in problem  # the cheapest instance holding the dev worker's 1 GPU
    assert "--quota-code L-DB2E81BA --desired-value 4 --region us-east-1" in problem  # maxWorkers 1 in dev
    assert "servicequotas/home/services/ec2/quotas/L-DB2E81BA" in problem


def test_spot_gpu_workers_are_checked_against_the_spot_quota(quotas) -> None:
    client, stub = quotas
    _expect(stub, SPOT, 2.0)
    settings = stack_settings("demo", {**GPU, "ml-proto:workerGpuSpot": True})
    problem = gpu_quota_problem(client, settings, "us-east-1", load_prices())
    # demo: 2 vCPU / 8 GB workers, maxWorkers 4 -> a g4dn.xlarge each, 16 vCPUs for all of them
    assert "All G and VT Spot Instance Requests\" (L-3819A6DF) in us-east-1 is 2 vCPUs" in problem
    assert "--desired-value 16" in problem and "maxWorkers=4" in problem


def test_a_quota_that_holds_one_worker_passes_and_fargate_stacks_ask_nothing(quotas) -> None:
    client, stub = quotas
    _expect(stub, ON_DEMAND, 4.0)
    assert gpu_quota_problem(client, stack_settings("dev", GPU), "us-east-1", load_prices()) == ""
    # No response is queued for this call: a Fargate stack must not call Service Quotas at all.
    assert gpu_quota_problem(client, stack_settings("dev"), "us-east-1", load_prices()) == ""


def test_a_bigger_worker_needs_a_bigger_instance(quotas) -> None:
    client, stub = quotas
    _expect(stub, ON_DEMAND, 4.0)
    settings = stack_settings("dev", {**GPU, "ml-proto:workerCpu": 8192, "ml-proto:workerMemoryMb": 32768})
    problem = gpu_quota_problem(client, settings, "us-east-1", load_prices())
    assert "g4dn.4xlarge (16 vCPUs" in problem  # 8 vCPU and 32 GiB + headroom: more than a 2xlarge's 32 GiB


class _GpuSession(boto3.Session):
    """moto for STS and IAM; a new account's Lambda settings; a stubbed Service Quotas with a 0 G quota."""

    def __init__(self, quotas_client, **kwargs) -> None:
        super().__init__(**kwargs)
        self.quotas_client = quotas_client

    def client(self, service, *args, **kwargs):
        if service == "lambda":
            return NewAccountLambda()
        if service == "service-quotas":
            return self.quotas_client
        return super().client(service, *args, **kwargs)


def test_preflight_stops_a_gpu_stack_on_a_new_account_before_any_role_is_made(fake_bin, monkeypatch, clean_iam,
                                                                             quotas) -> None:
    client, stub = quotas
    expect_fargate(stub, fargate_quota.ON_DEMAND, 6.0)  # the dashboard's task fits; GPU workers are EC2
    _expect(stub, ON_DEMAND, 0.0)
    monkeypatch.setenv("PATH", str(fake_bin(pulumi="echo v3.200.1", docker=WORKING_DOCKER)))
    with pytest.raises(preflight.PreflightFailed) as failed:
        preflight.run("dev", _GpuSession(client, region_name="us-east-1"), overrides=GPU)
    message = str(failed.value)
    print(f"\n{message}")
    assert message.startswith("Cannot deploy; fix these first:\n  - GPU quota: ")
    assert "L-DB2E81BA" in message
    assert clean_iam.list_roles(PathPrefix="/aws-service-role/")["Roles"] == []
