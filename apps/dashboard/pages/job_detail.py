"""One job: its timeline, result charts and download, error, logs link, cancel and retry."""

from __future__ import annotations

import json
import logging
from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from jobkit import Job, JobConflict, JobKitError, JobNotFound, JobStatus
from jobkit.errors import InvalidRequest

from dashboard import charts, ui
from dashboard.auth import current_user
from dashboard.cloudwatch import cloudwatch_url
from dashboard.feedback_widget import widget
from dashboard.routes import install_download, job_log_lines
from dashboard.services import Services
from dashboard.settings import DashboardSettings

log = logging.getLogger("dashboard.job_detail")

REFRESH_MS = 2000
DOWNLOAD_LINK_SECONDS = 300  # the signed URL only has to outlive the redirect


def logs_link(settings: DashboardSettings, job_id: str) -> Any:
    if settings.worker_log_group:
        url = cloudwatch_url(settings.region, settings.worker_log_group, job_id)
        return html.A("Worker logs (CloudWatch)", href=url, target="_blank", rel="noopener", id="logs-link")
    if settings.local_log_dir is not None:
        return html.A("Worker logs", href="#job-logs", id="logs-link")  # shown on this page, below
    return None


_LOG_FIELDS_SHOWN_ELSEWHERE = {"time", "level", "message", "job_id", "service", "logger"}


def log_row(line: str) -> Any:
    """One JSON log line as a table row: time, level, message, then its other fields as key=value."""
    try:
        entry = json.loads(line)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        return html.Tr([html.Td(""), html.Td(""), html.Td(line, colSpan=2)])
    extra = " ".join(f"{key}={value}" for key, value in entry.items() if key not in _LOG_FIELDS_SHOWN_ELSEWHERE)
    level = str(entry.get("level", ""))
    return html.Tr([html.Td(str(entry.get("time", "")).replace("T", " "), className="log-time"),
                    html.Td(level.title(), className=f"log-level {level.lower()}"),
                    html.Td(str(entry.get("message", ""))), html.Td(extra, className="log-extra")])


def local_logs(settings: DashboardSettings, job_id: str) -> Any:
    """The job's lines from the local worker.log, readable (the cloud links CloudWatch instead)."""
    if settings.worker_log_group or settings.local_log_dir is None:
        return None
    lines = job_log_lines(settings.local_log_dir, job_id)
    body = html.Table([html.Thead(html.Tr([html.Th("Time (UTC)"), html.Th("Level"), html.Th("Message"),
                                           html.Th("Details")])),
                       html.Tbody([log_row(line) for line in lines])], className="table logs-table") if lines \
        else html.P("No log lines mention this job yet.", className="muted")
    return html.Section([html.H2("Worker logs"), html.P(f"{len(lines)} lines from the local worker.log, "
                                                        "newest last.",
                                                        className="muted"), body],
                        className="card", id="job-logs")


def _fact(label: str, value: Any) -> list[Any]:
    return [html.Dt(label), html.Dd(value if value not in ("", None) else "—")]


def timeline(job: Job) -> Any:
    """When it ran and who asked; the retry count only when there was a retry, the id last."""
    facts = [
        *_fact("File", job.input_name),
        *_fact("Submitted by", job.owner),
        *_fact("Created", ui.when(job.created_at)),
        *_fact("Started", ui.when(job.started_at)),
        *_fact("Finished", ui.when(job.finished_at)),
        *_fact("Duration", ui.duration_text(ui.job_duration(job))),
        *(_fact("Tries", f"{job.attempts} of {job.max_attempts} (a failed try is retried)")
          if job.attempts > 1 else []),
        *_fact("Model version", job.model_version),
        *_fact("Status", job.message),
        *_fact("Job id", html.Code(job.job_id)),
    ]
    return html.Dl(facts, className="facts", id="job-timeline")


def results(services: Services, job: Job) -> list[Any]:
    parts: list[Any] = [html.Div([
        # Signed when clicked (routes.install_download), so a page left open for hours still downloads.
        html.A("Download result CSV", href=f"/jobs/{job.job_id}/result.csv", className="button primary",
               id="download-result"),
        html.Span(_retention(services, job), className="muted", id="retention-note"),
    ], className="download-row")]
    try:
        summary = services.store.read_summary(job)
    except JobKitError:
        log.warning("no summary for a succeeded job", extra={"job_id": job.job_id})
        return [*parts, ui.notice("This job's result summary is not available.", "info")]
    metrics = summary.get("metrics") if isinstance(summary.get("metrics"), dict) else {}
    explanations = summary.get("explanations") if isinstance(summary.get("explanations"), dict) else {}
    if metrics:
        parts.append(html.Div([
            html.Div([html.Div(_metric(value), className="metric-value" + (" text" if isinstance(value, str) else "")),
                      html.Div(name.replace("_", " "), className="metric-name"),
                      *([html.Div(str(explanations[name]), className="metric-note")] if explanations.get(name)
                        else [])],
                     className="metric") for name, value in metrics.items()
        ], className="metrics", id="job-metrics"))
    chart_list = summary.get("charts") if isinstance(summary.get("charts"), list) else []
    parts.append(html.Div([_explained_chart(chart, n) for n, chart in enumerate(chart_list)],
                          className="chart-grid", id="result-charts"))
    return parts


def _explained_chart(chart: Any, n: int) -> Any:
    """The chart with the algorithm's one-line explanation for a non-specialist under it."""
    note = chart.get("explanation") if isinstance(chart, dict) else None
    return html.Figure([charts.graph(chart, f"result-chart-{n}"),
                        *([html.Figcaption(str(note), className="chart-note")] if note else [])],
                       className="chart-figure")


