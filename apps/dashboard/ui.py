"""Small presentation helpers the pages share: status badges, times, durations, notices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import html
from jobkit.records import Job, parse_iso


def status_badge(status: str, badge_id: str | None = None) -> Any:
    kwargs = {"id": badge_id} if badge_id else {}
    return html.Span(status.title(), className=f"badge status-{status.lower()}", **kwargs)


def when(iso: str) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM:SS UTC' (or an em dash)."""
    if not iso:
        return "—"
    try:
        return parse_iso(iso).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return iso


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def job_duration(job: Job, now: datetime | None = None) -> float | None:
    """Seconds the job ran (so far, while it runs)."""
    if job.duration_seconds is not None:
        return job.duration_seconds
    if job.started_at and job.status.is_active:
        return ((now or datetime.now(UTC)) - parse_iso(job.started_at)).total_seconds()
    return None


def expiry_date(expires_at: int | None) -> str:
    if not expires_at:
        return ""
    return datetime.fromtimestamp(expires_at, tz=UTC).strftime("%Y-%m-%d")


def progress_bar(fraction: float, label: str = "") -> Any:
    percent = max(0.0, min(float(fraction or 0), 1.0)) * 100
    return html.Div(
        [html.Div(className="progress-fill", style={"width": f"{percent:.0f}%"}),
         html.Span(label or f"{percent:.0f}%", className="progress-label")],
        className="progress", role="progressbar", **{"aria-valuenow": f"{percent:.0f}"},
    )


def notice(message: str, kind: str = "error", notice_id: str | None = None) -> Any:
    kwargs = {"id": notice_id} if notice_id else {}
    return html.Div(message, className=f"alert {kind}", role="alert", **kwargs)


NAV_SECTIONS = ("predict", "jobs", "feedback")  # the header's links: ids nav-<section>, see app.py


def nav_classes(pathname: str | None) -> list[str]:
    """The header links' classes for a URL path: the page's own section is `active` ("/" is Predict)."""
    path = (pathname or "/").rstrip("/") or "/"
    section = "predict" if path == "/" else path.split("/")[1]
    return ["nav-link active" if name == section else "nav-link" for name in NAV_SECTIONS]
