"""One local Lambda execution environment: AWS's runtime interface client (`python -m awslambdaric
<handler>`, what the Lambda Python base image runs) in its sandbox, with a Runtime API of its own."""

from __future__ import annotations

import contextlib
import json
import os
import select
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

SPARE_SCRIPT = Path(__file__).resolve().parent / "lambda_spare.py"


class Instance:
    """One execution environment: awslambdaric in its sandbox, and its Runtime API."""

    def __init__(self, *, image: TaskImage | None, sandbox: Sandbox, handler: str, env: Mapping[str, str],
                 log_file: IO[bytes] | None, name: str, preload: tuple[str, ...] = ()) -> None:
        """Start awslambdaric over `image`; with `image` None, a spare (devstack.lambda_spare) that
        imports `preload` in its sandbox and waits for `assign` to give it its image."""
        self.image = image
        self.ready = False
        self.api = RuntimeApi(allowed_uid=sandbox.uid)  # only the instance's own user may speak to it
        self.tmp = sandbox.tmp_dir(name)
        child_env = {
            **env,
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "TMPDIR": str(self.tmp),
            "_HANDLER": handler,
        }
        if image is not None:
            child_env.update(self._code_env(image))
            command, cwd = [sys.executable, "-m", "awslambdaric", handler], image.root
        else:
            command, cwd = [sys.executable, str(SPARE_SCRIPT), json.dumps(list(preload)), handler], self.tmp
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and launcher
                sandbox.command(command, cwd),
                env=child_env,
                stdin=subprocess.DEVNULL if image is not None else subprocess.PIPE,
                stdout=(log_file or subprocess.DEVNULL) if image is not None else subprocess.PIPE,
                stderr=log_file or subprocess.DEVNULL,
                start_new_session=True,  # its own group: kill() takes anything it started with it
            )
        except BaseException:
            self.api.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        self._watcher = threading.Thread(target=self._watch, name=f"lambda-instance-{self.pid}", daemon=True)
        self._watcher.start()

    @staticmethod
    def _code_env(image: TaskImage) -> dict[str, str]:
        return {"LAMBDA_TASK_ROOT": str(image.root), "PYTHONPATH": str(image.root)}

    def imported(self) -> bool:
        """Whether a spare has finished importing its libraries (said it is ready)."""
        pipe = self.process.stdout
        if pipe is None:
            return False
        try:
            return bool(select.select([pipe], [], [], 0)[0])
        except (ValueError, OSError):
            return False

    def assign(self, image: TaskImage) -> None:
        """Give a spare its image: it starts awslambdaric's init there (OSError if it has died)."""
        if self.image is not None or self.process.stdin is None:
            raise RuntimeError("only a spare instance is assigned an image")
        self.image = image
        request = {"root": str(image.root), "env": self._code_env(image)}
        stdin, self.process.stdin = self.process.stdin, None
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

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
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._watcher.join(timeout=2)
        self.api.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
