"""`python -m deploy preflight|up|down|cloud-test [--stack NAME]`: what `make up/down/cloud-test` run."""

from __future__ import annotations

import argparse
import logging
import sys

import boto3
import botocore.exceptions
from pulumi.automation import errors as pulumi_errors

from deploy import automation, cloud_test, cost, preflight
from deploy.stack_config import stack_region


def _session(stack: str) -> boto3.Session:
    return boto3.Session(region_name=stack_region(stack))


def _reserved_today(stack: str, session: boto3.Session) -> int:
    """The reserved concurrency this stack's predictor holds now (0 for a stack not yet deployed)."""
    try:
        function = automation.plain_outputs(automation.stack(stack, create=False)).get("predictorFunction")
    except pulumi_errors.CommandError:  # no such stack yet (StackNotFoundError is one)
        return 0
    if not function:
        return 0
    try:
        return int(session.client("lambda").get_function_concurrency(FunctionName=function)
                   .get("ReservedConcurrentExecutions") or 0)
    except botocore.exceptions.ClientError:
        return 0


def _ready(stack: str, session: boto3.Session) -> preflight.Ready:
    ready = preflight.run(stack, session, already_reserved=lambda: _reserved_today(stack, session))
    print(f"pre-flight ok: Pulumi {ready.tools.pulumi_version}, account {ready.tools.account} "
          f"({ready.tools.caller_arn}), stack {stack}"
          + (f"; created service-linked roles: {', '.join(ready.created_roles)}" if ready.created_roles else ""))
    return ready


def _print_cost(stack: str) -> None:
    """The stack's idle monthly cost, before anything is deployed; an estimate that fails stops nothing."""
    try:
        estimate = cost.stack_estimate(stack)
    except cost.CostError as error:
        print(f"cost estimate unavailable: {error}")
        return
    print(f"estimated cost when idle: ${estimate.idle_total:.2f}/month at list prices "
          f"(`make cost STACK={stack}` for each resource)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    parser.add_argument("command", choices=("preflight", "up", "down", "cloud-test"))
    parser.add_argument("--stack", default="dev", help="stack name (default: dev)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stdout)
    try:
        if args.command == "cloud-test":
            return cloud_test.run()
        session = _session(args.stack)
        if args.command == "down":
            preflight.check_tools(session, docker=False)  # a destroy builds no image
            automation.stack(args.stack, create=False).destroy(on_output=print)
            return 0
        _ready(args.stack, session)
        if args.command == "up":
            _print_cost(args.stack)
            result = automation.stack(args.stack).up(on_output=print)
            if "url" in result.outputs:
                print(f"url: {result.outputs['url'].value}")
        return 0
    except preflight.PreflightFailed as failed:
        print(failed, file=sys.stderr)
        return 2
    except pulumi_errors.CommandError as error:  # Pulumi printed the details as it ran
        print(f"pulumi {args.command} failed for stack {args.stack}:\n{str(error)[-2000:]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
