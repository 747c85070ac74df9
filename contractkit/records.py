"""Records a model must answer: the defaults, each field's boundaries and choices, and random
valid ones. Values come from each field by its class name (`VALUES`); a new field kind is one
more entry (a kind not listed contributes its default only)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from contractkit.report import by_class_name

RANDOM_RECORDS = 12
SEED = 20


def _grid(low: float, high: float, step: float, whole: bool) -> Callable[[random.Random], Any]:
    steps = max(int(math.floor((high - low) / step + 1e-9)), 0)
    decimals = max(0, -int(math.floor(math.log10(step)))) + 2 if step < 1 else 0

    def pick(rng: random.Random) -> Any:
        value = low + rng.randint(0, steps) * step
        return int(round(value)) if whole else round(value, decimals)

    return pick


def _numeric(field: Any, whole: bool) -> tuple[list[Any], Callable[[random.Random], Any]]:
    step = getattr(field, "step", 1) or 1
    return [field.min, field.max], _grid(field.min, field.max, step, whole)


def _choices(field: Any) -> tuple[list[Any], Callable[[random.Random], Any]]:
    choices = list(field.choices)
    return choices, lambda rng: rng.choice(choices)


VALUES: dict[str, Callable[[Any], tuple[list[Any], Callable[[random.Random], Any]]]] = {
    "Number": lambda f: _numeric(f, whole=False),
    "Integer": lambda f: _numeric(f, whole=True),
    "Choice": _choices,
}


def _values(field: Any) -> tuple[list[Any], Callable[[random.Random], Any]]:
    make = by_class_name(field, VALUES)
    if make is None:
        return [field.default], lambda _rng: field.default
    return make(field)


def defaults(fields: Sequence[Any]) -> dict[str, Any]:
    """Each field's default; where its own field refuses it (already a FAIL of the declarations), a
    value the field accepts (its first value), so predict() is still tried on valid records."""
    record = {}
    for field in fields:
        try:
            field.parse(field.default)
            record[field.name] = field.default
        except Exception:  # noqa: BLE001 - any refusal: the declarations check has named it
            record[field.name] = _values(field)[0][0]
    return record


def generated(fields: Sequence[Any], count: int = RANDOM_RECORDS, seed: int = SEED) -> list[tuple[str, dict[str, Any]]]:
    """(what, record) pairs: every field at each boundary or choice (others at their default), all
    fields at their lowest and highest, and `count` random valid records."""
    base = defaults(fields)
    values = {field.name: _values(field) for field in fields}
    cases: list[tuple[str, dict[str, Any]]] = []
    for name, (special, _pick) in values.items():
        cases.extend((f"{name}={value!r}", {**base, name: value}) for value in special)
    cases.append(("every field at its first value", {n: v[0][0] for n, v in values.items()}))
    cases.append(("every field at its last value", {n: v[0][-1] for n, v in values.items()}))
    rng = random.Random(seed)
    cases.extend((f"random record {n + 1}", {name: pick(rng) for name, (_s, pick) in values.items()})
                 for n in range(count))
    unique: dict[str, tuple[str, dict[str, Any]]] = {}
    for what, record in cases:
        unique.setdefault(repr(sorted(record.items(), key=lambda kv: kv[0])), (what, record))
    return list(unique.values())
