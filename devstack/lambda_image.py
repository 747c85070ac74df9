"""The function's code as its container image holds it: a read-only copy of the packages, built.

Like the predictor's Dockerfile (COPY jobkit/ and predictor/, then RUN python -m predictor.artifact,
as root), an image here is a fresh folder holding a copy of each package (file modes kept, what
the .dockerignore leaves out left out), in which the build modules run as the user running the
stack. Then every write permission is removed, so the instances (another user, when the stack runs
as root) can read only what Lambda's user could read, and write nothing there. Build outputs
(trained artifacts) that every user can read are kept in a build cache and put back into the next
image before its build, as a layer cache would, so only an edit to the model retrains it; an
output only its owner can read is never cached, so each build that makes one fails as on Lambda.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from devstack.dockerignore import DockerIgnore

log = logging.getLogger("devstack.lambda")

REPO_ROOT = Path(__file__).resolve().parent.parent

CARRIED_SUFFIXES = (".pkl",)
# Files a model loads at build or serve time (a pre-trained model...): watched beside the .py files.
PRETRAINED = "pretrained"
BUILD_TIMEOUT_SECONDS = 300.0


def code_fingerprint(apps_dir: Path, packages: tuple[str, ...]) -> tuple[Any, ...]:
    """(path, mtime, size) of every .py file in the packages, and of every file under a
    `pretrained/` folder in them: changes when code, or a file the model loads, does."""
    entries = []
    for package in packages:
        for root, dirs, files in os.walk(apps_dir / package):
            dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
            loaded = PRETRAINED in Path(root).relative_to(apps_dir / package).parts
            for name in files:
                if name.endswith(".py") or loaded:
                    path = os.path.join(root, name)
                    with contextlib.suppress(FileNotFoundError):
                        stat = os.stat(path)
                        entries.append((path, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(entries))


@dataclass(frozen=True)
class TaskImage:
    """One built copy of the code (LAMBDA_TASK_ROOT) and the fingerprint of the source it came from."""

    root: Path
    fingerprint: tuple[Any, ...]


class Builder:
    """Runs an image's build modules (`python -m module` each, in the image folder) in a process of
    their own; with `reserve`, one started ahead of time that has already imported the libraries
    the previous build used, so a rebuild does not wait for them (devstack.lambda_build_worker)."""

    def __init__(self, modules: tuple[str, ...], env: Mapping[str, str], log_file: IO[bytes] | None) -> None:
        self.modules = modules
        self.env = dict(env)
        self.log_file = log_file
        self.reserve = False
        self._preload: list[str] = []
        self._spare: subprocess.Popen[bytes] | None = None
        self._running: subprocess.Popen[bytes] | None = None  # the process of the build under way

    def _start(self, preload: bool = True) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "devstack.lambda_build_worker", json.dumps(self._preload if preload else [])],
            cwd=REPO_ROOT, env={**self.env, "PYTHONPATH": str(REPO_ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log_file or subprocess.DEVNULL,
        )

    def run(self, destination: Path) -> int:
        """Build in `destination`: the exit status of the first module that failed, else 0."""
        if not self.modules:
            return 0
        worker, self._spare = self._spare, None
        if worker is not None and not select.select([worker.stdout], [], [], 0)[0]:
            # Still importing: a build that needs those libraries waits no longer in a fresh process,
            # and one that does not (the model unchanged) is much quicker there.
            self._end(worker)
            worker = None
        if worker is None:
            worker = self._start(preload=False)
        elif worker.stdout is not None:
            worker.stdout.readline()  # its "ready"
        request = {"root": str(destination), "modules": list(self.modules),
                   "env": {"PYTHONPATH": str(destination), "LAMBDA_TASK_ROOT": str(destination)}}
        self._running = worker
        try:
            out, _ = worker.communicate(json.dumps(request).encode() + b"\n", timeout=BUILD_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
            return -9
        finally:
            self._running = None
        try:
            answer = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            answer = {"status": worker.returncode or 1, "loaded": []}
        self._preload = answer.get("loaded", [])
        return int(answer["status"])

    @property
    def preloaded(self) -> list[str]:
        """The third-party packages the last build imported (what a reserve process imports ahead)."""
        return list(self._preload)

    def settled(self) -> bool:
        """Whether no process of ours is importing now: the reserve (if any) has said it is ready."""
        spare = self._spare
        if spare is None or spare.stdout is None:
            return True
        try:
            return bool(select.select([spare.stdout], [], [], 0)[0])
        except (ValueError, OSError):  # taken by a build meanwhile
            return True

    def reserve_ready(self) -> bool:
        """Whether a build now would find its process started and done importing (or needs none)."""
        return not self.modules or (self._spare is not None and self.settled())

    def refill(self) -> None:
        """With `reserve`, start the next build's process now (call it when the machine is quiet:
        its imports take CPU that an instance's init would otherwise get)."""
        if self.reserve and self.modules and self._spare is None:
            self._spare = self._start()

    def close(self) -> None:
        """End the process kept in reserve and the build under way (a retrain), if any."""
        spare, self._spare = self._spare, None
        if spare is not None:
            self._end(spare)
        running = self._running
        if running is not None:
            running.kill()  # its build's communicate() then returns; run() reaps it

    @staticmethod
    def _end(worker: subprocess.Popen[bytes]) -> None:
        worker.kill()
        worker.wait()
        for pipe in (worker.stdin, worker.stdout):
            if pipe is not None:
                pipe.close()


