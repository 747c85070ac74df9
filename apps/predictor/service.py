"""The predictor's answers to `describe` and `predict` events (docs/contracts.md), without Lambda.

Bad requests come back as `{"ok": false, "error": {...}}`; an exception from the model itself
propagates, so Lambda reports it as a function error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from predictor.artifact import Loaded, load_or_train
from predictor.interface import json_type
from predictor.settings import PredictorSettings
from predictor.validation import BAD_REQUEST, RequestError, check_inputs, shown

ACTIONS = ("describe", "predict")


def plain(value: Any) -> Any:
    """The value with numpy scalars and arrays turned into JSON-safe Python ones."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy array or scalar, without importing numpy
        return plain(value.tolist())
    return value


@dataclass
class Predictor:
    """One loaded model module and its trained model, answering events."""

    model_module: ModuleType
    loaded: Loaded
    settings: PredictorSettings

    @classmethod
    def load(cls, model_module: ModuleType, settings: PredictorSettings) -> Predictor:
        return cls(model_module, load_or_train(model_module, settings.model_dir), settings)

    @property
    def model_version(self) -> str:
        return str(self.model_module.MODEL_VERSION)

    def handle(self, event: Any) -> dict[str, Any]:
        """The response to one Invoke payload."""
        try:
            action = action_of(event)
            if action == "describe":
                return self.describe()
            return self.predict(event.get("inputs", _MISSING))
        except RequestError as error:
            return {**error.response(), "model_version": self.model_version}

    def describe(self) -> dict[str, Any]:
        m = self.model_module
        return {
            "ok": True,
            "model_version": self.model_version,
            "title": m.TITLE,
            "description": m.DESCRIPTION,
            "inputs": [field.describe() for field in m.INPUTS],
            "output": dict(m.OUTPUT),
            "examples": [example.describe() for example in getattr(m, "EXAMPLES", ())],
        }

    def predict(self, inputs: Any) -> dict[str, Any]:
        if inputs is _MISSING:
            raise RequestError(BAD_REQUEST, "A predict event needs 'inputs'.", {"inputs": "is missing"})
        record = check_inputs(
            inputs,
            self.model_module.INPUTS,
            max_fields=self.settings.max_fields,
            max_string_bytes=self.settings.max_string_bytes,
        )
        started = time.perf_counter()
        answer = self.model_module.predict(self.loaded.model, record)
        predict_ms = round((time.perf_counter() - started) * 1000, 3)
        return {
            "ok": True,
            "model_version": self.model_version,
            "prediction": plain({"label": answer.label, "value": answer.value, **_extra(answer.details)}),
            "chart": plain(answer.chart),
            "timing_ms": {"predict": predict_ms},
        }


_MISSING = object()


def _extra(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if k not in ("label", "value")}


def action_of(event: Any) -> str:
    """The event's action, or RequestError when the event is not a usable request."""
    if not isinstance(event, dict):
        raise RequestError(
            BAD_REQUEST,
            f"The event must be a JSON object like {{\"action\": \"describe\"}}, not {json_type(event)}.",
            {"event": f"must be a JSON object, not {json_type(event)}"},
        )
    if "action" not in event:
        raise RequestError(BAD_REQUEST, "The event needs an 'action': describe or predict.", {"action": "is missing"})
    action = event["action"]
    if action not in ACTIONS:
        raise RequestError(
            BAD_REQUEST,
            f"Unknown action {shown(action)!r}; use describe or predict.",
            {"action": "must be one of: describe, predict"},
        )
    return action
