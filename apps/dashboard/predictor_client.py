"""The only way the dashboard reaches the predictor: boto3's Lambda `invoke`.

`describe()` (cached briefly) says what the model needs; `predict(inputs)` returns a
`PredictionResult`. Anything that goes wrong raises `PredictorUnavailable` with a message a
stakeholder can act on, logged with the Lambda request id (`lambda_request_id`, when Lambda
answered) beside the dashboard request's own `request_id`. A timeout, throttling, an unreachable
endpoint or an unreadable answer says "try again"; an error in the model's code raises
`ModelFailed` (a `PredictorUnavailable`): "The model could not answer this input" for the
stakeholder, or "The model cannot start" when its init failed, and the exception's type, message
and line for the data scientist (its `failure`, and the log line).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from jobkit import aws
from jobkit.errors import AwsRefused, AwsUnreachable
from jobkit.logs import log_context

from dashboard.cache import TtlCache
from dashboard.function_errors import FunctionFailure, classify

log = logging.getLogger("dashboard.predictor")

RETRY_HINT = "Please try again in a moment."


class PredictorUnavailable(Exception):
    """The predictor could not answer; `str()` is safe to show, `request_id` helps find the logs."""

    def __init__(self, message: str, request_id: str = "") -> None:
        super().__init__(message)
        self.request_id = request_id


class ModelFailed(PredictorUnavailable):
    """The model's own code raised (or its init did): retrying the same input will not help."""

    def __init__(self, message: str, failure: FunctionFailure, request_id: str = "") -> None:
        super().__init__(message, request_id)
        self.failure = failure


def function_error(failure: FunctionFailure, request_id: str) -> PredictorUnavailable:
    """The exception a stakeholder sees for one classified function error."""
    if failure.kind == "timeout":
        return PredictorUnavailable(f"The model took too long to answer. {RETRY_HINT}", request_id)
    if failure.kind == "unavailable":
        return PredictorUnavailable(f"The model is not available right now. {RETRY_HINT}", request_id)
    if failure.kind == "cannot_start":
        return ModelFailed(f"The model cannot start: {failure.detail()}", failure, request_id)
    return ModelFailed("The model could not answer this input.", failure, request_id)


class InvalidInputs(Exception):
    """The predictor refused the inputs; `fields` maps input names to problems."""

    def __init__(self, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.fields = fields


@dataclass(frozen=True)
class PredictionResult:
    model_version: str
    prediction: dict[str, Any]
    chart: dict[str, Any] | None
    latency_ms: float
    timing_ms: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""


def lambda_client(region: str, timeout_seconds: float, endpoint_url: str | None = None) -> Any:
    """A Lambda client that waits at most `timeout_seconds` for an answer and never re-sends.

    The SDK would retry a read timeout too, running the model again and doubling the wait past
    the load balancer's idle timeout; the stakeholder is told to try again instead.
    """
    return aws.client("lambda", region, max_attempts=1, endpoint_url=endpoint_url, read_timeout=timeout_seconds)


class PredictorClient:
    """Invokes the predictor function (name or alias ARN) and checks its answers."""

    def __init__(self, client: Any, function_name: str, describe_cache_seconds: float = 30.0) -> None:
        self.client = client
        self.function_name = function_name
        self._describe_cache = TtlCache(describe_cache_seconds, max_entries=1)

    def describe(self) -> dict[str, Any]:
        """The model's title, version and input fields (cached for a few seconds)."""
        return self._describe_cache.get("describe", self._describe)

    def forget_description(self) -> None:
        """Drop the cached describe: an answer carried another model version, so the model changed."""
        self._describe_cache.clear()

    def _describe(self) -> dict[str, Any]:
        answer, request_id = self._invoke({"action": "describe"})
        inputs = answer.get("inputs")
        if not answer.get("ok") or not isinstance(inputs, list) or not all(
            isinstance(i, dict) and isinstance(i.get("name"), str) for i in inputs
        ):
            log.error("predictor describe answer is malformed", extra={"lambda_request_id": request_id})
            raise PredictorUnavailable(f"The model gave an unexpected description. {RETRY_HINT}", request_id)
        return answer

    def predict(self, inputs: dict[str, Any]) -> PredictionResult:
        """One prediction; raises InvalidInputs (field problems) or PredictorUnavailable."""
        started = time.perf_counter()
        answer, request_id = self._invoke({"action": "predict", "inputs": inputs})
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        if answer.get("ok") is False:
            error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
            fields = error.get("fields") if isinstance(error.get("fields"), dict) else {}
            message = str(error.get("message") or "The model could not use these inputs.")
            log.info("prediction refused", extra={"lambda_request_id": request_id, "error_type": error.get("type"),
                                                  "fields": sorted(fields)})
            raise InvalidInputs(message, {str(k): str(v) for k, v in fields.items()})
        prediction, chart = answer.get("prediction"), answer.get("chart")
        if answer.get("ok") is not True or not isinstance(prediction, dict):
            log.error("predictor answer is malformed", extra={"action": "predict", "lambda_request_id": request_id})
            raise PredictorUnavailable(f"The model gave an answer the dashboard cannot read. {RETRY_HINT}", request_id)
        if not (isinstance(chart, dict) and isinstance(chart.get("data"), list)):
            chart = None
        timing = answer.get("timing_ms") if isinstance(answer.get("timing_ms"), dict) else {}
        return PredictionResult(
            model_version=str(answer.get("model_version", "")),
            prediction=prediction,
            chart=chart,
            latency_ms=latency_ms,
            timing_ms=timing,
            request_id=request_id,
        )

    def _invoke(self, event: dict[str, Any]) -> tuple[dict[str, Any], str]:
        action = event["action"]
        try:
            response = aws.answer(
                self.client.invoke,
                FunctionName=self.function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps(event).encode(),
            )
        except AwsRefused as error:
            request_id, code = error.request_id, error.code
            log.error("predictor invoke failed", extra={"action": action, "lambda_request_id": request_id,
                                                      "error_code": code})
            reason = "is busy with other requests" if code == "TooManyRequestsException" else \
                "is not available right now"
            raise PredictorUnavailable(f"The model {reason}. {RETRY_HINT}", request_id) from error
        except AwsUnreachable as error:
            if error.timed_out:
                log.error("predictor timed out", extra={"action": action, "error": error.kind})
                raise PredictorUnavailable(f"The model took too long to answer. {RETRY_HINT}") from error
            log.error("predictor unreachable", extra={"action": action, "error": str(error)})
            raise PredictorUnavailable(f"The model could not be reached. {RETRY_HINT}") from error
        request_id = response.get("ResponseMetadata", {}).get("RequestId", "")
        with log_context(lambda_request_id=request_id):
            payload = response["Payload"].read()
            if response.get("FunctionError"):
                failure = classify(payload, action)
                log.error("predictor function error",
                          extra={"action": action, "lambda_request_id": request_id,
                                 "function_error": response["FunctionError"], "failure": failure.kind,
                                 "error_type": failure.error_type, "error_message": failure.message,
                                 "where": failure.where})
                raise function_error(failure, request_id)
            try:
                answer = json.loads(payload)
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                log.error("predictor answer is not a JSON object",
                          extra={"action": action, "lambda_request_id": request_id,
                                 "detail": payload[:200].decode("utf-8", "replace")})
                raise PredictorUnavailable(f"The model gave an answer the dashboard cannot read. {RETRY_HINT}",
                                           request_id)
            log.info("predictor invoked", extra={"action": action, "ok": answer.get("ok")})
            return answer, request_id
