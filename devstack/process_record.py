"""`.devstack/processes.json`: the process groups a running `make dev` started, so the next one
can end what a killed one left behind (a gunicorn still serving the dashboard's port).

Each group is recorded with a piece of its leader's command line: a group is only signalled while
its leader still runs that command (a pgid reused by an unrelated process after the orphan
exited is left alone), and never while the `make dev` that recorded it is still alive.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

FILE = "processes.json"


class StackRunning(RuntimeError):
    """Another live `make dev` owns this state folder."""


@dataclass(frozen=True)
class Group:
    pgid: int
    command: str  # a piece of the leader's command line, e.g. "dashboard.app:server"


def _path(state_dir: Path) -> Path:
    return Path(state_dir) / FILE


def record(state_dir: Path, groups: list[Group], owner: int | None = None) -> None:
    """Write the groups this process (`owner`, default this pid) started, replacing the last record."""
    path = _path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"owner": owner or os.getpid(), "groups": [{"pgid": g.pgid, "command": g.command} for g in groups]}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body))
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def forget(state_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        _path(state_dir).unlink()


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # not ours to end
    return True


def reap(state_dir: Path, grace: float = 10.0) -> list[int]:
    """End the groups a dead `make dev` recorded (SIGTERM, SIGCONT for a stopped one, SIGKILL
    after `grace`); the pgids ended. StackRunning if the recording `make dev` still runs."""
    try:
        body = json.loads(_path(state_dir).read_text())
    except (OSError, ValueError):
        return []
    owner = int(body.get("owner") or 0)
    if owner and owner != os.getpid() and _alive(owner):
        raise StackRunning(f"Another `make dev` (pid {owner}) is running with {state_dir}: stop it first")
    ended = []
    for entry in body.get("groups", []):
        group = Group(int(entry["pgid"]), str(entry["command"]))
        if not (_alive(group.pgid) and group.command in _command_line(group.pgid)) or not _group_exists(group.pgid):
            continue
        for signum in (signal.SIGTERM, signal.SIGCONT):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group.pgid, signum)
        deadline = time.monotonic() + grace
        while _group_exists(group.pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group.pgid, signal.SIGKILL)
        ended.append(group.pgid)
    forget(state_dir)
    return ended
