"""Services shared by every request: counting workers is cached, so opening the jobs page many
times a second does not scan /proc (locally) or call ECS ListTasks (in the cloud) each time."""

from __future__ import annotations


class CountingLauncher:
    def __init__(self, running: int) -> None:
        self.counted, self.started, self.workers = 0, 0, running
        self.max_workers = 2

    def running(self) -> int:
        self.counted += 1
        return self.workers

    def start(self) -> None:
        self.started += 1
        self.workers += 1


def test_worker_counts_are_shared_for_a_few_seconds(app):
    launcher = CountingLauncher(running=1)
    app.services.launcher = launcher
    for _ in range(20):
        assert app.services.warm_worker() is False
    assert launcher.counted == 1
    app.services.worker_count_cache.clear()
    assert app.services.warm_worker() is False and launcher.counted == 2
