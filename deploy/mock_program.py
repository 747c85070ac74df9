"""Run the real __main__.py under Pulumi mocks for one stack and write what it declared as JSON.

Usage: python -m deploy.mock_program --stack dev --out result.json [--set key=value ...]

The infra tests and `make cost` both read the program this way: what they see is what `pulumi up`
would create, with made-up ids and a mocked default VPC (two of its six subnets are chosen).

Config is what the Pulumi CLI would pass: Pulumi.yaml's declared defaults, overridden by
Pulumi.<stack>.yaml, overridden by --set (values as YAML scalars/lists). One process per run,
because the Pulumi runtime keeps global state. The JSON holds every registered resource (type,
name, parent, dependencies, inputs, mocked outputs), every invoke, the stack's exports (with which are secret)
and the error the program raised, if any.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import runpy
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "ml-proto"
ACCOUNT = "123456789012"
REGION = "us-east-1"
DEFAULT_VPC = "vpc-0default0000"
# The default VPC of us-east-1: one default subnet in each of six zones. Listed as EC2 may list
# them (not sorted); the ids' order is not the zones' order, so sorting ids alone picks wrong.
DEFAULT_SUBNET_ZONES = {
    "subnet-0e5e5e5e": "us-east-1c",
    "subnet-0f1f1f1f": "us-east-1a",
    "subnet-0a0a0a0a": "us-east-1f",
    "subnet-0d4d4d4d": "us-east-1b",
    "subnet-0c3c3c3c": "us-east-1e",
    "subnet-0b2b2b2b": "us-east-1d",
}
DEFAULT_SUBNETS = list(DEFAULT_SUBNET_ZONES)
# The two the program must pick: the first two zones by name.
CHOSEN_SUBNETS = ["subnet-0f1f1f1f", "subnet-0d4d4d4d"]
OTHER_VPC_SUBNET = "subnet-0999other"
# A second (not default-for-az) subnet of the default VPC, in us-east-1a beside subnet-0f1f1f1f.
SAME_ZONE_SUBNET = "subnet-0f1f2222"
CLOUDFRONT_PREFIX_LIST = "pl-3b927c52"


# --- config, as the CLI builds it ------------------------------------------------------------

def project_schema() -> dict[str, dict[str, Any]]:
    """Pulumi.yaml's `config:` block: short key -> {type, default, description, ...}."""
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]


