"""Chart descriptions as plain plotly JSON (no plotly import): the dashboard draws them as is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

HIGHLIGHT = "#1f77b4"
MUTED = "#c7c7c7"


def class_probabilities(
    classes: Sequence[str], probabilities: Sequence[float], *, title: str, highlight: str | None = None
) -> dict[str, Any]:
    """A bar per class with its probability (0..1); the `highlight` class stands out."""
    return {
        "data": [
            {
                "type": "bar",
                "x": list(classes),
                "y": [round(float(p), 4) for p in probabilities],
                "marker": {"color": [HIGHLIGHT if c == highlight else MUTED for c in classes]},
                "hovertemplate": "%{x}: %{y:.0%}<extra></extra>",
            }
        ],
        "layout": {
            "title": {"text": title},
            "yaxis": {"title": {"text": "probability"}, "range": [0, 1], "tickformat": ".0%"},
            "xaxis": {"title": {"text": ""}},
            "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
        },
    }


def regression_value(
    value: float, low: float | None = None, high: float | None = None, *, title: str, unit: str = ""
) -> dict[str, Any]:
    """One predicted number as a point on a horizontal axis, with its interval (`low`..`high`) as an
    error bar when the model gives one: how sure the estimate is, at a glance."""
    value = float(value)
    point: dict[str, Any] = {
        "type": "scatter", "mode": "markers+text", "x": [value], "y": [""], "name": "estimate",
        "text": [f"{value:,.4g}{unit}"], "textposition": "top center",
        "marker": {"size": 14, "color": HIGHLIGHT},
        "hovertemplate": "%{x:,.4g}<extra>estimate</extra>",
    }
    if low is not None and high is not None:
        low, high = float(low), float(high)
        point["error_x"] = {"type": "data", "symmetric": False, "array": [high - value],
                            "arrayminus": [value - low], "thickness": 2, "width": 8, "color": HIGHLIGHT}
    return {
        "data": [point],
        "layout": {
            "title": {"text": title},
            "xaxis": {"title": {"text": unit.strip()}, "zeroline": False},
            "yaxis": {"visible": False},
            "showlegend": False,
            "margin": {"l": 30, "r": 30, "t": 50, "b": 40},
        },
    }


def contributions(names: Sequence[str], values: Sequence[float], *, title: str) -> dict[str, Any]:
    """What moved a number: one horizontal bar per input, right (green) for what raised it, left
    (red) for what lowered it; the first name on top."""
    numbers = [round(float(v), 6) for v in values]
    return {
        "data": [
            {
                "type": "bar", "orientation": "h", "y": list(names), "x": numbers,
                "marker": {"color": ["#2f9e44" if v >= 0 else "#e03131" for v in numbers]},
                "text": [f"{v:+,.4g}" for v in numbers], "textposition": "auto",
                "hovertemplate": "%{y}: %{x:+,.4g}<extra></extra>",
            }
        ],
        "layout": {
            "title": {"text": title},
            "xaxis": {"title": {"text": "effect"}, "zeroline": True},
            "yaxis": {"autorange": "reversed", "automargin": True},
            "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
        },
    }
