"""Predict: a form built from the predictor's `describe`, one prediction with its chart."""

from __future__ import annotations

import logging
import math
from typing import Any
from urllib.parse import quote

import dash
from dash import ALL, Input, Output, State, dcc, html
from jobkit import JobKitError
from jobkit.logs import log_context

from dashboard import charts, ui
from dashboard.auth import current_user
from dashboard.cloudwatch import cloudwatch_url
from dashboard.feedback_widget import widget
from dashboard.outputs import typed_output
from dashboard.predictor_client import InvalidInputs, ModelFailed, PredictorUnavailable
from dashboard.predictor_update import TRAINING_NOTE, watch_for
from dashboard.services import Services

log = logging.getLogger("dashboard.predict")
UPDATE_POLL_MS = 3000  # how often an open form looks whether a new model version is being trained


def _field_id(name: str) -> dict[str, str]:
    return {"type": "predict-input", "name": name}


def choice_options(choices: list[Any]) -> list[dict[str, Any]]:
    """Dropdown options that keep each choice's JSON type: the numeric choice 2 is sent as 2, not "2"."""
    return [{"label": str(c), "value": c} for c in choices if isinstance(c, str | int | float)
            and not isinstance(c, bool)]


def control(spec: dict[str, Any], control_id: dict[str, str]) -> Any:
    if spec.get("type") in ("choice", "column"):
        options = choice_options(list(spec.get("choices") or []))
        placeholder = "Upload a file or choose a sample first" if spec.get("type") == "column" else "Select..."
        return dcc.Dropdown(id=control_id, options=options, value=spec.get("default"),
                            clearable=False, className="choice", placeholder=placeholder)
    step = spec.get("step") or (1 if spec.get("type") == "integer" else "any")
    return dcc.Input(id=control_id, type="number", value=spec.get("default"),
                     min=spec.get("min"), max=spec.get("max"), step=step, className="number")


def field(spec: dict[str, Any], control_id: dict[str, str], error_id: dict[str, str],
          wrap_id: dict[str, str] | None = None) -> Any:
    """A labelled form control for one field description (the predictor's inputs, a batch job's
    params); `wrap_id` wraps the control in a Div a callback can redraw (a column picker's options)."""
    shown = control(spec, control_id)
    if wrap_id is not None:
        shown = html.Div(shown, id=wrap_id)
    limits = ""
    if spec.get("type") in ("number", "integer") and spec.get("min") is not None and spec.get("max") is not None:
        limits = f"{spec['min']:g} to {spec['max']:g}"
    return html.Div(
        [
            html.Label(spec.get("label") or spec["name"], className="field-label"),
            shown,
            html.Small(" · ".join(part for part in (spec.get("help", ""), limits) if part), className="help"),
            html.Div(id=error_id, className="field-error"),
        ],
        className="field",
    )


def _field(spec: dict[str, Any]) -> Any:
    return field(spec, _field_id(spec["name"]), {"type": "field-error", "name": spec["name"]})


def failure_notice(services: Services, error: PredictorUnavailable, notice_id: str) -> Any:
    """The stakeholder's message; for an error in the model's code, below it what the data
    scientist needs: the exception's type, message and line, and where its log lines are."""
    if not isinstance(error, ModelFailed):
        return ui.notice(str(error), notice_id=notice_id)
    settings = services.settings
    request = f"Lambda request id {error.request_id or '(none)'}: "
    if settings.local_log_dir is not None:
        where: list[Any] = [request + f"see {settings.local_log_dir / 'predictor.log'}."]
    elif settings.predictor_log_group and error.request_id:
        where = [request + "its log lines, with the traceback, are in ",
                 html.A("the predictor's logs (CloudWatch)", id=f"{notice_id}-logs", target="_blank", rel="noopener",
                        href=cloudwatch_url(settings.region, settings.predictor_log_group, error.request_id)),
                 "."]
    else:
        where = [request + "search for it in ",
                 html.A("the predictor's logs", href=function_console_url(settings.region, settings.predictor_function),
                        target="_blank", rel="noopener", id=f"{notice_id}-logs"),
                 " (the function's Monitor tab, View CloudWatch logs)."]
    return html.Div([
        html.Div(str(error), className="alert error", role="alert", id=notice_id),
        html.Details([
            html.Summary("Details for the model's developer"),
            html.Pre(error.failure.detail(), className="error-detail", id=f"{notice_id}-detail"),
            html.P(where, className="muted"),
        ], className="error-details"),
    ])


