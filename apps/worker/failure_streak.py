"""An algorithm that fails every job is a start failure too: said on the batch page, not only
job by job. `FailureStreak` watches a worker's attempts and publishes (or clears) it."""

from __future__ import annotations

import logging
from typing import Any

from worker.start_failure import every_job

log = logging.getLogger("worker.streak")

STREAK = 3  # failed attempts in a row, of at least two different jobs, that count as "every job"


class FailureStreak:
    """Counts the algorithm's exceptions in a row (invalid input does not count: that is the
    input's fault) and publishes the failure once per streak; a success clears it."""

    def __init__(self, store: Any, module: str, streak: int = STREAK) -> None:
        self.store, self.module, self.streak = store, module, streak
        self._failed_jobs: list[str] = []
        self._published = False

    def failed(self, job_id: str, error: BaseException) -> None:
        self._failed_jobs.append(job_id)
        if self._published or len(self._failed_jobs) < self.streak or len(set(self._failed_jobs)) < 2:
            return
        failure = every_job(error, self.module, len(self._failed_jobs))
        log.error("the batch algorithm fails every job: " + failure.sentence(), extra=failure.to_record())
        try:
            self.store.publish_start_failure(failure.to_record())
            self._published = True
        except Exception as problem:  # noqa: BLE001 - the store's fault; the log line above says it all
            log.warning("could not publish the failure streak", extra={"error": str(problem)})

    def succeeded(self) -> None:
        self._failed_jobs.clear()
        if self._published:
            try:
                self.store.clear_start_failure()
                self._published = False
            except Exception as problem:  # noqa: BLE001 - cleared by the next worker start anyway
                log.warning("could not clear the failure streak", extra={"error": str(problem)})
