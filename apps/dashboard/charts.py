"""Turn chart descriptions (plain plotly JSON from the predictor and worker) into graphs, and
build the dashboard's own feedback chart."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dash import dcc, html

# No toolbar: plotly draws it over the chart's title. Dragging still zooms, a double click resets.
GRAPH_CONFIG = {"displayModeBar": False, "displaylogo": False, "responsive": True}
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13, "color": "#1f2933"}
UP_COLOUR, DOWN_COLOUR = "#2f9e44", "#e03131"


def is_chart(chart: Any) -> bool:
    return isinstance(chart, dict) and isinstance(chart.get("data"), list)


def graph(chart: Any, graph_id: str | dict[str, Any] | None = None, height: int = 360) -> Any:
    """A dcc.Graph for one chart description, or a short note when it is not one."""
    if not is_chart(chart):
        return html.P("This chart could not be shown (its description is not a plotly figure).", className="muted")
    layout = {"template": "plotly_white", "font": FONT, "height": height,
              "margin": {"l": 50, "r": 20, "t": 50, "b": 45}, **(chart.get("layout") or {})}
    kwargs = {"id": graph_id} if graph_id is not None else {}
    # A responsive graph takes its container's height: give it one, whatever wraps it.
    return dcc.Graph(figure={"data": chart["data"], "layout": layout}, config=GRAPH_CONFIG,
                     className="chart", style={"height": f"{layout['height']}px"}, **kwargs)


@dataclass(frozen=True)
class VersionFeedback:
    model_version: str
    up: int
    down: int

    @property
    def total(self) -> int:
        return self.up + self.down

    @property
    def positive_share(self) -> float:
        return self.up / self.total if self.total else 0.0


def summarise_feedback(rows: Iterable[dict[str, Any]]) -> list[VersionFeedback]:
    """The store's per-version counts (newest version first) as VersionFeedback, empty ones left out."""
    return [VersionFeedback(row.get("model_version") or "(unknown version)", int(row.get("up", 0)),
                            int(row.get("down", 0))) for row in rows if row.get("up") or row.get("down")]


def feedback_chart(summary: list[VersionFeedback]) -> dict[str, Any]:
    """Stacked horizontal bars: thumbs up and down for each model version."""
    versions = [s.model_version for s in reversed(summary)]
    return {
        "data": [
            {"type": "bar", "orientation": "h", "name": "Thumbs up", "y": versions,
             "x": [s.up for s in reversed(summary)], "marker": {"color": UP_COLOUR}},
            {"type": "bar", "orientation": "h", "name": "Thumbs down", "y": versions,
             "x": [s.down for s in reversed(summary)], "marker": {"color": DOWN_COLOUR}},
        ],
        # The legend sits right of the plot, top-aligned: clear of the title above and the axis title below.
        "layout": {"title": {"text": "Feedback per model version"}, "barmode": "stack",
                   "xaxis": {"title": {"text": "votes"}, "dtick": 1 if max(
                       [s.total for s in summary] or [0]) <= 10 else None, "automargin": True},
                   "yaxis": {"automargin": True},
                   "legend": {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"}},
    }
