"""The local Lambda endpoint behaves like Lambda's Invoke API, over the real predictor handler:
function names, invocation types, function errors, timeouts, crashes, quick iteration, cleanup."""

from __future__ import annotations

import errno
import json
import os
import pwd
import re
import shutil
import signal
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from devstack.faults import FaultPlan
from devstack.lambda_server import LambdaServer, code_fingerprint, parse_function_name
from devstack.stack import DevStack
from tests.fixtures.models import classifier
from tests.predictor.lambda_support import (
    FUNCTION,
    copy_apps,
    has_exited,
    invoke,
    lambda_client,
    log_lines,
    readable_dir,
    runtime_children,
    start_server,
)
from tests.support import free_port, stack_settings, wait_until

RECORD = {"weight_kg": 1.0, "stops": 0, "carrier": "air", "priority": 1}  # the fixture classifier: "on time"

# Appended to a copy of the model module: the data scientist's code misbehaving on cue.
FAULTS = '''

import os as _os
import time as _time

_predict = predict


def predict(model, record):
    if record["weight_kg"] == 7.0:
        raise ZeroDivisionError("the model divided by zero")
    if record["weight_kg"] == 7.5:
        _time.sleep(60)
    if record["weight_kg"] == 8.0:
        _os._exit(3)
    if record["weight_kg"] == 8.5:
        print("a stray print from the model")
    return _predict(model, record)
'''


@pytest.fixture(scope="module")
def model_dir() -> Iterator[Path]:
    from predictor import artifact

    path = readable_dir("lambda-model-")
    artifact.load_or_train(classifier, path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


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
    return invoke(client, {"action": "predict", "inputs": {**RECORD, **changes}})


# --- the Invoke API without running the handler ----------------------------------------------


@pytest.fixture(scope="module")
def idle_server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LambdaServer]:
    server = start_server(copy_apps(tmp_path_factory.mktemp("idle") / "apps"), model_dir)
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
    assert runtime_children(idle_server) == set()  # a dry run starts no instance


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
    reply = predict(client, weight_kg=7.0)
    assert reply.status == 200 and reply.function_error == "Unhandled"
    assert reply.body["errorType"] == "ZeroDivisionError"
    assert reply.body["errorMessage"] == "the model divided by zero"
    assert any("model.py" in frame for frame in reply.body["stackTrace"])
    # the instance survives an exception, as in Lambda: the next invoke is warm and right
    after = predict(client)
    assert after.function_error is None and after.body["prediction"]["value"] == "on time"
    assert after.body["timing_ms"]["cold_start"] is False
    errors = [line for line in log_lines(faulty.log_path) if line["level"] == "ERROR"]
    assert any(line.get("request_id") == reply.request_id for line in errors)


def test_a_timeout_answers_like_lambda_and_recycles_the_instance(faulty):
    client = lambda_client(faulty.url)
    invoke(client, {"action": "describe"})
    [before] = runtime_children(faulty)
    reply = predict(client, weight_kg=7.5)
    assert reply.status == 200 and reply.function_error == "Unhandled"
    assert re.search(r"Task timed out after 2\.00 seconds", reply.body["errorMessage"])
    assert reply.request_id in reply.body["errorMessage"]
    assert before not in runtime_children(faulty)  # the hung instance is gone
    after = predict(client)
    assert after.function_error is None and after.body["prediction"]["value"] == "on time"
    assert after.body["timing_ms"]["cold_start"] is True  # a fresh instance
    assert runtime_children(faulty) and before not in runtime_children(faulty)


def test_a_process_that_exits_is_a_runtime_exit_error_and_is_replaced(faulty):
    client = lambda_client(faulty.url)
    reply = predict(client, weight_kg=8.0)
    assert reply.function_error == "Unhandled"
    assert reply.body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in reply.body["errorMessage"]
    assert predict(client).body["ok"] is True


def test_an_instance_that_died_while_idle_is_replaced_transparently(faulty):
    client = lambda_client(faulty.url)
    invoke(client, {"action": "describe"})
    [idle] = runtime_children(faulty)
    os.kill(idle, signal.SIGKILL)
    wait_until(lambda: has_exited(idle), timeout=10, what="the killed instance to exit")
    reply = predict(client)
    assert reply.function_error is None and reply.body["prediction"]["value"] == "on time"
    assert reply.body["timing_ms"]["cold_start"] is True


