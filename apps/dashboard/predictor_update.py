"""Whether a new version of the model is being prepared: the predictor function's LastUpdateStatus.

Lambda reports `LastUpdateStatus: InProgress` (GetFunctionConfiguration) while an update of the
function's code is under way, and keeps running the previous code meanwhile. The local Lambda
reports the same while it builds an edit's image, a retrain of the model included, with the old
code answering. In the cloud the model is trained when `pulumi up` builds the image, before the
function is updated, so there the status is InProgress only for the short switch to the new image.
One read per `ttl` seconds is shared by every viewer; a read that fails (no permission, no
endpoint) counts as no update, never as an error on the page.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dashboard.cache import TtlCache

log = logging.getLogger("dashboard.predictor_update")

TRAINING_NOTE = ("A new version of the model is being trained. The current version keeps answering "
                 "until it is ready.")


class UpdateWatch:
    """Reads whether the function named `function_name` is being updated, at most once per `ttl` s."""

    def __init__(self, client: Any, function_name: str, ttl: float = 2.0) -> None:
        self.client = client
        self.function_name = function_name
        self._cache = TtlCache(ttl, max_entries=1)

    def in_progress(self) -> bool:
        """True while the function's LastUpdateStatus is InProgress."""
        return bool(self._cache.get("status", self._read))

    def _read(self) -> bool:
        try:
            configuration = self.client.get_function_configuration(FunctionName=self.function_name)
        except (BotoCoreError, ClientError) as error:
            log.debug("cannot read the predictor's update status", extra={"error": str(error)})
            return False
        return configuration.get("LastUpdateStatus") == "InProgress"


_WATCHES: weakref.WeakKeyDictionary[Any, UpdateWatch] = weakref.WeakKeyDictionary()


def watch_for(predictor: Any) -> UpdateWatch:
    """The one UpdateWatch of a dashboard's PredictorClient (its Lambda client and function name)."""
    watch = _WATCHES.get(predictor)
    if watch is None:
        watch = _WATCHES[predictor] = UpdateWatch(predictor.client, predictor.function_name)
    return watch
