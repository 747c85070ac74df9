"""One typed settings group per part of the stack: network, job store, predictor, worker, dashboard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from components.settings.office_hours import OfficeHours


@dataclass(frozen=True)
class NetworkSettings:
    """Where tasks and the load balancer run: the default VPC unless a VPC and subnets are given."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    assign_public_ip: bool
    # Behind CloudFront the load balancer is internal, in private subnets: these (a vpcId's own), or in
    # the default VPC two the program creates from these CIDR blocks.
    load_balancer_subnet_ids: tuple[str, ...] = ()
    private_subnet_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoreSettings:
    """The job table and bucket, and the queue timing every app is told about."""

    result_retention_days: int
    point_in_time_recovery: bool
    deletion_protection: bool
    job_lease_seconds: int
    job_max_attempts: int
    job_retry_backoff_seconds: int


@dataclass(frozen=True)
class PredictorSettings:
    """Size and concurrency of the realtime predictor Lambda."""

    memory_mb: int
    timeout_seconds: int
    provisioned_concurrency: int
    reserved_concurrency: int
    # With provisioned concurrency: the weekly window it is kept in (scheduled scaling); None: all the time.
    warm_hours: OfficeHours | None = None


@dataclass(frozen=True)
class WorkerSettings:
    """Size and capacity of the batch worker's task: Fargate (CPU) or ECS Managed Instances (GPU).

    cpu, memory_mb and gpus are the stack keys' values where set, else what the algorithm's
    RESOURCES declares (`sized_by` says which, for messages).
    """

    cpu: int
    memory_mb: int
    capacity_provider: str
    max_workers: int
    idle_seconds: int
    heartbeat_seconds: int
    compute: str = "fargate"  # or "gpu": an ECS Managed Instances capacity provider with NVIDIA GPUs
    gpus: int = 0
    gpu_spot: bool = False  # gpu only: Spot instances instead of On-Demand
    gpu_scale_in_seconds: int = 0  # gpu only: how long an idle GPU instance is kept before it is stopped
    sized_by: str = "stack keys"

    @property
    def on_gpu(self) -> bool:
        return self.compute == "gpu"


@dataclass(frozen=True)
class DashboardSettings:
    """Size, scaling, reachability and logins of the dashboard service."""

    cpu: int
    memory_mb: int
    desired_count: int
    min_count: int
    max_count: int
    cpu_target_percent: int
    server_workers: int
    server_threads: int
    allowed_cidrs: tuple[str, ...]
    certificate_arn: str
    domain_name: str
    upload_max_bytes: int
    users: tuple[str, ...]
    office_hours: OfficeHours | None  # None: always on
    sleep_after_minutes: int  # 0: never sleeps when idle
    capacity_provider: str
    on_demand_base: int  # with FARGATE_SPOT: this many tasks stay on regular Fargate
    # Configured passwords by user; users not listed get a generated one. Never printed.
    passwords: Mapping[str, str] = field(repr=False, default_factory=dict)
    front_door: str = "cloudfront"  # or "alb": the load balancer itself faces the internet
    allow_plain_http: bool = False  # the stack's explicit yes to a login over plain HTTP from anywhere

    @property
    def behind_cloudfront(self) -> bool:
        return self.front_door == "cloudfront"

    @property
    def serves_https(self) -> bool:
        """Visitors reach the login over HTTPS: through CloudFront, or the load balancer's own certificate."""
        return self.behind_cloudfront or bool(self.certificate_arn)
