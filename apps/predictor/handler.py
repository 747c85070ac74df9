"""AWS Lambda entry point (`predictor.handler.handler`): describe the model or predict one record.

Everything heavy (settings, logging, the model module and its trained model) happens once per
instance, at import; each invoke only validates and predicts. Every response carries
`timing_ms` with `init` (this instance's init time) and `cold_start` (true on its first invoke).
"""

import time

_INIT_STARTED = time.perf_counter()

import logging  # noqa: E402 - after the clock starts, so init time includes imports
import uuid  # noqa: E402
from typing import Any  # noqa: E402

from jobkit import logs  # noqa: E402

from predictor import model  # noqa: E402
from predictor.service import Predictor  # noqa: E402
from predictor.settings import PredictorSettings  # noqa: E402

SETTINGS = PredictorSettings.from_env()
logs.configure("predictor", SETTINGS.log_level)
log = logging.getLogger("predictor")
PREDICTOR = Predictor.load(model, SETTINGS)
INIT_MS = round((time.perf_counter() - _INIT_STARTED) * 1000, 1)
log.info(
    "predictor initialised",
    extra={
        "init_ms": INIT_MS,
        "model_version": PREDICTOR.model_version,
        "artifact": str(PREDICTOR.loaded.path),
        "trained_at_init": PREDICTOR.loaded.trained,
    },
)

_invocations = 0


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Answer one Invoke payload (docs/contracts.md, "Predictor events")."""
    global _invocations
    started = time.perf_counter()
    cold_start = _invocations == 0
    _invocations += 1
    request_id = getattr(context, "aws_request_id", None) or uuid.uuid4().hex
    action = str(event.get("action"))[:40] if isinstance(event, dict) else None
    with logs.log_context(request_id=request_id):
        try:
            response = PREDICTOR.handle(event)
        except Exception:
            log.exception(
                "the model failed on this request",
                extra={"action": action, "model_version": PREDICTOR.model_version},
            )
            raise
        total_ms = round((time.perf_counter() - started) * 1000, 3)
        response["timing_ms"] = {
            **response.get("timing_ms", {}),
            "total": total_ms,
            "init": INIT_MS,
            "cold_start": cold_start,
        }
        error = response.get("error", {})
        log.info(
            "invoke",
            extra={
                "action": action,
                "ok": response["ok"],
                "error_type": error.get("type"),
                "error_fields": sorted(error.get("fields", {}))[:20] or None,
                "duration_ms": total_ms,
                "cold_start": cold_start,
                "init_ms": INIT_MS,
                "model_version": PREDICTOR.model_version,
            },
        )
        return response
