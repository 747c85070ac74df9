"""The types a model module uses to describe its inputs and to answer one prediction.

A field both describes itself for the dashboard's form (`describe()`) and checks one value
from a request (`parse()`, which returns the clean value or raises `ValueError(problem)`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages a stakeholder can read."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _finite(value: int | float) -> float:
    """A JSON number as a finite float, or ValueError saying why it cannot be one."""
    try:
        number = float(value)
    except OverflowError:  # an integer with hundreds of digits
        raise ValueError("must be a number of ordinary size (this one is far too large)") from None
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def _in_range(value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"must be between {low:g} and {high:g} (got {value:g})")


@dataclass(frozen=True)
class Number:
    """A real number between `min` and `max` (inclusive)."""

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
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number, not {json_type(value)}")
        number = _finite(value)
        _in_range(number, self.min, self.max)
        return number


@dataclass(frozen=True)
class Integer:
    """A whole number between `min` and `max` (inclusive); 3.0 is accepted as 3."""

    name: str
    label: str
    min: int
    max: int
    default: int
    step: int = 1
    help: str = ""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": "integer", "min": self.min, "max": self.max,
                "step": self.step, "default": self.default, "help": self.help}

    def parse(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a whole number, not {json_type(value)}")
        number = _finite(value)
        if not number.is_integer():
            raise ValueError(f"must be a whole number (got {number:g})")
        _in_range(number, self.min, self.max)
        return int(value)


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of values (strings or numbers)."""

    name: str
    label: str
    choices: tuple[str | int | float, ...]
    default: str | int | float
    help: str = ""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": "choice", "choices": list(self.choices),
                "default": self.default, "help": self.help}

    def parse(self, value: Any) -> str | int | float:
        if isinstance(value, bool) or value not in self.choices:
            listed = ", ".join(str(choice) for choice in self.choices)
            raise ValueError(f"must be one of: {listed}")
        return value


Field = Number | Integer | Choice


@dataclass(frozen=True)
class Example:
    """A named set of inputs the dashboard offers as a one-click way to fill the form."""

    label: str
    inputs: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        return {"label": self.label, "inputs": dict(self.inputs)}


@dataclass(frozen=True)
class Answer:
    """One prediction: a label for people, the value itself, an optional chart (plotly JSON) and
    extra JSON-safe details (class probabilities...) returned alongside."""

    label: str
    value: Any
    chart: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
