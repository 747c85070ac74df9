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
