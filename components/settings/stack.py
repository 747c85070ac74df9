"""`Settings`: every `ml-proto:*` config key, read once into its group and checked before any resource."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.settings.groups import (
    DashboardSettings,
    NetworkSettings,
    PredictorSettings,
    StoreSettings,
    WorkerSettings,
)
from components.settings.limits import (
    CAPACITY_PROVIDERS,
    FRONT_DOORS,
    LAMBDA_MEMORY_MB,
    LAMBDA_TIMEOUT_SECONDS,
    LOG_LEVELS,
    LOG_RETENTION_DAYS,
    PLATFORMS,
)
from components.settings.reader import ConfigSource, PulumiConfigSource, Reader
from components.settings.rules import check_combinations
from components.settings.worker import ALGORITHM, worker_settings


@dataclass(frozen=True)
class Settings:
    """Everything the stack's config says, validated."""

    platform: str
    arm64_apps: tuple[str, ...]
    log_retention_days: int
    log_level: str
    images_to_keep: int
    network: NetworkSettings
    store: StoreSettings
    predictor: PredictorSettings
    worker: WorkerSettings
    dashboard: DashboardSettings

    def app_platform(self, app: str) -> str:
        """The image platform of one app: linux/arm64 when listed in arm64Apps, else `platform`."""
        return "linux/arm64" if app in self.arm64_apps else self.platform

    def lambda_architecture(self, app: str) -> str:
        """`x86_64` or `arm64`, matching the app's image platform."""
        return PLATFORMS[self.app_platform(app)]

    def cpu_architecture(self, app: str) -> str:
        """ECS runtime platform: `X86_64` or `ARM64`, matching the app's image platform."""
        return PLATFORMS[self.app_platform(app)].upper()

    @classmethod
    def from_config(cls) -> Settings:
        """Read and validate the running stack's `ml-proto:*` config."""
        return cls.from_values(PulumiConfigSource())

    @classmethod
    def from_values(cls, source: ConfigSource, algorithm: Path = ALGORITHM) -> Settings:
        """Build settings from any source of raw config values (tests use a plain mapping); the worker's
        size defaults from the RESOURCES that the batch algorithm at `algorithm` declares."""
        read = Reader(source)
        settings = cls(
            platform=read.choice("platform", tuple(PLATFORMS)),
            arm64_apps=read.apps("arm64Apps"),
            log_retention_days=read.choice_int("logRetentionDays", LOG_RETENTION_DAYS),
            log_level=read.choice("logLevel", LOG_LEVELS),
            images_to_keep=read.integer("imagesToKeep", minimum=1, maximum=1000),
            network=NetworkSettings(
                vpc_id=read.string("vpcId"),
                subnet_ids=read.strings("subnetIds"),
                assign_public_ip=read.boolean("assignPublicIp"),
                load_balancer_subnet_ids=read.strings("loadBalancerSubnetIds"),
                private_subnet_cidrs=read.cidrs("privateSubnetCidrs"),
            ),
            store=StoreSettings(
                result_retention_days=read.integer("resultRetentionDays", minimum=1, maximum=3650),
                point_in_time_recovery=read.boolean("pointInTimeRecovery"),
                deletion_protection=read.boolean("deletionProtection"),
                job_lease_seconds=read.integer("jobLeaseSeconds", minimum=10, maximum=43200),
                job_max_attempts=read.integer("jobMaxAttempts", minimum=1, maximum=100),
                job_retry_backoff_seconds=read.integer("jobRetryBackoffSeconds", minimum=0, maximum=3600),
            ),
            predictor=PredictorSettings(
                memory_mb=read.integer("predictorMemoryMb", *LAMBDA_MEMORY_MB),
                timeout_seconds=read.integer("predictorTimeoutSeconds", *LAMBDA_TIMEOUT_SECONDS),
                provisioned_concurrency=read.integer("predictorProvisionedConcurrency", minimum=0, maximum=1000),
                reserved_concurrency=read.integer("predictorReservedConcurrency", minimum=-1, maximum=1000),
                warm_hours=read.office_hours("predictorWarmHours", "timeZone"),
            ),
            worker=worker_settings(read, algorithm),
            dashboard=DashboardSettings(
                cpu=read.integer("dashboardCpu", minimum=256, maximum=16384),
                memory_mb=read.integer("dashboardMemoryMb", minimum=512, maximum=122880),
                desired_count=read.integer("dashboardDesiredCount", minimum=1, maximum=100),
                min_count=read.integer("dashboardMinCount", minimum=1, maximum=100),
                max_count=read.integer("dashboardMaxCount", minimum=1, maximum=100),
                cpu_target_percent=read.integer("dashboardCpuTargetPercent", minimum=10, maximum=95),
                server_workers=read.integer("dashboardWorkers", minimum=1, maximum=32),
                server_threads=read.integer("dashboardThreads", minimum=1, maximum=256),
                allowed_cidrs=read.cidrs("allowedCidrs"),
                certificate_arn=read.string("certificateArn"),
                domain_name=read.string("domainName"),
                upload_max_bytes=read.integer("uploadMaxBytes", minimum=1024, maximum=6 * 1024 * 1024 * 1024),
                users=read.user_names("dashboardUsers"),
                passwords=read.passwords("dashboardPasswords"),
                office_hours=read.office_hours("dashboardOfficeHours", "timeZone"),
                sleep_after_minutes=read.integer("dashboardSleepAfterMinutes", minimum=0, maximum=10080),
                capacity_provider=read.choice("dashboardCapacityProvider", CAPACITY_PROVIDERS),
                on_demand_base=read.integer("dashboardOnDemandBase", minimum=0, maximum=100),
                front_door=read.choice("frontDoor", FRONT_DOORS),
                allow_plain_http=read.boolean("allowPlainHttp"),
            ),
        )
        check_combinations(settings)
        return settings
