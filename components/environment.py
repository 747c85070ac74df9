"""App environments, written only by each app's own settings class (`to_env()`), once Outputs are known.

The program builds the very settings objects the apps read (jobkit's StoreSettings, the worker's,
the predictor's and the dashboard's); some fields hold Outputs (a table name, a cluster name) until
the resources exist. `app_env` resolves them and lets each settings object write its variables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
from jobkit.settings import merge_env

# Lambda sets AWS_REGION itself and refuses functions that try to (a reserved key).
LAMBDA_RESERVED = frozenset({"AWS_REGION"})


def resolved(value: Any) -> pulumi.Output[Any]:
    """`value` with every Output inside it (dataclass fields, tuples, lists) replaced by its value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: resolved(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return pulumi.Output.all(**fields).apply(lambda known: dataclasses.replace(value, **known))
    if isinstance(value, (tuple, list)):
        return pulumi.Output.all(*(resolved(item) for item in value)).apply(type(value))
    return pulumi.Output.from_input(value)


def app_env(*settings: Any, leave_out: Iterable[str] = ()) -> pulumi.Output[dict[str, str]]:
    """One app's environment: every settings object's `to_env()`, merged, less the names in `leave_out`."""
    dropped = frozenset(leave_out)
    parts = [resolved(item).apply(lambda known: dict(known.to_env())) for item in settings]
    return pulumi.Output.all(*parts).apply(
        lambda envs: {name: value for name, value in merge_env(*envs).items() if name not in dropped})


def container_environment(env: Mapping[str, str]) -> list[dict[str, str]]:
    """ECS container-definition form: a sorted list of {name, value}."""
    return [{"name": name, "value": env[name]} for name in sorted(env)]
