"""Thumbs up / down plus an optional comment, for any prediction or job (one callback for all)."""

from __future__ import annotations

from typing import Any

import dash
from dash import MATCH, Input, Output, State, dcc, html
from jobkit import JobKitError

from dashboard.auth import current_user
from dashboard.services import Services


def widget(kind: str, target_id: str) -> Any:
    """The feedback box for one prediction (`kind="prediction"`) or job (`kind="job"`)."""

    def key(part: str) -> dict[str, str]:
        return {"type": f"fb-{part}", "kind": kind, "target": target_id}

    return html.Div(
        [
            html.Div("Was this useful? Add a comment if you like, then choose.", className="feedback-prompt"),
            dcc.Textarea(id=key("comment"), placeholder="Optional comment", maxLength=2000,
                         className="feedback-comment"),
            html.Div(
                [html.Button("Thumbs up", id=key("up"), className="thumb up", n_clicks=0),
                 html.Button("Thumbs down", id=key("down"), className="thumb down", n_clicks=0)],
                className="button-row",
            ),
            html.Div(id=key("status"), className="feedback-status", role="status"),
        ],
        className="feedback-box",
    )


def register(app: dash.Dash, services: Services) -> None:
    @app.callback(
        Output({"type": "fb-status", "kind": MATCH, "target": MATCH}, "children"),
        Output({"type": "fb-comment", "kind": MATCH, "target": MATCH}, "value"),
        Input({"type": "fb-up", "kind": MATCH, "target": MATCH}, "n_clicks"),
        Input({"type": "fb-down", "kind": MATCH, "target": MATCH}, "n_clicks"),
        State({"type": "fb-comment", "kind": MATCH, "target": MATCH}, "value"),
        prevent_initial_call=True,
    )
    def record(_up: int, _down: int, comment: str | None) -> tuple[Any, Any]:
        trigger = dash.ctx.triggered_id
        if not trigger:
            raise dash.exceptions.PreventUpdate
        rating = 1 if trigger["type"] == "fb-up" else -1
        try:
            services.store.add_feedback(  # counted for the version the job or prediction records
                target_kind=trigger["kind"], target_id=trigger["target"], user=current_user() or "",
                rating=rating, comment=(comment or "").strip(),
            )
        except JobKitError as error:
            return html.Span(f"Your feedback could not be saved ({error}). Please try again.",
                             className="error-text"), dash.no_update
        services.feedback_cache.clear()
        word = "thumbs up" if rating > 0 else "thumbs down"
        return html.Span(f"Thanks! Your {word} was recorded.", className="ok-text"), ""
