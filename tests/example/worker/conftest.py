"""The worker's fixtures (moto, real worker processes) for the example's own tests."""

from tests.worker.conftest import runs_log, settings, start_worker, store, worker_env  # noqa: F401
