"""The batch algorithm's interface (docs/contracts.md), and loading the module that implements it.

An algorithm module has `MODEL_VERSION: str` and
`run(input_csv: bytes, params: dict, progress: Callable[[float, str], None]) -> Result`.
It raises `InvalidInput` for a problem with the stakeholder's data: the job then fails at once
with that message. Any other exception is retried up to JOB_MAX_ATTEMPTS times.

It may also describe itself for the dashboard (as the predictor's model does): `TITLE`,
`DESCRIPTION` (one sentence), `INPUT` (a `TableInput`: what the CSV must hold) and `PARAMS`
(a list of `Integer` / `Number` / `Choice` / `ColumnChoice` fields) and `SAMPLES` (paths, relative
to the module's folder, of small CSV files the batch page offers to run on). The worker publishes
`describe(...)` to the job store when it starts; the dashboard builds the batch form and its
pre-submit check from it.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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
    step: int = 1

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": "integer", "min": self.min, "max": self.max,
                "step": self.step, "default": self.default, "help": self.help}

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
        _check_step(self.label, number, self.min, self.step)
        return number


@dataclass(frozen=True)
class Number:
    """A real-number parameter between `min` and `max` (inclusive)."""

    name: str
    label: str
    min: float
    max: float
    default: float
    step: float | None = 0.1  # None: any value in range; else min, min + step, ... (as a browser)
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
        _check_step(self.label, number, self.min, self.step)
        return number


def _check_step(label: str, number: float, low: float, step: float | None) -> None:
    """InvalidInput naming the step and its base (`min`, as a browser's number input counts) when
    `number` is off the grid; a float's rounding error is forgiven."""
    if not step or step <= 0:
        return
    steps = (number - low) / step
    if abs(steps - round(steps)) > 1e-9 * max(1.0, abs(steps)):
        raise InvalidInput(f"'{label}' must be a multiple of {step:g} from {low:g} (got {number:g}).")


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of values (strings or numbers); "2" from a form picks the numeric choice 2."""

    name: str
    label: str
    choices: tuple[str | int | float, ...]
    default: str | int | float
    help: str = ""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": "choice", "choices": list(self.choices),
                "default": self.default, "help": self.help}

    def parse(self, value: Any) -> str | int | float:
        if not isinstance(value, bool):
            for option in self.choices:
                same_kind = isinstance(option, str) == isinstance(value, str)  # 4.0 is 4, "4" is not 4 here
                if same_kind and option == value:
                    return option
            for option in self.choices:  # a form's text: "4" for the numeric choice 4
                if isinstance(value, str) and str(option) == value.strip():
                    return option
        listed = ", ".join(str(option) for option in self.choices)
        raise InvalidInput(f"'{self.label}' must be one of: {listed} (got {value!r}).")


@dataclass(frozen=True)
class ColumnChoice:
    """One of the uploaded file's columns, by its header name (the dashboard offers the file's
    header as a dropdown). `type` "number" asks for a numeric column; the check against the
    file is `parse_params(..., columns=table.header)` once the table is read."""

    name: str
    label: str
    type: str = "any"
    help: str = ""
    required: bool = True

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": "column", "column_type": self.type,
                "required": self.required, "default": None, "help": self.help}

    def parse(self, value: Any, columns: Sequence[str] | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"'{self.label}' must name one of the file's columns, got {value!r}.")
        name = value.strip()
        if columns is not None and name not in columns:
            listed = ", ".join(f"'{c}'" for c in columns[:20])
            raise InvalidInput(f"'{self.label}' must be one of the file's columns ({listed}), got '{name}'.")
        return name


Param = Integer | Number | Choice | ColumnChoice


def parse_params(specs: Sequence[Param], params: dict[str, Any],
                 columns: Sequence[str] | None = None) -> dict[str, Any]:
    """Every declared parameter's clean value (its default when absent); InvalidInput for unknown
    names or bad values. With `columns` (the table's header), a `ColumnChoice` must name one of
    them; a required one must be given."""
    known = {spec.name for spec in specs}
    unknown = sorted(set(params) - known)
    if unknown:
        raise InvalidInput(f"Unknown parameter(s) {', '.join(map(repr, unknown))}; this job takes "
                           f"{', '.join(sorted(known)) or 'none'}.")
    clean: dict[str, Any] = {}
    for spec in specs:
        given = params.get(spec.name)
        if isinstance(spec, ColumnChoice):
            if given in (None, ""):
                if spec.required:
                    raise InvalidInput(f"'{spec.label}' must name one of the file's columns; none was chosen.")
                clean[spec.name] = None
            else:
                clean[spec.name] = spec.parse(given, columns)
            continue
        clean[spec.name] = spec.parse(given) if given not in (None, "") else spec.default
    return clean


SAMPLE_MAX_BYTES = 64 * 1024
SAMPLES_MAX_BYTES = 256 * 1024  # all of them: the description is one DynamoDB item (400 KB at most)


def read_samples(module: ModuleType) -> list[dict[str, str]]:
    """The module's `SAMPLES` (paths relative to its folder) as [{"name", "csv"}], for the
    description; ValueError naming the file when one is missing, not UTF-8 or too large."""
    declared = getattr(module, "SAMPLES", None) or []
    if isinstance(declared, str) or not isinstance(declared, Sequence):
        raise ValueError("SAMPLES must be a list of CSV paths relative to the algorithm's folder.")
    folder = Path(getattr(module, "__file__", "") or ".").resolve().parent
    samples, total = [], 0
    for relative in declared:
        path = (folder / str(relative)).resolve()
        if not path.is_file():
            raise ValueError(f"Sample {relative!r} is not a file next to the algorithm ({path}).")
        data = path.read_bytes()
        if len(data) > SAMPLE_MAX_BYTES:
            raise ValueError(f"Sample {relative!r} is {len(data):,} bytes; a sample may be at most "
                             f"{SAMPLE_MAX_BYTES:,} bytes (keep a few hundred rows).")
        total += len(data)
        if total > SAMPLES_MAX_BYTES:
            raise ValueError(f"The samples add up to more than {SAMPLES_MAX_BYTES:,} bytes; ship fewer or "
                             "smaller ones.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError(f"Sample {relative!r} is not UTF-8 text.") from None
        samples.append({"name": path.name, "csv": text})
    return samples


def describe(module: ModuleType, model_version: str) -> dict[str, Any]:
    """The description the dashboard shows (docs/contracts.md): plain JSON from the module's names."""
    table = getattr(module, "INPUT", None)
    return {
        "model_version": model_version,
        "title": str(getattr(module, "TITLE", "") or "Batch job"),
        "description": str(getattr(module, "DESCRIPTION", "") or ""),
        "input": table.describe() if isinstance(table, TableInput) else TableInput().describe(),
        "params": [spec.describe() for spec in getattr(module, "PARAMS", ())],
        "samples": read_samples(module),
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
