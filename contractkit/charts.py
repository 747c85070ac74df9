"""Is a chart plotly JSON that draws without WebGL? (The dashboard draws charts as they come, and
a browser without a GPU, such as a headless one or a locked-down laptop, draws no WebGL trace.)"""

from __future__ import annotations

import json
from typing import Any

# Trace types plotly.js draws with WebGL (besides every type ending in "gl").
WEBGL_TYPES = frozenset({"scatter3d", "surface", "mesh3d", "cone", "streamtube", "volume", "isosurface", "splom",
                         "parcoords", "scattermapbox", "choroplethmapbox", "densitymapbox", "scattermap",
                         "choroplethmap", "densitymap"})
FIGURE_KEYS = ("data", "layout", "frames")


def chart_problem(chart: Any) -> tuple[str, str] | None:
    """(problem, fix) for a chart that is not drawable plotly JSON without WebGL; None when it is."""
    if not isinstance(chart, dict) or not isinstance(chart.get("data"), list):
        return (f"the chart is {type(chart).__name__} {str(chart)[:60]!r}, not plotly JSON with a 'data' list",
                "return fig.to_plotly_json() or a dict {'data': [...], 'layout': {...}}")
    try:
        json.dumps(chart, allow_nan=False)
    except (TypeError, ValueError) as error:
        return (f"the chart is not plain JSON ({error})", "use plain floats and lists (no NaN, numpy or datetime)")
    for trace in chart["data"]:
        kind = trace.get("type", "scatter") if isinstance(trace, dict) else None
        if not isinstance(kind, str):
            return ("a trace is not a plotly trace object", "make each item of 'data' a dict with a 'type'")
        if kind.endswith("gl") or kind in WEBGL_TYPES:
            plain = kind[:-2] if kind.endswith("gl") else "a 2-D trace type such as scatter or heatmap"
            return (f"trace type {kind!r} needs WebGL, which browsers without a GPU do not draw",
                    f"use {plain!r}" if kind.endswith("gl") else f"use {plain}")
    try:
        import plotly.graph_objects as go

        go.Figure({k: chart[k] for k in FIGURE_KEYS if k in chart})
    except ImportError:
        return None  # plotly's own validation is extra; the JSON checks above still apply
    except (ValueError, TypeError) as error:
        first = " ".join(str(error).split())[:200]
        return (f"plotly refuses the chart: {first}", "fix the property plotly names (see plotly's figure reference)")
    return None
