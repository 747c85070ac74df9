"""Property-based tests of the contract's (de)serialisation and its input checks: no input
crashes them, and each bad input is refused with a clear InvalidRequest."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jobkit import InvalidRequest, Job, JobStatus
from jobkit.codec import decode_token as _decode_token
from jobkit.codec import deserialize, serialize
from jobkit.codec import encode_token as _encode_token
from jobkit.schema import job_prefix

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda f: f == 0 or 1e-120 < abs(f) < 1e120),
    st.text(max_size=50),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _close(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=6))
def test_serialisation_round_trips_any_json_like_item(item):
    back = deserialize(serialize(item))
    expected = {k: v for k, v in item.items() if v is not None}
    assert _close(back, expected)


@settings(max_examples=200, deadline=None)
@given(
    params=st.dictionaries(st.text(min_size=1, max_size=8), values, max_size=4),
    progress=st.floats(min_value=0, max_value=1),
    attempts=st.integers(min_value=0, max_value=50),
    status=st.sampled_from(list(JobStatus)),
)
def test_a_job_survives_the_trip_through_dynamodb_types(params, progress, attempts, status):
    job = Job(job_id="a" * 32, status=status, owner="o", created_at="2026-11-22T00:00:00.000000Z",
              input_key="jobs/x/input.csv", params=params, progress=progress, attempts=attempts)
    item = {"pk": "job#" + job.job_id, "sk": "job", **vars(job)}
    back = Job.from_item(deserialize(serialize(item)))
    assert back.status is status and back.attempts == attempts
    assert _close(back.params, params)
    assert math.isclose(back.progress, progress, rel_tol=1e-12, abs_tol=1e-120)


@given(st.sampled_from([math.nan, math.inf, -math.inf, 1e200, -1e300]))
def test_numbers_dynamodb_cannot_store_are_refused_clearly(number):
    with pytest.raises(InvalidRequest, match="not a number DynamoDB can store"):
        serialize({"params": {"k": number}})


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.binary(max_size=40).map(lambda b: b.decode("latin-1"))))
def test_any_page_token_is_decoded_or_refused_clearly(token):
    try:
        decoded = _decode_token(token)
    except InvalidRequest as error:
        assert "page token" in str(error)
    else:
        assert decoded is None or isinstance(decoded, dict)


@given(st.fixed_dictionaries({name: st.fixed_dictionaries({"S": st.text(max_size=20)})
                              for name in ("pk", "sk", "kind", "created_at")}))
def test_page_tokens_round_trip(key):
    assert _decode_token(_encode_token(key)) == key


@given(st.dictionaries(st.text(max_size=10), st.dictionaries(st.sampled_from(["S", "N", "B"]), st.text(max_size=5)),
                       min_size=1, max_size=5))
def test_a_tampered_page_token_is_refused_before_it_reaches_dynamodb(key):
    if set(key) == {"pk", "sk", "kind", "created_at"} and all(list(v) == ["S"] for v in key.values()):
        return
    with pytest.raises(InvalidRequest, match="page token"):
        _decode_token(_encode_token(key))


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=64), st.integers(), st.none(), st.binary(max_size=40)))
def test_anything_that_is_not_a_job_id_is_refused_before_it_reaches_s3_or_dynamodb(value):
    is_job_id = isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)
    if is_job_id:
        assert job_prefix(value) == f"jobs/{value}/"
    else:
        with pytest.raises(InvalidRequest, match="Not a job id"):
            job_prefix(value)