def function_console_url(region: str, function: str) -> str:
    """The Lambda console's page of `function` (a name or an ARN, with or without alias): its
    Monitor tab's "View CloudWatch logs" opens whatever log group the function's logging config names."""
    name = function.split(":")[6] if function.startswith("arn:") and function.count(":") >= 6 else function
    return (f"https://{region}.console.aws.amazon.com/lambda/home?region={region}"
            f"#/functions/{quote(name, safe='')}")


def layout(services: Services) -> Any:
    try:
        model = services.predictor.describe()
    except PredictorUnavailable as error:
        return html.Div([
            html.H1("Predict"),
            failure_notice(services, error, "describe-error"),
            html.A("Try again", href="/predict", className="button"),
        ])
    inputs = model["inputs"]
    examples = usable_examples(model)
    return html.Div(
        [
            html.Div([
                html.H1(model.get("title") or "Predict", id="model-title"),
                html.Span(f"Model {model.get('model_version', '')}", className="version-pill", id="model-version"),
            ], className="title-row"),
            html.P(model.get("description", ""), className="lead"),
            html.Div([html.Span("Try an example:", className="muted"),
                      *[html.Button(example["label"], id={"type": "predict-example", "index": n}, n_clicks=0,
                                    className="example") for n, example in enumerate(examples)]],
                     className="button-row examples", id="predict-examples",
                     style={} if examples else {"display": "none"}),
            dcc.Store(id="predict-example-inputs", data=[example["inputs"] for example in examples]),
            html.Div(
                [
                    html.Section([
                        html.H2("Inputs"),
                        html.Div([_field(spec) for spec in inputs], className="fields", id="predict-fields"),
                        html.Div(id="predict-form-note"),
                        html.Div(update_note(services), id="predict-update-note"),
                        dcc.Interval(id="predict-update-poll", interval=UPDATE_POLL_MS),
                        html.Div(id="predict-message"),
                        html.Button("Predict", id="predict-button", className="primary", n_clicks=0),
                    ], className="card"),
                    html.Section(
                        dcc.Loading(html.Div(
                            html.P("Fill in the inputs and press Predict.", className="muted"),
                            id="predict-result"), type="dot", delay_show=300),
                        className="card result-card",
                    ),
                ],
                className="two-columns",
            ),
            dcc.Store(id="predict-schema", data=inputs),
            dcc.Store(id="predict-form-version", data=model.get("model_version", "")),
        ]
    )


def update_note(services: Services) -> Any:
    """"A new version is being trained" while the predictor function is being updated, else nothing."""
    if not watch_for(services.predictor).in_progress():
        return None
    return ui.notice(TRAINING_NOTE, "info", notice_id="predict-training")


def usable_examples(model: dict[str, Any]) -> list[dict[str, Any]]:
    """The describe's examples that name a label and only inputs the form has."""
    names = {spec["name"] for spec in model.get("inputs", [])}
    return [example for example in model.get("examples") or []
            if isinstance(example, dict) and isinstance(example.get("label"), str)
            and isinstance(example.get("inputs"), dict) and set(example["inputs"]) <= names]


def _finite(value: Any) -> float | None:
    """The value as a finite float, or None when it is no usable number (text, bool, inf, 1e999...)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def pick_choice(choices: list[Any], value: Any) -> tuple[bool, Any]:
    """(found, the choice itself) for a submitted value: the choice with the same JSON type first,
    else the one whose text is the value ("2" picks the numeric choice 2, as an older form sent it)."""
    if value is None or isinstance(value, bool):
        return False, None
    for choice in choices:
        if type(choice) is type(value) and choice == value:
            return True, choice
    for choice in choices:
        if not isinstance(choice, bool) and str(choice) == str(value):
            return True, choice
    return False, None


def _step_problem(number: float, spec: dict[str, Any]) -> str | None:
    """The browser's step rule (base `min`), said with the step: None when the number is on it."""
    step, low = spec.get("step"), spec.get("min")
    if _finite(step) is None or step <= 0 or _finite(low) is None:
        return None
    steps = (number - low) / step
    if abs(steps - round(steps)) <= 1e-9 * max(1.0, abs(steps)):
        return None
    return f"Must be a multiple of {step:g} from {low:g} (got {number:g})."


