"""Plain Python to DynamoDB attribute values and back, and the opaque page tokens of listings."""

from __future__ import annotations

import base64
import binascii
import json
import math
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from jobkit import schema
from jobkit.errors import InvalidRequest
from jobkit.records import JobStatus

# DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 to 9.99E+125.
_MIN_NUMBER, _MAX_NUMBER = 1e-125, 9.9e125
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > _MAX_NUMBER:
            raise InvalidRequest(f"{value!r} is not a number DynamoDB can store")
        return Decimal(repr(value)) if abs(value) >= _MIN_NUMBER else Decimal(0)
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    if isinstance(value, JobStatus):
        return value.value
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    """A plain dict as DynamoDB attribute values (floats become Decimals)."""
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values back to plain Python (whole numbers become ints)."""
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


def encode_token(key: dict[str, Any] | None) -> str | None:
    """A listing's LastEvaluatedKey as an opaque page token (None at the last page)."""
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_token(token: str | None) -> dict[str, Any] | None:
    """The ExclusiveStartKey a page token stands for; InvalidRequest if it is not one we made."""
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeError) as error:
        raise InvalidRequest("Malformed page token") from error
    expected = {"pk", "sk", schema.RECENT_INDEX.hash_key, schema.RECENT_INDEX.range_key}
    if not (
        isinstance(key, dict)
        and set(key) == expected
        and all(isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in key.values())
    ):
        raise InvalidRequest("Malformed page token")
    return key
