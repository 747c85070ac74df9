"""A readable dump of what one mocked program run declares, and the difference between two runs.

`python -m tests.infra.resource_dump [--set key=value ...]` prints the default dev stack's dump of the
worker's resources, then the same stack with the overrides, then what differs (as the issue's "must show"
asks: a workerCompute gpu stack beside the default one). The tests use `dump()` and `diff()` to prove
that a GPU stack adds the GPU resources and changes nothing else but the worker's launch.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.infra.stackview import Deployment, Resource, run_program, unsecret

# Mock ids and ARNs carry a hash of the resource name; the dump keeps the name and drops the hash.
_HASH = re.compile(r"-[0-9a-f]{7}\b")


def _clean(value: Any) -> Any:
    value = unsecret(value)
    if isinstance(value, str):
        if value.startswith("[{") or value.startswith("{"):
            try:
                return _clean(json.loads(value))
            except json.JSONDecodeError:
                pass
        return _HASH.sub("", value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _key(resource: Resource) -> str:
    return f"{resource.type} {resource.name}"


def dump(deployment: Deployment) -> dict[str, Any]:
    """Every custom resource's inputs by "type name", ids and hashes made stable (source assets left out)."""
    out: dict[str, Any] = {}
    for r in deployment.resources:
        if r.type.startswith("ml-proto:"):
            out[_key(r)] = "(component)"
            continue
        out[_key(r)] = {k: _clean(v) for k, v in sorted(r.inputs.items()) if k not in ("code", "sourceCodeHash")}
    return out


def _leaves(a: Any, b: Any, path: str, out: dict[str, Any]) -> None:
    """Record (before, after) for every leaf path where a and b differ (environment lists by variable name)."""
    if a == b:
        return
    if isinstance(a, list) and isinstance(b, list) and all(
            isinstance(x, dict) and set(x) == {"name", "value"} for x in [*a, *b]):
        a, b = {x["name"]: x["value"] for x in a}, {x["name"]: x["value"] for x in b}
    if isinstance(a, dict) and isinstance(b, dict):
        for field in sorted(set(a) | set(b)):
            _leaves(a.get(field), b.get(field), f"{path}.{field}" if path else field, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and any(isinstance(x, dict) for x in a):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _leaves(x, y, f"{path}[{i}]", out)
    else:
        out[path] = [a, b]


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{"added": {...}, "removed": [...], "changed": {key: {path: [before, after]}}} between two dumps."""
    changed: dict[str, dict[str, Any]] = {}
    for key in sorted(set(before) & set(after)):
        leaves: dict[str, Any] = {}
        _leaves(before[key], after[key], "", leaves)
        if leaves:
            changed[key] = leaves
    return {"added": {k: after[k] for k in sorted(set(after) - set(before))},
            "removed": sorted(set(before) - set(after)), "changed": changed}


WORKER_TYPES = ("aws:ecs/", "aws:iam/role:", "aws:iam/rolePolicy", "aws:iam/instanceProfile", "ml-proto:index:Gpu")


def render(title: str, entries: dict[str, Any]) -> str:
    lines = [f"== {title}"]
    for key, inputs in entries.items():
        if key.startswith(WORKER_TYPES) and ("worker" in key or "cluster" in key or "Gpu" in key):
            lines.append(f"{key}: {json.dumps(inputs, sort_keys=True)}")
    return "\n".join(lines)


FRONT_TYPES = ("aws:cloudfront/", "aws:lb/loadBalancer:", "aws:lb/listener:", "aws:ec2/subnet:", "aws:ec2/routeTable",
               "aws:vpc/securityGroupIngressRule:")


def render_front(title: str, entries: dict[str, Any]) -> str:
    """The way in: the distribution, its VPC origin, the load balancer, its subnets and who may reach it."""
    lines = [f"== {title}"]
    for key, inputs in entries.items():
        if key.startswith(FRONT_TYPES) and not key.endswith("tasks-from-alb"):
            lines.append(f"{key}: {json.dumps(inputs, sort_keys=True)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--set", action="append", default=["workerCompute=gpu", "workerGpus=1"], metavar="KEY=VALUE")
    parser.add_argument("--front", action="store_true", help="print the stack's front door only (no overrides)")
    options = parser.parse_args(argv)
    if options.front:
        with tempfile.TemporaryDirectory() as tmp:
            run = run_program(options.stack, Path(tmp))
        if run.error:
            print(run.error["traceback"], file=sys.stderr)
            return 1
        print(render_front(f"{options.stack}: the front door (url {run.exports['url']})", dump(run)))
        return 0
    overrides = dict(item.partition("=")[::2] for item in options.set)
    with tempfile.TemporaryDirectory() as tmp:
        default = run_program(options.stack, Path(tmp))
        changed = run_program(options.stack, Path(tmp), overrides)
    for run in (default, changed):
        if run.error:
            print(run.error["traceback"], file=sys.stderr)
            return 1
    before, after = dump(default), dump(changed)
    print(render(f"{options.stack} (default): the worker's ECS and IAM resources", before))
    print(render(f"{options.stack} with {' '.join(options.set)}: the worker's ECS and IAM resources", after))
    print(f"== what differs\n{json.dumps(diff(before, after), indent=1, sort_keys=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
