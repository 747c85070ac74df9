"""The published batch description as the dashboard may render it: every field checked against
docs/contracts.md and turned into plain text, finite numbers, booleans or lists of them; a field
that is none of these is dropped with one log line, so a page never shows, or fails on, what a
worker published."""

from __future__ import annotations

import logging
import math
from decimal import Decimal
from typing import Any

log = logging.getLogger("dashboard.descriptions")

PARAM_TYPES = ("integer", "number", "choice", "column")
COLUMN_TYPES = ("any", "number")
TEXT_LIMIT = 2000  # a title, sentence or help text longer than this is cut


def text(value: Any) -> str | None:
    """A plain string (a number as its digits), cut at TEXT_LIMIT; None for anything else (a dict,
    a list: a Dash component published as JSON is one)."""
    if isinstance(value, str):
        return value[:TEXT_LIMIT]
    if number(value) is not None:
        return str(number(value))
    return None


def number(value: Any) -> int | float | None:
    """A finite int or float (DynamoDB's Decimals included); None for text, booleans and the rest."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    return value if math.isfinite(value) else None


def count(value: Any) -> int | None:
    """A whole number at or above zero, or None."""
    found = number(value)
    return int(found) if found is not None and float(found).is_integer() and found >= 0 else None


class _Cleaner:
    """Collects what was dropped, for one log line per description."""

    def __init__(self) -> None:
        self.dropped: list[str] = []

    def keep(self, where: str, value: Any, convert: Any) -> Any:
        if value is None:
            return None
        clean = convert(value)
        if clean is None:
            self.dropped.append(where)
        return clean

    def column(self, where: str, raw: Any) -> dict[str, Any] | None:
        if not isinstance(raw, dict) or text(raw.get("name")) in (None, ""):
            self.dropped.append(where)
            return None
        kind = raw.get("type") if raw.get("type") in ("number", "text", "any") else "any"
        return {"name": text(raw["name"]), "type": kind, "required": raw.get("required") is True,
                "help": self.keep(f"{where}.help", raw.get("help"), text) or ""}

    def rules(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            if raw is not None:
                self.dropped.append("input")
            return {}
        rules: dict[str, Any] = {"format": "csv"}
        for key in ("min_rows", "max_rows", "max_columns", "min_numeric_columns"):
            found = self.keep(f"input.{key}", raw.get(key), count)
            if found is not None:
                rules[key] = found
        rules["help"] = self.keep("input.help", raw.get("help"), text) or ""
        columns = raw.get("columns") if isinstance(raw.get("columns"), list) else []
        rules["columns"] = [c for n, column in enumerate(columns)
                            if (c := self.column(f"input.columns[{n}]", column)) is not None]
        return rules

    def param(self, where: str, raw: Any) -> dict[str, Any] | None:
        name = text(raw.get("name")) if isinstance(raw, dict) else None
        if not name or raw.get("type") not in PARAM_TYPES:
            self.dropped.append(where)
            return None
        spec: dict[str, Any] = {"name": name, "type": raw["type"],
                                "label": self.keep(f"{where}.label", raw.get("label"), text) or name,
                                "help": self.keep(f"{where}.help", raw.get("help"), text) or ""}
        if raw["type"] in ("integer", "number"):
            for key in ("min", "max", "step", "default"):
                spec[key] = self.keep(f"{where}.{key}", raw.get(key), number)
        elif raw["type"] == "choice":
            choices = raw.get("choices") if isinstance(raw.get("choices"), list) else []
            spec["choices"] = [c if isinstance(c, str) else number(c) for c in choices
                               if isinstance(c, str) or number(c) is not None]
            default = raw.get("default")
            spec["default"] = default if default in spec["choices"] else None
        else:
            spec["column_type"] = raw.get("column_type") if raw.get("column_type") in COLUMN_TYPES else "any"
            spec["required"] = raw.get("required") is not False
            spec["default"] = None
        return spec

    def sample(self, where: str, raw: Any) -> dict[str, str] | None:
        if isinstance(raw, dict) and isinstance(raw.get("name"), str) and isinstance(raw.get("csv"), str):
            return {"name": raw["name"][:200], "csv": raw["csv"]}
        self.dropped.append(where)
        return None


def clean_description(raw: Any) -> dict[str, Any] | None:
    """The description with only well-formed fields, each plain data (None when it is not a dict)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        log.warning("batch description ignored", extra={"reason": f"not an object: {type(raw).__name__}"})
        return None
    cleaner = _Cleaner()
    params = raw.get("params") if isinstance(raw.get("params"), list) else []
    samples = raw.get("samples") if isinstance(raw.get("samples"), list) else []
    description = {
        "model_version": cleaner.keep("model_version", raw.get("model_version"), text) or "",
        "title": cleaner.keep("title", raw.get("title"), text) or "",
        "description": cleaner.keep("description", raw.get("description"), text) or "",
        "published_at": cleaner.keep("published_at", raw.get("published_at"), text) or "",
        "input": cleaner.rules(raw.get("input")),
        "params": [p for n, param in enumerate(params) if (p := cleaner.param(f"params[{n}]", param)) is not None],
        "samples": [s for n, sample in enumerate(samples)
                    if (s := cleaner.sample(f"samples[{n}]", sample)) is not None],
    }
    if cleaner.dropped:
        log.warning("batch description fields dropped", extra={"fields": cleaner.dropped[:20]})
    return description
