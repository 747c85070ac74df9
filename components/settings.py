"""Typed stack settings: every `ml-proto:*` config key, read once and checked before any resource.

Pulumi.yaml declares each key with its type, default and description; the Pulumi CLI merges those
defaults into the stack's config, so this module requires every key and never invents a default.
A bad value raises `ConfigError` whose message starts with the key's full name.
"""

from __future__ import annotations

import ipaddress
import json
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

NAMESPACE = "ml-proto"

PLATFORMS = {"linux/amd64": "x86_64", "linux/arm64": "arm64"}
CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)
LAMBDA_MEMORY_MB = (128, 10240)
LAMBDA_TIMEOUT_SECONDS = (1, 900)
USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
APPS = ("dashboard", "predictor", "worker")
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
OFFICE_HOURS = re.compile(r"^\s*(?P<days>[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*"
                          r"(?P<end>\d{1,2}:\d{2})\s*$")
# The sleeper looks every this many minutes, so a shorter idle time could not be honoured.
SLEEPER_PERIOD_MINUTES = 5


def fargate_memory_choices(cpu: int) -> tuple[int, ...]:
    """The task memory sizes (MiB) Fargate accepts for a task cpu size; empty for an unknown cpu."""
    gb = 1024
    choices = {
        256: (512, 1 * gb, 2 * gb),
        512: tuple(range(1 * gb, 4 * gb + 1, gb)),
        1024: tuple(range(2 * gb, 8 * gb + 1, gb)),
        2048: tuple(range(4 * gb, 16 * gb + 1, gb)),
        4096: tuple(range(8 * gb, 30 * gb + 1, gb)),
        8192: tuple(range(16 * gb, 60 * gb + 1, 4 * gb)),
        16384: tuple(range(32 * gb, 120 * gb + 1, 8 * gb)),
    }
    return choices.get(cpu, ())


class ConfigError(pulumi.RunError, ValueError):
    """A stack config value the program refuses; the message names the key and what is allowed."""


@dataclass(frozen=True)
class OfficeHours:
    """A weekly window (e.g. Mon-Fri 08:00-19:00) in an IANA time zone; the dashboard runs only inside it."""

    first_day: str
    last_day: str
    start: tuple[int, int]
    end: tuple[int, int]
    time_zone: str

    @property
    def days(self) -> int:
        return WEEKDAYS.index(self.last_day) - WEEKDAYS.index(self.first_day) + 1

    @property
    def hours_per_week(self) -> float:
        return self.days * ((self.end[0] - self.start[0]) + (self.end[1] - self.start[1]) / 60)

    def _cron(self, at: tuple[int, int]) -> str:
        days = self.first_day if self.days == 1 else f"{self.first_day}-{self.last_day}"
        return f"cron({at[1]} {at[0]} ? * {days} *)"

    @property
    def open_cron(self) -> str:
        """Application Auto Scaling cron (minutes hours day-of-month month day-of-week year) at opening."""
        return self._cron(self.start)

    @property
    def close_cron(self) -> str:
        return self._cron(self.end)


@dataclass(frozen=True)
class NetworkSettings:
    """Where tasks and the load balancer run: the default VPC unless a VPC and subnets are given."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    assign_public_ip: bool


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


@dataclass(frozen=True)
class WorkerSettings:
    """Size and capacity of the batch worker's Fargate task."""

    cpu: int
    memory_mb: int
    capacity_provider: str
    max_workers: int
    idle_seconds: int
    heartbeat_seconds: int


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
        return cls.from_values(_PulumiConfigSource())

    @classmethod
    def from_values(cls, source: ConfigSource) -> Settings:
        """Build settings from any source of raw config values (tests use a plain mapping)."""
        read = _Reader(source)
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
            ),
            worker=WorkerSettings(
                cpu=read.integer("workerCpu", minimum=256, maximum=16384),
                memory_mb=read.integer("workerMemoryMb", minimum=512, maximum=122880),
                capacity_provider=read.choice("workerCapacityProvider", CAPACITY_PROVIDERS),
                max_workers=read.integer("maxWorkers", minimum=1, maximum=100),
                idle_seconds=read.integer("workerIdleSeconds", minimum=0, maximum=86400),
                heartbeat_seconds=read.integer("workerHeartbeatSeconds", minimum=1, maximum=3600),
            ),
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
            ),
        )
        _check_combinations(settings)
        return settings


def _check_combinations(s: Settings) -> None:
    """Rules that span keys; each message names the key to change."""
    for prefix, cpu, memory in (("worker", s.worker.cpu, s.worker.memory_mb),
                                ("dashboard", s.dashboard.cpu, s.dashboard.memory_mb)):
        allowed = fargate_memory_choices(cpu)
        if not allowed:
            raise ConfigError(f"{NAMESPACE}:{prefix}Cpu: {cpu} is not a Fargate cpu size; "
                              f"use one of 256, 512, 1024, 2048, 4096, 8192, 16384")
        if memory not in allowed:
            raise ConfigError(f"{NAMESPACE}:{prefix}MemoryMb: Fargate does not run {memory} MiB with "
                              f"{prefix}Cpu={cpu}; allowed: {', '.join(map(str, allowed))}")
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


# --- reading raw values ---------------------------------------------------------------------

ConfigSource = Mapping[str, Any]


