"""The local Lambda endpoint behaves like Lambda's Invoke API, over the real predictor handler:
function names, invocation types, function errors, timeouts, crashes, quick iteration, cleanup."""

from __future__ import annotations

import os
import re
import signal
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from devstack.faults import FaultPlan
from devstack.lambda_server import LambdaServer, code_fingerprint, parse_function_name
from tests.predictor.lambda_support import (
    APPS,
    FUNCTION,
    copy_apps,
    invoke,
    lambda_client,
    log_lines,
    runtime_children,
    start_server,
)
from tests.support import wait_until

SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}

# Appended to a copy of the model module: the data scientist's code misbehaving on cue.
FAULTS = '''

import os as _os
import time as _time

_predict = predict


def predict(model, record):
    if record["sepal_length"] == 7.1:
        raise ZeroDivisionError("the model divided by zero")
    if record["sepal_length"] == 7.2:
        _time.sleep(60)
    if record["sepal_length"] == 7.3:
        _os._exit(3)
    if record["sepal_length"] == 7.4:
        print("a stray print from the model")
    return _predict(model, record)
'''


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from predictor import artifact, model

    path = tmp_path_factory.mktemp("model")
    artifact.load_or_train(model, path)
    return path


@pytest.fixture(scope="module")
def faulty(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LambdaServer]:
    """One instance over a copy of apps/ whose model crashes, hangs or exits on cue; 2 s timeout."""
    apps = copy_apps(tmp_path_factory.mktemp("faulty") / "apps")
    with (apps / "predictor" / "model.py").open("a") as source:
        source.write(FAULTS)
    server = start_server(apps, model_dir, log_path=apps.parent / "predictor.log", instances=1, timeout_seconds=2)
    yield server
    server.stop()


def predict(client, **changes):
    return invoke(client, {"action": "predict", "inputs": {**SETOSA, **changes}})


# --- the Invoke API without running the handler ----------------------------------------------


@pytest.fixture(scope="module")
def idle_server(model_dir: Path) -> Iterator[LambdaServer]:
    server = start_server(APPS, model_dir)
    yield server
    server.stop()


@pytest.mark.parametrize(
    "name",
    [
        FUNCTION,
        f"{FUNCTION}:$LATEST",
        f"{FUNCTION}:live",
        f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}",
        f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}:live",
        f"123456789012:function:{FUNCTION}",
    ],
)
def test_the_function_answers_to_its_name_alias_and_arns(idle_server, name):
    client = lambda_client(idle_server.url)
    response = client.invoke(FunctionName=name, InvocationType="DryRun", Payload=b"{}")
    assert response["StatusCode"] == 204
    assert runtime_children(idle_server.apps_dir) == set()  # a dry run starts no instance


def test_an_unknown_function_is_resource_not_found(idle_server):
    client = lambda_client(idle_server.url)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as raised:
        client.invoke(FunctionName="someone-else", Payload=b"{}")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "Function not found" in raised.value.response["Error"]["Message"]
    assert "someone-else" in raised.value.response["Error"]["Message"]


def test_a_body_that_is_not_json_is_refused_like_lambda(idle_server):
    client = lambda_client(idle_server.url)
    with pytest.raises(client.exceptions.InvalidRequestContentException) as raised:
        client.invoke(FunctionName=FUNCTION, Payload=b"{not json")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_oversized_body_is_413_even_for_a_dry_run(idle_server):
    client = lambda_client(idle_server.url)
    with pytest.raises(ClientError) as raised:
        client.invoke(FunctionName=FUNCTION, InvocationType="DryRun", Payload=b" " * 6_291_457)
    assert raised.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("fn", ("fn", None)),
        ("fn:3", ("fn", "3")),
        ("arn%3Aaws%3Alambda%3Aeu-west-1%3A1%3Afunction%3Afn%3Alive", ("fn", "live")),
        ("1:function:fn", ("fn", None)),
    ],
)
def test_parse_function_name(raw, expected):
    assert parse_function_name(raw) == expected


