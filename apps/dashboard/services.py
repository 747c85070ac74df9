"""The long-lived objects a dashboard process shares across requests, built once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobkit import JobStore, Page

from dashboard.cache import TtlCache
from dashboard.launcher import Launcher, ensure_worker
from dashboard.predictor_client import PredictorClient
from dashboard.settings import DashboardSettings

FEEDBACK_PAGE = 200  # the feedback page shows comments from the newest votes, one page of them


@dataclass
class Services:
    """Settings, the job store, the predictor client and the worker launcher."""

    settings: DashboardSettings
    store: JobStore
    predictor: PredictorClient
    launcher: Launcher
    # Many viewers polling the same page share one DynamoDB Query per second.
    jobs_cache: TtlCache = field(default_factory=lambda: TtlCache(1.0))
    feedback_cache: TtlCache = field(default_factory=lambda: TtlCache(5.0, max_entries=2))
    # The batch algorithm's description: re-read often, so a local edit shows within seconds.
    description_cache: TtlCache = field(default_factory=lambda: TtlCache(2.0, max_entries=1))
    worker_count_cache: TtlCache = field(default_factory=lambda: TtlCache(5.0, max_entries=1))
    # Why the batch algorithm cannot start: read by every jobs page and every tick of its poll.
    start_failure_cache: TtlCache = field(default_factory=lambda: TtlCache(2.0, max_entries=1))

    def jobs_page(self, token: str | None, fresh: bool = False) -> Page:
        size = self.settings.jobs_page_size
        if fresh:
            self.jobs_cache.clear()
        return self.jobs_cache.get(token, lambda: self.store.list_recent(limit=size, page_token=token))

    def recent_feedback(self) -> list[Any]:
        """The newest votes (at most FEEDBACK_PAGE), newest first: for their comments."""
        return self.feedback_cache.get(
            "recent", lambda: self.store.list_recent_feedback(limit=FEEDBACK_PAGE).items)

    def feedback_summary(self) -> list[dict[str, Any]]:
        """Thumbs up and down per model version over every vote (the store keeps the counts)."""
        return self.feedback_cache.get("summary", self.store.feedback_summary)

    def start_worker(self) -> bool:
        return ensure_worker(self.launcher)

    def batch_description(self) -> dict[str, Any] | None:
        """What the batch job does, as its worker last published it (None before any worker ran)."""
        return self.description_cache.get("description", self.store.read_description)

    def start_failure(self) -> dict[str, Any] | None:
        """What the worker last published about its algorithm failing, or None (at most 2 s old)."""
        return self.start_failure_cache.get("start_failure", self.store.read_start_failure)

    def warm_worker(self) -> bool:
        """Start one worker when none runs: it publishes the current description as it starts and
        is ready when the stakeholder submits. True when one was started."""
        try:
            # Counting workers scans /proc locally and is an ECS ListTasks in the cloud: once per
            # few seconds for every viewer of the jobs page, not once per page open.
            if self.worker_count_cache.get("running", self.launcher.running) > 0:
                return False
        except Exception:  # noqa: BLE001 - a launcher that cannot count is the reconciler's problem
            return False
        started = ensure_worker(self.launcher)
        if started:
            self.worker_count_cache.clear()
        return started


def published_samples(description: dict[str, Any] | None) -> dict[str, bytes]:
    """The samples the batch algorithm published in its description ({name: csv bytes})."""
    found: dict[str, bytes] = {}
    for sample in (description or {}).get("samples") or []:
        if isinstance(sample, dict) and isinstance(sample.get("name"), str) and isinstance(sample.get("csv"), str):
            found.setdefault(sample["name"], sample["csv"].encode("utf-8"))
    return found


def samples(description: dict[str, Any] | None = None) -> list[str]:
    """The sample names the batch page offers: the algorithm's own (SAMPLES, published with its
    description), in its order; none when it declares none or no worker has described the job yet
    (the dashboard bundles no files of its own)."""
    return list(published_samples(description))


def sample_bytes(description: dict[str, Any] | None, name: str) -> bytes:
    """The bytes of one published sample; KeyError when `name` is not one of `samples(description)`
    (callers check first: a forged request may name anything)."""
    return published_samples(description)[name]
