"""The predictor as the dashboard meets it: boto3's Lambda client against the local endpoint,
running the real handler in warm instance processes."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.models import classifier as model
from tests.predictor.lambda_support import invoke, log_lines, runtime_children

LIGHT = {"weight_kg": 1.0, "stops": 0, "carrier": "air", "priority": 1}  # on time
HEAVY = {"weight_kg": 28.0, "stops": 11, "carrier": "rail", "priority": 2}  # late


def expected(trained, inputs):
    """(label value, {class: probability}) straight from the model module, in this process."""
    answer = model.predict(trained, inputs)
    return answer.value, answer.details["probabilities"]


def test_describe_lists_every_input_with_its_type_and_range(client):
    reply = invoke(client, {"action": "describe"})
    assert (reply.status, reply.function_error) == (200, None)
    body = reply.body
    assert body["ok"] is True
    assert body["model_version"] == model.MODEL_VERSION
    assert body["title"] and body["description"]
    assert [i["name"] for i in body["inputs"]] == [field.name for field in model.INPUTS]
    assert [i["type"] for i in body["inputs"]] == ["number", "integer", "choice", "choice"]
    for spec in body["inputs"]:
        assert {"label", "help", "default"} <= set(spec)
        if spec["type"] == "choice":
            assert spec["default"] in spec["choices"]
        else:
            assert spec["min"] <= spec["default"] <= spec["max"] and "step" in spec
    assert body["inputs"][3]["choices"] == [1, 2]  # numeric choices stay numbers in JSON
    assert body["output"] == model.OUTPUT
    assert set(body["timing_ms"]) >= {"init", "cold_start"}


@pytest.mark.parametrize(("inputs", "species"), [(LIGHT, "on time"), (HEAVY, "late")])
def test_a_prediction_matches_the_model(client, trained, inputs, species):
    reply = invoke(client, {"action": "predict", "inputs": inputs})
    assert (reply.status, reply.function_error) == (200, None)
    body = reply.body
    assert body["ok"] is True and body["model_version"] == model.MODEL_VERSION
    best, probabilities = expected(trained, inputs)
    assert best == species  # the two records sit on either side of the model's boundary
    assert body["prediction"]["value"] == species
    assert species in body["prediction"]["label"].lower()
    for name, p in probabilities.items():
        assert math.isclose(body["prediction"]["probabilities"][name], p, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(sum(body["prediction"]["probabilities"].values()), 1.0, rel_tol=1e-9)
    bars = body["chart"]["data"][0]
    assert bars["type"] == "bar" and bars["x"] == list(probabilities)
    assert bars["y"] == pytest.approx(list(probabilities.values()), abs=1e-4)
    timing = body["timing_ms"]
    assert timing["predict"] >= 0 and timing["total"] >= timing["predict"] and timing["init"] > 0
    assert isinstance(timing["cold_start"], bool)


def test_integral_values_are_numbers_too(client):
    reply = invoke(client, {"action": "predict", "inputs": {**LIGHT, "weight_kg": 5, "stops": 3.0}})
    assert reply.body["ok"] is True, reply.body


INVALID = [
    ("missing field", {"action": "predict", "inputs": {k: v for k, v in LIGHT.items() if k != "stops"}},
     "validation", {"stops": "is missing"}),
    ("wrong type", {"action": "predict", "inputs": {**LIGHT, "weight_kg": "5.5"}},
     "validation", {"weight_kg": "must be a number, not a string"}),
    ("boolean is not a number", {"action": "predict", "inputs": {**LIGHT, "weight_kg": True}},
     "validation", {"weight_kg": "must be a number, not a boolean"}),
    ("null", {"action": "predict", "inputs": {**LIGHT, "weight_kg": None}},
     "validation", {"weight_kg": "must be a number, not null"}),
    ("out of range", {"action": "predict", "inputs": {**LIGHT, "weight_kg": 31.5}},
     "validation", {"weight_kg": "must be between 0.5 and 30 (got 31.5)"}),
    ("not a whole number", {"action": "predict", "inputs": {**LIGHT, "stops": 2.5}},
     "validation", {"stops": "must be a whole number (got 2.5)"}),
    ("not a choice", {"action": "predict", "inputs": {**LIGHT, "carrier": "sea"}},
     "validation", {"carrier": "must be one of: road, rail, air"}),
    ("unknown field", {"action": "predict", "inputs": {**LIGHT, "colour": "blue"}},
     "validation", {"colour": "is not an input of this model"}),
    ("inputs not an object", {"action": "predict", "inputs": [1.0, 0, "air", 1]},
     "bad_request", {"inputs": "must be a JSON object, not an array"}),
    ("inputs missing", {"action": "predict"}, "bad_request", {"inputs": "is missing"}),
    ("event not an object", ["predict"], "bad_request", {"event": "must be a JSON object, not an array"}),
    ("event is a string", "predict", "bad_request", {"event": "must be a JSON object, not a string"}),
    ("no action", {"inputs": LIGHT}, "bad_request", {"action": "is missing"}),
    ("unknown action", {"action": "train"}, "bad_request", {"action": "must be one of: describe, predict"}),
    ("too many fields", {"action": "predict", "inputs": {f"f{n}": 1 for n in range(101)}},
     "payload_too_large", {"inputs": "has more than 100 fields"}),
    ("long string", {"action": "predict", "inputs": {**LIGHT, "note": "x" * 1025}},
     "payload_too_large", {"note": "is longer than 1024 bytes"}),
]


@pytest.mark.parametrize(("case", "event", "kind", "fields"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_input_is_a_structured_error_not_a_function_error(client, case, event, kind, fields):
    reply = invoke(client, event)
    assert (reply.status, reply.function_error) == (200, None), case
    error = reply.body["error"]
    assert reply.body["ok"] is False
    assert error["type"] == kind
    assert error["fields"] == fields
    assert error["message"]
    assert "Traceback" not in json.dumps(reply.body)


def test_every_problem_is_reported_at_once(client):
    inputs = {"weight_kg": 99, "stops": "many", "colour": "red"}
    error = invoke(client, {"action": "predict", "inputs": inputs}).body["error"]
    assert error["type"] == "validation"
    assert set(error["fields"]) == {"weight_kg", "stops", "carrier", "priority", "colour"}
    assert "5 inputs are invalid" in error["message"]


def test_a_payload_over_lambdas_6mb_limit_is_refused_before_the_handler(client):
    inputs = {**LIGHT, "padding": "x" * 6_291_456}
    with pytest.raises(ClientError) as raised:
        invoke(client, {"action": "predict", "inputs": inputs})
    response = raised.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert "6291456" in response["Error"]["Message"]
    # the endpoint keeps serving after draining the oversized body
    assert invoke(client, {"action": "describe"}).body["ok"] is True


def test_a_payload_just_under_the_limit_reaches_the_handler(client):
    padding = "x" * (6_291_456 - 200)
    payload = json.dumps({"action": "predict", "inputs": {**LIGHT, "padding": padding}})
    assert len(payload) <= 6_291_456
    reply = invoke(client, None, raw=payload.encode())
    assert reply.function_error is None
    assert reply.body["error"]["type"] == "payload_too_large"  # the handler's own 1 KB string limit


def test_twenty_concurrent_invokes_are_all_answered_correctly(client, trained, predictor_server):
    records = [
        {"weight_kg": 1.0 + 1.5 * n, "stops": n % 13, "carrier": ("road", "rail", "air")[n % 3], "priority": 1 + n % 2}
        for n in range(20)
    ]
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda r: invoke(client, {"action": "predict", "inputs": r}), records))
    answers_seen = set()
    for record, reply in zip(records, replies, strict=True):
        assert reply.function_error is None and reply.body["ok"] is True, reply.body
        best, probabilities = expected(trained, record)
        assert reply.body["prediction"]["value"] == best
        assert reply.body["prediction"]["probabilities"] == pytest.approx(probabilities)
        answers_seen.add(best)
    assert len(answers_seen) >= 2  # the records span more than one answer
    assert len({r.request_id for r in replies}) == 20
    assert 1 <= len(runtime_children(predictor_server)) <= predictor_server.instances


def test_the_first_invoke_of_an_instance_is_a_cold_start_and_init_is_logged(predictor_server, client):
    replies = [invoke(client, {"action": "describe"}) for _ in range(4)]
    # one at a time, the same warm instance answers: at most the first is a cold start
    assert all(r.body["timing_ms"]["cold_start"] is False for r in replies[1:])
    assert all(r.body["timing_ms"]["init"] > 0 for r in replies)
    lines = log_lines(predictor_server.log_path)
    inits = [line for line in lines if line["message"] == "predictor initialised"]
    assert 1 <= len(inits) <= predictor_server.instances
    assert all(line["init_ms"] > 0 and line["model_version"] == model.MODEL_VERSION for line in inits)
    assert all(line["trained_at_init"] is False for line in inits)  # the artifact was cached
    invokes = [line for line in lines if line["message"] == "invoke"]
    assert sum(line["cold_start"] for line in invokes) == len(inits)  # one cold start per instance
    logged = {line["request_id"]: line for line in invokes}
    for reply in replies:
        assert logged[reply.request_id]["duration_ms"] >= 0
        assert logged[reply.request_id]["service"] == "predictor"
