"""make dev's requirements watch (devstack/requirements_watch.py): a saved lock is installed and its
app restarted, with one line; a saved requirements.in asks for `make lock`; a lock pip refuses
leaves the apps as they were. The slow test runs `python -m devstack` on a fixture apps copy and
swaps a small local package (a wheel built here, so no network) under a running worker."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests
from dashboard.launcher import SubprocessLauncher, worker_processes
from dashboard.settings import DashboardSettings

from bench import dash_calls
from devstack.local_aws import local_client
from devstack.requirements_watch import Installed, RequirementsWatch, pip_install
from devstack.settings import DevSettings
from devstack.stack import DevStack
from tests.devstack.test_make_dev_restart import DevRun
from tests.fixtures.apps import EVERY_PARAM, apps_with
from tests.offered_samples import first_offered_sample
from tests.support import stack_settings, wait_until

PROBE = "mlproto_reqwatch_probe"


def build_wheel(folder: Path, version: str, number: int) -> Path:
    """A pure-Python wheel of PROBE whose NUMBER is `number`, written by hand (no build backend)."""
    dist = f"{PROBE}-{version}.dist-info"
    files = {
        f"{PROBE}/__init__.py": f"NUMBER = {number}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {PROBE}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{PROBE}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


def lock_line(wheel: Path, digest: str | None = None) -> str:
    digest = digest or hashlib.sha256(wheel.read_bytes()).hexdigest()
    return f"{PROBE.replace('_', '-')} @ {wheel.as_uri()} \\\n    --hash=sha256:{digest}\n"


class Recorder:
    def __init__(self, ok: bool = True, detail: str = "") -> None:
        self.installed: list[Path] = []
        self.restarted: list[str] = []
        self.lines: list[str] = []
        self.ok, self.detail = ok, detail

    def install(self, lock: Path) -> Installed:
        self.installed.append(lock)
        return Installed(self.ok, self.detail, 0.25)


def watch_over(apps: Path, recorder: Recorder) -> RequirementsWatch:
    return RequirementsWatch(apps, recorder.lines.append, recorder.restarted.append, install=recorder.install)


def save(path: Path, text: str) -> None:
    path.write_text(text)


@pytest.fixture
def apps(tmp_path) -> Path:
    return apps_with(tmp_path / "apps")


@pytest.mark.parametrize(("app", "part"), [("worker", "workers"), ("predictor", "predictor"),
                                           ("dashboard", "dashboard")])
def test_a_saved_lock_is_installed_and_its_app_restarted_in_one_line(apps, app, part):
    recorder = Recorder()
    watch = watch_over(apps, recorder)
    assert watch.poll() == [] and recorder.installed == []
    lock = apps / app / "requirements.txt"
    save(lock, lock.read_text() + "\n")
    assert watch.poll() == recorder.lines
    assert recorder.installed == [lock] and recorder.restarted == [part]
    assert recorder.lines == [f"apps/{app}/requirements.txt changed: installed into the dev venv in 0.2s "
                              f"and restarted the {part}."]
    assert watch.poll() == [] and len(recorder.installed) == 1  # once per save


def test_a_saved_requirements_in_asks_for_make_lock_and_installs_nothing(apps):
    recorder = Recorder()
    watch = watch_over(apps, recorder)
    source = apps / "worker" / "requirements.in"
    save(source, source.read_text() + "pandas\n")
    watch.poll()
    assert recorder.installed == [] and recorder.restarted == []
    assert recorder.lines == ["apps/worker/requirements.in changed: run `make lock` to pin it into "
                              "apps/worker/requirements.txt; make dev installs the new lock as soon as it is written."]


def test_locks_rewritten_unchanged_are_not_installed(apps):
    """`make lock` rewrites every lock; only the one whose content changed is installed."""
    recorder = Recorder()
    watch = watch_over(apps, recorder)
    for app in ("dashboard", "predictor", "worker"):
        lock = apps / app / "requirements.txt"
        save(lock, lock.read_text())
    gpu = apps / "worker" / "requirements-gpu.txt"
    save(gpu, gpu.read_text())
    assert watch.poll() == [] and recorder.installed == []


def test_a_lock_and_its_source_saved_together_are_one_install(apps):
    recorder = Recorder()
    watch = watch_over(apps, recorder)
    for name in ("requirements.in", "requirements.txt"):
        path = apps / "worker" / name
        save(path, path.read_text() + "\n")
    watch.poll()
    assert recorder.installed == [apps / "worker" / "requirements.txt"] and len(recorder.lines) == 1


def test_a_lock_pip_refuses_restarts_nothing_and_says_why(apps):
    recorder = Recorder(ok=False, detail="ERROR: THESE PACKAGES DO NOT MATCH THE HASHES")
    watch = watch_over(apps, recorder)
    lock = apps / "dashboard" / "requirements.txt"
    save(lock, lock.read_text() + "\n")
    watch.poll()
    assert recorder.restarted == []
    assert recorder.lines == ["apps/dashboard/requirements.txt changed but pip could not install it (ERROR: THESE "
                              "PACKAGES DO NOT MATCH THE HASHES); nothing was restarted: fix it and save again."]


def test_pip_install_refuses_a_wheel_whose_hash_is_not_the_locks(tmp_path):
    """The real pip, offline: a lock naming another hash installs nothing (the venv is untouched)."""
    wheel = build_wheel(tmp_path / "wheels", "1.0", 1)
    lock = tmp_path / "requirements.txt"
    lock.write_text(lock_line(wheel, digest="0" * 64))
    result = pip_install(lock)
    assert not result.ok and "hash" in result.detail.lower(), result
    done = subprocess.run([sys.executable, "-c", f"import {PROBE}"], capture_output=True, check=False)
    assert done.returncode != 0


@pytest.fixture
def probe_uninstalled():
    yield
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "--quiet", "-y", PROBE], check=False,
                   capture_output=True)


def probe_algorithm(destination: Path) -> Path:
    """The fixture algorithm, importing PROBE at the top and reporting its NUMBER in the metrics."""
    source = EVERY_PARAM.read_text()
    source = source.replace("from __future__ import annotations\n",
                            f"from __future__ import annotations\n\nimport {PROBE}\n", 1)
    source = source.replace('"metrics": {"flagged"', f'"metrics": {{"probe": {PROBE}.NUMBER, "flagged"', 1)
    assert f"{PROBE}.NUMBER" in source
    destination.write_text(source)
    return destination


@pytest.mark.slow
def test_make_dev_installs_a_new_lock_and_restarts_the_workers_on_its_own(tmp_path, probe_uninstalled):
    algorithm = tmp_path / "algorithm" / "algorithm.py"
    algorithm.parent.mkdir()
    shutil.copytree(EVERY_PARAM.parent / "samples", algorithm.parent / "samples")  # the SAMPLES it names
    apps = apps_with(tmp_path / "apps", algorithm=probe_algorithm(algorithm))
    lock = apps / "worker" / "requirements.txt"
    shipped = lock.read_text()
    first, second = build_wheel(tmp_path / "v1", "1.0", 1), build_wheel(tmp_path / "v2", "2.0", 2)
    lock.write_text(shipped + lock_line(first))
    assert pip_install(lock).ok  # what `make venv` would have installed before `make dev`

    ports = stack_settings(tmp_path / "state")
    env = {**os.environ, "DEVSTACK_DIR": str(ports.state_dir), "DASHBOARD_PORT": str(ports.dashboard_port),
           "AWS_PORT": str(ports.aws_port), "LAMBDA_PORT": str(ports.lambda_port), "LAMBDA_INSTANCES": "1",
           "DEVSTACK_APPS_DIR": str(apps),
           # Workers that would idle past the test: the only way one stops is the watch's restart.
           "WORKER_IDLE_SECONDS": "600"}
    settings = DevSettings.from_env(env)
    local = DevStack(settings)  # never started: its store, login and app env reach what `make dev` runs
    marker = SubprocessLauncher((), 0, settings.log_dir, env=local.app_env("dashboard")).marker
    command = DashboardSettings.from_env(local.app_env("dashboard")).worker_command
    base = settings.dashboard_url
    run = DevRun(env, tmp_path / "dev.log")
    try:
        run.wait_ready()
        session = requests.Session()
        assert dash_calls.sign_in(session, base, *local.login).ok
        sample = first_offered_sample(session, base)

        def job_probe(token: str) -> int:
            answer = session.post(f"{base}/_dash-update-component", timeout=60,
                                  json=dash_calls.submit_sample(sample, token))
            job_id = answer.json()["response"]["jobs-changed"]["data"]
            wait_until(lambda: local.store.get(job_id).status.value == "SUCCEEDED", timeout=180, interval=0.5,
                       what=f"job {job_id} to succeed")
            return local.store.read_summary(local.store.get(job_id))["metrics"]["probe"]

        assert job_probe("probe-1") == 1
        workers = worker_processes(command, SubprocessLauncher.MARKER, marker)
        assert workers, "the worker that ran the job is idling, with version 1 imported"

        save(lock, shipped + lock_line(second))
        said = wait_until(lambda: re.search(r"^apps/worker/requirements\.txt changed: .*$",
                                            run.output.read_text(), re.MULTILINE), timeout=120, interval=0.5,
                          what="make dev's line about the new lock").group(0)
        assert re.fullmatch(r"apps/worker/requirements\.txt changed: installed into the dev venv in [\d.]+s "
                            r"and restarted the workers\.", said), said
        assert job_probe("probe-2") == 2  # an idle worker with version 1 imported would have taken it
        wait_until(lambda: not set(workers) & set(worker_processes(command, SubprocessLauncher.MARKER, marker)),
                   timeout=30, what="the old workers to be gone")

        # The predictor's and the dashboard's locks: each app restarted through the stack, and serving.
        for app, part in (("predictor", "predictor"), ("dashboard", "dashboard")):
            other = apps / app / "requirements.txt"
            save(other, other.read_text() + "# saved again\n")
            wait_until(lambda app=app, part=part: re.search(
                rf"^apps/{app}/requirements\.txt changed: installed into the dev venv in [\d.]+s and restarted "
                rf"the {part}\.$", run.output.read_text(), re.MULTILINE), timeout=180, interval=0.5,
                what=f"make dev's line about {app}'s lock")
        assert requests.get(f"{base}/health", timeout=30).status_code == 200
        lambda_client = local_client("lambda", settings.lambda_url, settings.region)
        answer = lambda_client.invoke(FunctionName=settings.function_name, Payload=b'{"action": "describe"}')
        assert "FunctionError" not in answer and json.loads(answer["Payload"].read())["ok"] is True
        assert run.process.poll() is None  # make dev itself was never restarted
        print(said)
    finally:
        run.stop()
