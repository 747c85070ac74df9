"""The local Lambda's execution environments: a pool of warm instances of the function's image.

Each instance is AWS's runtime interface client (`python -m awslambdaric <handler>`, what the
Lambda Python base image runs) talking to a Runtime API of its own (devstack.lambda_runtime_api),
so the handler is imported, invoked and its errors shaped by the same code as on Lambda. As on
Lambda, an instance runs:
- as another user when the stack runs as root (`nobody`), with no supplementary groups;
- over a read-only copy of the code (devstack.lambda_image), with a private writable TMPDIR;
- with its address space limited to the function's memory size (an out-of-memory handler is
  answered Runtime.OutOfMemory and replaced);
- killed and replaced when it passes the function's timeout (Sandbox.Timedout).
At most `size` instances run at once; further invokes wait for one to be free. Before each invoke
the packages' .py files are checked; after an edit a new image is built, its first instance
started, and then every older instance recycled. Invokes wait for that, so the next one runs the
new code, unless the build retrains the model: then the old instances keep answering meanwhile,
as Lambda runs a function's previous code while its update is InProgress
(docs.aws.amazon.com/lambda/latest/dg/functions-states.html, "Function states during updates").
The update's first instance may briefly exceed `size`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from devstack.lambda_image import Builder, TaskImage, build_image, code_fingerprint, remove_image
from devstack.lambda_instance import Instance
from devstack.lambda_runtime_api import Event, Outcome
from devstack.lambda_sandbox import Sandbox

log = logging.getLogger("devstack.lambda")

MAX_RESPONSE_BYTES = 6_291_556  # Lambda's synchronous response limit
# Lambda gives init 10 s (then retries it within the invoke's timeout); this machine may be far
# slower than Lambda's, so allow more before calling an init hung.
INIT_TIMEOUT_SECONDS = 60.0
SETTLE_SECONDS = 0.1  # an image is copied from code whose newest file is this old (a save is done)
# A training shorter than this (a model that trains in milliseconds) is waited for, so that the
# next invoke after an edit runs the new code; a longer one lets the old code answer meanwhile.
RETRAIN_PATIENCE_SECONDS = 0.5
RETRAIN_POLL_SECONDS = 0.1  # how often an invoke waiting for an update looks whether it retrains
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ")


class Stopping(Exception):
    """The pool is stopping: no instance will serve this invoke."""


def _error(error_type: str, message: str, request_id: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {message}"}).encode()


def _exit_message(status: int | None) -> str:
    if status is not None and status < 0:
        names = {signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault", signal.SIGABRT: "aborted"}
        return f"Runtime exited with error: signal: {names.get(-status, f'signal {-status}')}"
    return f"Runtime exited with error: exit status {status}"


class InstancePool:
    """Warm instances of one function's image, rebuilt when the code changes."""

    def __init__(
        self,
        *,
        apps_dir: Path,
        packages: tuple[str, ...],
        handler: str,
        env: Mapping[str, str],
        size: int,
        timeout_seconds: float,
        memory_mb: int,
        function_arn: str,
        build_modules: tuple[str, ...],
        log_file: IO[bytes] | None,
        build_cache: Path | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("instances must be at least 1")
        self.apps_dir = apps_dir
        self.packages = packages
        self.handler = handler
        self.size = size
        self.timeout_seconds = timeout_seconds
        self.memory_mb = memory_mb
        self.function_arn = function_arn
        self.build_modules = build_modules
        self.log_file = log_file
        self.env = dict(env)
        self._cond = threading.Condition()
        self._build_lock = threading.Lock()
        self._idle: list[Instance] = []
        self._alive: set[Instance] = set()
        self._starting = 0
        self._stopping = False
        self._image: TaskImage | None = None
        self._images_built = 0
        self._instances_started = 0
        self.workdir = Path(tempfile.mkdtemp(prefix="ml-proto-lambda-"))
        os.chmod(self.workdir, 0o755)  # noqa: S103 - the instance user must reach the images in it
        self.sandbox = Sandbox.for_this_process(memory_mb, self.workdir)
        self.build_cache = build_cache or self.workdir / "build-cache"
        self.build_cache.mkdir(parents=True, exist_ok=True)
        self._watcher: threading.Thread | None = None
        self._spare: Instance | None = None  # with prewarm: an instance waiting for its image
        self._keep_spare = False
        self._wake = threading.Event()
        self._update: threading.Thread | None = None  # building the image of an edit, if any
        self._update_started = 0.0
        self._update_root: Path | None = None  # the image folder the update builds
        self._update_retrains = False  # whether that build was seen training a model
        self._incoming: Instance | None = None  # the update's first instance, during its init
        self._spawning: list[Path] = []  # the images of the instances being started
        self._last_update = "Successful"
        self.builder = Builder(build_modules, self._instance_env(), log_file)

    # --- the instances' environment ----------------------------------------------------------

    def _instance_env(self) -> dict[str, str]:
        base = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        return {
            **base,
            **self.env,
            "PYTHONDONTWRITEBYTECODE": "1",  # the code folder is read-only, as on Lambda
            "PYTHONUNBUFFERED": "1",
            "AWS_LAMBDA_FUNCTION_NAME": self.function_arn.rsplit(":", 1)[1],
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": f"{self.timeout_seconds:g}",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function_arn.rsplit(':', 1)[1]}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        }

    # --- images --------------------------------------------------------------------------------

    def _current_image(self, wait: bool = True) -> TaskImage:
        """The image invokes run now. After an edit, invokes wait for the new image, so the next
        one runs the new code, unless its build retrains the model while a warm instance of the old
        image is there: then, as Lambda runs the previous code while an update is InProgress, the
        old image keeps answering until the new one's first instance is ready. Without `wait`,
        only starts the update."""
        fingerprint = code_fingerprint(self.apps_dir, self.packages)
        with self._cond:
            image = self._image
        if image is None:
            return self._build_first()
        with self._cond:
            while True:
                if self._stopping:
                    raise Stopping
                current = self._image
                assert current is not None
                in_progress = self._last_update == "InProgress"
                if current.fingerprint == fingerprint and not in_progress:
                    return current
                if self._update is None:  # no update under way (one that has switched may be finishing)
                    self._start_update()
                if not wait:
                    return current
                if in_progress and self._retraining() and any(i.ready and i.image is current for i in self._alive):
                    return current
                self._cond.wait(RETRAIN_POLL_SECONDS)
                if self._last_update != "InProgress":  # an update ended: compare with the code as it is now
                    fingerprint = code_fingerprint(self.apps_dir, self.packages)

    def _retraining(self) -> bool:
        """Whether the update's build has been training a model for RETRAIN_PATIENCE_SECONDS: a
        build output being written (`.tmp-*`, predictor.artifact's temporary file, made when the
        training starts and renamed when it ends) is that old in its image."""
        if not self._update_retrains and self._update_root is not None:
            started = time.time() - RETRAIN_PATIENCE_SECONDS
            with contextlib.suppress(OSError):
                self._update_retrains = any(p.stat().st_mtime <= started for p in self._update_root.rglob(".tmp-*"))
        return self._update_retrains

    def _build_first(self) -> TaskImage:
        """The first image: nothing serves yet, so every invoke waits for it."""
        with self._build_lock:
            with self._cond:
                if self._image is not None:
                    return self._image
            built = self._build()
            with self._cond:
                self._image = built
                self._cond.notify_all()
            return built

    def _build(self) -> TaskImage:
        """Build an image of the code as it is now (the build lock held) once no file of it has changed for
        SETTLE_SECONDS, and copied again while the code changes under the copy: an editor's save
        caught half-written would make an image whose init fails."""
        started = time.perf_counter()
        while True:
            fingerprint = self._settled_fingerprint()
            self._images_built += 1
            destination = self.workdir / f"image-{self._images_built}"
            with self._cond:
                self._update_root = destination

            def unchanged(seen: tuple[object, ...] = fingerprint) -> bool:
                return code_fingerprint(self.apps_dir, self.packages) == seen

            built = build_image(
                apps_dir=self.apps_dir, packages=self.packages, destination=destination, fingerprint=fingerprint,
                builder=self.builder, cache=self.build_cache, unchanged=unchanged,
            )
            if built is not None:
                break
            if self._stopping:
                raise Stopping
        log.info("function image built", extra={"image": str(built.root),
                                                "build_ms": round((time.perf_counter() - started) * 1000, 1)})
        return built

    def _settled_fingerprint(self) -> tuple[object, ...]:
        """The code's fingerprint once its newest file is SETTLE_SECONDS old (at once, usually)."""
        fingerprint = code_fingerprint(self.apps_dir, self.packages)
        while not self._stopping:
            newest = max((entry[1] for entry in fingerprint), default=0) / 1e9
            wait = newest + SETTLE_SECONDS - time.time()
            if wait <= 0:
                return fingerprint
            time.sleep(min(wait, SETTLE_SECONDS))
            fingerprint = code_fingerprint(self.apps_dir, self.packages)
        raise Stopping

    def _start_update(self) -> None:
        """Begin an update to the code as it is now, on a thread of its own (the lock held)."""
        self._update = threading.Thread(target=self._run_update, name="lambda-update",
                                        daemon=True)
        self._update_started = time.monotonic()
        self._update_root = None
        self._update_retrains = False
        self._last_update = "InProgress"
        self._update.start()

    def _run_update(self) -> None:
        """Build the new image, start its first instance and wait for its init, then switch every
        invoke to it and retire the old instances (those busy when their invoke ends). An init
        that fails still switches (Lambda deploys code whose init fails; its invokes report it)."""
        first: Instance | None = None
        status = "Failed"
        try:
            with self._build_lock:
                built = self._build()
                first = self._first_instance(built)
                while first is None and not self._stopping and (
                        code_fingerprint(self.apps_dir, self.packages) != built.fingerprint):
                    remove_image(built.root)  # its init failed and the code changed since: build that
                    built = self._build()
                    first = self._first_instance(built)
                with self._cond:
                    self._image = built
                    stale, self._idle = self._idle, []
                    for instance in stale:
                        self._alive.discard(instance)
                    if first is not None and not self._stopping:
                        self._alive.add(first)
                        self._idle.append(first)
                        first = None
                    self._last_update = status = "Successful"
                    self._cond.notify_all()
                log.info("function updated", extra={"image": str(built.root), "recycled": len(stale),
                                                    "update_ms": round((time.monotonic() - self._update_started)
                                                                       * 1000, 1)})
                for instance in stale:
                    instance.kill()
                self._prune_images_locked()
        except Exception:  # noqa: BLE001 - the next invoke builds again and meets the same error
            log.exception("updating the local Lambda failed")
        finally:
            if first is not None:
                first.kill()
            with self._cond:
                self._update = None
                self._last_update = status
                self._cond.notify_all()

    def _first_instance(self, image: TaskImage) -> Instance | None:
        """The new image's first instance, its init done; None if its init failed or timed out (the
        first invoke then starts another and reports the failure, as Lambda would)."""
        with self._cond:
            self._instances_started += 1
            name = f"tmp-{self._instances_started}"
            if self._stopping:
                return None
        instance = self._from_spare(image) or Instance(
            image=image, sandbox=self.sandbox, handler=self.handler, env=self._instance_env(),
            log_file=self.log_file, name=name)
        with self._cond:
            self._incoming = instance
            stopping = self._stopping
        try:
            failed = None if stopping else instance.wait_ready(INIT_TIMEOUT_SECONDS)
        except queue.Empty:
            failed = True
        finally:
            with self._cond:
                self._incoming = None
        if failed is not None or stopping:
            instance.kill()
            return None
        self._refill_builder_locked()
        return instance

    def update_status(self) -> str:
        """Lambda's LastUpdateStatus for the code: InProgress from an edit seen until invokes run
        its image (its model trained, its first instance started), else Successful or Failed."""
        with self._cond:
            return self._last_update

    def _prune_images(self) -> None:
        """Delete the images no live instance uses (unless a build runs: it prunes when done)."""
        if not self._build_lock.acquire(blocking=False):
            return
        try:
            self._prune_images_locked()
        finally:
            self._build_lock.release()

    def _prune_images_locked(self) -> None:
        with self._cond:
            in_use = {instance.image.root for instance in self._alive} | set(self._spawning)
            if self._image is not None:
                in_use.add(self._image.root)
        for path in self.workdir.glob("image-*"):
            if path not in in_use:
                remove_image(path)

    def _refill_builder(self) -> None:
        if self._build_lock.acquire(blocking=False):  # never while a build uses the builder
            try:
                self._refill_builder_locked()
            finally:
                self._build_lock.release()

    def _refill_builder_locked(self) -> None:
        if not self._stopping:
            self.builder.refill()

    def _refill_spare(self) -> None:
        """Start the spare instance if missing, once an instance is ready and the build's reserve has
        done its imports (so that neither the init nor those imports share the CPU with its own)."""
        with self._cond:
            if not self._keep_spare or self._spare is not None or self._stopping:
                return
            if not any(instance.ready for instance in self._alive) or not self.builder.settled():
                return
            self._instances_started += 1
            name = f"spare-{self._instances_started}"
        try:
            spare = Instance(image=None, sandbox=self.sandbox, handler=self.handler, env=self._instance_env(),
                             log_file=self.log_file, name=name, preload=tuple(self.builder.preloaded))
        except Exception:  # noqa: BLE001 - without a spare, the next image's instance starts cold
            log.exception("starting the local Lambda's spare instance failed")
            return
        with self._cond:
            if not self._stopping:
                self._spare = spare
                return
        spare.kill()

    def _take_spare(self) -> Instance | None:
        with self._cond:
            spare, self._spare = self._spare, None
        if spare is not None and not spare.alive():
            spare.kill()
            return None
        return spare

    def prewarm(self, interval: float = 0.1) -> None:
        """From now on, build the image as soon as the code changes and start an instance of it,
        so the next invoke after an edit waits for less (its init still happens, as a cold start).
        Two processes are kept in reserve for this: the next build's, and a spare instance that has
        already started in its sandbox and imported the libraries the build used (devstack.lambda_spare):
        the new image's instance is that spare, so its init does not wait for those imports."""

        self.builder.reserve = True
        self._keep_spare = True

        def watch() -> None:
            while not self._stopping:
                try:
                    image = self._current_image(wait=False)
                    with self._cond:
                        needed = not any(i.image is image for i in self._alive) and not self._starting
                    if needed:
                        self.release(self.acquire(image), healthy=True)
                    else:
                        self._refill_spare()
                except Stopping:
                    return
                except Exception:  # noqa: BLE001 - the next invoke reports what went wrong
                    log.exception("pre-warming the local Lambda failed")
                self._wake.wait(interval)

        self._watcher = threading.Thread(target=watch, name="lambda-prewarm", daemon=True)
        self._watcher.start()

    # --- acquiring and releasing instances -----------------------------------------------------

    def acquire(self, image: TaskImage) -> Instance:
        """A warm idle instance, else a new one while fewer than `size` run, else wait."""
        while True:
            dead: list[Instance] = []
            instance = self._idle_or_slot(dead)
            for corpse in dead:
                corpse.kill()
            if instance is not None:
                return instance
            if not dead:
                return self._spawn(image)

    def _idle_or_slot(self, dead: list[Instance]) -> Instance | None:
        """An idle live instance; or None with a start slot reserved (or with `dead` to reap)."""
        with self._cond:
            while True:
                if self._stopping:
                    raise Stopping
                while self._idle:
                    instance = self._idle.pop()
                    if instance.alive():
                        return instance
                    self._alive.discard(instance)  # died while idle: Lambda would start another
                    dead.append(instance)
                if dead:
                    return None  # reap them outside the lock, then look again
                if len(self._alive) + self._starting < self.size:
                    self._starting += 1
                    return None
                self._cond.wait()

    def _spawn(self, image: TaskImage) -> Instance:
        """Start an instance in the slot reserved by `_idle_or_slot`: of the current image (an update
        may have switched since the invoke looked, and pruned the image it saw)."""
        try:
            with self._cond:
                self._instances_started += 1
                name = f"tmp-{self._instances_started}"
                image = self._image or image
                self._spawning.append(image.root)  # not pruned while its instance starts
            instance = self._from_spare(image) or Instance(
                image=image, sandbox=self.sandbox, handler=self.handler, env=self._instance_env(),
                log_file=self.log_file, name=name)
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._spawning.remove(image.root)
                self._cond.notify_all()
            raise
        with self._cond:
            self._starting -= 1
            self._spawning.remove(image.root)
            if not self._stopping:
                self._alive.add(instance)
                return instance
        instance.kill()
        raise Stopping

    def _from_spare(self, image: TaskImage) -> Instance | None:
        """The spare instance, given `image` (None if there is none, or it died)."""
        spare = self._take_spare()
        if spare is None:
            return None
        try:
            spare.assign(image)
        except OSError:
            spare.kill()
            return None
        log.info("spare instance assigned", extra={"image": str(image.root), "instance_pid": spare.pid})
        return spare

    def release(self, instance: Instance, healthy: bool) -> None:
        with self._cond:
            keep = healthy and not self._stopping and instance.image is self._image
            if keep:
                self._idle.append(instance)
            else:
                self._alive.discard(instance)
            self._cond.notify_all()
        if not keep:
            instance.kill()
            self._prune_images()

    def pids(self) -> set[int]:
        """The process ids of the live instances (not the spare's: it serves nothing yet)."""
        with self._cond:
            return {instance.pid for instance in self._alive}

    def settled(self) -> bool:
        """Whether the reserves kept with prewarm are in place: the build's process and the spare
        instance started and done importing (so the next edit gets their head start)."""
        with self._cond:
            spare = self._spare
        return self.builder.reserve_ready() and spare is not None and spare.imported()

    def spare_pid(self) -> int | None:
        """The process id of the spare instance waiting for its image, if there is one."""
        with self._cond:
            return self._spare.pid if self._spare is not None else None

    def stop(self) -> None:
        """Kill every instance and delete the images; no process or folder is left behind."""
        with self._cond:
            self._stopping = True
            doomed = list(self._alive)
            if self._spare is not None:
                doomed.append(self._spare)
                self._spare = None
            if self._incoming is not None:
                doomed.append(self._incoming)
            self._alive.clear()
            self._idle.clear()
            self._cond.notify_all()
        self._wake.set()
        if self._watcher is not None:
            self._watcher.join(timeout=30)
        for instance in doomed:
            instance.kill()
        self.builder.close()
        with self._cond:
            update = self._update
        if update is not None:
            update.join(timeout=30)
        for path in self.workdir.glob("image-*"):
            remove_image(path)
        shutil.rmtree(self.workdir, ignore_errors=True)

    # --- one invoke ----------------------------------------------------------------------------

    def invoke(self, payload: bytes, request_id: str) -> tuple[str | None, bytes]:
        """Run the handler on `payload` (JSON): (function error or None, response body)."""
        started = time.perf_counter()
        try:
            image = self._current_image()
            instance = self.acquire(image)
        except Stopping:
            return "Unhandled", _error("Runtime.Unavailable", "The endpoint is stopping", request_id)
        healthy = False
        cold = not instance.ready
        try:
            error, body, healthy = self._run(instance, payload, request_id)
        finally:
            self.release(instance, healthy)
        log.info("invoke", extra={
            "request_id": request_id, "function_error": error, "cold_start": cold, "instance_pid": instance.pid,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        })
        return error, body

    def _run(self, instance: Instance, payload: bytes, request_id: str) -> tuple[str | None, bytes, bool]:
        """(function error, body, whether the instance may serve again)."""
        if not instance.ready:
            try:
                failed = instance.wait_ready(INIT_TIMEOUT_SECONDS)
            except queue.Empty:
                log.warning("instance init timed out", extra={"request_id": request_id})
                message = f"Init timed out after {INIT_TIMEOUT_SECONDS:.2f} seconds"
                return "Unhandled", _error("Sandbox.Timedout", message, request_id), False
            if failed is not None:
                return "Unhandled", self._failure(failed, request_id), False
            self._refill_builder()
        deadline = time.time() + self.timeout_seconds
        event = Event(request_id, payload, int(deadline * 1000), self.function_arn)
        try:
            outcome = instance.call(event, self.timeout_seconds)
        except queue.Empty:
            log.warning("invoke timed out; replacing the instance", extra={"request_id": request_id})
            message = f"Task timed out after {self.timeout_seconds:.2f} seconds"
            return "Unhandled", _error("Sandbox.Timedout", message, request_id), False
        if outcome.kind == "response":
            if len(outcome.body) > MAX_RESPONSE_BYTES:
                message = (f"Response payload size ({len(outcome.body)} bytes) exceeded maximum allowed payload "
                           f"size ({MAX_RESPONSE_BYTES} bytes).")
                body = json.dumps({"errorType": "Function.ResponseSizeTooLarge", "errorMessage": message}).encode()
                return "Unhandled", body, True
            return None, outcome.body, True
        if outcome.kind == "error" and outcome.error().get("errorType") != "MemoryError":
            return "Unhandled", outcome.body, True
        return "Unhandled", self._failure(outcome, request_id), False

    def _failure(self, outcome: Outcome, request_id: str) -> bytes:
        """The Invoke answer for an instance that cannot go on: init error, exit, out of memory."""
        if outcome.kind == "init_error":
            log.warning("instance failed to initialise", extra={"request_id": request_id, **outcome.error()})
            return outcome.body
        if outcome.kind == "error":  # MemoryError under the address-space limit: Lambda's OOM kill
            log.warning("instance ran out of memory", extra={"request_id": request_id, "memory_mb": self.memory_mb})
            return _error("Runtime.OutOfMemory", "Runtime exited with error: signal: killed", request_id)
        log.warning("instance exited during an invoke", extra={"request_id": request_id,
                                                               "exit_status": outcome.exit_status})
        return _error("Runtime.ExitError", _exit_message(outcome.exit_status), request_id)