def check_inputs(specs: list[dict[str, Any]], values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean values and per-field problems, by the field descriptions (before invoking)."""
    clean: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for spec in specs:
        name, kind, value = spec["name"], spec.get("type"), values.get(spec["name"])
        if kind in ("choice", "column"):
            found, choice = pick_choice(list(spec.get("choices") or []), value)
            if kind == "column" and value in (None, "") and spec.get("required") is False:
                clean[name] = None  # an optional column left unpicked
                continue
            if kind == "column" and value and not spec.get("choices"):
                found, choice = isinstance(value, str), value  # the file's header is checked on submit
            if not found:
                problems[name] = ("Please choose one of the file's columns." if kind == "column"
                                  else "Please choose one of the options.")
            else:
                clean[name] = choice
            continue
        low, high = spec.get("min"), spec.get("max")
        between = f" between {low:g} and {high:g}" if low is not None and high is not None else ""
        number = _finite(value)
        step = spec.get("step")
        on_grid = "" if kind == "integer" and step in (None, 1) or _finite(step) is None or _finite(low) is None \
            else f" that is a multiple of {step:g} from {low:g}"
        if number is None:
            # The browser sends nothing for a number off the input's step too: say the step.
            problems[name] = f"Please enter a number{between}{on_grid}."
        elif kind == "integer" and not number.is_integer():
            problems[name] = "Please enter a whole number."
        elif (low is not None and number < low) or (high is not None and number > high):
            problems[name] = f"Must be{between}."
        elif (off_step := _step_problem(number, spec)) is not None:
            problems[name] = off_step
        else:
            clean[name] = int(value) if kind == "integer" else value
    return clean, problems


def _result(services: Services, outcome: Any, prediction_id: str | None) -> Any:
    label = outcome.prediction.get("label", outcome.prediction.get("value", ""))
    model_ms = outcome.timing_ms.get("predict")
    timing = f"{outcome.latency_ms:.0f} ms"
    if isinstance(model_ms, int | float):
        timing += f" (model {model_ms:.1f} ms)"
    parts: list[Any] = [
        html.Div([html.Span("Prediction", className="muted"),
                  html.Div(str(label), className="prediction-label", id="prediction-label")]),
        html.Div([html.Span(f"Model {outcome.model_version}", className="version-pill"),
                  html.Span(timing, className="latency", id="prediction-latency")], className="meta-row"),
        dcc.Store(id="answer-version", data=outcome.model_version),  # the form follows it (refresh_form)
    ]
    typed = typed_output(outcome.prediction, _declared_output(services))
    if typed is not None:
        parts.append(typed)
    if outcome.chart:
        parts.append(charts.graph(outcome.chart, "prediction-chart", height=320))
    if prediction_id:
        parts.append(widget("prediction", prediction_id))
    else:
        parts.append(ui.notice("This prediction could not be saved, so it cannot get feedback.", "info"))
    return html.Div(parts)


def _declared_output(services: Services) -> dict[str, Any] | None:
    """The model's OUTPUT declaration from its (cached) describe, or None when it cannot be read."""
    try:
        output = services.predictor.describe().get("output")
    except PredictorUnavailable:
        return None
    return output if isinstance(output, dict) else None


def register(app: dash.Dash, services: Services) -> None:
    # The header (app.py) marks the page's section; "/" shows this page, so Predict is active there.
    @app.callback(*[Output(f"nav-{name}", "className") for name in ui.NAV_SECTIONS], Input("url", "pathname"))
    def mark_active_section(pathname: str | None) -> list[str]:
        return ui.nav_classes(pathname)

    @app.callback(
        Output({"type": "predict-input", "name": ALL}, "value"),
        Input({"type": "predict-example", "index": ALL}, "n_clicks"),
        State("predict-example-inputs", "data"),
        State({"type": "predict-input", "name": ALL}, "id"),
        State({"type": "predict-input", "name": ALL}, "value"),
        prevent_initial_call=True,
    )
    def fill_example(clicks: list[int], examples: list[dict[str, Any]], ids: list[dict[str, str]],
                     values: list[Any]) -> list[Any]:
        """One click on an example fills the form with its inputs (the others keep their values)."""
        trigger = dash.ctx.triggered_id
        if not trigger or not any(clicks or []):
            raise dash.exceptions.PreventUpdate
        try:
            example = examples[int(trigger["index"])]
        except (IndexError, KeyError, TypeError, ValueError):
            raise dash.exceptions.PreventUpdate from None
        return [example.get(i["name"], value) for i, value in zip(ids, values, strict=True)]

    @app.callback(Output("predict-update-note", "children"), Input("predict-update-poll", "n_intervals"),
                  State("predict-update-note", "children"), prevent_initial_call=True)
    def show_update(_ticks: int, shown: Any) -> Any:
        note = update_note(services)
        if (note is None) == (not shown):
            raise dash.exceptions.PreventUpdate  # unchanged: nothing to redraw
        return note

    @app.callback(
        Output("model-version", "children"),
        Output("model-title", "children"),
        Output("predict-form-version", "data"),
        Output("predict-fields", "children"),
        Output("predict-schema", "data"),
        Output("predict-form-note", "children"),
        Input("answer-version", "data"),
        State("predict-form-version", "data"),
        State("predict-schema", "data"),
        prevent_initial_call=True,
    )
    def refresh_form(answer_version: str | None, form_version: str | None,
                     specs: list[dict[str, Any]] | None) -> tuple[Any, ...]:
        """An answer from another model version than the form's: the model was edited or deployed
        since the page loaded. Describe it again so the header (and the form, if its inputs
        changed) match the answer."""
        if not answer_version or answer_version == form_version:
            raise dash.exceptions.PreventUpdate
        services.predictor.forget_description()
        try:
            model = services.predictor.describe()
        except PredictorUnavailable:
            raise dash.exceptions.PreventUpdate from None
        inputs = model["inputs"]
        same_form = inputs == specs
        note = None if same_form else ui.notice(
            "The model changed while this page was open; the form now shows its new inputs.", "info")
        return (f"Model {model.get('model_version', '')}", model.get("title") or "Predict",
                model.get("model_version", ""), dash.no_update if same_form else [_field(s) for s in inputs],
                dash.no_update if same_form else inputs, note)

    @app.callback(
        Output("predict-result", "children"),
        Output({"type": "field-error", "name": ALL}, "children"),
        Output("predict-message", "children"),
        Input("predict-button", "n_clicks"),
        State({"type": "predict-input", "name": ALL}, "value"),
        State({"type": "predict-input", "name": ALL}, "id"),
        State("predict-schema", "data"),
        State({"type": "field-error", "name": ALL}, "id"),
        prevent_initial_call=True,
        running=[(Output("predict-button", "disabled"), True, False)],
    )
    def predict(_clicks: int, values: list[Any], ids: list[dict[str, str]], specs: list[dict[str, Any]],
                error_ids: list[dict[str, str]]) -> tuple[Any, list[Any], Any]:
        names = [i["name"] for i in error_ids]

        def field_errors(problems: dict[str, str]) -> list[Any]:
            return [problems.get(name, "") for name in names]

        try:
            clean, problems = check_inputs(specs, {i["name"]: v for i, v in zip(ids, values, strict=True)})
        except (KeyError, TypeError, ValueError):  # the form's description did not come from this page
            return dash.no_update, field_errors({}), ui.notice("This form is out of date. Please reload the page.")
        if problems:
            return dash.no_update, field_errors(problems), ui.notice("Please correct the highlighted inputs.")
        try:
            outcome = services.predictor.predict(clean)
        except InvalidInputs as error:
            unknown = {k: v for k, v in error.fields.items() if k not in names}
            extra = "; ".join(f"{k}: {v}" for k, v in unknown.items())
            return dash.no_update, field_errors(error.fields), ui.notice(
                f"The model could not use these inputs: {error}" + (f" ({extra})" if extra else ""))
        except PredictorUnavailable as error:
            return dash.no_update, field_errors({}), failure_notice(services, error, "predict-error")
        prediction_id = None
        with log_context(lambda_request_id=outcome.request_id):
            try:
                recorded = services.store.record_prediction(
                    owner=current_user() or "", inputs=clean, output=outcome.prediction,
                    model_version=outcome.model_version, latency_ms=outcome.latency_ms,
                )
                prediction_id = recorded.prediction_id
            except JobKitError:
                log.exception("could not record the prediction")
        return _result(services, outcome, prediction_id), field_errors({}), None
