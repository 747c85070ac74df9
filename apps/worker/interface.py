"""The batch algorithm's interface (docs/contracts.md), and loading the module that implements it.

An algorithm module has `MODEL_VERSION: str` and
`run(input_csv: bytes, params: dict, progress: Callable[[float, str], None]) -> Result`.
It raises `InvalidInput` for a problem with the stakeholder's data: the job then fails at once
with that message. Any other exception is retried up to JOB_MAX_ATTEMPTS times.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

Progress = Callable[[float, str], None]


class InvalidInput(Exception):
    """The stakeholder's data or parameters cannot be used; the message tells them why."""


@dataclass(frozen=True)
class Result:
    """What a job produces: the result CSV and its summary (model_version, rows, metrics, charts)."""

    csv: bytes
    summary: dict[str, Any]


@dataclass(frozen=True)
class Algorithm:
    """A loaded algorithm module: its `run`, its version, and the error types that mean bad input."""

    name: str
    run: Callable[[bytes, dict[str, Any], Progress], Result]
    model_version: str
    invalid_input: tuple[type[BaseException], ...]


def load_algorithm(module_path: str) -> Algorithm:
    """Import `module_path` and check it has the interface; ImportError/TypeError say what is wrong."""
    module: ModuleType = importlib.import_module(module_path)
    run = getattr(module, "run", None)
    version = getattr(module, "MODEL_VERSION", None)
    if not callable(run):
        raise TypeError(f"Algorithm module {module_path!r} has no run(input_csv, params, progress) function")
    if not isinstance(version, str) or not version:
        raise TypeError(f"Algorithm module {module_path!r} has no MODEL_VERSION string")
    invalid: tuple[type[BaseException], ...] = (InvalidInput,)
    own = getattr(module, "InvalidInput", None)
    if isinstance(own, type) and issubclass(own, Exception) and own is not InvalidInput:
        invalid = (InvalidInput, own)
    return Algorithm(module_path, run, version, invalid)
