"""A stack's settings before `pulumi up`: Pulumi.yaml's defaults, then Pulumi.<stack>.yaml, then overrides.

The same merge the Pulumi CLI does, read through components.settings so pre-flight judges exactly
the values the program will be given. Secret values stay encrypted: pre-flight needs none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from components.settings import NAMESPACE, Settings

REPO_ROOT = Path(__file__).resolve().parent.parent


def raw_config(stack: str, overrides: Mapping[str, Any] | None = None, root: Path = REPO_ROOT) -> dict[str, Any]:
    """Every config value of the stack by full key (`ml-proto:workerCpu`, `aws:region`)."""
    project = yaml.safe_load((root / "Pulumi.yaml").read_text()) or {}
    values = {f"{NAMESPACE}:{key}": spec.get("default") for key, spec in (project.get("config") or {}).items()
              if isinstance(spec, dict) and "default" in spec}
    stack_file = root / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        values.update((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {})
    values.update(overrides or {})
    return values


class _StackSource(Mapping[str, Any]):
    """A stack's `ml-proto:*` values as components.settings reads them (short keys)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = {key.split(":", 1)[1]: value for key, value in values.items()
                        if key.startswith(f"{NAMESPACE}:")}

    def __getitem__(self, key: str) -> Any:
        value = self._values[key]
        if isinstance(value, dict) and "secure" in value:  # encrypted: only the program may decrypt it
            return ""
        return value

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def is_secret(self, key: str) -> bool:
        return True


def stack_settings(stack: str, overrides: Mapping[str, Any] | None = None, root: Path = REPO_ROOT) -> Settings:
    """The validated settings `pulumi up` would run the stack with (raises ConfigError naming the key)."""
    return Settings.from_values(_StackSource(raw_config(stack, overrides, root)))


def stack_region(stack: str, overrides: Mapping[str, Any] | None = None, root: Path = REPO_ROOT) -> str | None:
    """The stack's `aws:region`, or None when unset (then the AWS environment or profile decides)."""
    region = raw_config(stack, overrides, root).get("aws:region")
    return str(region) if region else None
