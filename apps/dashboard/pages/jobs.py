"""Batch jobs: submit a CSV (an upload, or one of the samples the batch algorithm published) and watch
the jobs table, page by page."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import uuid
from typing import Any

import dash
import dash_ag_grid as dag
from dash import ALL, Input, Output, State, dcc, html
from jobkit import Job, JobKitError, JobStatus

from dashboard import ui
from dashboard.auth import current_user
from dashboard.batch_input import check_against, check_columns, header_of, numeric_of
from dashboard.descriptions import clean_description
from dashboard.hidden_tab import pause_while_hidden
from dashboard.launcher import launch_health
from dashboard.pages.predict import check_inputs, control, field
from dashboard.services import Services, sample_bytes, samples
from dashboard.uploads import UploadRejected, check_csv, decode_upload, human_size

log = logging.getLogger("dashboard.jobs")

FAST_REFRESH_MS = 2000
SLOW_REFRESH_MS = 20000
DESCRIPTION_REFRESH_MS = 2000

# Widths add up to the page's 1,088 px table, so every column, model version included, shows whole.
COLUMNS = [
    {"field": "input_name", "headerName": "Job", "cellRenderer": "JobLink", "flex": 1, "minWidth": 140},
    {"field": "status", "headerName": "Status", "cellRenderer": "StatusBadge", "width": 105},
    # The value combines status and progress so the cell redraws when either changes.
    {"field": "progress_key", "headerName": "Progress", "cellRenderer": "Progress", "width": 135},
    # A failed job's reason, a running job's step, or the file name of a job given a name.
    {"field": "details", "headerName": "Details", "flex": 1, "minWidth": 140, "tooltipField": "details",
     "cellClass": "details-cell"},
    {"field": "created", "headerName": "Created", "width": 185},
    {"field": "duration", "headerName": "Duration", "width": 90},
    {"field": "owner", "headerName": "Owner", "width": 85},
    {"field": "model_version", "headerName": "Model version", "width": 200, "tooltipField": "model_version"},
]


EMPTY = "No jobs yet: upload a CSV above or run a sample, and it appears here."


def page_label(index: int, size: int, rows: int, more: bool) -> Any:
    """What the table shows: a count when everything fits on one page, else which jobs; our own
    empty state (the grid's overlay is off)."""
    if not rows:
        return "No older jobs." if index else html.Span(EMPTY, id="jobs-empty")
    if index == 0 and not more:
        return f"{rows} job" + ("s" if rows > 1 else "")
    first = index * size + 1
    return f"Jobs {first}–{first + rows - 1}, newest first"


def job_details(job: Job) -> str:
    """What a stakeholder should know at a glance: why it failed, what it is doing, or its file."""
    if job.status is JobStatus.FAILED:
        return f"Failed: {job.error or 'no reason was recorded'}"
    if job.status.is_active and job.message:
        return job.message
    return job.input_name if job.note else ""


# Each tick formats every shown row again; a job's creation time never changes.
_created_text = functools.lru_cache(maxsize=4096)(ui.when)


def job_row(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "input_name": job.note or job.input_name or job.job_id[:8],
        "details": job_details(job),
        "status": job.status.value,
        "progress": round(job.progress, 3),
        "progress_key": f"{job.status.value}:{job.progress:.3f}",
        "message": job.message,
        "created": _created_text(job.created_at),
        "duration": ui.duration_text(ui.job_duration(job)),
        "owner": job.owner,
        "model_version": job.model_version,
    }


def rows_stamp(rows: list[dict[str, Any]], tokens: list[Any], index: int, next_token: str | None) -> str:
    """A fingerprint of one shown page of the table: equal stamps mean nothing on it changed."""
    shown = json.dumps([rows, tokens, index, next_token], sort_keys=True, default=str)
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


def _description(services: Services) -> dict[str, Any] | None:
    """The published description, checked field by field (every read of it on this page is this one)."""
    try:
        return clean_description(services.batch_description())
    except JobKitError as error:
        log.warning("could not read the batch description", extra={"error": str(error)})
        return None


def description_stamp(description: dict[str, Any] | None) -> str:
    """What changes when the worker publishes a different description (redraw the form then)."""
    if not description:
        return ""
    content = {k: v for k, v in description.items() if k != "published_at"}  # every worker start republishes
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def public_description(description: dict[str, Any] | None) -> dict[str, Any] | None:
    """The description as the page carries it: samples by name only (their contents stay server-side)."""
    if not description:
        return None
    return {**{k: v for k, v in description.items() if k != "samples"}, "samples": samples(description)}


def input_rules(description: dict[str, Any]) -> list[str]:
    """The description's input requirements as sentences a stakeholder can check a file against."""
    rules = description.get("input") if isinstance(description.get("input"), dict) else {}
    lines = []
    if rules.get("help"):
        lines.append(str(rules["help"]))
    if isinstance(rules.get("min_rows"), int) and isinstance(rules.get("max_rows"), int):
        lines.append(f"Between {rules['min_rows']:,} and {rules['max_rows']:,} data rows.")
    if isinstance(rules.get("min_numeric_columns"), int):
        lines.append(f"At least {rules['min_numeric_columns']} numeric columns"
                     + (f", at most {rules['max_columns']} columns in all." if rules.get("max_columns") else "."))
    for column in rules.get("columns") or []:
        if isinstance(column, dict) and column.get("name"):
            need = "Needs" if column.get("required") else "May have"
            kind = "numbers" if column.get("type") == "number" else "text"
            lines.append(f"{need} a column '{column['name']}' ({kind})" + (f": {column['help']}" if column.get(
                "help") else "."))
    return lines


def about(description: dict[str, Any] | None) -> list[Any]:
    """Title, one sentence and the input rules; or a note while no worker has described the job."""
    if not description:
        return [html.H2("Run a batch job", id="batch-title"),
                html.P("The batch job has not described itself yet: a worker is starting and will "
                       "publish its description in a few seconds.", className="muted", id="batch-description")]
    return [
        html.Div([html.H2(description.get("title") or "Run a batch job", id="batch-title"),
                  html.Span(f"Model {description.get('model_version', '')}", className="version-pill",
                            id="batch-version")], className="title-row"),
        html.P(description.get("description", ""), className="lead", id="batch-description"),
        html.Div([html.Strong("What the file must hold"),
                  html.Ul([html.Li(line) for line in input_rules(description)], id="batch-input-rules")],
                 className="input-rules"),
    ]


def param_specs(description: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The description's parameter fields (each a dict with a name)."""
    return [p for p in (description or {}).get("params") or [] if isinstance(p, dict) and p.get("name")]


def column_specs(description: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The parameters that name one of the file's columns (a column picker each)."""
    return [p for p in param_specs(description) if p.get("type") == "column"]


def param_fields(description: dict[str, Any] | None) -> list[Any]:
    """One form field per parameter the description declares (same look as the prediction form); a
    column picker's options come from the uploaded file's (or chosen sample's) header, and with
    one the upload is held until "Submit the file"."""
    parts = [field(spec, {"type": "batch-param", "name": spec["name"]},
                   {"type": "batch-param-error", "name": spec["name"]},
                   wrap_id={"type": "batch-column", "name": spec["name"]} if spec.get("type") == "column" else None)
             for spec in param_specs(description)]
    if column_specs(description):
        parts.append(html.Div([
            html.Button("Submit the file", id="file-submit", className="primary", n_clicks=0),
            html.Small("An uploaded file waits here until its columns are picked.", className="help"),
        ], className="field file-submit-row"))
    return parts


def column_pickers(description: dict[str, Any] | None, names: list[str], header: list[str],
                   numeric: list[str]) -> list[Any]:
    """The column dropdowns for `names`, their options the file's columns (numeric ones only for a
    parameter asking for numbers); a pick still in the file is kept by the caller."""
    specs = {spec["name"]: spec for spec in column_specs(description)}
    pickers = []
    for name in names:
        spec = specs.get(name, {"name": name, "type": "column"})
        offered = numeric if spec.get("column_type") == "number" else header
        pickers.append(control({**spec, "choices": offered, "default": None},
                                {"type": "batch-param", "name": name}))
    return pickers


def upload_hint(limit: int, offered: list[str]) -> str:
    """The line above the upload: the size limit, and the samples only when the job published some."""
    samples_part = ", or run one of the job's samples" if offered else ""
    return (f"Upload a CSV file (at most {human_size(limit)}){samples_part}. "
            "The file is checked against what the job needs before it is submitted.")


def sample_row_style(offered: list[str]) -> dict[str, str]:
    """The sample dropdown and "Run on sample" show only when the job published samples (the row
    stays in the page, hidden, so its callbacks keep their inputs)."""
    return {} if offered else {"display": "none"}


def layout(services: Services) -> Any:
    limit = services.settings.upload_max_bytes
    description = _description(services)
    offered = samples(description)
    services.warm_worker()  # ready for the submit; it publishes the description of the code it runs
    return html.Div(
        [
            html.H1("Batch jobs"),
            html.Div([launcher_banner(services), algorithm_banner(start_failure(services))], id="launcher-banner"),
            html.Section(
                [
                    html.Div(about(description), id="batch-about"),
                    html.Div(param_fields(description), id="batch-params", className="fields param-fields"),
                    html.Div([
                        html.Label("Job name or note (optional)", className="field-label", htmlFor="job-note"),
                        dcc.Input(id="job-note", type="text", maxLength=200, debounce=False, value="",
                                  placeholder="e.g. March customers, after the price change", className="text"),
                    ], className="field"),
                    html.P(upload_hint(limit, offered), className="muted", id="upload-limit"),
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
                            dcc.Dropdown(id="sample-choice", options=offered, value=(offered or [None])[0],
                                         clearable=False, className="sample-choice"),
                            html.Button("Run on sample", id="sample-submit", className="primary", n_clicks=0),
                        ],
                        className="sample-row", id="sample-row", style=sample_row_style(offered),
                    ),
                    dcc.Loading(html.Div(id="submit-message"), type="dot", delay_show=300),
                    dcc.Store(id="submit-token", data=uuid.uuid4().hex),
                    dcc.Store(id="batch-stamp", data=description_stamp(description)),
                    # What a client needs to build a usable file (the smoke test): the description
                    # without the samples' contents.
                    dcc.Store(id="batch-published", data=public_description(description)),
                    dcc.Interval(id="batch-refresh", interval=DESCRIPTION_REFRESH_MS),
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
                                         "suppressNoRowsOverlay": True, "tooltipShowDelay": 300},
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
    """(file name, bytes) to submit, from an upload or a sample; UploadRejected when unusable,
    including a file that cannot satisfy the batch algorithm's published description."""
    description = _description(services)
    if trigger == "job-upload":
        if not contents:
            raise dash.exceptions.PreventUpdate
        data = decode_upload(contents, services.settings.upload_max_bytes)
        rules = (description or {}).get("input")
        max_rows = rules.get("max_rows") if isinstance(rules, dict) else None
        upload = check_csv(filename or "upload.csv", data, max_rows if isinstance(max_rows, int) else None)
        name, data = upload.name, upload.data
    elif sample not in samples(description):
        raise UploadRejected("Please choose one of the samples.")
    else:
        name, data = sample, sample_bytes(description, sample)
    check_against(description, name, data)
    return name, data


def job_params(services: Services, values: list[Any] | None,
               ids: list[dict[str, str]] | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's parameters checked against the description: (clean values, problems by name)."""
    specs = param_specs(_description(services))
    given = {i["name"]: v for i, v in zip(ids or [], values or [], strict=False) if isinstance(i, dict)}
    specs = [spec for spec in specs if spec["name"] in given]  # a field not on the form gets the default
    return check_inputs(specs, given)


def _held(name: str, columns: list[dict[str, Any]]) -> Any:
    labels = ", ".join(f"'{spec.get('label') or spec['name']}'" for spec in columns)
    return html.Div([f"{name} is ready. Pick {labels} from its columns above, then click ",
                     html.Strong("Submit the file"), "."], className="alert info", role="status", id="upload-held")


def _submit(services: Services, trigger: str, contents: str | None, filename: str | None, sample: str | None,
            token: str, param_values: list[Any] | None, param_ids: list[Any] | None, note: str | None,
            hold: bool, keep_file: bool = False) -> tuple[Any, Any, Any, Any]:
    """Check and submit one job (the outputs of the submit callbacks). With `hold`, an upload for
    an algorithm with column parameters is checked, then waits (its contents kept) for its columns
    to be picked and "Submit the file"; `keep_file` keeps a held file when the submit is refused."""
    description = _description(services)
    columns = column_specs(description)
    holding = hold and trigger == "job-upload" and bool(columns)
    kept = dash.no_update if keep_file else None
    params, problems = job_params(services, param_values, param_ids)
    if holding:
        problems = {k: v for k, v in problems.items() if k not in {spec["name"] for spec in columns}}
    if problems:
        listed = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
        return ui.notice(f"Please correct the settings ({listed})", notice_id="submit-error"), \
            dash.no_update, kept, dash.no_update
    try:
        name, data = submit_input(services, trigger, contents, filename, sample)
        if holding:
            return _held(name, columns), dash.no_update, dash.no_update, dash.no_update
        check_columns(description, name, data, params)
    except UploadRejected as error:
        return ui.notice(str(error), notice_id="submit-error"), dash.no_update, kept, dash.no_update
    try:
        # The token was made when this form rendered: a double click submits one job.
        job = services.store.submit(owner=current_user() or "", client_token=token, input_bytes=data,
                                    input_name=name, params=params, note=str(note or ""))
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


def register(app: dash.Dash, services: Services) -> None:
    register_launcher_banner(app, services)
    pause_while_hidden(app, "jobs-refresh", "batch-refresh")

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
        State({"type": "batch-param", "name": ALL}, "value"),
        State({"type": "batch-param", "name": ALL}, "id"),
        State("job-note", "value"),
        prevent_initial_call=True,
        running=[(Output("sample-submit", "disabled"), True, False)],
    )
    def submit(contents: str | None, _clicks: int, filename: str | None, sample: str | None,
               token: str, param_values: list[Any] | None = None, param_ids: list[Any] | None = None,
               note: str | None = None) -> tuple[Any, Any, Any, Any]:
        return _submit(services, str(dash.ctx.triggered_id), contents, filename, sample, token, param_values,
                       param_ids, note, hold=True)

    @app.callback(
        Output("submit-message", "children", allow_duplicate=True),
        Output("submit-token", "data", allow_duplicate=True),
        Output("job-upload", "contents", allow_duplicate=True),
        Output("jobs-changed", "data", allow_duplicate=True),
        Input("file-submit", "n_clicks"),
        State("job-upload", "contents"),
        State("job-upload", "filename"),
        State("submit-token", "data"),
        State({"type": "batch-param", "name": ALL}, "value"),
        State({"type": "batch-param", "name": ALL}, "id"),
        State("job-note", "value"),
        prevent_initial_call=True,
        running=[(Output("file-submit", "disabled"), True, False)],
    )
    def submit_file(clicks: int | None, contents: str | None, filename: str | None, token: str,
                    param_values: list[Any] | None = None, param_ids: list[Any] | None = None,
                    note: str | None = None) -> tuple[Any, Any, Any, Any]:
        """"Submit the file": the held upload, with the columns now picked."""
        if not clicks:
            raise dash.exceptions.PreventUpdate
        if not contents:
            return ui.notice("Please upload a file first (or run a sample).", notice_id="submit-error"), \
                dash.no_update, dash.no_update, dash.no_update
        return _submit(services, "job-upload", contents, filename, None, token, param_values, param_ids, note,
                       hold=False, keep_file=True)

    @app.callback(
        Output({"type": "batch-column", "name": ALL}, "children"),
        Input("job-upload", "contents"),
        Input("sample-choice", "value"),
        State({"type": "batch-column", "name": ALL}, "id"),
        State({"type": "batch-param", "name": ALL}, "value"),
        State({"type": "batch-param", "name": ALL}, "id"),
        prevent_initial_call=False,
    )
    def fill_columns(contents: str | None, sample: str | None, wraps: list[dict[str, str]],
                     values: list[Any] | None, ids: list[dict[str, str]] | None) -> list[Any]:
        """Each column picker offers the columns of the file just uploaded, or of the chosen sample."""
        if not wraps:
            raise dash.exceptions.PreventUpdate
        description = _description(services)
        try:
            if dash.ctx.triggered_id == "job-upload" and not contents:
                raise dash.exceptions.PreventUpdate  # the upload was submitted and cleared: keep the picks
            if contents and dash.ctx.triggered_id in ("job-upload", None):
                data = decode_upload(contents, services.settings.upload_max_bytes)
            elif sample in samples(description):
                data = sample_bytes(description, sample)
            else:
                raise dash.exceptions.PreventUpdate
            header = header_of(data)
            numeric = numeric_of(data)
        except (UploadRejected, UnicodeDecodeError):
            raise dash.exceptions.PreventUpdate from None
        names = [wrap["name"] for wrap in wraps]
        picked = {i["name"]: v for i, v in zip(ids or [], values or [], strict=False) if isinstance(i, dict)}
        pickers = column_pickers(description, names, header, numeric)
        for picker, name in zip(pickers, names, strict=True):
            options = [option["value"] for option in picker.options]
            picker.value = picked.get(name) if picked.get(name) in options else None
        return pickers

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
        if any(job.status is JobStatus.PENDING for job in page.items):  # one GetItem, only when a job waits
            rows = say_why_jobs_wait(rows, start_failure(services))
        active = any(job.status.is_active for job in page.items)
        interval = FAST_REFRESH_MS if active else SLOW_REFRESH_MS
        stamp = rows_stamp(rows, tokens, index, page.next_token)
        if trigger == "jobs-refresh" and stamp == paging.get("stamp"):
            # A tick that found the page as shown: only the interval goes back, not 25 rows again.
            return dash.no_update, dash.no_update, dash.no_update, dash.no_update, interval, dash.no_update
        size = services.settings.jobs_page_size
        label = page_label(index, size, len(rows), bool(page.next_token))
        return (rows, {"tokens": tokens, "index": index, "next": page.next_token, "stamp": stamp}, index == 0,
                not page.next_token, interval, label)

    @app.callback(
        Output("batch-about", "children"),
        Output("batch-params", "children"),
        Output("batch-stamp", "data"),
        Output("sample-choice", "options"),
        Output("sample-choice", "value"),
        Output("sample-row", "style"),
        Output("upload-limit", "children"),
        Input("batch-refresh", "n_intervals"),
        State("batch-stamp", "data"),
        State("sample-choice", "value"),
        prevent_initial_call=True,
    )
    def redescribe(_ticks: int, stamp: str | None, sample: str | None = None) -> tuple[Any, ...]:
        """Redraw the description, the form and the samples offered (the sample row hidden when there
        are none) when the worker published a new description (a local edit)."""
        description = _description(services)
        if description_stamp(description) == (stamp or ""):
            raise dash.exceptions.PreventUpdate
        offered = samples(description)
        return (about(description), param_fields(description), description_stamp(description), offered,
                sample if sample in offered else (offered or [None])[0], sample_row_style(offered),
                upload_hint(services.settings.upload_max_bytes, offered))

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
        return [launcher_banner(services), algorithm_banner(start_failure(services))]


# --- the algorithm banner: a batch algorithm that cannot start (or fails every job) is said so ---

def start_failure(services: Services) -> dict[str, Any] | None:
    """What the worker last published about its algorithm failing (jobkit: start failures), or None."""
    try:
        return services.start_failure()
    except JobKitError as error:
        log.warning("could not read the batch algorithm's start failure", extra={"error": str(error)})
        return None


def failure_text(failure: dict[str, Any]) -> str:
    where = f"{failure.get('file', '')} line {failure['line']}" if failure.get("line") else str(failure.get("file", ""))
    return f"{failure.get('error', 'unknown error')} ({where}). Fix: {failure.get('fix', 'see worker.log')}."


def algorithm_banner(failure: dict[str, Any] | None) -> Any:
    """"The batch algorithm cannot start: <error> (<file> line N). Fix: ..." with how often it was tried."""
    if failure is None:
        return None
    head = ("The batch algorithm fails every job: " if failure.get("kind") == "every_job"
            else "The batch algorithm cannot start: ")
    tries = int(failure.get("failures", 1))
    return html.Div(
        [html.Strong(head), failure_text(failure), html.Br(),
         f"Jobs wait in the queue until it is fixed. Tried {tries} time{'s' if tries != 1 else ''} in a row, "
         f"last at {ui.when(str(failure.get('at', '')))}; after each failure the worker waits longer before "
         "trying again, and restarts at once when the code changes."],
        className="alert error", role="alert", id="algorithm-failure",
    )


def say_why_jobs_wait(rows: list[dict[str, Any]], failure: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each pending job's details say why it waits while the algorithm cannot start."""
    if failure is None or failure.get("kind") == "every_job":
        return rows
    reason = f"Waiting: the batch algorithm cannot start ({failure.get('error', 'see above')})"
    return [{**row, "details": reason} if row["status"] == JobStatus.PENDING.value else row for row in rows]
