"""Pre-flight for Fargate: the account's vCPU quotas must hold the stack's peak.

Fargate meters running tasks in vCPUs under one quota per capacity (service code `fargate`; new accounts
may start low): "Fargate On-Demand vCPU resource count" (L-3032A538) and "Fargate Spot vCPU resource count"
(L-36FBB829). The peak is the dashboard at dashboardMaxCount tasks plus maxWorkers workers, each on its
capacity provider (GPU workers run on EC2 instances: gpu_quota.py checks those). `fargate_quota_problems`
asks Service Quotas (GetServiceQuota) only for a quota the peak uses and returns one message per quota the
peak exceeds, naming the quota, its value, what needs it, and how to request more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from components.settings import Settings

ON_DEMAND = ("L-3032A538", "Fargate On-Demand vCPU resource count")
SPOT = ("L-36FBB829", "Fargate Spot vCPU resource count")


@dataclass(frozen=True)
class Peak:
    """vCPUs the stack may run at once on each capacity, and what makes them up (for messages)."""

    on_demand: float
    spot: float
    on_demand_parts: tuple[str, ...]
    spot_parts: tuple[str, ...]


def peak_vcpus(settings: Settings) -> Peak:
    """The dashboard at its most tasks plus the most workers, split by On-Demand and Spot."""
    d, w = settings.dashboard, settings.worker
    parts: dict[bool, list[tuple[float, str]]] = {False: [], True: []}
    task = d.cpu / 1024
    if d.capacity_provider == "FARGATE_SPOT":
        base = min(d.on_demand_base, d.max_count)
        parts[False].append((base * task, f"{base} dashboard task(s) x {task:g} vCPU (dashboardOnDemandBase)"))
        parts[True].append(((d.max_count - base) * task, f"{d.max_count - base} dashboard task(s) x {task:g} vCPU "
                                                         f"(dashboardMaxCount={d.max_count} beyond the base)"))
    else:
        parts[False].append((d.max_count * task, f"{d.max_count} dashboard task(s) x {task:g} vCPU "
                                                 f"(dashboardMaxCount)"))
    if not w.on_gpu:
        worker = w.cpu / 1024
        parts[w.capacity_provider == "FARGATE_SPOT"].append(
            (w.max_workers * worker, f"{w.max_workers} worker(s) x {worker:g} vCPU (maxWorkers)"))

    def total(spot: bool) -> float:
        return sum(v for v, _ in parts[spot])

    def named(spot: bool) -> tuple[str, ...]:
        return tuple(text for v, text in parts[spot] if v > 0)

    return Peak(total(False), total(True), named(False), named(True))


def fargate_quota_problems(quotas: Any, settings: Settings, region: str) -> list[str]:
    """One message per Fargate vCPU quota the stack's peak exceeds (or could not be read); [] when both hold."""
    peak = peak_vcpus(settings)
    problems = []
    for (code, name), needed, parts in ((ON_DEMAND, peak.on_demand, peak.on_demand_parts),
                                        (SPOT, peak.spot, peak.spot_parts)):
        if needed <= 0:
            continue
        try:
            value = float(quotas.get_service_quota(ServiceCode="fargate", QuotaCode=code)["Quota"]["Value"])
        except botocore.exceptions.ClientError as error:
            problems.append(f"Fargate quota: Service Quotas GetServiceQuota for {code} ({name}) failed ({error})")
            continue
        if value >= needed:
            continue
        ask = math.ceil(needed)
        problems.append(
            f"Fargate quota: at its peak this stack runs {needed:g} vCPUs on "
            f"{'Fargate Spot' if code == SPOT[0] else 'Fargate On-Demand'} ({' + '.join(parts)}) and this account's "
            f"quota \"{name}\" ({code}) in {region} is {value:g} vCPUs, so tasks beyond it would not start. Request "
            f"{ask} vCPUs in the Service Quotas console "
            f"(https://console.aws.amazon.com/servicequotas/home/services/fargate/quotas/{code}) or with "
            f"`aws service-quotas request-service-quota-increase --service-code fargate --quota-code {code} "
            f"--desired-value {ask} --region {region}`, or lower dashboardMaxCount / maxWorkers")
    return problems
