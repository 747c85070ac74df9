"""The dashboard, its workers and the contract with 20% of AWS calls failing (DynamoDB, S3 and
the Lambda Invoke API alike): every prediction gets an answer or a clear try-again message, and
every submitted job succeeds exactly once."""

from __future__ import annotations

import json
import re

import pytest
import requests
from jobkit import JobStatus

from bench import dash_calls
from devstack.faults import FaultPlan
from devstack.stack import DevStack
from tests.fixtures.apps import apps_with
from tests.offered_samples import first_offered_sample
from tests.support import stack_settings, wait_until

RETRY_MESSAGE = re.compile(r"try again|retry", re.IGNORECASE)


@pytest.mark.slow
def test_stakeholders_lose_nothing_when_a_fifth_of_aws_calls_fail(tmp_path):
    settings = stack_settings(tmp_path, lambda_instances=2, apps_dir=apps_with(tmp_path / "apps"),
                              extra_env={"WORKER_IDLE_SECONDS": "5"})
    stack = DevStack(settings)
    stack.start()
    try:
        base = settings.dashboard_url
        session = requests.Session()
        user, password = stack.login
        assert dash_calls.sign_in(session, base, user, password).ok

        def call(body: dict) -> str:
            response = session.post(f"{base}/_dash-update-component", json=body, timeout=60)
            assert response.status_code == 200, response.text[:300]
            return response.text

        page = session.post(f"{base}/_dash-update-component", json=dash_calls.open_page("/predict"), timeout=60)
        schema = dash_calls.find(page.json(), "predict-schema")["data"]
        sample = first_offered_sample(session, base)
        stack.aws.traffic.faults.set_plan(FaultPlan(rate=0.2, seed=9))
        stack.lambda_server.faults.set_plan(FaultPlan(rate=0.2, seed=9))

        predictions = [call(dash_calls.predict(schema)) for _ in range(20)]
        stack.lambda_server.faults.set_plan(FaultPlan())
        answered = sum("prediction-label" in text for text in predictions)
        told_to_retry = sum("prediction-label" not in text and bool(RETRY_MESSAGE.search(text)) for text in predictions)
        invoke_faults = dict(stack.lambda_server.faults.injected)
        assert answered + told_to_retry == len(predictions)
        assert answered > 0 and told_to_retry >= 1 and sum(invoke_faults.values()) >= 1

        tokens = [f"token-{n}" for n in range(5)]
        job_ids = set()
        for token in [*tokens, tokens[0], tokens[3]]:  # two double-clicks
            answer = json.loads(call(dash_calls.submit_sample(sample, token)))
            job_ids.add(answer["response"]["jobs-changed"]["data"])
        polls = [call(dash_calls.poll_jobs()) for _ in range(5)]
        assert all("rowData" in text or "retrying" in text for text in polls)

        def settled() -> bool:
            try:
                return all(not stack.store.get(job_id).status.is_active for job_id in job_ids)
            except Exception:  # noqa: BLE001 - an injected fault on this read: ask again
                return False

        wait_until(settled, timeout=180, interval=1, what="every submitted job to finish under faults")
        injected = dict(stack.aws.traffic.faults.injected)
        stack.aws.traffic.faults.set_plan(FaultPlan())
        jobs = stack.store.list_recent(limit=100).items
        print(f"\ndashboard under faults: injected {sum(injected.values())} {injected} into DynamoDB and S3, "
              f"{sum(invoke_faults.values())} {invoke_faults} into Lambda Invoke; predictions "
              f"{answered} answered, {told_to_retry} told to retry; jobs submitted {len(tokens)}, "
              f"created {len(jobs)}, succeeded {sum(j.status is JobStatus.SUCCEEDED for j in jobs)}")
        assert sum(injected.values()) > 20
        assert len(job_ids) == len(tokens) == len(jobs)  # double-clicks made no extra job, none lost
        assert all(job.status is JobStatus.SUCCEEDED for job in jobs), [(j.job_id, j.error) for j in jobs]
    finally:
        stack.stop()
