"""`make cloud-test`: an ephemeral stack at the smallest sizes, `up`, the smoke test, then always destroy it.

Every phase is timed and the times are printed whatever happened. The stack is destroyed when any
step after its creation failed, and removed once its resources are gone; when the destroy itself
fails the stack is kept, and the message says how to finish the job.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3

from deploy import automation, preflight, smoke
from deploy.preflight import PreflightFailed

# The smallest sizes the program runs at; the predictor keeps the dev stack's 1024 MB, which its
# model needs to load.
SMALLEST: dict[str, Any] = {
    "ml-proto:logRetentionDays": 1,
    "ml-proto:resultRetentionDays": 1,
    "ml-proto:imagesToKeep": 1,
    "ml-proto:deletionProtection": False,
    "ml-proto:pointInTimeRecovery": False,
    "ml-proto:predictorMemoryMb": 1024,
    "ml-proto:predictorProvisionedConcurrency": 0,
    "ml-proto:predictorReservedConcurrency": -1,
    "ml-proto:workerCpu": 256,
    "ml-proto:workerMemoryMb": 1024,
    "ml-proto:workerCapacityProvider": "FARGATE",  # not Spot: an interruption would fail the test for nothing
    "ml-proto:maxWorkers": 1,
    "ml-proto:dashboardCpu": 256,
    "ml-proto:dashboardMemoryMb": 512,
    "ml-proto:dashboardDesiredCount": 1,
    "ml-proto:dashboardMinCount": 1,
    "ml-proto:dashboardMaxCount": 1,
    "ml-proto:dashboardWorkers": 1,
}


class Phases:
    """Seconds spent in each phase, and which one failed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.failed: dict[str, str] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        except BaseException as error:
            self.failed[name] = f"{type(error).__name__}: {error}"
            raise
        finally:
            self.seconds[name] = time.monotonic() - started

    def report(self) -> str:
        lines = ["phase        seconds  result"]
        for name, seconds in self.seconds.items():
            lines.append(f"{name:<12} {seconds:>7.1f}  {'FAILED' if name in self.failed else 'ok'}")
        lines.append(f"{'total':<12} {sum(self.seconds.values()):>7.1f}")
        return "\n".join(lines)


def stack_name(now: datetime | None = None) -> str:
    """A name no other run picks: ct-<UTC time>-<random>."""
    now = now or datetime.now(UTC)
    return f"ct-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def config(region: str) -> dict[str, Any]:
    """The ephemeral stack's whole config: the smallest sizes in `region`."""
    return {"aws:region": region, **SMALLEST}


def target_from_outputs(outputs: dict[str, Any], session: boto3.Session, since_ms: int) -> smoke.SmokeTarget:
    """Where the smoke test finds the deployed stack: its outputs, in its region."""
    return smoke.SmokeTarget(
        base_url=outputs["url"],
        user=outputs["dashboardUser"],
        password=outputs["dashboardPassword"],
        lambda_client=session.client("lambda"),
        function=outputs["predictorInvokeTarget"],
        logs=smoke.CloudWatchLogs(session.client("logs"), {app: outputs[f"{app}LogGroup"] for app in smoke.APPS},
                                  since_ms=since_ms),
    )


def run(session: boto3.Session | None = None, say: Callable[[str], None] = print) -> int:
    """The whole acceptance test; 0 when the smoke test passed on a stack that is gone again."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    session = session or boto3.Session(region_name=region)
    name = stack_name()
    values = config(region)
    phases = Phases()
    stack = None
    try:
        with phases("preflight"):
            ready = preflight.run(name, session, overrides=values)
            say(f"cloud-test: account {ready.tools.account}, Pulumi {ready.tools.pulumi_version}, stack {name}")
        with phases("create"):
            stack = automation.stack(name)
            automation.set_config(stack, values)
        with phases("up"):
            stack.up(on_output=say)
        with phases("smoke"):
            since_ms = int((time.time() - 3600) * 1000)
            smoke.run(target_from_outputs(automation.plain_outputs(stack), session, since_ms), say=say)
    except PreflightFailed as failed:
        say(str(failed))
        phases.failed["preflight"] = "see the message above"
    except Exception:  # noqa: BLE001, S110 - recorded in phases and reported below; teardown must run
        pass
    finally:
        if stack is not None:
            _teardown(stack, name, phases, say)
        say(phases.report())
        for phase, reason in phases.failed.items():
            say(f"cloud-test: {phase} failed: {reason}")
    return 1 if phases.failed else 0


def _teardown(stack: Any, name: str, phases: Phases, say: Callable[[str], None]) -> None:
    try:
        with phases("destroy"):
            stack.destroy(on_output=say)
    except Exception:  # noqa: BLE001 - keep the stack so its resources can still be found
        say(f"cloud-test: the stack {name} is kept because destroy failed; finish with "
            f"`make down STACK={name}` and then `pulumi stack rm {name}`")
        return
    with contextlib.suppress(Exception), phases("remove"):
        stack.workspace.remove_stack(name)
