"""An edit of the model through the local Lambda: predict() alone answers without a retrain; a
retrain happens while the old code keeps answering (no failed invoke), GetFunctionConfiguration
says InProgress meanwhile (what the dashboard's predict form reads), and the next answers come
from the retrained model.

The model is a copy of the fixture regressor whose train() sleeps SLOW seconds (0 at first).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from dashboard.predictor_update import UpdateWatch

from devstack.lambda_image import Builder, build_image, code_fingerprint
from devstack.lambda_pool import RETRAIN_PATIENCE_SECONDS, SETTLE_SECONDS
from tests.fixtures.apps import REGRESSOR, apps_with
from tests.predictor.lambda_support import FUNCTION, invoke, lambda_client, log_lines, runtime_children, start_server
from tests.support import wait_until

RECORD = {"area_m2": 60.0, "rooms": 2, "district": "centre", "floor_band": 1}
RENT = 200.0 + 14.0 * 60.0 + 60.0 * 2 + 350.0 + 40.0 * 1  # the fixture regressor's answer for RECORD
SLOW_TRAIN = '''
SLOW = 0.0


def train() -> dict[str, float]:
    """Fixed coefficients, after SLOW seconds."""
    import time

    time.sleep(SLOW)
    return {"base": 200.0, "per_m2": 14.0, "per_room": 60.0, "per_floor_band": 40.0, "spread": 0.1}
'''
RETRAIN_SECONDS = 4.0


@pytest.fixture
def apps(tmp_path: Path) -> Path:
    apps = apps_with(tmp_path / "apps", model=REGRESSOR, algorithm=None)
    model = apps / "predictor" / "model.py"
    text = model.read_text()
    start, end = text.index("def train()"), text.index("def contributions(")
    model.write_text(text[:start] + SLOW_TRAIN.lstrip() + "\n\n" + text[end:])
    tmp_path.chmod(0o755)  # the instances (another user, under root) read the copy
    return apps


def edit(path: Path, old: str, new: str, also: tuple[str, str] | None = None) -> None:
    """Save `path` once, with `old` replaced by `new` (and the `also` pair too)."""
    text = path.read_text()
    for before, after in ((old, new), *([also] if also else [])):
        assert before in text
        text = text.replace(before, after)
    path.write_text(text)


def trainings(log: Path) -> int:
    return sum(line["message"] == "model trained and cached" for line in log_lines(log))


@pytest.mark.timeout(300)
def test_an_edit_of_predict_alone_answers_at_once_without_retraining(apps, tmp_path):
    # A copy without predictor/artifacts/ (it only holds outputs): the cached artifact still returns.
    shutil.rmtree(apps / "predictor" / "artifacts")
    log = tmp_path / "predictor.log"
    server = start_server(apps, log_path=log, instances=1)
    try:
        client = lambda_client(server.url)
        first = invoke(client, {"action": "predict", "inputs": RECORD})
        assert first.function_error is None and first.body["prediction"]["label"].startswith("About €")
        assert trainings(log) == 1
        edit(apps / "predictor" / "model.py", 'label=f"About €', 'label=f"Roughly €')
        edited = invoke(client, {"action": "predict", "inputs": RECORD})  # the very next invoke
        assert edited.function_error is None
        assert edited.body["prediction"]["label"].startswith("Roughly €")
        assert trainings(log) == 1  # the artifact was reused
        configuration = client.get_function_configuration(FunctionName=FUNCTION)
        assert configuration["LastUpdateStatus"] == "Successful" and configuration["State"] == "Active"
        assert configuration["FunctionArn"].endswith(f":function:{FUNCTION}")
        with pytest.raises(ClientError) as missing:
            client.get_function_configuration(FunctionName="another-function")
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    finally:
        server.stop()


@pytest.mark.timeout(300)
def test_a_training_shorter_than_the_patience_is_waited_for(apps, tmp_path):
    # A model that retrains in a moment: the next invoke after the save answers with the new one.
    server = start_server(apps, log_path=tmp_path / "predictor.log", instances=1)
    try:
        client = lambda_client(server.url)
        assert invoke(client, {"action": "predict", "inputs": RECORD}).body["prediction"]["value"] == RENT
        edit(apps / "predictor" / "model.py", "SLOW = 0.0\n", f"SLOW = {RETRAIN_PATIENCE_SECONDS / 2}\n",
             also=('return {"base": 200.0', 'return {"base": 201.0'))
        assert invoke(client, {"action": "predict", "inputs": RECORD}).body["prediction"]["value"] == RENT + 1
    finally:
        server.stop()


@pytest.mark.timeout(300)
def test_a_save_caught_half_written_is_not_what_answers(apps, tmp_path):
    # An editor's save seen in the middle (the file cut short, the rest written a moment later):
    # no invoke, then or after, answers with the half file's init error.
    server = start_server(apps, log_path=tmp_path / "predictor.log", instances=2)
    replies = []
    stop = threading.Event()

    def keep_predicting() -> None:
        client = lambda_client(server.url)
        while not stop.is_set():
            replies.append(invoke(client, {"action": "predict", "inputs": RECORD}))

    try:
        client = lambda_client(server.url)
        assert invoke(client, {"action": "predict", "inputs": RECORD}).function_error is None
        model = apps / "predictor" / "model.py"
        whole = model.read_text().replace('label=f"About €', 'label=f"Roughly €')
        asking = [threading.Thread(target=keep_predicting, daemon=True) for _ in range(2)]
        for thread in asking:
            thread.start()
        model.write_text(whole[: len(whole) // 3])
        time.sleep(SETTLE_SECONDS / 2)
        model.write_text(whole)
        wait_until(lambda: any(r.function_error is None and r.body["prediction"]["label"].startswith("Roughly €")
                               for r in list(replies)), timeout=120, what="an answer from the whole file")
        stop.set()
        for thread in asking:
            thread.join(timeout=60)
    finally:
        stop.set()
        server.stop()
    assert [r.body for r in replies if r.function_error is not None] == []


@pytest.mark.timeout(300)
def test_a_retrain_keeps_the_old_code_answering_and_says_so(apps, tmp_path):
    log = tmp_path / "predictor.log"
    server = start_server(apps, log_path=log, instances=2)
    answers: list[tuple[float, float | None, str | None]] = []  # (when, value, function error or exception)
    stop = threading.Event()

    def keep_predicting() -> None:
        client = lambda_client(server.url)
        while not stop.is_set():
            try:
                reply = invoke(client, {"action": "predict", "inputs": RECORD})
                value = reply.body["prediction"]["value"] if reply.function_error is None else None
                answers.append((time.monotonic(), value, reply.function_error and f"{reply.body}"))
            except Exception as error:  # noqa: BLE001 - counted as a failed prediction
                answers.append((time.monotonic(), None, repr(error)))

    try:
        client = lambda_client(server.url)
        assert invoke(client, {"action": "predict", "inputs": RECORD}).body["prediction"]["value"] == RENT
        assert client.get_function_configuration(FunctionName=FUNCTION)["LastUpdateStatus"] == "Successful"
        predictor = threading.Thread(target=keep_predicting, daemon=True)
        predictor.start()
        wait_until(lambda: len(answers) >= 3, timeout=60, what="predictions before the edit")

        model = apps / "predictor" / "model.py"  # one save: a slower training with another coefficient
        edit(model, "SLOW = 0.0\n", f"SLOW = {RETRAIN_SECONDS}\n",
             also=('return {"base": 200.0', 'return {"base": 201.0'))
        saved = time.monotonic()
        watch = UpdateWatch(client, FUNCTION, ttl=0)  # what the predict form reads
        training_shown = []
        while True:
            training_shown.append(watch.in_progress())
            reply = invoke(client, {"action": "predict", "inputs": RECORD})
            assert reply.function_error is None, reply.body
            if reply.body["prediction"]["value"] == RENT + 1:
                break
            assert reply.body["prediction"]["value"] == RENT  # the old model, while the new one trains
            assert time.monotonic() - saved < 120, "the retrained model never answered"
        new_answer = time.monotonic() - saved
        assert client.get_function_configuration(FunctionName=FUNCTION)["LastUpdateStatus"] == "Successful"
        stop.set()
        predictor.join(timeout=60)
    finally:
        stop.set()
        server.stop()
    assert new_answer >= RETRAIN_SECONDS  # it did retrain (and the old code answered until then)
    assert any(training_shown)  # the form said a new version was being trained
    during = [a for a in answers if a[0] >= saved]
    assert [a for a in answers if a[2] is not None] == []  # no failed prediction, before or during
    assert any(value == RENT for _, value, _ in during)  # the old model answered during the retrain
    assert trainings(log) == 2


@pytest.mark.timeout(300)
def test_stopping_during_a_retrain_leaves_no_process(apps, tmp_path):
    others = build_children()  # other tests' servers in this process may keep a build worker in reserve
    server = start_server(apps, log_path=tmp_path / "predictor.log", instances=1)
    client = lambda_client(server.url)
    assert invoke(client, {"action": "predict", "inputs": RECORD}).function_error is None
    edit(apps / "predictor" / "model.py", "SLOW = 0.0", "SLOW = 60.0")
    assert invoke(client, {"action": "predict", "inputs": RECORD}).body["prediction"]["value"] == RENT
    wait_until(lambda: server.pool.update_status() == "InProgress", timeout=30, what="the retrain to start")
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 30  # the training process was ended, not waited for
    assert runtime_children(server) == set()
    assert build_children() - others == set()


def build_children() -> set[int]:
    """Pids of this process's live children that run an image build (devstack.lambda_build_worker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and b"devstack.lambda_build_worker" in cmdline:
            found.add(int(entry.name))
    return found


def test_a_copy_the_code_changed_under_is_thrown_away(apps, tmp_path):
    # An editor's save may be caught half-written: the image is built only from a copy whose
    # source did not change while it was made.
    builder = Builder(("predictor.artifact",), {}, None)
    destination = tmp_path / "image"
    built = build_image(apps_dir=apps, packages=("predictor", "jobkit"), destination=destination,
                        fingerprint=code_fingerprint(apps, ("predictor", "jobkit")), builder=builder,
                        cache=tmp_path / "cache", unchanged=lambda: False)
    assert built is None and not destination.exists()
    builder.close()
