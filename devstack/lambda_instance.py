"""One local Lambda execution environment: AWS's runtime interface client (`python -m awslambdaric
<handler>`, what the Lambda Python base image runs) in its sandbox, with a Runtime API of its own."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from devstack.lambda_image import TaskImage
from devstack.lambda_runtime_api import Event, Outcome, RuntimeApi
from devstack.lambda_sandbox import Sandbox


class Instance:
    """One execution environment: awslambdaric in its sandbox, and its Runtime API."""

    def __init__(self, *, image: TaskImage, sandbox: Sandbox, handler: str, env: Mapping[str, str],
                 log_file: IO[bytes] | None, name: str) -> None:
        self.image = image
        self.ready = False
        self.api = RuntimeApi()
        self.tmp = sandbox.tmp_dir(name)
        child_env = {
            **env,
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "LAMBDA_TASK_ROOT": str(image.root),
            "PYTHONPATH": str(image.root),
            "TMPDIR": str(self.tmp),
            "_HANDLER": handler,
        }
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and launcher
                sandbox.command([sys.executable, "-m", "awslambdaric", handler], image.root),
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=log_file or subprocess.DEVNULL,
                stderr=log_file or subprocess.DEVNULL,
                start_new_session=True,  # its own group: kill() takes anything it started with it
            )
        except BaseException:
            self.api.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        self._watcher = threading.Thread(target=self._watch, name=f"lambda-instance-{self.pid}", daemon=True)
        self._watcher.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _watch(self) -> None:
        self.api.exited(self.process.wait())

    def alive(self) -> bool:
        """Whether the process still runs (not exited, not a zombie). Popen.poll() cannot tell:
        it answers None while the watcher thread waits on the process."""
        if self.process.returncode is not None:
            return False
        try:
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")

    def wait_ready(self, timeout: float) -> Outcome | None:
        """None once the runtime asks for its first event; else its init error or exit.
        queue.Empty if it does neither within `timeout` seconds."""
        outcome = self.api.outcome(timeout)
        if outcome.kind == "ready":
            self.ready = True
            return None
        return outcome

    def call(self, event: Event, timeout: float) -> Outcome:
        """Hand the instance one event; its response, error or exit (queue.Empty on timeout)."""
        self.api.send(event)
        return self.api.outcome(timeout)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        self._watcher.join(timeout=2)
        self.api.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
