"""The local launcher counts only this user's processes that run the worker command with its
marker: a process that copies the (predictable) marker cannot stop workers from starting."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from dashboard.launcher import SubprocessLauncher

from tests.support import wait_until

COMMAND = (sys.executable, "-c", "import time; time.sleep(60)")


@pytest.fixture
def launcher(tmp_path) -> Iterator[SubprocessLauncher]:
    started = SubprocessLauncher(COMMAND, max_workers=1, log_dir=tmp_path / "logs", env={"JOBS_TABLE": "t-count"})
    yield started
    started.stop_all()


@pytest.fixture
def fakes() -> Iterator[list[subprocess.Popen]]:
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        process.kill()
        process.wait()


def fake(fakes, launcher, command, **kwargs) -> subprocess.Popen:
    env = {"PATH": os.environ.get("PATH", ""), launcher.MARKER: launcher.marker}
    process = subprocess.Popen(list(command), env=env, stdin=subprocess.DEVNULL, **kwargs)  # noqa: S603
    fakes.append(process)
    wait_until(lambda: _environ_visible(process.pid, launcher), timeout=15, what="the fake to start")
    return process


def _environ_visible(pid: int, launcher: SubprocessLauncher) -> bool:
    try:
        return f"{launcher.MARKER}={launcher.marker}".encode() in open(f"/proc/{pid}/environ", "rb").read()
    except OSError:
        return False


def test_a_worker_it_started_is_counted(launcher):
    launcher.launch()
    wait_until(lambda: launcher.running() == 1, timeout=15, what="the worker to be counted")


def test_a_process_with_the_marker_but_another_command_is_not_a_worker(launcher, fakes):
    fake(fakes, launcher, (sys.executable, "-c", "import time; time.sleep(59)"))
    assert launcher.running() == 0
    launcher.launch()
    wait_until(lambda: launcher.running() == 1, timeout=15, what="the real worker to be counted")


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/bin/python3"),
                    reason="starting a process as another user needs root (and a system python3)")
def test_another_users_process_with_the_marker_and_the_command_is_not_counted(launcher, fakes):
    # The system interpreter (nobody may not enter the venv); the arguments are the worker command's.
    fake(fakes, launcher, ("/usr/bin/python3", *COMMAND[1:]), user=65534, group=65534, extra_groups=[], cwd="/")
    assert launcher.running() == 0
    fake(fakes, launcher, COMMAND)  # the same, as this user: that one counts (this user may run workers)
    assert launcher.running() == 1