def test_prints_go_to_the_log_not_into_the_response(faulty):
    client = lambda_client(faulty.url)
    reply = predict(client, weight_kg=8.5)
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
        source.write_text(text.replace(f'MODEL_VERSION = "{old}"', 'MODEL_VERSION = "fixture-edited"'))
        edited = invoke(client, {"action": "describe"})
        assert edited.body["model_version"] == "fixture-edited"
        assert edited.body["timing_ms"]["cold_start"] is True  # a new instance with the new code
        predicted = predict(client)
        assert predicted.body["model_version"] == "fixture-edited"
        assert predicted.body["prediction"]["value"] == "on time"

        # a broken edit is a clear function error; fixing it heals the next invoke
        source.write_text(source.read_text() + "\ndef oops(:\n")
        broken = invoke(client, {"action": "describe"})
        assert broken.function_error == "Unhandled"
        assert broken.body["errorType"] == "Runtime.UserCodeSyntaxError"  # awslambdaric's, as on Lambda
        assert "predictor.handler" in broken.body["errorMessage"]
        source.write_text(source.read_text().replace("\ndef oops(:\n", "\n"))
        healed = invoke(client, {"action": "describe"})
        assert healed.function_error is None and healed.body["model_version"] == "fixture-edited"
    finally:
        server.stop()
    assert runtime_children(server) == set()


def address_space_limit(pid: int) -> int:
    line = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
                if line.startswith("Max address space"))
    return int(line.split()[3])


def test_after_an_edit_the_prewarmed_instance_is_the_spare_that_imported_the_libraries_in_its_sandbox(tmp_path):
    apps = copy_apps(tmp_path / "apps")
    source = apps / "predictor" / "model.py"
    with source.open("a") as model_source:  # a third-party library the model's build imports
        model_source.write("\nimport numpy as _numpy  # noqa: E402, F401\n")
    server = start_server(apps, log_path=tmp_path / "predictor.log", instances=1, memory_mb=1024, prewarm=True)
    try:
        client = lambda_client(server.url)
        old = invoke(client, {"action": "describe"}).body["model_version"]
        spare = wait_until(server.pool.spare_pid, timeout=60, what="a spare instance")
        # the spare has loaded the build's libraries before any image was given to it, in its sandbox
        wait_until(lambda: "numpy" in Path(f"/proc/{spare}/maps").read_text(), timeout=60,
                   what="the spare to import numpy")
        assert 0 not in status_ids(spare, "Uid:") and 0 not in status_ids(spare, "Gid:")
        assert address_space_limit(spare) == 1024 * 1024 * 1024

        text = source.read_text()
        source.write_text(text.replace(f'MODEL_VERSION = "{old}"', 'MODEL_VERSION = "fixture-spare"'))
        edited = invoke(client, {"action": "describe"})
        assert edited.body["model_version"] == "fixture-spare"
        assert edited.body["timing_ms"]["cold_start"] is True  # the handler's init ran in the spare
        assert server.pool.pids() == {spare}
        [init] = [line for line in log_lines(tmp_path / "predictor.log")
                  if line["message"] == "predictor initialised" and line["model_version"] == "fixture-spare"]
        assert init["artifact"].startswith(str(server.pool.workdir))  # its image's artifact

        # the handler's import still goes through awslambdaric: a broken edit is its init error
        spare = wait_until(server.pool.spare_pid, timeout=60, what="the next spare instance")
        source.write_text(source.read_text() + "\ndef oops(:\n")
        broken = invoke(client, {"action": "describe"})
        assert broken.function_error == "Unhandled"
        assert broken.body["errorType"] == "Runtime.UserCodeSyntaxError"
    finally:
        server.stop()
    assert runtime_children(server) == set()
    assert not Path(f"/proc/{spare}").exists()


def test_stop_leaves_no_process_behind(model_dir, tmp_path):
    apps = copy_apps(tmp_path / "apps")
    server = start_server(apps, model_dir, instances=2)
    client = lambda_client(server.url)
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda _: invoke(client, {"action": "describe"}), range(4)))
    assert all(r.body["ok"] for r in replies)
    assert 1 <= len(runtime_children(server)) <= 2
    server.stop()
    assert runtime_children(server) == set()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=1)


# --- the Invoke API against hostile raw HTTP (as an attacker sends it, not as boto3 does) ------


