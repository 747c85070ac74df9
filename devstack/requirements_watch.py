"""`make dev`'s dependency watch: a saved requirements lock is installed into the dev venv and the
app that uses it restarted, with one line in the terminal saying so.

Each app's `requirements.txt` is the lock `make lock` writes from its `requirements.in`
(README, "Add a dependency"). A changed lock is installed with pip (`--require-hashes`: exactly
what the image installs), then the app restarted: the predictor's local Lambda (new instances
import the new set), the local workers (stopped; the dashboard's reconciler starts fresh ones for
the waiting jobs, and a stopped worker hands its job back first), or the dashboard. A changed
`requirements.in` with no new lock gets a one-line reminder to run `make lock`. A lock pip cannot
install leaves the running apps as they were and says why, in one line.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devstack.stack import DevStack

log = logging.getLogger("devstack.requirements")

# Which running part of the local stack imports what each app's lock installs.
PARTS = {"predictor": "predictor", "worker": "workers", "dashboard": "dashboard"}
LOCKS = ("requirements.txt", "requirements-gpu.txt")
INSTALL_TIMEOUT_SECONDS = 900.0

Snapshot = dict[Path, str]


@dataclass(frozen=True)
class Installed:
    """What one pip run did: ok, its last line of output (the error when it failed), seconds taken."""

    ok: bool
    detail: str
    seconds: float


def pip_install(lock: Path, python: str = sys.executable) -> Installed:
    """Install one lock into the interpreter's environment, hash-checked like the image build."""
    started = time.monotonic()
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter, a file of our own apps
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes",
             "-r", str(lock)],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired:
        return Installed(False, f"pip took longer than {INSTALL_TIMEOUT_SECONDS:.0f}s",
                         time.monotonic() - started)
    lines = [line.strip() for line in (done.stderr + done.stdout).splitlines()
             if line.strip() and not line.startswith("WARNING")]
    # pip's ERROR line says what went wrong; its first sentence is enough for the terminal.
    errors = [line.split(". ", 1)[0] for line in lines if line.startswith("ERROR")]
    detail = errors[0] if errors else (lines[-1] if lines else "")
    return Installed(done.returncode == 0, detail, time.monotonic() - started)


def _snapshot(files: Iterable[Path]) -> Snapshot:
    """Each file's content digest: `make lock` rewrites every lock, and only a changed one counts."""
    found: Snapshot = {}
    for file in files:
        try:
            found[file] = hashlib.sha256(file.read_bytes()).hexdigest()
        except OSError:
            continue
    return found


class RequirementsWatch:
    """Call `poll()` now and then (the supervisor's loop does, once a round): it acts on what
    changed since the last call. `install(lock)` and `restart(part)` are what it does about it."""

    def __init__(self, apps_dir: Path, report: Callable[[str], None],
                 restart: Callable[[str], None],
                 install: Callable[[Path], Installed] = pip_install,
                 shown_root: Path | None = None) -> None:
        self.apps_dir = Path(apps_dir)
        self.report, self.restart, self.install = report, restart, install
        self.shown_root = shown_root or self.apps_dir.parent
        self._seen = _snapshot(self._files())

    def _files(self) -> list[Path]:
        return [self.apps_dir / app / name for app in PARTS for name in (*LOCKS, "requirements.in",
                                                                         "requirements-gpu.in")]

    def _shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.shown_root))
        except ValueError:
            return str(path)

    def poll(self) -> list[str]:
        """Act on every requirements file saved since the last poll; the lines reported."""
        now = _snapshot(self._files())
        changed = sorted(path for path in now.keys() | self._seen.keys() if now.get(path) != self._seen.get(path))
        self._seen = now
        said: list[str] = []

        def say(line: str) -> None:
            said.append(line)
            self.report(line)

        locks = [path for path in changed if path.name in LOCKS and path in now]
        for source in (path for path in changed if path.suffix == ".in" and path in now):
            lock = source.with_suffix(".txt")
            if lock not in locks:
                say(f"{self._shown(source)} changed: run `make lock` to pin it into {self._shown(lock)}; "
                    "make dev installs the new lock as soon as it is written.")
        for lock in locks:
            app = lock.parent.name
            if lock.name == "requirements-gpu.txt":
                say(f"{self._shown(lock)} changed: only the GPU image installs it; nothing to restart here.")
                continue
            result = self.install(lock)
            log.info("requirements installed", extra={"lock": str(lock), "ok": result.ok,
                                                      "seconds": round(result.seconds, 2)})
            if not result.ok:
                say(f"{self._shown(lock)} changed but pip could not install it ({result.detail}); "
                    "nothing was restarted: fix it and save again.")
                continue
            try:
                self.restart(PARTS[app])
            except Exception as error:  # noqa: BLE001 - one line in the terminal, the stack goes on
                say(f"{self._shown(lock)} installed in {result.seconds:.1f}s, but restarting the "
                    f"{PARTS[app]} failed: {error}")
            else:
                say(f"{self._shown(lock)} changed: installed into the dev venv in {result.seconds:.1f}s "
                    f"and restarted the {PARTS[app]}.")
        return said


def stop_marked_workers(command: tuple[str, ...], marker_name: str, marker: str,
                        proc: Path = Path("/proc")) -> list[int]:
    """SIGTERM every live local worker of this stack (the launcher's own test: this user's processes
    running the worker command with its marker; each hands its job back to the queue first); the
    pids signalled."""
    from dashboard.launcher import worker_processes

    pids = worker_processes(command, marker_name, marker, proc)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    return pids


def for_stack(stack: DevStack, report: Callable[[str], None]) -> RequirementsWatch:
    """The watch over a running DevStack's apps: the restarts it does go through the stack, from
    the supervisor's own thread (DevStack.supervise's `tick`), so they never race its restarts."""
    from dashboard.launcher import SubprocessLauncher
    from dashboard.settings import DashboardSettings

    s = stack.settings
    # The dashboard's launcher marks its workers by table and log folder; the same values here.
    dashboard_env = stack.app_env("dashboard")
    command = DashboardSettings.from_env(dashboard_env).worker_command
    marker = SubprocessLauncher((), 0, s.log_dir, env=dashboard_env).marker

    def restart(part: str) -> None:
        if part == "predictor":
            stack.restart("Lambda endpoint")
        elif part == "dashboard":
            stack.restart("dashboard")
        else:
            stop_marked_workers(command, SubprocessLauncher.MARKER, marker)

    return RequirementsWatch(s.apps_dir, report, restart)