def build_image(
    *,
    apps_dir: Path,
    packages: tuple[str, ...],
    destination: Path,
    fingerprint: tuple[Any, ...],
    builder: Builder,
    cache: Path,
    unchanged: Callable[[], bool] | None = None,
) -> TaskImage | None:
    """Copy the packages into `destination` as `docker build` would (the ignore file of the first
    package's Dockerfile decides, as it does for the image), run the build modules there, then
    make it read-only. None (and no folder) when `unchanged()`, asked once the copy is made, says
    the source changed meanwhile: the copy may hold a file half-written by an editor's save.

    A build module that fails is logged, not raised: the instance's init then meets the same
    error and reports it as Lambda would (a syntax error, a failing train())."""
    destination.mkdir(mode=0o755)
    _, rules = DockerIgnore.for_dockerfile(apps_dir / packages[0] / "Dockerfile", apps_dir)
    for package in packages:
        rules.copy(apps_dir, package, destination)
    if unchanged is not None and not unchanged():
        remove_image(destination)
        return None
    _restore_outputs(cache, destination)
    status = builder.run(destination)
    if status != 0:
        log.warning("image build step failed", extra={"build_modules": builder.modules, "exit_status": status})
    _keep_outputs(destination, cache)
    make_read_only(destination)
    return TaskImage(destination, fingerprint)


def _restore_outputs(cache: Path, destination: Path) -> None:
    """Put the cached outputs back where the build wrote them, with the folders it made (a copy
    without `predictor/artifacts/`, which only holds outputs, still finds its trained model)."""
    for cached in cache.rglob("*"):
        target = destination / cached.relative_to(cache)
        if cached.is_file() and not target.exists():
            for folder in reversed([p for p in target.parents if p.is_relative_to(destination)]):
                if not folder.exists():
                    folder.mkdir(mode=0o755)
                    os.chmod(folder, 0o755)  # noqa: S103 - as the build made it: the instance user enters it
            shutil.copy2(cached, target)


def _keep_outputs(destination: Path, cache: Path) -> None:
    for output in destination.rglob("*"):
        readable_by_all = output.stat().st_mode & 0o004
        if output.suffix in CARRIED_SUFFIXES and output.is_file() and readable_by_all:
            target = cache / output.relative_to(destination)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(output, target)


def make_read_only(root: Path) -> None:
    """Remove every write bit under `root` (read and execute bits stay as they were)."""
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode & 0o7555)
    os.chmod(root, os.stat(root).st_mode & 0o7555)


def remove_image(root: Path) -> None:
    """Delete an image folder (write bits restored first, so a non-root owner can delete it)."""
    if not root.exists():
        return
    for folder, dirs, _files in os.walk(root):
        os.chmod(folder, 0o755)  # noqa: S103 - only so that its owner can delete it next
        for name in dirs:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755)  # noqa: S103 - only so that its owner can delete it next
    shutil.rmtree(root, ignore_errors=True)
