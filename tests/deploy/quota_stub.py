"""Service Quotas answers for Fargate's vCPU quotas, queued on a botocore Stubber (moto knows only VPC quotas)."""

from __future__ import annotations

from botocore.stub import Stubber


def quota_answer(code: str, name: str, value: float) -> dict:
    return {"Quota": {"ServiceCode": "fargate", "ServiceName": "AWS Fargate", "QuotaCode": code, "QuotaName": name,
                      "Value": value, "Unit": "None", "Adjustable": True, "GlobalQuota": False}}


def expect(stub: Stubber, quota: tuple[str, str], value: float) -> None:
    """The next GetServiceQuota must ask for this Fargate quota, and hears `value`."""
    stub.add_response("get_service_quota", quota_answer(*quota, value),
                      {"ServiceCode": "fargate", "QuotaCode": quota[0]})