class RawConnection:
    """A plain socket to the endpoint: bytes out, responses parsed by hand (nothing smooths them)."""

    def __init__(self, server: LambdaServer, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        """(status, headers by lower-case name, body) of the next response."""
        status = int(self.file.readline().split()[1])
        headers = {}
        while (line := self.file.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers, self.file.read(int(headers.get("content-length", 0)))

    def closed_by_server(self) -> bool:
        return self.file.read(1) == b""

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def invoke_head(body_headers: str, invocation_type: str = "RequestResponse") -> bytes:
    return (f"POST /2015-03-31/functions/{FUNCTION}/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-Amz-Invocation-Type: {invocation_type}\r\n{body_headers}\r\n").encode()


DRY_RUN = invoke_head("Content-Length: 2\r\n", "DryRun") + b"{}"


def test_a_50000_deep_json_payload_is_refused_400_and_the_connection_survives(idle_server):
    body = b"[" * 50_000 + b"]" * 50_000
    connection = RawConnection(idle_server)
    try:
        connection.send(invoke_head(f"Content-Length: {len(body)}\r\n") + body + DRY_RUN)
        status, headers, answer = connection.response()
        assert status == 400 and headers["x-amzn-errortype"] == "InvalidRequestContentException"
        assert "Could not parse request body into json" in json.loads(answer)["message"]
        assert connection.response()[0] == 204  # the same connection serves the next request
    finally:
        connection.close()


def test_a_chunked_body_is_read_as_the_body_not_as_a_second_request(idle_server):
    payload = b'{"action": "describe"}'
    chunks = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (payload[:9], payload[9:]))
    connection = RawConnection(idle_server)
    try:
        # a DryRun pipelined right behind it: its 204 must be the next answer, not the chunks read as a request
        connection.send(invoke_head("Transfer-Encoding: chunked\r\n") + chunks + b"0\r\n\r\n" + DRY_RUN)
        status, headers, answer = connection.response()
        assert status == 200 and "x-amz-function-error" not in headers
        body = json.loads(answer)
        assert body["ok"] is True and body["inputs"], body  # the handler saw the describe payload, not {}
        assert connection.response()[0] == 204
    finally:
        connection.close()


def test_a_body_shorter_than_its_content_length_is_answered_and_closed_not_waited_on(idle_server):
    idle_server.body_timeout_seconds = 1.0
    connection = RawConnection(idle_server, timeout=15)
    try:
        started = time.monotonic()
        connection.send(invoke_head("Content-Length: 100\r\n") + b'{"action"')
        status, headers, _ = connection.response()
        assert status == 408 and time.monotonic() - started < 10
        assert headers["x-amzn-errortype"] == "RequestTimeoutException"
        assert connection.closed_by_server()
    finally:
        idle_server.body_timeout_seconds = 10.0
        connection.close()


# --- instances run as Lambda runs them ---------------------------------------------------------

PROBE = """
import os
import tempfile
import time


def handler(event, context):
    probe = event["probe"]
    if probe == "identity":
        return {"uid": os.getuid(), "pid": os.getpid(), "groups": os.getgroups(),
                "task_root": os.environ["LAMBDA_TASK_ROOT"], "tmp": tempfile.gettempdir(),
                "remaining_ms": context.get_remaining_time_in_millis()}
    if probe == "write_code":
        try:
            with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "predictor", "written.txt"), "w") as file:
                file.write("x")
        except OSError as error:
            return {"written": False, "errno": error.errno}
        return {"written": True}
    if probe == "write_tmp":
        path = os.path.join(tempfile.gettempdir(), "scratch.txt")
        with open(path, "w") as file:
            file.write("scratch")
        with open(path) as file:
            return {"path": path, "read": file.read()}
    if probe == "sleep":
        time.sleep(event["seconds"])
        return {"slept": event["seconds"]}
    if probe == "allocate":
        return {"allocated": len(bytearray(event["mb"] * 1024 * 1024))}
    raise ValueError(probe)
"""


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LambdaServer]:
    """One instance of a probe handler; 2 s timeout, 256 MB memory, no build step."""
    apps = copy_apps(tmp_path_factory.mktemp("probed") / "apps")
    (apps / "predictor" / "probe.py").write_text(PROBE)
    server = start_server(apps, instances=1, timeout_seconds=2, memory_mb=256,
                          handler="predictor.probe.handler", build_modules=())
    yield server
    server.stop()


def probe(server: LambdaServer, **event):
    return invoke(lambda_client(server.url), event)


def status_ids(pid: int, field: str) -> list[int]:
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith(field))
    return [int(value) for value in line.split()[1:]]


