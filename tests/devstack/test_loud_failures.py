"""A broken app is loud in the whole local stack: a batch algorithm that cannot import and a
model whose predict() raises, each named in one terminal line (file, error, fix) and on its page."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from bench import dash_calls
from devstack.local_aws import local_client
from devstack.reports import TerminalReports
from devstack.stack import DevStack
from tests.fixtures.apps import FIXTURES, apps_with
from tests.support import stack_settings, wait_until

BROKEN = FIXTURES / "broken"


def words(tree: object) -> str:
    """The text a component tree shows: its string children, in order."""
    if isinstance(tree, str):
        return tree
    if isinstance(tree, list):
        return "".join(words(item) for item in tree)
    if isinstance(tree, dict):
        return words(tree.get("props", {}).get("children", "")) if "props" in tree else ""
    return ""


def texts(answer: requests.Response) -> str:
    assert answer.status_code == 200, answer.text[:300]
    return json.dumps(answer.json())


@pytest.mark.slow
def test_a_worker_that_cannot_import_and_a_key_error_in_predict_are_loud(tmp_path):
    apps = apps_with(tmp_path / "apps", model=BROKEN / "predict_key_error.py",
                     algorithm=BROKEN / "algorithm_missing_module.py")
    lines: list[str] = []
    stack = DevStack(stack_settings(tmp_path / "state", apps_dir=apps, lambda_instances=1), report=lines.append)
    stack.start()
    stop = threading.Event()
    watcher = threading.Thread(target=stack.supervise, args=(stop, lines.append, 0.5), daemon=True)
    watcher.start()
    try:
        s = stack.settings
        base = s.dashboard_url
        session = requests.Session()
        assert dash_calls.sign_in(session, base, *stack.login).ok

        lam = local_client("lambda", s.lambda_url, s.region)
        schema = json.loads(lam.invoke(FunctionName=s.function_name, Payload=b'{"action": "describe"}')
                            ["Payload"].read())["inputs"]
        answer = texts(session.post(f"{base}/_dash-update-component", json=dash_calls.predict(schema), timeout=120))
        assert "The model could not answer this input." in answer and "try again" not in answer.lower()
        assert "KeyError: 'weight_kg' (at predictor/model.py:" in answer and "predict)" in answer
        model_line = wait_until(lambda: [x for x in lines if x.startswith("The model could not answer")],
                                timeout=30, what="the model's terminal line")[0]
        assert "KeyError: 'weight_kg' at apps/predictor/model.py:" in model_line and "predictor.log" in model_line

        stack.store.submit(owner="demo", client_token="waits", input_bytes=b"a,b\n1,2\n")
        texts(session.post(f"{base}/_dash-update-component", json=dash_calls.open_page("/jobs"), timeout=60))
        expected = ("ModuleNotFoundError: No module named 'a_package_nobody_installed' (apps/worker/algorithm.py "
                    "line 5). Fix: add a_package_nobody_installed to apps/worker/requirements.in, then make lock.")
        worker_line = wait_until(lambda: [x for x in lines if x.startswith("The batch algorithm cannot start")],
                                 timeout=120, what="the worker's terminal line")[0]
        assert worker_line.startswith(f"The batch algorithm cannot start: {expected}")

        def banner_shown() -> str:
            page = texts(session.post(f"{base}/_dash-update-component", json=dash_calls.open_page("/jobs"),
                                      timeout=60))
            found = dash_calls.find(json.loads(page)["response"]["page"]["children"], "algorithm-failure")
            return words({"props": found}) if found else ""

        # The dashboard reads the failure at most once per 2 s per process (Services.start_failure).
        banner = wait_until(banner_shown, timeout=10, what="the batch page's banner")
        assert banner.startswith(f"The batch algorithm cannot start: {expected}")
        rows = json.loads(texts(session.post(f"{base}/_dash-update-component", json=dash_calls.poll_jobs(),
                                             timeout=60)))["response"]["jobs-grid"]["rowData"]
        assert rows[0]["details"] == ("Waiting: the batch algorithm cannot start (ModuleNotFoundError: No module "
                                      "named 'a_package_nobody_installed')")
        print("\nterminal:\n  " + "\n  ".join(lines))
        print("predict page:", words(json.loads(answer)["response"]["predict-message"]["children"]))
        print("jobs page banner:", banner)
        print("waiting job:", rows[0]["details"])
    finally:
        stop.set()
        watcher.join(timeout=60)
        stack.stop()


def test_terminal_lines_name_the_error_once_and_the_fix(tmp_path):
    said: list[str] = []
    now = [0.0]
    reports = TerminalReports(said.append, tmp_path, quiet_seconds=60, clock=lambda: now[0])
    init_error = json.dumps({"errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": [],
                             "errorMessage": "Unable to import module 'predictor.handler': No module named 'sklearn'"})
    for _ in range(3):  # every invoke of a model whose init fails says so: the terminal once a minute
        reports.function_error(init_error.encode(), "r-1", "predict")
    assert said == ["The model cannot start: Runtime.ImportModuleError: Unable to import module 'predictor.handler': "
                    "No module named 'sklearn'. Fix: add scikit-learn to apps/predictor/requirements.in, "
                    "then make lock. "
                    f"Traceback in {tmp_path / 'predictor.log'}."]
    now[0] = 61
    reports.function_error(init_error.encode(), "r-2", "predict")
    timeout = json.dumps({"errorType": "Sandbox.Timedout",
                          "errorMessage": "RequestId: r-3 Error: Task timed out after 30.00 seconds"}).encode()
    reports.function_error(timeout, "r-3", "predict")
    assert len(said) == 3 and said[2].startswith("The model did not answer in time (request r-3)")

    failure = {"kind": "import", "file": "apps/worker/algorithm.py", "line": 5, "error": "ModuleNotFoundError: x",
               "fix": "add x to apps/worker/requirements.in, then make lock", "failures": 1}
    reports.start_failure(failure)
    reports.start_failure(failure)  # polled every second: said once
    reports.start_failure({**failure, "failures": 2})
    reports.start_failure(None)
    assert said[3:] == [
        "The batch algorithm cannot start: ModuleNotFoundError: x (apps/worker/algorithm.py line 5). Fix: add x to "
        f"apps/worker/requirements.in, then make lock. Jobs wait until then; traceback in {tmp_path / 'worker.log'}.",
        "The batch algorithm still cannot start (tried 2 times in a row; each retry waits longer, an edit retries "
        "at once).",
        "The batch algorithm starts again.",
    ]


@pytest.mark.slow
def test_a_model_whose_init_fails_says_it_cannot_start_on_the_page_and_in_the_terminal(tmp_path):
    apps = apps_with(tmp_path / "apps", model=BROKEN / "import_error.py")
    lines: list[str] = []
    stack = DevStack(stack_settings(tmp_path / "state", apps_dir=apps, lambda_instances=1), report=lines.append)
    stack.start()
    try:
        base = stack.settings.dashboard_url
        session = requests.Session()
        assert dash_calls.sign_in(session, base, *stack.login).ok
        page = json.loads(texts(session.post(f"{base}/_dash-update-component", json=dash_calls.open_page("/predict"),
                                             timeout=120)))["response"]["page"]["children"]
        shown = words({"props": dash_calls.find(page, "describe-error")})
        assert shown == ("The model cannot start: Runtime.ImportModuleError: Unable to import module "
                         "'predictor.handler': No module named 'a_package_nobody_installed'")
        line = wait_until(lambda: [x for x in lines if x.startswith("The model cannot start")], timeout=30,
                          what="the terminal line")[0]
        assert "Fix: add a_package_nobody_installed to apps/predictor/requirements.in, then make lock." in line
        print("\nterminal:\n  " + "\n  ".join(lines) + "\npredict page: " + shown)
    finally:
        stack.stop()
