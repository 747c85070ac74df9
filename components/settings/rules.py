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
    check_front_door(s)
    if p.warm_hours is not None and p.provisioned_concurrency == 0:
        raise ConfigError(f"{NAMESPACE}:predictorWarmHours: keeps predictorProvisionedConcurrency instances warm "
                          f"in that window, and that is 0; set it to 1 or more, or predictorWarmHours to \"\"")


OPEN_TO_ALL = frozenset({"0.0.0.0/0", "::/0"})
# An Application Load Balancer's subnets need a /27 or larger block (at least 8 free addresses).
LARGEST_ALB_PREFIX = 27
# CloudFront's origin response timeout is 60 s at most (without a quota increase); the dashboard waits 5 s longer
# than the predictor may run and CloudFront 5 s longer than that.
CLOUDFRONT_PREDICTOR_TIMEOUT = 50


def check_front_door(s: Settings) -> None:
    """CloudFront in front: the load balancer is internal (private subnets), open to CloudFront alone."""
    d, n = s.dashboard, s.network
    if not d.behind_cloudfront:
        if n.load_balancer_subnet_ids:
            raise ConfigError(f"{NAMESPACE}:loadBalancerSubnetIds: only used with frontDoor cloudfront (the internal "
                              f"load balancer's private subnets); with frontDoor alb it runs in subnetIds")
        return
    narrowed = sorted(set(d.allowed_cidrs) - OPEN_TO_ALL)
    if narrowed:
        raise ConfigError(f"{NAMESPACE}:allowedCidrs: {narrowed} would narrow who reaches the load balancer, but with "
                          f"frontDoor cloudfront it is internal and CloudFront admits every address; set frontDoor "
                          f"alb to keep an address allow-list (then with certificateArn for HTTPS)")
    if n.vpc_id and len(n.load_balancer_subnet_ids) < 2:
        raise ConfigError(f"{NAMESPACE}:loadBalancerSubnetIds: with vpcId and frontDoor cloudfront, give two or more "
                          f"private subnets (no route to an internet gateway) of vpcId={n.vpc_id}, in different "
                          f"availability zones, for the internal load balancer; or set frontDoor alb")
    if not n.vpc_id:
        if len(n.private_subnet_cidrs) < 2:
            raise ConfigError(f"{NAMESPACE}:privateSubnetCidrs: give two free CIDR blocks of the default VPC "
                              f"(172.31.0.0/16) for the internal load balancer's private subnets")
        small = [c for c in n.private_subnet_cidrs if int(c.rsplit("/", 1)[1]) > LARGEST_ALB_PREFIX]
        if small:
            raise ConfigError(f"{NAMESPACE}:privateSubnetCidrs: {small} smaller than /{LARGEST_ALB_PREFIX}; a load "
                              f"balancer subnet needs a /{LARGEST_ALB_PREFIX} or larger block")
    if s.predictor.timeout_seconds > CLOUDFRONT_PREDICTOR_TIMEOUT:
        raise ConfigError(f"{NAMESPACE}:predictorTimeoutSeconds: {s.predictor.timeout_seconds} s is longer than "
                          f"CloudFront waits for the dashboard's answer (60 s, which covers a prediction of up to "
                          f"{CLOUDFRONT_PREDICTOR_TIMEOUT} s and the dashboard's own work); use "
                          f"{CLOUDFRONT_PREDICTOR_TIMEOUT} or less, or frontDoor alb")
    if d.certificate_arn and ":acm:us-east-1:" not in d.certificate_arn:
        raise ConfigError(f"{NAMESPACE}:certificateArn: CloudFront takes only certificates from ACM in us-east-1 "
                          f"(whatever the stack's region); request or import the certificate there")
