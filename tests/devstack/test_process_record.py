"""What a killed `make dev` left running is ended by the next one, and only that."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from devstack import process_record
from devstack.process_record import Group, StackRunning
from tests.support import wait_until

ORPHAN = [sys.executable, "-c", "import time; time.sleep(120)", "dashboard.app:server"]


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def orphan():
    process = subprocess.Popen(ORPHAN, start_new_session=True)
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def test_the_groups_of_a_killed_stack_are_ended_at_the_next_start(tmp_path, orphan):
    process_record.record(tmp_path, [Group(orphan.pid, "dashboard.app:server")], owner=dead_pid())
    assert process_record.reap(tmp_path, grace=5) == [orphan.pid]
    assert wait_until(lambda: orphan.poll() is not None, timeout=10, what="the orphan to end") is not None
    assert not (tmp_path / process_record.FILE).exists()


def test_a_stopped_orphan_is_ended_too(tmp_path, orphan):
    os.killpg(orphan.pid, 19)  # SIGSTOP: SIGTERM alone would wait for a SIGCONT
    process_record.record(tmp_path, [Group(orphan.pid, "dashboard.app:server")], owner=dead_pid())
    process_record.reap(tmp_path, grace=5)
    wait_until(lambda: orphan.poll() is not None, timeout=10, what="the stopped orphan to end")
    assert orphan.returncode == -15  # it took the SIGTERM once continued, no SIGKILL needed


def test_a_reused_pgid_running_something_else_is_left_alone(tmp_path, orphan):
    process_record.record(tmp_path, [Group(orphan.pid, "gunicorn-of-another-program")], owner=dead_pid())
    assert process_record.reap(tmp_path, grace=1) == []
    assert orphan.poll() is None


def test_a_live_stack_is_never_reaped(tmp_path, orphan):
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        process_record.record(tmp_path, [Group(orphan.pid, "dashboard.app:server")], owner=sibling.pid)
        with pytest.raises(StackRunning, match=f"pid {sibling.pid}"):
            process_record.reap(tmp_path)
        assert orphan.poll() is None
    finally:
        sibling.kill()
        sibling.wait()


def test_the_record_is_private(tmp_path):
    process_record.record(tmp_path, [Group(1234, "x")])
    assert (tmp_path / process_record.FILE).stat().st_mode & 0o777 == 0o600
