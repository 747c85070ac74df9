"""Typed stack settings: every `ml-proto:*` config key, read once and checked before any resource.

Pulumi.yaml declares each key with its type, default and description; the Pulumi CLI merges those
defaults into the stack's config, so this package requires every key and never invents a default.
A bad value raises `ConfigError` whose message starts with the key's full name.
"""

from components.fargate_sizes import fargate_memory_choices
from components.settings.groups import (
    DashboardSettings,
    NetworkSettings,
    PredictorSettings,
    StoreSettings,
    WorkerSettings,
)
from components.settings.limits import (
    APPS,
    CAPACITY_PROVIDERS,
    LAMBDA_MEMORY_MB,
    LAMBDA_TIMEOUT_SECONDS,
    LOG_LEVELS,
    LOG_RETENTION_DAYS,
    NAMESPACE,
    PLATFORMS,
    SLEEPER_PERIOD_MINUTES,
    USER_NAME,
)
from components.settings.office_hours import OFFICE_HOURS, WEEKDAYS, OfficeHours
from components.settings.reader import ConfigError, ConfigSource
from components.settings.stack import Settings

__all__ = [
    "APPS", "CAPACITY_PROVIDERS", "LAMBDA_MEMORY_MB", "LAMBDA_TIMEOUT_SECONDS", "LOG_LEVELS", "LOG_RETENTION_DAYS",
    "NAMESPACE", "OFFICE_HOURS", "PLATFORMS", "SLEEPER_PERIOD_MINUTES", "USER_NAME", "WEEKDAYS",
    "ConfigError", "ConfigSource", "DashboardSettings", "NetworkSettings", "OfficeHours", "PredictorSettings",
    "Settings", "StoreSettings", "WorkerSettings", "fargate_memory_choices",
]
