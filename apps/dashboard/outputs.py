"""The typed part of a prediction, shown beside its label, by the model's declared OUTPUT kind.

The predictor's `describe` says what a prediction is (`output.kind`, docs/contracts.md):
"number" shows `value` (with `output.unit`, and `prediction.interval` {"low", "high"} when given),
"probabilities" shows `prediction.probabilities` {class: p} as percentages, "table" shows
`prediction.rows` (a few dicts) as a small table, "label" (or anything unknown) shows nothing more.
Whatever the answer holds, this returns components or None, never raises.
"""

from __future__ import annotations

import math
from typing import Any

from dash import html

MAX_ROWS, MAX_COLUMNS = 50, 12


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def number_text(value: float, unit: str = "") -> str:
    """A number for people: thousands separated, at most four significant decimals."""
    text = f"{value:,.0f}" if abs(value) >= 1000 or float(value).is_integer() else f"{value:,.4g}"
    return f"{text} {unit}".strip() if unit else text


def interval_of(prediction: dict[str, Any]) -> tuple[float, float] | None:
    """(low, high) from `interval` as {"low", "high"} or [low, high]; None when absent or unusable."""
    raw = prediction.get("interval")
    if isinstance(raw, dict):
        raw = [raw.get("low"), raw.get("high")]
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        return None
    low, high = _number(raw[0]), _number(raw[1])
    return (low, high) if low is not None and high is not None and low <= high else None


def _number_output(prediction: dict[str, Any], output: dict[str, Any]) -> Any:
    value = _number(prediction.get("value"))
    if value is None:
        return None
    unit = str(output.get("unit") or "")
    parts = [html.Span(output.get("label") or "Value", className="muted"),
             html.Div(number_text(value, unit), className="output-number", id="output-number")]
    bounds = interval_of(prediction)
    if bounds:
        parts.append(html.Div(f"between {number_text(bounds[0], unit)} and {number_text(bounds[1], unit)}",
                              className="output-interval", id="output-interval"))
    return html.Div(parts, className="output output-kind-number")


def _probabilities_output(prediction: dict[str, Any], output: dict[str, Any]) -> Any:
    raw = prediction.get("probabilities")
    if not isinstance(raw, dict):
        return None
    pairs = [(str(k), p) for k, v in raw.items() if (p := _number(v)) is not None]
    if not pairs:
        return None
    pairs.sort(key=lambda pair: -pair[1])
    return html.Div([
        html.Span(output.get("label") or "Probabilities", className="muted"),
        html.Ul([html.Li([html.Span(name, className="output-class"), html.Span(f"{p:.0%}", className="output-p")])
                 for name, p in pairs], className="output-probabilities", id="output-probabilities"),
    ], className="output output-kind-probabilities")


def _cell(value: Any) -> str:
    number = _number(value)
    if number is not None:
        return number_text(number)
    return "" if value is None else str(value)[:200]


def _table_output(prediction: dict[str, Any], output: dict[str, Any]) -> Any:
    rows = [row for row in prediction.get("rows") or [] if isinstance(row, dict)][:MAX_ROWS] \
        if isinstance(prediction.get("rows"), list) else []
    if not rows:
        return None
    columns: list[str] = []
    for row in rows:
        columns += [str(k) for k in row if str(k) not in columns]
    columns = columns[:MAX_COLUMNS]
    return html.Div([
        html.Span(output.get("label") or "Rows", className="muted"),
        html.Table([html.Thead(html.Tr([html.Th(c) for c in columns])),
                    html.Tbody([html.Tr([html.Td(_cell(row.get(c))) for c in columns]) for row in rows])],
                   className="output-table", id="output-table"),
    ], className="output output-kind-table")


RENDERERS = {"number": _number_output, "probabilities": _probabilities_output,
             "class-probabilities": _probabilities_output, "table": _table_output}


def typed_output(prediction: dict[str, Any], output: Any) -> Any:
    """The components that show the prediction as its OUTPUT kind says, or None."""
    if not isinstance(prediction, dict) or not isinstance(output, dict):
        return None
    render = RENDERERS.get(str(output.get("kind") or ""))
    return render(prediction, output) if render else None
