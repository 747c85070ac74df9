"""Batch jobs: submit a CSV (upload or bundled sample) and watch the jobs table, page by page."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html
from jobkit import Job, JobKitError

from dashboard import ui
from dashboard.auth import current_user
from dashboard.launcher import launch_health
from dashboard.services import SAMPLES_DIR, Services, samples
from dashboard.uploads import UploadRejected, check_csv, decode_upload, human_size

log = logging.getLogger("dashboard.jobs")

FAST_REFRESH_MS = 2000
SLOW_REFRESH_MS = 20000

COLUMNS = [
    {"field": "input_name", "headerName": "Job", "cellRenderer": "JobLink", "flex": 2, "minWidth": 180},
    {"field": "status", "headerName": "Status", "cellRenderer": "StatusBadge", "width": 130},
    # The value combines status and progress so the cell redraws when either changes.
    {"field": "progress_key", "headerName": "Progress", "cellRenderer": "Progress", "width": 170},
    {"field": "created", "headerName": "Created", "width": 200},
    {"field": "duration", "headerName": "Duration", "width": 120},
    {"field": "owner", "headerName": "Owner", "width": 120},
    {"field": "model_version", "headerName": "Model version", "flex": 1, "minWidth": 160},
]


def job_row(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "input_name": job.input_name or job.job_id[:8],
        "status": job.status.value,
        "progress": round(job.progress, 3),
        "progress_key": f"{job.status.value}:{job.progress:.3f}",
        "message": job.message,
        "created": ui.when(job.created_at),
        "duration": ui.duration_text(ui.job_duration(job)),
        "owner": job.owner,
        "model_version": job.model_version,
    }


def layout(services: Services) -> Any:
    limit = services.settings.upload_max_bytes
    return html.Div(
        [
            html.H1("Batch jobs"),
            html.Div(launcher_banner(services), id="launcher-banner"),
            html.Section(
                [
                    html.H2("Run a batch job"),
                    html.P(f"Upload a CSV file with a header row and numeric columns (at most {human_size(limit)}), "
                           "or run one of the bundled samples.", className="muted", id="upload-limit"),
                    dcc.Upload(
                        id="job-upload",
                        max_size=limit,
                        multiple=False,
                        children=html.Div(["Drag a CSV file here, or ", html.Span("choose a file", className="link")]),
                        className="upload", className_active="upload active",
                    ),
                    # Filled by assets/upload-limit.js when the browser refuses a file over the limit.
                    html.Div(id="upload-size-warning", className="field-error", **{"data-max-bytes": str(limit)}),
                    html.Div(
                        [
                            dcc.Dropdown(id="sample-choice", options=samples(), value=(samples() or [None])[0],
                                         clearable=False, className="sample-choice"),
                            html.Button("Run on sample", id="sample-submit", className="primary", n_clicks=0),
                        ],
                        className="sample-row",
                    ),
                    dcc.Loading(html.Div(id="submit-message"), type="dot", delay_show=300),
                    dcc.Store(id="submit-token", data=uuid.uuid4().hex),
                ],
                className="card",
            ),
            html.Section(
                [
                    html.Div([html.H2("Jobs"), html.Span(id="jobs-page-label", className="muted")],
                             className="title-row"),
                    dag.AgGrid(
                        id="jobs-grid",
                        columnDefs=COLUMNS,
                        rowData=[],
                        getRowId="params.data.job_id",
                        defaultColDef={"sortable": False, "resizable": True},
                        dashGridOptions={"domLayout": "autoHeight", "suppressCellFocus": True,
                                         "overlayNoRowsTemplate": "No jobs yet: upload a CSV or run a sample."},
                        className="ag-theme-alpine jobs-grid",
                        style={"width": "100%"},
                    ),
                    html.Div(
                        [html.Button("Newer", id="jobs-newer", n_clicks=0, disabled=True),
                         html.Button("Older", id="jobs-older", n_clicks=0, disabled=True)],
                        className="button-row pager",
                    ),
                    dcc.Store(id="jobs-paging", data={"tokens": [None], "index": 0, "next": None}),
                    dcc.Store(id="jobs-changed"),
                    dcc.Interval(id="jobs-refresh", interval=FAST_REFRESH_MS),
                ],
                className="card",
            ),
        ]
    )


def submit_input(services: Services, trigger: str, contents: str | None, filename: str | None,
                 sample: str | None) -> tuple[str, bytes]:
    """(file name, bytes) to submit, from an upload or a sample; UploadRejected when unusable."""
    if trigger == "job-upload":
        if not contents:
            raise dash.exceptions.PreventUpdate
        data = decode_upload(contents, services.settings.upload_max_bytes)
        upload = check_csv(filename or "upload.csv", data)
        return upload.name, upload.data
    if sample not in samples():
        raise UploadRejected("Please choose one of the samples.")
    return sample, (SAMPLES_DIR / sample).read_bytes()


def register(app: dash.Dash, services: Services) -> None:
    register_launcher_banner(app, services)

    @app.callback(
        Output("submit-message", "children"),
        Output("submit-token", "data"),
        Output("job-upload", "contents"),
        Output("jobs-changed", "data"),
        Input("job-upload", "contents"),
        Input("sample-submit", "n_clicks"),
        State("job-upload", "filename"),
        State("sample-choice", "value"),
        State("submit-token", "data"),
        prevent_initial_call=True,
        running=[(Output("sample-submit", "disabled"), True, False)],
    )
    def submit(contents: str | None, _clicks: int, filename: str | None, sample: str | None,
               token: str) -> tuple[Any, Any, Any, Any]:
        trigger = dash.ctx.triggered_id
        try:
            name, data = submit_input(services, trigger, contents, filename, sample)
        except UploadRejected as error:
            return ui.notice(str(error), notice_id="submit-error"), dash.no_update, None, dash.no_update
        try:
            # The token was made when this form rendered: a double click submits one job.
            job = services.store.submit(owner=current_user() or "", client_token=token,
                                        input_bytes=data, input_name=name)
        except JobKitError as error:
            log.exception("submit failed")
            return ui.notice(f"The job could not be submitted ({error}). Please try again."), dash.no_update, \
                None, dash.no_update
        services.start_worker()
        message = html.Div(
            ["Job submitted: ", dcc.Link(name, href=f"/jobs/{job.job_id}", id="submitted-job-link"),
             ". It starts within a few seconds; this table updates by itself."],
            className="alert ok", role="status",
        )
        return message, uuid.uuid4().hex, None, job.job_id

    @app.callback(
        Output("jobs-grid", "rowData"),
        Output("jobs-paging", "data"),
        Output("jobs-newer", "disabled"),
        Output("jobs-older", "disabled"),
        Output("jobs-refresh", "interval"),
        Output("jobs-page-label", "children"),
        Input("jobs-refresh", "n_intervals"),
        Input("jobs-older", "n_clicks"),
        Input("jobs-newer", "n_clicks"),
        Input("jobs-changed", "data"),
        State("jobs-paging", "data"),
    )
    def refresh(_ticks: int, _older: int, _newer: int, _changed: Any, paging: dict[str, Any]) -> tuple[Any, ...]:
        trigger = dash.ctx.triggered_id
        tokens, index = list(paging.get("tokens") or [None]), int(paging.get("index", 0))
        if trigger == "jobs-older" and paging.get("next"):
            tokens, index = [*tokens[: index + 1], paging["next"]], index + 1
        elif trigger == "jobs-newer":
            index = max(index - 1, 0)
        elif trigger == "jobs-changed":
            index = 0
        try:
            page = services.jobs_page(tokens[index], fresh=trigger == "jobs-changed")
        except JobKitError as error:
            log.warning("could not list jobs", extra={"error": str(error)})
            return dash.no_update, dash.no_update, dash.no_update, dash.no_update, FAST_REFRESH_MS, \
                "The job list is not available right now; retrying..."
        rows = [job_row(job) for job in page.items]
        active = any(job.status.is_active for job in page.items)
        size = services.settings.jobs_page_size
        label = f"Page {index + 1} · jobs {index * size + 1}-{index * size + len(rows)}" if rows else \
            ("No older jobs" if index else "")
        return (rows, {"tokens": tokens, "index": index, "next": page.next_token}, index == 0,
                not page.next_token, FAST_REFRESH_MS if active else SLOW_REFRESH_MS, label)


# --- the launcher banner: workers that cannot be started are said so, not left as a silent queue ---

def launcher_banner(services: Services) -> Any:
    """A banner while this process's launcher failed recently (the AWS error included); else nothing."""
    failure = launch_health(services.launcher).recent_failure()
    if failure is None:
        return None
    return html.Div(
        [html.Strong("Workers cannot be started: "), str(failure),
         html.Br(), "Jobs wait in the queue until this is fixed; the dashboard keeps trying."],
        className="alert error", role="alert", id="launcher-failure",
    )


def register_launcher_banner(app: dash.Dash, services: Services) -> None:
    @app.callback(Output("launcher-banner", "children"), Input("jobs-refresh", "n_intervals"))
    def refresh_launcher_banner(_ticks: int | None) -> Any:
        return launcher_banner(services)