def test_the_code_fingerprint_follows_edits_to_watched_python_files(tmp_path):
    apps = copy_apps(tmp_path / "apps")
    before = code_fingerprint(apps)
    (apps / "predictor" / "notes.txt").write_text("not code")
    assert code_fingerprint(apps) == before
    (apps / "worker" / "extra.py").write_text("x = 1\n")
    assert code_fingerprint(apps) == before  # not the predictor's code
    (apps / "jobkit" / "extra.py").write_text("x = 1\n")
    assert code_fingerprint(apps) != before


# --- invokes through the real handler --------------------------------------------------------


def test_a_handler_exception_is_an_unhandled_function_error(faulty):
    client = lambda_client(faulty.url)
    invoke(client, {"action": "describe"})  # warm the instance
    reply = predict(client, sepal_length=7.1)
    assert reply.status == 200 and reply.function_error == "Unhandled"
    assert reply.body["errorType"] == "ZeroDivisionError"
    assert reply.body["errorMessage"] == "the model divided by zero"
    assert any("model.py" in frame for frame in reply.body["stackTrace"])
    # the instance survives an exception, as in Lambda: the next invoke is warm and right
    after = predict(client)
    assert after.function_error is None and after.body["prediction"]["value"] == "setosa"
    assert after.body["timing_ms"]["cold_start"] is False
    errors = [line for line in log_lines(faulty.log_path) if line["level"] == "ERROR"]
    assert any(line.get("request_id") == reply.request_id for line in errors)


def test_a_timeout_answers_like_lambda_and_recycles_the_instance(faulty):
    client = lambda_client(faulty.url)
    invoke(client, {"action": "describe"})
    [before] = runtime_children(faulty.apps_dir)
    reply = predict(client, sepal_length=7.2)
    assert reply.status == 200 and reply.function_error == "Unhandled"
    assert re.search(r"Task timed out after 2\.00 seconds", reply.body["errorMessage"])
    assert reply.request_id in reply.body["errorMessage"]
    assert before not in runtime_children(faulty.apps_dir)  # the hung instance is gone
    after = predict(client)
    assert after.function_error is None and after.body["prediction"]["value"] == "setosa"
    assert after.body["timing_ms"]["cold_start"] is True  # a fresh instance
    assert runtime_children(faulty.apps_dir) and before not in runtime_children(faulty.apps_dir)


def test_a_process_that_exits_is_a_runtime_exit_error_and_is_replaced(faulty):
    client = lambda_client(faulty.url)
    reply = predict(client, sepal_length=7.3)
    assert reply.function_error == "Unhandled"
    assert reply.body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in reply.body["errorMessage"]
    assert predict(client).body["ok"] is True


def test_an_instance_that_died_while_idle_is_replaced_transparently(faulty):
    client = lambda_client(faulty.url)
    invoke(client, {"action": "describe"})
    [idle] = runtime_children(faulty.apps_dir)
    os.kill(idle, signal.SIGKILL)
    # exited (a zombie the server has not reaped yet), looked at without reaping it
    wait_until(lambda: os.waitid(os.P_PID, idle, os.WEXITED | os.WNOWAIT | os.WNOHANG), timeout=10)
    reply = predict(client)
    assert reply.function_error is None and reply.body["prediction"]["value"] == "setosa"
    assert reply.body["timing_ms"]["cold_start"] is True


def test_prints_go_to_the_log_not_into_the_response(faulty):
    client = lambda_client(faulty.url)
    reply = predict(client, sepal_length=7.4)
    assert reply.function_error is None and reply.body["ok"] is True
    wait_until(lambda: "a stray print from the model" in faulty.log_path.read_text(), timeout=10)


def test_an_event_invocation_is_accepted_and_runs_in_the_background(faulty):
    client = lambda_client(faulty.url)
    response = client.invoke(FunctionName=FUNCTION, InvocationType="Event", Payload=b'{"action": "describe"}')
    assert response["StatusCode"] == 202
    request_id = response["ResponseMetadata"]["RequestId"]

    def logged():
        return any(
            line.get("request_id") == request_id and line["message"] == "invoke" for line in log_lines(faulty.log_path)
        )

    wait_until(logged, timeout=30, what="the Event invocation to run")


