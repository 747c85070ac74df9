"""Timers that stop while their tab is hidden: an open tab in the background polls nothing.

A clientside callback, run when the page renders, disables the intervals if the tab is hidden and
watches `visibilitychange` to switch them off and on again (dash_clientside.set_props). This
lightens the load and lets an idle dashboard sleep; a tab that comes back resumes polling.
"""

from __future__ import annotations

import json

import dash
from dash import Input, Output

_SCRIPT = """
function(_rendered) {
    var ids = %s;
    var hidden = function () { return document.visibilityState === "hidden"; };
    if (window.__mlprotoPauseWhileHidden) {
        document.removeEventListener("visibilitychange", window.__mlprotoPauseWhileHidden);
    }
    window.__mlprotoPauseWhileHidden = function () {
        ids.forEach(function (id) {
            try { window.dash_clientside.set_props(id, {disabled: hidden()}); } catch (e) { /* page left */ }
        });
    };
    document.addEventListener("visibilitychange", window.__mlprotoPauseWhileHidden);
    return ids.map(hidden);
}
"""


def pause_while_hidden(app: dash.Dash, *interval_ids: str) -> None:
    """Disable these dcc.Interval components (all on one page) whenever the tab is hidden."""
    ids = list(interval_ids)
    app.clientside_callback(_SCRIPT % json.dumps(ids), *[Output(i, "disabled") for i in ids],
                            Input(ids[0], "id"))
