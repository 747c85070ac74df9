"""Rules that span several config keys (Fargate sizes, counts, logins, HTTPS, concurrency, Spot, subnets)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.fargate_sizes import MEMORY_BY_CPU, fargate_memory_choices
from components.settings.limits import NAMESPACE, SLEEPER_PERIOD_MINUTES
from components.settings.reader import ConfigError

if TYPE_CHECKING:
    from components.settings.stack import Settings


def check_combinations(s: Settings) -> None:
    """Refuse settings whose keys are each valid but not together; each message names the key to change."""
    for prefix, cpu, memory, source in (("worker", s.worker.cpu, s.worker.memory_mb, f" ({s.worker.sized_by})"),
                                        ("dashboard", s.dashboard.cpu, s.dashboard.memory_mb, "")):
        allowed = fargate_memory_choices(cpu)
        if not allowed:
            raise ConfigError(f"{NAMESPACE}:{prefix}Cpu: {cpu} is not a Fargate cpu size{source}; "
                              f"use one of {', '.join(map(str, MEMORY_BY_CPU))}")
        if memory not in allowed:
            raise ConfigError(f"{NAMESPACE}:{prefix}MemoryMb: Fargate does not run {memory} MiB with "
                              f"{prefix}Cpu={cpu}{source}; allowed: {', '.join(map(str, allowed))}")
    if s.worker.on_gpu and s.app_platform("worker") == "linux/arm64":
        raise ConfigError(f"{NAMESPACE}:workerCompute: the GPU worker runs on x86_64 NVIDIA instances; "
                          f"leave worker out of arm64Apps, with platform linux/amd64")
    d = s.dashboard
    if not d.min_count <= d.desired_count <= d.max_count:
        raise ConfigError(f"{NAMESPACE}:dashboardDesiredCount: {d.desired_count} must lie between "
                          f"dashboardMinCount={d.min_count} and dashboardMaxCount={d.max_count}")
    unknown = sorted(set(d.passwords) - set(d.users))
    if unknown:
        raise ConfigError(f"{NAMESPACE}:dashboardPasswords: passwords for users not in dashboardUsers: "
                          f"{', '.join(unknown)}")
    if d.domain_name and not d.certificate_arn:
        raise ConfigError(f"{NAMESPACE}:domainName: set certificateArn too (the domain is served over HTTPS)")
    if d.certificate_arn and not d.certificate_arn.startswith("arn:"):
        raise ConfigError(f"{NAMESPACE}:certificateArn: {d.certificate_arn!r} is not an ACM certificate ARN")
    p = s.predictor
    if p.reserved_concurrency == 0:
        raise ConfigError(f"{NAMESPACE}:predictorReservedConcurrency: 0 throttles every prediction; use -1 to "
                          f"leave the predictor unreserved, or a positive cap")
    if p.reserved_concurrency >= 0 and p.provisioned_concurrency > p.reserved_concurrency:
        raise ConfigError(f"{NAMESPACE}:predictorProvisionedConcurrency: {p.provisioned_concurrency} exceeds "
                          f"predictorReservedConcurrency={p.reserved_concurrency}")
    for app, provider in (("worker", s.worker.capacity_provider), ("dashboard", s.dashboard.capacity_provider)):
        if provider == "FARGATE_SPOT" and s.app_platform(app) == "linux/arm64":
            raise ConfigError(f"{NAMESPACE}:{app}CapacityProvider: FARGATE_SPOT does not run ARM64 tasks; "
                              f"use FARGATE, or leave {app} out of arm64Apps with platform linux/amd64")
    if 0 < d.sleep_after_minutes < SLEEPER_PERIOD_MINUTES:
        raise ConfigError(f"{NAMESPACE}:dashboardSleepAfterMinutes: {d.sleep_after_minutes} is shorter than the "
                          f"{SLEEPER_PERIOD_MINUTES} minutes between two looks; use 0 (never) or "
                          f"{SLEEPER_PERIOD_MINUTES} or more")
    n = s.network
    if n.vpc_id and not n.subnet_ids:
        raise ConfigError(f"{NAMESPACE}:subnetIds: give the subnets of vpcId={n.vpc_id} (two or more, "
                          f"in different availability zones)")
    if len(set(n.subnet_ids)) != len(n.subnet_ids):
        raise ConfigError(f"{NAMESPACE}:subnetIds: {list(n.subnet_ids)} names a subnet twice")
    if n.subnet_ids and len(n.subnet_ids) < 2:
        raise ConfigError(f"{NAMESPACE}:subnetIds: an Application Load Balancer needs two or more subnets "
                          f"in different availability zones")