class _PulumiConfigSource(Mapping[str, Any]):
    """The running stack's config as a read-only mapping of short key -> raw value."""

    def __getitem__(self, key: str) -> Any:
        value = pulumi.runtime.get_config(f"{NAMESPACE}:{key}")
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self):  # only lookups are needed
        return iter(())

    def __len__(self) -> int:
        return 0

    def is_secret(self, key: str) -> bool:
        return pulumi.runtime.is_config_secret(f"{NAMESPACE}:{key}")


class _Reader:
    """Typed getters over raw config values."""

    def __init__(self, source: ConfigSource) -> None:
        self.source = source

    def _raw(self, key: str) -> Any:
        try:
            return self.source[key]
        except KeyError:
            raise ConfigError(
                f"{NAMESPACE}:{key} is not set. Pulumi.yaml declares its default; use Pulumi CLI 3.44 or "
                f"newer, or `pulumi config set {key} <value>`"
            ) from None

    def _fail(self, key: str, value: Any, expected: str) -> ConfigError:
        return ConfigError(f"{NAMESPACE}:{key}: {value!r} is not {expected}")

    def string(self, key: str) -> str:
        value = self._raw(key)
        if not isinstance(value, str):
            raise self._fail(key, value, "a string")
        return value.strip()

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.string(key)
        if value not in allowed:
            raise self._fail(key, value, f"one of {', '.join(allowed)}")
        return value

    def integer(self, key: str, minimum: int, maximum: int) -> int:
        value = self._raw(key)
        whole = (
            (isinstance(value, int) and not isinstance(value, bool))
            or (isinstance(value, float) and value.is_integer())
            or (isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value))
        )
        if not whole:
            raise self._fail(key, value, "a whole number")
        number = int(value)
        if not minimum <= number <= maximum:
            raise self._fail(key, number, f"between {minimum} and {maximum}")
        return number

    def choice_int(self, key: str, allowed: tuple[int, ...]) -> int:
        number = self.integer(key, min(allowed), max(allowed))
        if number not in allowed:
            raise self._fail(key, number, f"one of {', '.join(map(str, allowed))}")
        return number

    def boolean(self, key: str) -> bool:
        value = self._raw(key)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise self._fail(key, value, "true or false")
        return text == "true"

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._raw(key)
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else []
            except json.JSONDecodeError:
                raise self._fail(key, value, "a list (JSON array) of strings") from None
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise self._fail(key, value, "a list of non-empty strings")
        return tuple(item.strip() for item in value)

    def cidrs(self, key: str) -> tuple[str, ...]:
        values = self.strings(key)
        if not values:
            raise self._fail(key, list(values), "a non-empty list of CIDR blocks (e.g. [\"203.0.113.0/24\"])")
        for value in values:
            try:
                ipaddress.ip_network(value, strict=True)
            except ValueError as error:
                raise ConfigError(f"{NAMESPACE}:{key}: {value!r} is not a CIDR block ({error})") from None
        return values

    def user_names(self, key: str) -> tuple[str, ...]:
        users = self.strings(key)
        if not users:
            raise self._fail(key, [], "a non-empty list of user names")
        for user in users:
            if not USER_NAME.match(user):
                raise self._fail(key, user, "a user name of 1-64 letters, digits or _.@-")
        if len(set(users)) != len(users):
            raise self._fail(key, list(users), "a list without repeated names")
        return users

    def apps(self, key: str) -> tuple[str, ...]:
        values = self.strings(key)
        for value in values:
            if value not in APPS:
                raise self._fail(key, value, f"an app name ({', '.join(APPS)})")
        return values

    def office_hours(self, key: str, zone_key: str) -> OfficeHours | None:
        """`Mon-Fri 08:00-19:00` (one day or a day range, start before end) in the zone `zone_key` names."""
        value = self.string(key)
        zone = self.string(zone_key)
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise self._fail(zone_key, zone, "an IANA time zone such as UTC or Europe/Berlin") from None
        if not value:
            return None
        expected = "a weekly window such as 'Mon-Fri 08:00-19:00' (days Mon..Sun, 24-hour times, start before end)"
        match = OFFICE_HOURS.match(value)
        if not match:
            raise self._fail(key, value, expected)
        first, _, last = match["days"].replace(" ", "").upper().partition("-")
        last = last or first
        times = [tuple(int(part) for part in match[name].split(":")) for name in ("start", "end")]
        if (first not in WEEKDAYS or last not in WEEKDAYS or WEEKDAYS.index(first) > WEEKDAYS.index(last)
                or any(h > 23 or m > 59 for h, m in times) or times[0] >= times[1]):
            raise self._fail(key, value, expected)
        return OfficeHours(first, last, times[0], times[1], zone)  # type: ignore[arg-type]

    def passwords(self, key: str) -> dict[str, str]:
        value = self.string(key)
        if not value:
            return {}
        # Never echo the value: it holds passwords.
        is_secret: Callable[[str], bool] = getattr(self.source, "is_secret", lambda _key: True)
        if not is_secret(key):
            raise ConfigError(f"{NAMESPACE}:{key} holds passwords: set it with "
                              f"`pulumi config set --secret {key} '{{\"user\": \"password\"}}'`")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) >= 8 for k, v in parsed.items()
        ):
            raise ConfigError(f"{NAMESPACE}:{key}: expected a JSON object of user name to password "
                              f"(8 characters or more), e.g. '{{\"alice\": \"...\"}}'")
        return parsed
