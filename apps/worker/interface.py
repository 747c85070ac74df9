"""The batch algorithm's interface (docs/contracts.md), and loading the module that implements it.

An algorithm module has `MODEL_VERSION: str` and
`run(input_csv: bytes, params: dict, progress: Callable[[float, str], None]) -> Result`.
It raises `InvalidInput` for a problem with the stakeholder's data: the job then fails at once
with that message. Any other exception is retried up to JOB_MAX_ATTEMPTS times.

It may also describe itself for the dashboard (as the predictor's model does): `TITLE`,
`DESCRIPTION` (one sentence), `INPUT` (a `TableInput`: what the CSV must hold) and `PARAMS`
(a list of `Integer` / `Number` fields). The worker publishes `describe(...)` to the job store
when it starts; the dashboard builds the batch form and its pre-submit check from it.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
class Column:
    """A column the input CSV must (`required`) or may hold, by name; `type` is "number" or "text"."""

    name: str
    type: str = "number"
    required: bool = True
    help: str = ""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "required": self.required, "help": self.help}


@dataclass(frozen=True)
class TableInput:
    """What an input CSV must hold: row limits, how many numeric columns, and any named columns."""

    min_rows: int = 1
    max_rows: int = 100_000
    max_columns: int = 100
    min_numeric_columns: int = 1
    columns: tuple[Column, ...] = ()
    help: str = ""

    def describe(self) -> dict[str, Any]:
        return {"format": "csv", "min_rows": self.min_rows, "max_rows": self.max_rows,
                "max_columns": self.max_columns, "min_numeric_columns": self.min_numeric_columns,
                "columns": [column.describe() for column in self.columns], "help": self.help}


@dataclass(frozen=True)
class Integer:
    """A whole-number parameter between `min` and `max` (inclusive)."""

    name: str
    label: str
    min: int
    max: int
    default: int
    help: str = ""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": "integer", "min": self.min, "max": self.max,
                "step": 1, "default": self.default, "help": self.help}

    def parse(self, value: Any) -> int:
        """The value as an int in range, or InvalidInput naming the parameter by its label."""
        number: int | None = None
        whole_text = isinstance(value, str) and value.strip().lstrip("-").isdigit()
        if whole_text or (isinstance(value, float) and value.is_integer()):
            number = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        if number is None:
            raise InvalidInput(f"'{self.label}' must be a whole number, got {value!r}.")
        if not self.min <= number <= self.max:
            raise InvalidInput(f"'{self.label}' must be between {self.min} and {self.max}, got {number}.")
        return number


@dataclass(frozen=True)
class Number:
    """A real-number parameter between `min` and `max` (inclusive)."""

    name: str
    label: str
    min: float
    max: float
    default: float
    step: float = 0.1
    help: str = ""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": "number", "min": self.min, "max": self.max,
                "step": self.step, "default": self.default, "help": self.help}

    def parse(self, value: Any) -> float:
        try:
            number = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            raise InvalidInput(f"'{self.label}' must be a number, got {value!r}.")
        if not self.min <= number <= self.max:
            raise InvalidInput(f"'{self.label}' must be between {self.min:g} and {self.max:g}, got {number:g}.")
        return number


Param = Integer | Number


def parse_params(specs: Sequence[Param], params: dict[str, Any]) -> dict[str, Any]:
    """Every declared parameter's clean value (its default when absent); InvalidInput for unknown
    names or bad values."""
    known = {spec.name for spec in specs}
    unknown = sorted(set(params) - known)
    if unknown:
        raise InvalidInput(f"Unknown parameter(s) {', '.join(map(repr, unknown))}; this job takes "
                           f"{', '.join(sorted(known)) or 'none'}.")
    return {spec.name: spec.parse(params[spec.name]) if params.get(spec.name) not in (None, "") else spec.default
            for spec in specs}


def describe(module: ModuleType, model_version: str) -> dict[str, Any]:
    """The description the dashboard shows (docs/contracts.md): plain JSON from the module's names."""
    table = getattr(module, "INPUT", None)
    return {
        "model_version": model_version,
        "title": str(getattr(module, "TITLE", "") or "Batch job"),
        "description": str(getattr(module, "DESCRIPTION", "") or ""),
        "input": table.describe() if isinstance(table, TableInput) else TableInput().describe(),
        "params": [spec.describe() for spec in getattr(module, "PARAMS", ())],
    }


@dataclass(frozen=True)
class Algorithm:
    """A loaded algorithm module: its `run`, its version, the error types that mean bad input, and
    its description for the dashboard."""

    name: str
    run: Callable[[bytes, dict[str, Any], Progress], Result]
    model_version: str
    invalid_input: tuple[type[BaseException], ...]
    description: dict[str, Any] = field(default_factory=dict)


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
    return Algorithm(module_path, run, version, invalid, describe(module, version))
