"""Turn chart descriptions (plain plotly JSON from the predictor and worker) into graphs, and
build the dashboard's own feedback chart."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dash import dcc, html

# No toolbar: plotly draws it over the chart's title. Dragging still zooms, a double click resets.
GRAPH_CONFIG = {"displayModeBar": False, "displaylogo": False, "responsive": True}
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13, "color": "#1f2933"}
UP_COLOUR, DOWN_COLOUR = "#2f9e44", "#e03131"


# WebGL traces and the SVG trace that draws the same thing: a browser without WebGL (a locked-down
# laptop, headless chromium, a remote desktop) shows plotly's "WebGL is not supported" instead.
SVG_TWIN = {"scattergl": "scatter", "scatterpolargl": "scatterpolar", "heatmapgl": "heatmap"}
WEBGL_ONLY = frozenset({"scatter3d", "surface", "mesh3d", "cone", "streamtube", "volume", "isosurface",
                        "splom", "parcoords", "pointcloud", "scattermapbox", "densitymapbox",
                        "choroplethmapbox", "scattermap", "densitymap", "choroplethmap"})


# Plotly draws its strings as a subset of HTML (<a href>, <b>, <br>, <span style>...) and decodes these
# entities (plotly.js src/lib/svg_text_utils.js, convertEntities): an `&` that already starts one is
# left alone, so text the worker escaped is not escaped twice.
_BARE_AMPERSAND = re.compile(r"&(?!(?:#\d+|#x[0-9a-fA-F]+|[a-z]+);)")
# Plotly's own mini-languages (hovertemplate, texttemplate, tickformat...) and image URLs, written by
# code: their markup (the `<br>` of a hovertemplate) is meant.
_NOT_TEXT = ("template", "format", "source")


def as_text(value: str) -> str:
    """The string with `<`, `>` and bare `&` as entities: plotly shows it as typed, not as markup."""
    return _BARE_AMPERSAND.sub("&amp;", value).replace("<", "&lt;").replace(">", "&gt;")


def text_only(node: Any, key: str = "") -> Any:
    """A chart description (or part) with every string shown as text (`as_text`), except the values
    of template, format and image-source keys."""
    if isinstance(node, str):
        return node if key.endswith(_NOT_TEXT) else as_text(node)
    if isinstance(node, dict):
        return {k: text_only(v, k if isinstance(k, str) else "") for k, v in node.items()}
    if isinstance(node, list):
        return [text_only(v, key) for v in node]
    return node


def is_chart(chart: Any) -> bool:
    return isinstance(chart, dict) and isinstance(chart.get("data"), list)


def without_webgl(data: list[Any]) -> list[Any]:
    """The traces with each WebGL type (`scattergl`...) redrawn as its SVG twin (`scatter`...)."""
    return [{**trace, "type": SVG_TWIN[trace["type"]]} if isinstance(trace, dict) and trace.get("type") in SVG_TWIN
            else trace for trace in data]


def needs_webgl(data: list[Any]) -> list[str]:
    """The trace types in `data` that only WebGL can draw (no SVG twin)."""
    return sorted({t["type"] for t in data if isinstance(t, dict) and t.get("type") in WEBGL_ONLY})


def graph(chart: Any, graph_id: str | dict[str, Any] | None = None, height: int = 360) -> Any:
    """A dcc.Graph for one chart description, or a short note when it is not one."""
    if not is_chart(chart):
        return html.P("This chart could not be shown (its description is not a plotly figure).", className="muted")
    # Chart text often comes from the data (column names, labels, class names): never markup.
    chart = text_only(chart)
    webgl = needs_webgl(chart["data"])
    if webgl:
        return html.P(f"This chart could not be shown: its {', '.join(webgl)} traces need WebGL, which many "
                      "browsers lack. Ask for a 2D chart (for example scatter or heatmap) instead.",
                      className="muted chart-unavailable")
    layout = {"template": "plotly_white", "font": FONT, "height": height,
              "margin": {"l": 50, "r": 20, "t": 50, "b": 45}, **(chart.get("layout") or {})}
    kwargs = {"id": graph_id} if graph_id is not None else {}
    # A responsive graph takes its container's height: give it one, whatever wraps it.
    return dcc.Graph(figure={"data": without_webgl(chart["data"]), "layout": layout}, config=GRAPH_CONFIG,
                     className="chart", style={"height": f"{layout['height']}px"}, **kwargs)


@dataclass(frozen=True)
class VersionFeedback:
    model_version: str
    up: int
    down: int
    voters: int = 0  # the people behind the votes: one person's 20 votes are 20 votes and 1 voter

    @property
    def total(self) -> int:
        return self.up + self.down

    @property
    def positive_share(self) -> float:
        return self.up / self.total if self.total else 0.0


def summarise_feedback(rows: Iterable[dict[str, Any]]) -> list[VersionFeedback]:
    """The store's per-version counts (newest version first) as VersionFeedback, empty ones left out."""
    return [VersionFeedback(row.get("model_version") or "(unknown version)", int(row.get("up", 0)),
                            int(row.get("down", 0)), int(row.get("voters", 0)))
            for row in rows if row.get("up") or row.get("down")]


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
