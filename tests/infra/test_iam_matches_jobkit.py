"""Each role's grants cover every AWS call jobkit really makes on that app's path (against moto)."""

from __future__ import annotations

from collections import Counter

import pytest
from jobkit import JobStore
from jobkit.login_throttle import Limit, LoginThrottle
from jobkit.sessions import SessionGenerations

from tests.infra.stackview import Deployment
from tests.support import count_aws_calls

pytestmark = pytest.mark.timeout(120)


def granted(deployment: Deployment, role: str) -> set[str]:
    return {a for s in deployment.role_statements()[role] for a in s["Action"]}


def needed(calls: Counter[str]) -> set[str]:
    return {name.replace(".", ":", 1) for name in calls}


def test_each_role_allows_the_calls_its_app_makes(store: JobStore, deployments: dict[str, Deployment]) -> None:
    with count_aws_calls(store.dynamodb, store.s3) as dashboard_calls:
        job = store.submit(owner="alice", client_token="t-1", input_bytes=b"a,b\n1,2\n")
        store.get(job.job_id)
        store.list_recent()
        prediction = store.record_prediction(owner="alice", inputs={"x": 1}, output={"label": "y"},
                                             model_version="m1", latency_ms=3.0)
        store.get_prediction(prediction.prediction_id)
        store.add_feedback(target_kind="prediction", target_id=prediction.prediction_id, user="alice", rating=1)
        store.list_feedback("prediction", prediction.prediction_id)
        store.read_start_failure()  # the batch page's banner
        # Signing in and out: the throttle's counters and the session generations.
        throttle, limits = LoginThrottle(store), [Limit("user-ip:alice|10.0.0.9", 5),
                                                  Limit("ip:10.0.0.9", 50, reset_on_success=False)]
        assert throttle.failed(limits) == 0 and throttle.succeeded(limits) == 0
        generations = SessionGenerations(store)
        generations.bump("alice")
        generations.current("alice")

    with count_aws_calls(store.dynamodb, store.s3) as worker_calls:
        claimed = store.claim("worker-1")
        assert claimed is not None and claimed.job_id == job.job_id
        store.heartbeat(claimed, 0.5, "half way")
        assert store.read_input(claimed) == b"a,b\n1,2\n"
        store.write_result(claimed, b"a,b,c\n1,2,3\n", {"model_version": "m1", "rows": 1, "metrics": {}, "charts": []})
        store.complete(claimed, "m1")
        # A worker whose algorithm cannot start (or fails every job) says so, and forgets it.
        store.publish_start_failure({"kind": "import", "file": "apps/worker/algorithm.py", "line": 1,
                                     "error": "ModuleNotFoundError", "fix": "add it"})
        store.clear_start_failure()

    with count_aws_calls(store.dynamodb, store.s3) as results_calls:
        done = store.get(job.job_id)
        assert store.read_summary(done)["rows"] == 1
        second = store.submit(owner="alice", client_token="t-2", input_bytes=b"a\n1\n")
        store.cancel(second.job_id, by="alice")
        store.retry(second.job_id, by="alice")

    assert "dynamodb.UpdateItem" in worker_calls and "s3.PutObject" in dashboard_calls  # the calls were seen
    for deployment in deployments.values():
        dashboard = granted(deployment, "dashboard-task-role")
        assert needed(dashboard_calls) | needed(results_calls) <= dashboard, sorted(
            needed(dashboard_calls) | needed(results_calls) - dashboard)
        assert needed(worker_calls) <= granted(deployment, "worker-task-role"), sorted(
            needed(worker_calls) - granted(deployment, "worker-task-role"))
