"""Validation of one request's inputs against the model's fields (no server)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from predictor.interface import Choice, Integer, Number
from predictor.validation import RequestError, check_inputs

from tests.fixtures.models import classifier as MODEL

FIELDS = [
    Number("x", "X", min=-1.0, max=1.0, default=0.0),
    Integer("n", "N", min=1, max=10, default=3),
    Choice("kind", "Kind", choices=("red", "green"), default="red"),
]
GOOD = {"x": 0.5, "n": 4, "kind": "green"}


def problems(inputs, fields=FIELDS, **limits):
    with pytest.raises(RequestError) as raised:
        check_inputs(inputs, fields, **limits)
    return raised.value.kind, raised.value.fields


def test_a_good_record_is_returned_converted():
    assert check_inputs({**GOOD, "n": 4.0}, FIELDS) == {"x": 0.5, "n": 4, "kind": "green"}
    assert isinstance(check_inputs({**GOOD, "x": 1}, FIELDS)["x"], float)


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"x": "0.5"}, "x", "must be a number, not a string"),
        ({"x": [1]}, "x", "must be a number, not an array"),
        ({"x": 1.5}, "x", "must be between -1 and 1 (got 1.5)"),
        ({"x": math.nan}, "x", "must be a finite number"),
        ({"n": 2.5}, "n", "must be a whole number (got 2.5)"),
        ({"n": False}, "n", "must be a whole number, not a boolean"),
        ({"n": 11}, "n", "must be between 1 and 10 (got 11)"),
        ({"n": {"v": 1}}, "n", "must be a whole number, not an object"),
        ({"kind": "blue"}, "kind", "must be one of: red, green"),
        ({"kind": 1}, "kind", "must be one of: red, green"),
        ({"x": 0.55}, "x", "must be a multiple of 0.1 from -1 (got 0.55)"),
    ],
)
def test_each_wrong_value_names_its_field_and_problem(change, field, problem):
    assert problems({**GOOD, **change}) == ("validation", {field: problem})


def test_missing_and_unknown_fields():
    assert problems({"x": 0.1, "n": 2, "size": 3}) == (
        "validation", {"kind": "is missing", "size": "is not an input of this model"},
    )


def test_a_very_long_unknown_name_is_cut_short_in_the_error():
    name = "z" * 500
    kind, fields = problems({**GOOD, name: 1})
    assert kind == "validation"
    assert list(fields) == ["z" * 64 + "..."]


@pytest.mark.parametrize("inputs", [None, [], "x=1", 3])
def test_inputs_that_are_not_an_object(inputs):
    kind, fields = problems(inputs)
    assert kind == "bad_request" and "must be a JSON object" in fields["inputs"]


def test_absurdly_large_inputs_are_refused_before_validation():
    assert problems({f"f{i}": 0 for i in range(101)})[0] == "payload_too_large"
    assert problems({**GOOD, "kind": "é" * 513}) == ("payload_too_large", {"kind": "is longer than 1024 bytes"})
    kind, fields = problems({"k" * 2000: 1})
    assert kind == "payload_too_large" and list(fields.values()) == ["field name is longer than 1024 bytes"]
    # the limits are settings, not constants
    assert problems(GOOD, max_fields=2)[0] == "payload_too_large"


def test_the_error_response_has_the_contract_shape():
    with pytest.raises(RequestError) as raised:
        check_inputs({}, FIELDS)
    response = raised.value.response()
    assert response["ok"] is False
    assert set(response["error"]) == {"type", "message", "fields"}
    assert response["error"]["message"].startswith("3 inputs are invalid")


def valid_value(field) -> st.SearchStrategy:
    """Any value a field accepts, whatever its kind (a Choice has no range, only its choices)."""
    if isinstance(field, Choice):
        return st.sampled_from(field.choices)
    if isinstance(field, Integer):
        return st.integers(min_value=field.min, max_value=field.max)
    steps = int(round((field.max - field.min) / field.step))  # on the step grid from min, as a browser allows
    return st.integers(min_value=0, max_value=steps).map(lambda n: field.min + n * field.step)


RANGED = [f for f in MODEL.INPUTS if not isinstance(f, Choice)]


def test_a_number_off_its_step_is_refused_naming_the_step_and_its_base_as_a_browser_does():
    half = Number("w", "W", min=0.5, max=30.0, step=0.5, default=2.0)
    assert check_inputs({"w": 1.5}, [half]) == {"w": 1.5}
    assert problems({"w": 0.75}, [half]) == ("validation", {"w": "must be a multiple of 0.5 from 0.5 (got 0.75)"})
    odd = Number("o", "O", min=0.25, max=3.0, step=0.5, default=0.75)  # the grid is 0.25, 0.75, ...
    assert problems({"o": 1.0}, [odd]) == ("validation", {"o": "must be a multiple of 0.5 from 0.25 (got 1)"})
    assert check_inputs({"o": 1.25}, [odd]) == {"o": 1.25}
    evens = Integer("e", "E", min=0, max=10, step=2, default=4)
    assert problems({"e": 3}, [evens]) == ("validation", {"e": "must be a multiple of 2 from 0 (got 3)"})
    anything = Number("a", "A", min=0.0, max=1.0, step=None, default=0.5)
    assert check_inputs({"a": 0.123456}, [anything]) == {"a": 0.123456}


def test_a_numeric_choice_takes_the_number_and_says_so_when_sent_text():
    priority = Choice("p", "P", choices=(1, 2), default=2)
    assert check_inputs({"p": 2}, [priority]) == {"p": 2}
    assert check_inputs({"p": 2.0}, [priority]) == {"p": 2}
    assert problems({"p": "2"}, [priority]) == (
        "validation", {"p": "must be one of: 1, 2 (send the number 2, not the text '2')"})


def test_the_fixture_covers_every_field_kind():
    kinds = {type(f) for f in MODEL.INPUTS}
    choice_types = {type(c) for f in MODEL.INPUTS if isinstance(f, Choice) for c in f.choices}
    assert kinds == {Number, Integer, Choice} and {str, int} <= choice_types


@given(st.fixed_dictionaries({f.name: valid_value(f) for f in MODEL.INPUTS}))
def test_any_record_within_the_models_declarations_is_accepted(record):
    assert check_inputs(record, MODEL.INPUTS) == record


@given(
    st.sampled_from(RANGED),
    st.floats(min_value=0.001, max_value=1e6, allow_nan=False),
    st.booleans(),
)
def test_any_value_outside_a_range_names_exactly_that_field(field, distance, below):
    record = {f.name: f.default for f in MODEL.INPUTS}
    if isinstance(field, Integer):
        distance = math.ceil(distance)  # a whole number out of range, not a fraction
    record[field.name] = field.min - distance if below else field.max + distance
    kind, fields = problems(record, MODEL.INPUTS)
    assert kind == "validation" and list(fields) == [field.name]
    assert fields[field.name].startswith("must be between")


# Anything json.loads can hand the handler: lone surrogates ("\ud800" is valid JSON) and
# integers far beyond a float's range included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)
HUGE = st.integers(min_value=10**300, max_value=10**1000)
JSON_SCALARS = st.none() | st.booleans() | st.floats() | ANY_TEXT | st.integers() | HUGE | HUGE.map(lambda n: -n)
JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(ANY_TEXT, inner, max_size=3), max_leaves=8)
NAMES = st.sampled_from([f.name for f in MODEL.INPUTS]) | ANY_TEXT


@given(st.dictionaries(NAMES, JSON, max_size=6) | JSON)
def test_no_inputs_crash_validation_and_every_refusal_names_its_fields(inputs):
    try:
        record = check_inputs(inputs, MODEL.INPUTS)
    except RequestError as error:
        assert error.fields and all(isinstance(name, str) and problem for name, problem in error.fields.items())
        json.dumps(error.response()).encode("utf-8")  # the answer travels as UTF-8 JSON
    else:
        assert set(record) == {f.name for f in MODEL.INPUTS}
        assert all(isinstance(value, float) and math.isfinite(value) for value in record.values())


def test_huge_integers_and_lone_surrogates_get_clear_messages():
    record = {f.name: f.default for f in MODEL.INPUTS}
    name = MODEL.INPUTS[0].name
    kind, fields = problems({**record, name: 10**400}, MODEL.INPUTS)
    assert kind == "validation" and "far too large" in fields[name]
    kind, fields = problems({**record, "\ud800": 1}, MODEL.INPUTS)
    assert kind == "validation" and fields == {"\\ud800": "is not an input of this model"}
    kind, fields = problems({"x": 0.5, "n": -(10**400), "kind": "red"})
    assert fields == {"n": "must be a number of ordinary size (this one is far too large)"}
    kind, fields = problems({**GOOD, "\ud800" * 2000: 1}, FIELDS, max_string_bytes=1024)
    assert kind == "payload_too_large"