def _full_key(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def _as_config_string(value: Any) -> str:
    """The string form the language host receives (PULUMI_CONFIG): JSON for lists, lower-case bools."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def stack_config(stack: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Raw config values (full keys) for a stack: project defaults < stack file < overrides."""
    values: dict[str, Any] = {_full_key(k): spec["default"] for k, spec in project_schema().items()
                              if isinstance(spec, dict) and "default" in spec}
    stack_file = ROOT / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        values.update({_full_key(k): v for k, v in (yaml.safe_load(stack_file.read_text())["config"] or {}).items()})
    values.update({_full_key(k): v for k, v in (overrides or {}).items()})
    return values


# --- mocks -----------------------------------------------------------------------------------

def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def fake_state(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A plausible id and output state for one resource, as AWS would return it."""
    state = dict(inputs)
    physical = inputs.get("name") or f"{name}-{_digest(name)[:7]}"
    arn = f"arn:aws:mock:{REGION}:{ACCOUNT}:{typ.split(':')[-1].lower()}/{physical}"
    rid = physical
    if typ == "aws:dynamodb/table:Table":
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{physical}"
    elif typ == "aws:s3/bucket:Bucket":
        arn = f"arn:aws:s3:::{physical}"
        state["bucket"] = physical
    elif typ == "aws:ecr/repository:Repository":
        arn = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{physical}"
        state["repositoryUrl"] = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{physical}"
    elif typ == "awsx:ecr:Image":
        state["imageUri"] = f"{inputs['repositoryUrl']}@sha256:{_digest(name, inputs.get('dockerfile', ''))}"
    elif typ == "aws:iam/role:Role":
        arn = f"arn:aws:iam::{ACCOUNT}:role/{physical}"
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{physical}"
    elif typ == "aws:lambda/function:Function":
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}"
        state["version"] = "1" if inputs.get("publish") else "$LATEST"
        state["invokeArn"] = f"arn:aws:apigateway:{REGION}:lambda:path/functions/{arn}/invocations"
    elif typ == "aws:lambda/alias:Alias":
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{inputs['functionName']}:{physical}"
    elif typ == "aws:ecs/cluster:Cluster":
        arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{physical}"
    elif typ == "aws:ecs/taskDefinition:TaskDefinition":
        base = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{inputs['family']}"
        arn, state["arnWithoutRevision"], state["revision"] = f"{base}:1", base, 1
    elif typ == "aws:ecs/service:Service":
        cluster = str(inputs.get("cluster", "")).rsplit("/", 1)[-1]
        rid = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{physical}"  # ECS's long ARN format
    elif typ == "aws:ec2/securityGroup:SecurityGroup":
        rid = f"sg-{_digest(name)[:17]}"
        arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{rid}"
    elif typ == "aws:lb/loadBalancer:LoadBalancer":
        arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{physical}/{_digest(name)[:16]}"
        state["dnsName"] = f"{physical}-{int(_digest(name)[:8], 16)}.{REGION}.elb.amazonaws.com"
        state["arnSuffix"] = arn.split(":loadbalancer/", 1)[1]
    elif typ == "aws:lb/targetGroup:TargetGroup":
        arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{physical}/{_digest(name)[:16]}"
        state["arnSuffix"] = arn.split(":", 5)[5]
    elif typ == "aws:ssm/parameter:Parameter":
        arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{physical}"
        state["version"] = 1
    elif typ == "aws:cloudfront/distribution:Distribution":
        rid = f"E{_digest(name)[:13].upper()}"
        arn = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{rid}"
        state["domainName"] = f"d{_digest(name)[:13]}.cloudfront.net"
    elif typ == "aws:cloudfront/vpcOrigin:VpcOrigin":
        rid = f"vo_{_digest(name)[:22]}"
        arn = f"arn:aws:cloudfront::{ACCOUNT}:vpcorigin/{rid}"
    elif typ == "aws:ec2/subnet:Subnet":
        rid = f"subnet-{_digest(name)[:17]}"
    elif typ == "aws:ec2/routeTable:RouteTable":
        rid = f"rtb-{_digest(name)[:17]}"
    elif typ == "random:index/randomPassword:RandomPassword":
        state["result"] = f"generated-{_digest(name)[:20]}"
    if typ != "aws:s3/bucket:Bucket":
        state.setdefault("name", physical)
    state.setdefault("arn", arn)
    return rid, state


def fake_invoke(data_source: str, args: dict[str, Any]) -> dict[str, Any]:
    """Answers for the data sources the program reads."""
    if data_source == "aws:ec2/getVpc:getVpc":
        return {"id": DEFAULT_VPC, "cidrBlock": "172.31.0.0/16", "default": True,
                "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{DEFAULT_VPC}"}
    if data_source == "aws:ec2/getSubnets:getSubnets":
        return {"id": REGION, "ids": list(DEFAULT_SUBNETS)}
    if data_source == "aws:ec2/getSubnet:getSubnet":
        subnet = args["id"]
        zone = DEFAULT_SUBNET_ZONES.get(subnet, "us-east-1a")
        vpc = DEFAULT_VPC if subnet in DEFAULT_SUBNET_ZONES or subnet == SAME_ZONE_SUBNET else "vpc-0other"
        return {"id": subnet, "availabilityZone": zone, "vpcId": vpc, "defaultForAz": vpc == DEFAULT_VPC,
                "mapPublicIpOnLaunch": True, "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{subnet}"}
    if data_source == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
        # CloudFront's origin-facing list has this id in us-east-1.
        return {"id": CLOUDFRONT_PREFIX_LIST, "name": args.get("name", ""), "addressFamily": "IPv4",
                "arn": f"arn:aws:ec2:{REGION}:aws:prefix-list/{CLOUDFRONT_PREFIX_LIST}", "entries": [],
                "maxEntries": 55, "ownerId": "AWS", "version": 1, "tags": {}}
    if data_source == "aws:index/getRegion:getRegion":
        return {"id": REGION, "region": REGION, "name": REGION, "endpoint": f"ec2.{REGION}.amazonaws.com",
                "description": "US East (N. Virginia)"}
    if data_source == "aws:index/getCallerIdentity:getCallerIdentity":
        return {"id": ACCOUNT, "accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/test", "userId": "TEST"}
    return {}


def run(stack: str, config: dict[str, Any], secret_keys: list[str]) -> dict[str, Any]:
    """Run __main__.py once under mocks; everything it declared, as plain data."""
    import pulumi
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import get_root_resource
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    resources: dict[str, dict[str, Any]] = {}
    invokes: list[dict[str, Any]] = []
    local = threading.local()
    lock = threading.Lock()

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
            local.inputs = args.inputs
            resource_id, local.state = fake_state(args.typ, args.name, args.inputs)
            return resource_id, local.state

        def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
            with lock:
                invokes.append({"token": args.token, "args": args.args})
            return fake_invoke(args.token, args.args)

    class RecordingMonitor(MockMonitor):
        def RegisterResource(self, request):
            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":
                with lock:
                    resources[response.urn] = {
                        "urn": response.urn, "type": request.type, "name": request.name,
                        "parent": request.parent, "custom": request.custom, "remote": request.remote,
                        "dependencies": list(request.dependencies), "id": response.id,
                        "ignore_changes": list(request.ignoreChanges),
                        "inputs": getattr(local, "inputs", {}), "outputs": getattr(local, "state", {}),
                    }
            return response

    mocks = Mocks()
    pulumi.runtime.set_all_config({k: _as_config_string(v) for k, v in config.items()}, secret_keys)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(mocks))

    error = None
    try:
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")))
    except Exception as exc:  # the program's own error is a result here, not a harness failure
        error = {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}

    exports: dict[str, Any] = {}
    secret_exports: list[str] = []
    if error is None:
        for key, value in get_root_resource().outputs.items():
            output = pulumi.Output.from_input(value)
            exports[key] = _sync_await(output.future())
            if _sync_await(output.is_secret()):
                secret_exports.append(key)
    return {"stack": stack, "config": config, "resources": list(resources.values()), "invokes": invokes,
            "exports": exports, "secret_exports": sorted(secret_exports), "error": error}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config key (value parsed as YAML)")
    parser.add_argument("--secret", action="append", default=[], metavar="KEY",
                        help="mark a config key secret, as `pulumi config set --secret` does")
    options = parser.parse_args(argv)
    overrides = {}
    for item in options.set:
        key, _, value = item.partition("=")
        overrides[key] = yaml.safe_load(value) if value else ""
    os.chdir(ROOT)  # where the Pulumi CLI runs the program
    sys.path.insert(0, str(ROOT))
    result = run(options.stack, stack_config(options.stack, overrides), [_full_key(k) for k in options.secret])
    options.out.write_text(json.dumps(result, indent=1, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