def test_quick_iteration_the_next_invoke_runs_edited_code(model_dir, tmp_path):
    apps = copy_apps(tmp_path / "apps")
    source = apps / "predictor" / "model.py"
    server = start_server(apps, model_dir, log_path=tmp_path / "predictor.log", instances=2)
    try:
        client = lambda_client(server.url)
        first = invoke(client, {"action": "describe"})
        old = first.body["model_version"]
        assert first.body["timing_ms"]["cold_start"] is True

        text = source.read_text()
        assert f'MODEL_VERSION = "{old}"' in text
        source.write_text(text.replace(f'MODEL_VERSION = "{old}"', 'MODEL_VERSION = "iris-logreg-edited"'))
        edited = invoke(client, {"action": "describe"})
        assert edited.body["model_version"] == "iris-logreg-edited"
        assert edited.body["timing_ms"]["cold_start"] is True  # a new instance with the new code
        predicted = predict(client)
        assert predicted.body["model_version"] == "iris-logreg-edited"
        assert predicted.body["prediction"]["value"] == "setosa"

        # a broken edit is a clear function error; fixing it heals the next invoke
        source.write_text(source.read_text() + "\ndef oops(:\n")
        broken = invoke(client, {"action": "describe"})
        assert broken.function_error == "Unhandled"
        assert broken.body["errorType"] == "Runtime.ImportModuleError"
        assert "predictor.handler" in broken.body["errorMessage"]
        source.write_text(source.read_text().replace("\ndef oops(:\n", "\n"))
        healed = invoke(client, {"action": "describe"})
        assert healed.function_error is None and healed.body["model_version"] == "iris-logreg-edited"
    finally:
        server.stop()
    assert runtime_children(apps) == set()


def test_stop_leaves_no_process_behind(model_dir, tmp_path):
    apps = copy_apps(tmp_path / "apps")
    server = start_server(apps, model_dir, instances=2)
    client = lambda_client(server.url)
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda _: invoke(client, {"action": "describe"}), range(4)))
    assert all(r.body["ok"] for r in replies)
    assert 1 <= len(runtime_children(apps)) <= 2
    server.stop()
    assert runtime_children(apps) == set()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=1)


# --- injected faults (last: they start an instance) -----------------------------------------


@pytest.mark.parametrize(
    ("kind", "code", "status"),
    [("throttle", "TooManyRequestsException", 429), ("server_error", "ServiceException", 500)],
)
def test_injected_service_faults_answer_as_lambda_does(idle_server, kind, code, status):
    client = lambda_client(idle_server.url)
    before = idle_server.faults.injected[kind]  # the server is shared by the module
    idle_server.faults.set_plan(FaultPlan(rate=1.0, kinds=(kind,), limit=1))
    try:
        with pytest.raises(ClientError) as raised:
            client.invoke(FunctionName=FUNCTION, InvocationType="DryRun", Payload=b"{}")
        assert client.invoke(FunctionName=FUNCTION, InvocationType="DryRun", Payload=b"{}")["StatusCode"] == 204
    finally:
        idle_server.faults.set_plan(FaultPlan())
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert idle_server.faults.injected[kind] == before + 1


@pytest.mark.parametrize("kind", ["reset_before", "reset_after"])
def test_injected_connection_resets_reach_the_client_as_connection_errors(idle_server, kind):
    client = lambda_client(idle_server.url)
    idle_server.faults.set_plan(FaultPlan(rate=1.0, kinds=(kind,), limit=1))
    try:
        with pytest.raises(BotoCoreError):
            invoke(client, {"action": "describe"})
        assert invoke(client, {"action": "describe"}).body["ok"] is True  # the next call is served
    finally:
        idle_server.faults.set_plan(FaultPlan())
