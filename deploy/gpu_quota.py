"""Pre-flight for GPU workers: the account's EC2 quota for G instances must hold one worker's instance.

EC2 meters G instances in vCPUs under one quota per purchase option (new accounts often start at 0):
"Running On-Demand G and VT instances" (L-DB2E81BA), or "All G and VT Spot Instance Requests"
(L-3819A6DF) with workerGpuSpot. `gpu_quota_problem(client, settings, region, prices)` asks Service
Quotas (GetServiceQuota) and returns "" when one worker's instance fits, else a message naming the
quota, its value, what one worker (and maxWorkers of them) needs, and how to request more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import botocore.exceptions

from components.gpu_worker import gpu_needs
from components.settings import Settings
from deploy.gpu_instances import NoGpuInstance, cheapest

ON_DEMAND = ("L-DB2E81BA", "Running On-Demand G and VT instances")
SPOT = ("L-3819A6DF", "All G and VT Spot Instance Requests")


def gpu_quota_problem(quotas: Any, settings: Settings, region: str, prices: Mapping[str, Any]) -> str:
    """"" when the G-instance vCPU quota holds one GPU worker's instance; else why not and how to fix it."""
    worker = settings.worker
    if not worker.on_gpu:
        return ""
    code, name = SPOT if worker.gpu_spot else ON_DEMAND
    try:
        instance = cheapest(gpu_needs(worker), prices)
    except NoGpuInstance as error:
        return f"GPU worker: {error}"
    try:
        value = float(quotas.get_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]["Value"])
    except botocore.exceptions.ClientError as error:
        return f"GPU quota: Service Quotas GetServiceQuota for {code} ({name}) failed ({error})"
    one, all_workers = instance.vcpu, instance.vcpu * worker.max_workers
    if value >= one:
        return ""
    return (f"GPU quota: each GPU worker runs on a {instance.type} ({instance.vcpu} vCPUs, {instance.gpus} "
            f"{instance.gpu.upper()} GPU) and this account's EC2 quota \"{name}\" ({code}) in {region} is "
            f"{value:g} vCPUs, so no GPU worker could start (jobs would wait forever). Request {all_workers} vCPUs "
            f"({one} per worker x maxWorkers={worker.max_workers}) in the Service Quotas console "
            f"(https://console.aws.amazon.com/servicequotas/home/services/ec2/quotas/{code}) or with "
            f"`aws service-quotas request-service-quota-increase --service-code ec2 --quota-code {code} "
            f"--desired-value {all_workers} --region {region}`; approval can take a day or more")