def _metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _retention(services: Services, job: Job) -> str:
    days = services.settings.store.retention_days
    until = ui.expiry_date(job.expires_at)
    return f"Results are kept for {days} days" + (f", until {until}." if until else ".")


def body(services: Services, job: Job) -> list[Any]:
    parts: list[Any] = [
        html.Div([
            html.H1(job.note or job.input_name or "Job", className="job-title"),
            ui.status_badge(job.status.value, "job-status"),
        ], className="title-row"),
        html.P(f"{job.input_name} · submitted by {job.owner} · {ui.when(job.created_at)}", className="muted",
               id="job-subtitle"),
    ]
    if job.status.is_active:
        parts.append(ui.progress_bar(job.progress, job.message or ("Waiting for a worker" if
                                                                   job.status is JobStatus.PENDING else "")))
    if job.status is JobStatus.FAILED:
        parts.append(ui.notice(f"This job failed: {job.error or 'no reason was recorded.'}", notice_id="job-error"))
    if job.status is JobStatus.CANCELLED:
        parts.append(ui.notice(f"Cancelled by {job.cancelled_by or 'someone'}.", "info"))
    parts.append(html.Div([
        html.Section([html.H2("Results"), *(results(services, job) if job.status is JobStatus.SUCCEEDED else [
            html.P("Results appear here when the job succeeds.", className="muted")])],
            className="card grow" + (" wide" if job.status is JobStatus.SUCCEEDED else "")),
        html.Section([html.H2("Details"), timeline(job)], className="card"),
    ], className="detail-columns"))
    if job.status is JobStatus.FAILED and job.expires_at:
        parts.append(html.P(_retention(services, job).replace("Results", "Failed jobs"), className="muted"))
    if job.status is JobStatus.SUCCEEDED:  # feedback is about a result: none on running or failed jobs
        parts.append(html.Section([html.H2("Feedback on this job"), widget("job", job.job_id, _my_vote(services, job))],
                                  className="card", id="job-feedback"))
    return parts


def _my_vote(services: Services, job: Job) -> Any:
    try:
        return services.store.get_vote("job", job.job_id, current_user() or "")
    except JobKitError:
        return None  # the buttons still work; they just do not show the earlier choice


def layout(services: Services, job_id: str) -> Any:
    try:
        job = services.store.get(job_id)
    except (JobNotFound, InvalidRequest):
        return html.Div([html.H1("Job not found"),
                         html.P("There is no job with this address. It may have expired.", className="muted"),
                         dcc.Link("Back to jobs", href="/jobs")])
    except JobKitError as error:
        return html.Div([html.H1("Job"), ui.notice(f"The job could not be loaded ({error}). Please reload.")])
    link = logs_link(services.settings, job.job_id)
    return html.Div([
        dcc.Link("← All jobs", href="/jobs", className="back-link"),
        html.Div(body(services, job), id="job-body"),
        html.Div([
            html.Button("Cancel job", id="cancel-job", n_clicks=0, className="danger",
                        style=_shown(job.status.is_active)),
            html.Button("Retry job", id="retry-job", n_clicks=0, className="primary",
                        style=_shown(job.status in (JobStatus.FAILED, JobStatus.CANCELLED))),
            *([link] if link else []),
        ], className="button-row actions"),
        html.Div(id="job-action-message"),
        html.Div(local_logs(services.settings, job.job_id), id="job-logs-box"),
        dcc.Store(id="job-id", data=job.job_id),
        dcc.Store(id="job-changed"),
        dcc.Interval(id="job-refresh", interval=REFRESH_MS, disabled=not job.status.is_active),
    ])


def _shown(visible: bool) -> dict[str, str]:
    return {} if visible else {"display": "none"}


def register(app: dash.Dash, services: Services) -> None:
    install_download(app.server, services.store, DOWNLOAD_LINK_SECONDS)

    @app.callback(
        Output("job-body", "children"),
        Output("job-refresh", "disabled"),
        Output("cancel-job", "style"),
        Output("retry-job", "style"),
        Output("job-logs-box", "children"),
        Input("job-refresh", "n_intervals"),
        Input("job-changed", "data"),
        State("job-id", "data"),
        prevent_initial_call=True,
    )
    def refresh(_ticks: int, _changed: Any, job_id: str) -> tuple[Any, ...]:
        try:
            job = services.store.get(job_id)
        except JobKitError:
            raise dash.exceptions.PreventUpdate from None
        return (body(services, job), not job.status.is_active, _shown(job.status.is_active),
                _shown(job.status in (JobStatus.FAILED, JobStatus.CANCELLED)),
                local_logs(services.settings, job.job_id))  # new lines while it runs

    @app.callback(
        Output("job-action-message", "children"),
        Output("job-changed", "data"),
        Input("cancel-job", "n_clicks"),
        Input("retry-job", "n_clicks"),
        State("job-id", "data"),
        prevent_initial_call=True,
    )
    def act(_cancel: int, _retry: int, job_id: str) -> tuple[Any, Any]:
        user = current_user() or ""
        try:
            if dash.ctx.triggered_id == "cancel-job":
                services.store.cancel(job_id, by=user)
                message = "The job was cancelled."
            else:
                services.store.retry(job_id, by=user)
                services.start_worker()
                message = "The job is queued again."
        except JobConflict as error:
            return ui.notice(f"{error}. The page now shows its current state.", "info"), job_id + ":conflict"
        except JobKitError as error:
            return ui.notice(f"That did not work ({error}). Please try again."), dash.no_update
        return ui.notice(message, "ok", "job-action-done"), f"{job_id}:{dash.ctx.triggered_id}:{_cancel}:{_retry}"
