"""The predict page: a form from `describe`, predictions recorded, field errors, clear failures."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re

import pytest
from dashboard.cloudwatch import cloudwatch_url
from dashboard.function_errors import classify
from dashboard.pages.predict import check_inputs, failure_notice, function_console_url
from dashboard.predictor_client import InvalidInputs, ModelFailed
from jobkit.logs import JsonFormatter

from tests.dashboard.conftest import predictor_for, prop
from tests.dashboard.lambda_stub import DESCRIBE, Reply, good_answer
from tests.fixtures.models import classifier as MODEL

FIELDS = [i["name"] for i in DESCRIBE["inputs"]]


def page(dash_call, path="/predict"):
    return json.dumps(dash_call.call("page.children", [prop("url", "pathname", path)]))


def predict(dash_call, values, schema=DESCRIBE["inputs"]):
    ids = [{"type": "predict-input", "name": n} for n in FIELDS]
    error_ids = [{"type": "field-error", "name": n} for n in FIELDS]
    return dash_call(
        "predict-result.children",
        [prop("predict-button", "n_clicks", 1)],
        state=[[prop(i, "value", values.get(i["name"])) for i in ids],
               [prop(i, "id", i) for i in ids],
               prop("predict-schema", "data", schema),
               [prop(i, "id", i) for i in error_ids]],
        changed=["predict-button.n_clicks"],
        outputs=[{"id": "predict-result", "property": "children"},
                 [{"id": i, "property": "children"} for i in error_ids],
                 {"id": "predict-message", "property": "children"}],
    )


def outputs(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = json.loads(response.get_data())["response"]
    keys = [json.dumps({"name": n, "type": "field-error"}, separators=(",", ":")) for n in FIELDS]
    errors = [body[k]["children"] for k in keys] if keys[0] in body else None
    return body.get("predict-result", {}).get("children"), errors, body.get("predict-message", {}).get("children")


GOOD = {"weight_kg": 6.5, "stops": 3, "carrier": "rail", "priority": 2}
LABEL = good_answer({"action": "predict", "inputs": GOOD})["prediction"]["label"]
VERSION = MODEL.MODEL_VERSION


def test_form_is_built_from_describe_and_describe_is_cached(dash_call, lambda_stub):
    first = page(dash_call)
    for spec in DESCRIBE["inputs"]:
        assert spec["label"] in first and spec["name"] in first
    assert MODEL.TITLE in first and VERSION in first and "As on the parcel's label." in first
    page(dash_call)
    page(dash_call, "/")
    assert [e["action"] for e in lambda_stub.events] == ["describe"]
    assert lambda_stub.events[0]["path"] == "/2015-03-31/functions/stub-predictor/invocations"


def test_describe_cache_expires(lambda_stub):
    client = predictor_for(lambda_stub, cache_seconds=0)
    client.describe()
    client.describe()
    assert len(lambda_stub.events) == 2


def test_prediction_shows_label_chart_latency_version_and_is_recorded(dash_call, store, lambda_stub):
    result, errors, message = outputs(predict(dash_call, GOOD))
    text = json.dumps(result)
    assert LABEL in text and VERSION in text and "prediction-chart" in text and " ms" in text
    assert "output-probabilities" in text  # the declared output kind, beside the label
    assert errors == ["", "", "", ""] and message is None
    assert [e for e in lambda_stub.events if e["action"] == "predict"][-1]["inputs"] == GOOD
    recorded = store.list_recent_predictions().items
    assert len(recorded) == 1
    assert recorded[0].owner == "alice" and recorded[0].inputs == GOOD
    assert recorded[0].output["label"] == LABEL and recorded[0].model_version == VERSION
    assert recorded[0].prediction_id in text  # the feedback box is bound to this prediction


def test_client_checks_catch_missing_and_out_of_range_values_without_invoking(dash_call, lambda_stub):
    _, errors, message = outputs(predict(dash_call, {"weight_kg": 99, "stops": 4.5, "carrier": None,
                                                     "priority": "3"}))
    assert "between 0.5 and 30" in errors[0]
    assert "whole number" in errors[1]
    assert "choose" in errors[2] and "choose" in errors[3]
    assert "correct" in json.dumps(message)
    assert lambda_stub.events == []


def test_check_inputs_converts_integers_and_rejects_non_numbers():
    clean, problems = check_inputs(DESCRIBE["inputs"], {"weight_kg": 2, "stops": 7.0, "carrier": "air",
                                                        "priority": "2"})
    assert clean == {"weight_kg": 2, "stops": 7, "carrier": "air", "priority": 2} and problems == {}
    assert isinstance(clean["priority"], int)  # "2" from an older form is the numeric choice 2
    _, problems = check_inputs(DESCRIBE["inputs"], {"weight_kg": "2", "stops": True, "carrier": "boat",
                                                    "priority": 3})
    assert set(problems) == {"weight_kg", "stops", "carrier", "priority"}


def test_predictor_field_errors_show_next_to_their_fields(dash_call, lambda_stub):
    lambda_stub.respond = lambda event: Reply({"ok": False, "error": {
        "type": "validation", "message": "Some inputs are not usable.",
        "fields": {"stops": "odd numbers only", "extra": "unknown input"}}})
    result, errors, message = outputs(predict(dash_call, GOOD))
    assert errors == ["", "odd numbers only", "", ""]
    assert "Some inputs are not usable." in json.dumps(message) and "extra: unknown input" in json.dumps(message)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply({"errorType": "Sandbox.Timedout",
                "errorMessage": "RequestId: 1 Error: Task timed out after 30.00 seconds"}, function_error="Unhandled"),
         "took too long"),
        (Reply(raw=b"<html>502 bad gateway</html>"), "cannot read"),
        (Reply({"ok": True, "prediction": "not-a-dict"}), "cannot read"),
        (Reply({"__type": "TooManyRequestsException", "message": "Rate Exceeded."}, status=429),
         "busy with other requests"),
        (Reply({"message": "boom"}, status=500), "not available right now"),
    ],
    ids=["function-timeout", "garbage", "wrong-shape", "throttled", "service-error"],
)
def test_predictor_failures_give_a_clear_retryable_message_and_are_logged(dash_call, lambda_stub, caplog,
                                                                          reply, expected):
    lambda_stub.respond = lambda event: good_answer(event) and (Reply(good_answer(event))
                                                                 if event["action"] == "describe" else reply)
    with caplog.at_level(logging.ERROR, logger="dashboard.predictor"):
        result, _, message = outputs(predict(dash_call, GOOD))
    assert expected in json.dumps(message) and "try again" in json.dumps(message).lower()
    assert result is None  # the previous result (if any) stays; the button works again
    assert caplog.records and caplog.records[-1].__dict__.get("action") == "predict"
    assert re.fullmatch(r"[0-9a-f]{32}", caplog.records[-1].__dict__["lambda_request_id"])  # the stub's
    assert sum(event["action"] == "predict" for event in lambda_stub.events) == 1  # never re-sent


@pytest.mark.parametrize("predictor_timeout", [0.5])
def test_a_slow_predictor_times_out_with_a_message_and_the_request_id_in_the_log(dash_call, lambda_stub):
    lambda_stub.respond = lambda event: Reply(good_answer(event), delay=0 if event["action"] == "describe" else 1.5)
    page(dash_call)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter("dashboard"))  # formats as it logs, inside the request
    logger = logging.getLogger("dashboard.predictor")
    logger.addHandler(handler)
    try:
        response = predict(dash_call, GOOD)
    finally:
        logger.removeHandler(handler)
    message = json.dumps(outputs(response)[2])
    assert "took too long" in message and "try again" in message.lower()
    # One attempt only: botocore would otherwise re-run the slow model and double the wait.
    assert sum(event["action"] == "predict" for event in lambda_stub.events) == 1
    (logged,) = [json.loads(line) for line in lines.getvalue().splitlines()
                 if json.loads(line)["message"] == "predictor timed out"]
    assert logged["request_id"] == response.headers["X-Request-Id"] and len(logged["request_id"]) == 32


KEY_ERROR = {  # awslambdaric's report of a KeyError in predict() (and the local twin's, the same runtime)
    "errorMessage": "'weight'", "errorType": "KeyError", "requestId": "r-1",
    "stackTrace": ['  File "/var/lang/lib/python3.12/site-packages/awslambdaric/bootstrap.py", line 1, in handle\n',
                   '  File "/var/task/predictor/handler.py", line 50, in handler\n    PREDICTOR.handle(event)\n',
                   '  File "/var/task/predictor/model.py", line 30, in predict\n    score = record["weight"]\n',
                   '  File "/var/lang/lib/python3.12/site-packages/numpy/core.py", line 9, in f\n']}


def test_a_code_error_is_not_a_transient(dash_call, lambda_stub, caplog):
    lambda_stub.respond = lambda event: (Reply(good_answer(event)) if event["action"] == "describe"
                                         else Reply(KEY_ERROR, function_error="Unhandled"))
    with caplog.at_level(logging.ERROR, logger="dashboard.predictor"):
        _, _, message = outputs(predict(dash_call, GOOD))
    text = json.dumps(message)
    assert "The model could not answer this input." in text and "try again" not in text.lower()
    assert "KeyError: 'weight' (at predictor/model.py:30 in predict)" in text  # the app's frame, not numpy's
    logged = caplog.records[-1].__dict__
    where = "predictor/model.py:30 in predict"
    assert (logged["error_type"], logged["where"], logged["failure"]) == ("KeyError", where, "code")
    assert sum(event["action"] == "predict" for event in lambda_stub.events) == 1  # never re-sent


def test_a_model_whose_init_fails_says_it_cannot_start(dash_call, lambda_stub):
    lambda_stub.respond = lambda event: Reply({
        "errorMessage": "Unable to import module 'predictor.handler': No module named 'pandas'",
        "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}, function_error="Unhandled")
    text = page(dash_call)
    assert "The model cannot start: Runtime.ImportModuleError: Unable to import module" in text
    assert "No module named 'pandas'" in text and "Please try again" not in text


def test_describe_failure_shows_a_message_and_a_way_to_retry(dash_call, lambda_stub):
    lambda_stub.respond = lambda event: Reply({"errorMessage": "init failed"}, function_error="Unhandled")
    text = page(dash_call)
    assert "describe-error" in text and "Try again" in text
    lambda_stub.respond = lambda event: Reply(good_answer(event))
    assert MODEL.TITLE in page(dash_call)  # a failure is not cached


def test_invalid_inputs_carry_their_fields(lambda_stub):
    lambda_stub.respond = lambda event: Reply({"ok": False, "error": {"type": "validation", "message": "no",
                                                                     "fields": {"weight_kg": "too heavy"}}})
    with pytest.raises(InvalidInputs) as error:
        predictor_for(lambda_stub).predict(GOOD)
    assert error.value.fields == {"weight_kg": "too heavy"}


EXAMPLES = [{"label": "A big slow one", "inputs": {"weight_kg": 20.5, "stops": 8, "carrier": "road", "priority": 1}},
            {"label": "Unknown field", "inputs": {"height": 3}}]


def test_examples_from_describe_fill_the_form_in_one_click(dash_call, lambda_stub):
    lambda_stub.respond = lambda event: Reply({**DESCRIBE, "examples": EXAMPLES} if event["action"] == "describe"
                                              else good_answer(event))
    text = page(dash_call)
    assert "A big slow one" in text and "Unknown field" not in text  # an example the form cannot hold is left out
    ids = [{"type": "predict-input", "name": n} for n in FIELDS]
    response = dash_call(
        '{"name":["ALL"],"type":"predict-input"}.value',
        [[prop({"type": "predict-example", "index": 0}, "n_clicks", 1)]],
        state=[prop("predict-example-inputs", "data", [EXAMPLES[0]["inputs"]]),
               [prop(i, "id", i) for i in ids], [prop(i, "value", None) for i in ids]],
        changed=['{"index":0,"type":"predict-example"}.n_clicks'],
        outputs=[[{"id": i, "property": "value"} for i in ids]],
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = json.loads(response.get_data())["response"]
    filled = [body[json.dumps({"name": n, "type": "predict-input"}, separators=(",", ":"))]["value"] for n in FIELDS]
    assert filled == [20.5, 8, "road", 1]


def test_the_pages_menu_item_is_active_and_slash_is_predict(dash_call):
    def classes(path):
        body = dash_call.call("nav-predict.className", [prop("url", "pathname", path)])
        return [body[f"nav-{name}"]["className"] for name in ("predict", "jobs", "feedback")]

    assert classes("/") == ["nav-link active", "nav-link", "nav-link"]
    assert classes("/jobs/" + "a" * 32) == ["nav-link", "nav-link active", "nav-link"]
    assert classes("/feedback/") == ["nav-link", "nav-link", "nav-link active"]
    assert classes("/nowhere") == ["nav-link", "nav-link", "nav-link"]


def refresh_form(dash_call, answer_version, form_version, schema=DESCRIBE["inputs"]):
    return dash_call("model-version.children", [prop("answer-version", "data", answer_version)],
                     state=[prop("predict-form-version", "data", form_version), prop("predict-schema", "data", schema)],
                     changed=["answer-version.data"])


def test_an_answer_from_a_new_model_version_refreshes_the_forms_description(dash_call, lambda_stub):
    page(dash_call)  # the form was drawn from the fixture's version (and describe is cached for 30 s)
    result, _, _ = outputs(predict(dash_call, GOOD))
    assert '"id": "answer-version"' in json.dumps(result) and VERSION in json.dumps(result)
    assert refresh_form(dash_call, VERSION, VERSION).status_code == 204  # same: nothing to do

    edited = {**DESCRIBE, "model_version": "edited-model-2",
              "inputs": [*DESCRIBE["inputs"], {"name": "width", "label": "Width (cm)", "type": "number",
                                               "min": 0.1, "max": 3.0, "step": 0.1, "default": 1.0}]}
    lambda_stub.respond = lambda event: Reply(edited if event["action"] == "describe" else good_answer(event))
    response = refresh_form(dash_call, "edited-model-2", VERSION)
    assert response.status_code == 200
    body = json.loads(response.get_data())["response"]
    assert body["model-version"]["children"] == "Model edited-model-2"  # header and answer agree
    assert body["predict-form-version"]["data"] == "edited-model-2"
    assert "Width (cm)" in json.dumps(body["predict-fields"]["children"])
    assert body["predict-schema"]["data"] == edited["inputs"]
    assert "model changed" in json.dumps(body["predict-form-note"]["children"])
    assert [e["action"] for e in lambda_stub.events].count("describe") == 2  # the cache was dropped once


def test_in_the_cloud_a_code_error_links_the_functions_logs(lambda_stub, app):
    services = app.services
    cloud = dataclasses.replace(services, settings=dataclasses.replace(services.settings, local_log_dir=None))
    error = ModelFailed("The model could not answer this input.", classify(json.dumps(KEY_ERROR).encode()), "r-9")
    text = json.dumps(failure_notice(cloud, error, "predict-error").to_plotly_json(), default=str)
    url = function_console_url("eu-west-1", "arn:aws:lambda:eu-west-1:123456789012:function:proto-predictor:live")
    assert url == ("https://eu-west-1.console.aws.amazon.com/lambda/home?region=eu-west-1"
                   "#/functions/proto-predictor")
    assert function_console_url("eu-west-1", "proto-predictor") == url
    assert "Lambda request id r-9" in text and "predict-error-logs" in text


def test_with_the_predictor_log_group_known_a_code_error_links_its_own_log_lines(lambda_stub, app):
    services = app.services
    settings = dataclasses.replace(services.settings, local_log_dir=None, region="eu-west-1",
                                   predictor_log_group="/aws/lambda/proto-predictor")
    cloud = dataclasses.replace(services, settings=settings)
    error = ModelFailed("The model could not answer this input.", classify(json.dumps(KEY_ERROR).encode()), "r-9")
    text = json.dumps(failure_notice(cloud, error, "predict-error").to_plotly_json(), default=str)
    assert cloudwatch_url("eu-west-1", "/aws/lambda/proto-predictor", "r-9") in text  # filtered to this request
    assert "/lambda/home" not in text
