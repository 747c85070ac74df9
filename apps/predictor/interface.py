"""The types a model module uses to describe its inputs and to answer one prediction.

A field both describes itself for the dashboard's form (`describe()`) and checks one value
from a request (`parse()`, which returns the clean value or raises `ValueError(problem)`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
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


def on_step(value: float, low: float, step: float | None) -> bool:
    """Whether `value` is `low` plus a whole number of `step`s, as a browser's number input checks
    (its step base is `min`); a float's rounding error is forgiven. No step (None, 0) allows any."""
    if not step or step <= 0:
        return True
    steps = (value - low) / step
    return abs(steps - round(steps)) <= 1e-9 * max(1.0, abs(steps))


def check_step(value: float, low: float, step: float | None) -> None:
    """ValueError naming the step and its base when `value` is off the grid the browser allows."""
    if not on_step(value, low, step):
        raise ValueError(f"must be a multiple of {step:g} from {low:g} (got {value:g})")


@dataclass(frozen=True)
class Number:
    """A real number between `min` and `max` (inclusive)."""

    name: str
    label: str
    min: float
    max: float
    default: float
    step: float | None = 0.1  # None: any value in range; else the grid min, min + step, ... (as a browser)
    help: str = ""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": "number", "min": self.min, "max": self.max,
                "step": self.step, "default": self.default, "help": self.help}

    def parse(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number, not {json_type(value)}")
        number = _finite(value)
        _in_range(number, self.min, self.max)
        check_step(number, self.min, self.step)
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
        check_step(number, self.min, self.step)
        return int(value)


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of values (strings or numbers). A request sends the value with its own
    JSON type: 2 for a numeric choice, never "2" (the dashboard's form keeps the type)."""

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
            same_text = [c for c in self.choices if str(c) == str(value) and not isinstance(c, str)]
            if isinstance(value, str) and same_text:  # "2" for the numeric choice 2
                raise ValueError(f"must be one of: {listed} (send the number {same_text[0]}, not the text {value!r})")
            raise ValueError(f"must be one of: {listed}")
        return next(c for c in self.choices if c == value)


Field = Number | Integer | Choice


@dataclass(frozen=True)
class Example:
    """A named set of inputs the dashboard offers as a one-click way to fill the form."""

    label: str
    inputs: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        return {"label": self.label, "inputs": dict(self.inputs)}


OUTPUT_KINDS = ("label", "number", "probabilities", "table")
_KIND_ALIASES = {"class-probabilities": "probabilities"}


@dataclass(frozen=True, eq=False)  # equal to the dict it describes (Mapping's ==)
class Output(Mapping[str, Any]):
    """What a prediction is, for the dashboard to show beside the label (docs/contracts.md):

    - "label": the label only;
    - "number": `Answer.value` is a number (shown with `unit`, and with `details["interval"]`
      `{"low": .., "high": ..}` when the model gives one);
    - "probabilities": `details["probabilities"]` maps each class to its probability (0..1);
    - "table": `details["rows"]` is a short list of rows (dicts of plain values), shown as a table.

    It reads as the plain dict `describe` publishes, so `OUTPUT = Output(...)` and the older
    `OUTPUT = {"name", "label", "kind"}` both work."""

    name: str
    label: str
    kind: str = "label"
    unit: str = ""
    help: str = ""

    def __post_init__(self) -> None:
        kind = _KIND_ALIASES.get(self.kind, self.kind)
        if kind not in OUTPUT_KINDS:
            raise ValueError(f"Output {self.name!r}: kind must be one of {', '.join(OUTPUT_KINDS)} "
                             f"(got {self.kind!r})")
        object.__setattr__(self, "kind", kind)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "kind": self.kind, "unit": self.unit, "help": self.help}

    def __getitem__(self, key: str) -> Any:
        return self.describe()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.describe())

    def __len__(self) -> int:
        return len(self.describe())


def interval(low: float, high: float) -> dict[str, float]:
    """A number output's interval as `details["interval"]` holds it."""
    return {"low": float(low), "high": float(high)}


@dataclass(frozen=True)
class Answer:
    """One prediction: a label for people, the value itself, an optional chart (plotly JSON) and
    extra JSON-safe details returned alongside: by the OUTPUT's kind, `interval`
    (`interval(low, high)`), `probabilities` ({class: p}) or `rows` ([{column: value}, ...])."""

    label: str
    value: Any
    chart: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
