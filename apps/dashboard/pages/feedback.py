"""Feedback: thumbs up and down per model version, and the latest comments."""

from __future__ import annotations

from typing import Any

from dash import dcc, html
from jobkit import JobKitError

from dashboard import charts, ui
from dashboard.services import Services

SHOWN_COMMENTS = 20


def _target_link(item: Any) -> Any:
    if item.target_kind == "job":
        return dcc.Link("job", href=f"/jobs/{item.target_id}")
    return html.Span("prediction")


def layout(services: Services) -> Any:
    try:
        summary = charts.summarise_feedback(services.feedback_summary())
        items = services.recent_feedback()
    except JobKitError as error:
        return html.Div([html.H1("Feedback"), ui.notice(f"Feedback could not be loaded ({error}). Please reload.")])
    if not summary:
        return html.Div([html.H1("Feedback"), html.P(
            "No feedback yet. Use the thumbs under a prediction or on a job page.", className="muted",
            id="feedback-empty")])
    votes = sum(s.total for s in summary)
    scope = (f"{votes:,} votes in all, one per person per prediction or job (a changed vote counts once). "
             "Few voters behind many votes is one person's view.")
    rows = [html.Tr([html.Td(s.model_version, className="version-cell"), html.Td(str(s.up), className="num up-count"),
                     html.Td(str(s.down), className="num down-count"),
                     html.Td(f"{s.positive_share:.0%}", className="num"),
                     html.Td(str(s.voters), className="num voter-count")]) for s in summary]
    comments = [item for item in items if item.comment][:SHOWN_COMMENTS]
    return html.Div([
        html.H1("Feedback"),
        html.P(scope, className="muted", id="feedback-scope"),
        html.Div([
            html.Section([
                html.Table([
                    html.Thead(html.Tr([html.Th("Model version"), html.Th("Thumbs up"), html.Th("Thumbs down"),
                                        html.Th("Positive"), html.Th("Voters")])),
                    html.Tbody(rows),
                ], className="table", id="feedback-table"),
            ], className="card feedback-table-card"),
            html.Section(charts.graph(charts.feedback_chart(summary), "feedback-chart", height=300),
                         className="card grow"),
        ], className="detail-columns"),
        html.Section([
            html.H2("Latest comments"),
            html.Ul([
                html.Li([
                    html.Span("Thumbs up" if item.rating > 0 else "Thumbs down",
                              className="badge " + ("status-succeeded" if item.rating > 0 else "status-failed")),
                    html.Span(f" {item.user} on a ", className="muted"), _target_link(item),
                    html.Span(f" · {ui.when(item.created_at)} · {item.model_version}", className="muted"),
                    html.Blockquote(item.comment),
                ]) for item in comments
            ] or [html.Li("No comments yet.", className="muted")], className="comments"),
        ], className="card"),
    ])