def test_an_instance_runs_as_another_user_when_the_stack_runs_as_root(probed):
    reply = probe(probed, probe="identity")
    assert reply.function_error is None
    [pid] = runtime_children(probed)
    assert reply.body["pid"] == pid
    uids = status_ids(pid, "Uid:")
    assert 0 not in uids and set(uids) == {reply.body["uid"]}  # real, effective, saved, fs: none is root
    assert 0 not in status_ids(pid, "Gid:") and reply.body["groups"] == []
    if os.geteuid() == 0:
        assert reply.body["uid"] == pwd.getpwnam("nobody").pw_uid
    assert 0 < reply.body["remaining_ms"] <= 2000  # the context's deadline is the configured timeout


def test_the_code_folder_is_read_only_and_only_tmp_is_writable(probed):
    code = probe(probed, probe="write_code").body
    assert code["written"] is False and code["errno"] == errno.EACCES
    identity = probe(probed, probe="identity").body
    assert not (Path(identity["task_root"]) / "predictor" / "written.txt").exists()
    scratch = probe(probed, probe="write_tmp").body
    assert scratch["read"] == "scratch" and Path(scratch["path"]).parent == Path(identity["tmp"])
    assert Path(identity["tmp"]).stat().st_mode & 0o777 == 0o700  # private to the instance


def test_a_handler_past_its_timeout_is_answered_as_lambda_does_and_replaced(probed):
    before = probe(probed, probe="identity").body["pid"]
    started = time.monotonic()
    reply = probe(probed, probe="sleep", seconds=30)
    assert time.monotonic() - started < 15
    assert reply.status == 200 and reply.function_error == "Unhandled"
    assert reply.body == {"errorType": "Sandbox.Timedout",
                          "errorMessage": f"RequestId: {reply.request_id} Error: Task timed out after 2.00 seconds"}
    wait_until(lambda: before not in runtime_children(probed), timeout=10, what="the timed-out instance to go")
    after = probe(probed, probe="identity")
    assert after.function_error is None and after.body["pid"] != before


def test_a_handler_over_its_memory_size_is_answered_out_of_memory_and_replaced(probed):
    before = probe(probed, probe="identity").body["pid"]
    reply = probe(probed, probe="allocate", mb=512)
    assert reply.function_error == "Unhandled"
    message = f"RequestId: {reply.request_id} Error: Runtime exited with error: signal: killed"
    assert reply.body == {"errorType": "Runtime.OutOfMemory", "errorMessage": message}
    assert probe(probed, probe="allocate", mb=64).body == {"allocated": 64 * 1024 * 1024}
    assert probe(probed, probe="identity").body["pid"] != before


@pytest.mark.skipif(os.geteuid() != 0, reason="only root's build can write a file the instance user cannot read")
def test_an_artifact_only_root_can_read_fails_locally_as_on_lambda(tmp_path):
    apps = copy_apps(tmp_path / "apps")
    source = apps / "predictor" / "artifact.py"
    fixed = "os.chmod(tmp.name, ARTIFACT_MODE)"
    assert fixed in source.read_text()
    source.write_text(source.read_text().replace(fixed, "pass  # the bug: NamedTemporaryFile's 0600 kept"))
    server = LambdaServer(host="127.0.0.1", port=free_port(), apps_dir=apps, function_name=FUNCTION,
                          env={"LOG_LEVEL": "INFO"}, instances=1)  # no MODEL_DIR: the image holds the artifact
    server.start()
    try:
        reply = invoke(lambda_client(server.url), {"action": "describe"})
    finally:
        server.stop()
    assert reply.function_error == "Unhandled"
    assert reply.body["errorType"] == "PermissionError"
    assert "Permission denied" in reply.body["errorMessage"] and ".pkl" in reply.body["errorMessage"]


@pytest.mark.slow
def test_make_dev_runs_the_predictor_as_another_user_with_the_model_built_into_its_image(tmp_path):
    settings = stack_settings(tmp_path / "state", lambda_instances=1)
    stack = DevStack(settings)
    stack.start()
    try:
        server = stack.lambda_server
        assert (server.timeout_seconds, server.memory_mb) == (30, 1024)  # Pulumi.yaml's defaults
        reply = invoke(lambda_client(server.url), {"action": "describe"}, function=settings.function_name)
        assert reply.function_error is None and reply.body["ok"] is True
        [pid] = server.pool.pids()
        assert 0 not in status_ids(pid, "Uid:") and 0 not in status_ids(pid, "Gid:")
        lines = log_lines(settings.log_dir / "predictor.log")
        [init] = [line for line in lines if line["message"] == "predictor initialised"]
        assert init["trained_at_init"] is False  # the build step trained it, as the image build does
        assert init["artifact"].startswith(str(server.pool.workdir))  # inside the function's image
    finally:
        stack.stop()


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
