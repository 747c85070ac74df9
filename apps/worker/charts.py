"""Plotly figures as plain JSON dicts ({"data": [...], "layout": {...}}), without importing plotly.

The dashboard renders each with `dcc.Graph(figure=chart)` (docs/contracts.md, chart descriptions).
Values must already be plain Python numbers and strings. Every string a helper is given (titles,
names, labels: often column names or values from the uploaded data) is HTML-escaped, because plotly
draws its text as a subset of HTML: a column named `<a href=...>` would otherwise be a live link.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

Chart = dict[str, Any]


def plain(value: Any) -> Any:
    """A string with `& < >` as entities (plotly shows them as the characters); other values unchanged."""
    return html.escape(value, quote=False) if isinstance(value, str) else value


def _plain_all(values: Sequence[Any]) -> list[Any]:
    return [plain(v) for v in values]


def _layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": plain(title)},
        "xaxis": {"title": {"text": plain(x_title)}, "automargin": True},
        "yaxis": {"title": {"text": plain(y_title)}, "automargin": True},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        **extra,
    }


def explained(chart: Chart, explanation: str) -> Chart:
    """The chart with a one-line explanation for a non-specialist (the dashboard shows it under it,
    as text, so it is not escaped here)."""
    return {**chart, "explanation": explanation}


def scatter_groups(
    groups: dict[str, tuple[Sequence[float], Sequence[float]]], *, title: str, x_title: str, y_title: str
) -> Chart:
    """One marker trace per group (so the legend names the groups). SVG `scatter`, not `scattergl`:
    a browser without WebGL (a locked-down laptop, headless chromium) draws it too."""
    data = [
        {"type": "scatter", "mode": "markers", "name": plain(name), "x": _plain_all(x), "y": _plain_all(y),
         "marker": {"size": 6}}
        for name, (x, y) in groups.items()
    ]
    return {"data": data, "layout": _layout(title, x_title, y_title, legend={"title": {"text": "Segment"}})}


def bars(
    labels: Sequence[str], values: Sequence[float], *, title: str, x_title: str, y_title: str,
    horizontal: bool = False,
) -> Chart:
    """A bar per label with its value written on it; `horizontal` leaves room for long labels
    (the first label on top; `x_title` then names the values)."""
    text = [str(v) for v in values]
    if not horizontal:
        data = [{"type": "bar", "x": _plain_all(labels), "y": list(values), "text": text}]
        return {"data": data, "layout": _layout(title, x_title, y_title)}
    data = [{"type": "bar", "orientation": "h", "y": _plain_all(labels), "x": list(values), "text": text}]
    layout = _layout(title, x_title, y_title)
    layout["yaxis"]["autorange"] = "reversed"
    return {"data": data, "layout": layout}


def line_with_pick(
    x: Sequence[float], y: Sequence[float], pick: float, *, title: str, x_title: str, y_title: str
) -> Chart:
    """A line of y over x with the chosen x marked."""
    data = [
        {"type": "scatter", "mode": "lines+markers", "name": plain(y_title), "x": list(x), "y": list(y)},
        {
            "type": "scatter",
            "mode": "markers",
            "name": "chosen",
            "x": [pick],
            "y": [y[list(x).index(pick)]],
            "marker": {"size": 14, "symbol": "star"},
        },
    ]
    return {"data": data, "layout": _layout(title, x_title, y_title,
                                            xaxis={"title": {"text": plain(x_title)}, "dtick": 1})}


def heatmap(
    z: Sequence[Sequence[float]], x: Sequence[str], y: Sequence[str], *, title: str, colorbar: str
) -> Chart:
    """A diverging heatmap centred on zero (blue below, red above), its scale in words, and room for
    long row labels."""
    data = [
        {
            "type": "heatmap",
            "z": [list(row) for row in z],
            "x": _plain_all(x),
            "y": _plain_all(y),
            "colorscale": [[0, "#2166ac"], [0.5, "#f7f7f7"], [1, "#b2182b"]],  # below blue, above red
            "zmid": 0,
            "colorbar": {"title": {"text": plain(colorbar)}, "tickvals": [-2, -1, 0, 1, 2],
                         "ticktext": ["far below", "below", "average", "above", "far above"]},
            "hovertemplate": "%{y}<br>%{x}: %{z:.1f} standard deviations from average<extra></extra>",
        }
    ]
    layout = _layout(title, "", "")
    layout["yaxis"] = {"automargin": True, "autorange": "reversed"}
    layout["xaxis"] = {"automargin": True}
    return {"data": data, "layout": layout}
