"""Thumbs up / down plus an optional comment, for any prediction or job (one callback for all)."""

from __future__ import annotations

from typing import Any

import dash
from dash import MATCH, Input, Output, State, dcc, html
from jobkit import JobKitError

from dashboard.auth import current_user
from dashboard.services import Services


def thumb_class(direction: str, current: int | None) -> str:
    """A thumb button's classes: `chosen` when it is the signed-in user's current vote."""
    chosen = (current == 1 and direction == "up") or (current == -1 and direction == "down")
    return f"thumb {direction}" + (" chosen" if chosen else "")


def widget(kind: str, target_id: str, current: Any = None) -> Any:
    """The feedback box for one prediction (`kind="prediction"`) or job (`kind="job"`); `current` is
    the signed-in user's vote so far (a Feedback, or None), shown as the chosen button."""

    def key(part: str) -> dict[str, str]:
        return {"type": f"fb-{part}", "kind": kind, "target": target_id}

    rating = current.rating if current is not None else None
    status = f"Your vote: thumbs {'up' if rating == 1 else 'down'}. Click the other one to change it." \
        if rating else ""
    return html.Div(
        [
            html.Div("Was this useful? Add a comment if you like, then choose.", className="feedback-prompt"),
            dcc.Textarea(id=key("comment"), placeholder="Optional comment", maxLength=2000,
                         className="feedback-comment"),
            html.Div(
                [html.Button("Thumbs up", id=key("up"), className=thumb_class("up", rating), n_clicks=0),
                 html.Button("Thumbs down", id=key("down"), className=thumb_class("down", rating), n_clicks=0)],
                className="button-row",
            ),
            html.Div(status, id=key("status"), className="feedback-status", role="status"),
        ],
        className="feedback-box",
    )


def register(app: dash.Dash, services: Services) -> None:
    @app.callback(
        Output({"type": "fb-status", "kind": MATCH, "target": MATCH}, "children"),
        Output({"type": "fb-comment", "kind": MATCH, "target": MATCH}, "value"),
        Output({"type": "fb-up", "kind": MATCH, "target": MATCH}, "className"),
        Output({"type": "fb-down", "kind": MATCH, "target": MATCH}, "className"),
        Input({"type": "fb-up", "kind": MATCH, "target": MATCH}, "n_clicks"),
        Input({"type": "fb-down", "kind": MATCH, "target": MATCH}, "n_clicks"),
        State({"type": "fb-comment", "kind": MATCH, "target": MATCH}, "value"),
        prevent_initial_call=True,
    )
    def record(_up: int, _down: int, comment: str | None) -> tuple[Any, Any, Any, Any]:
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
                             className="error-text"), dash.no_update, dash.no_update, dash.no_update
        services.feedback_cache.clear()
        word = "thumbs up" if rating > 0 else "thumbs down"
        return (html.Span(f"Thanks! Your {word} was recorded; click the other one to change it.",
                          className="ok-text"), "", thumb_class("up", rating), thumb_class("down", rating))
