"""The LoadBalancer component's resources keep the URNs they had directly under the Dashboard (no replacement)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from deploy.mock_program import ROOT

pytestmark = pytest.mark.timeout(120)

# Run in a fresh process (Pulumi's runtime state is global): build the component under a Dashboard
# stand-in and print each registered resource's alias parents.
PROGRAM = """
import json
import pulumi
import pulumi_aws as aws
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.network import Network

class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return f"{args.name}-id", {**args.inputs, "arn": f"arn:aws:mock:::{args.name}", "dnsName": "alb.example"}
    def call(self, args):
        return {}

registered = {}
class Recording(MockMonitor):
    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        registered[request.name + " " + request.type] = {
            "parent": request.parent,
            "alias_parents": [alias.spec.parentUrn for alias in request.aliases if alias.HasField("spec")]}
        return response

mocks = Mocks()
pulumi.runtime.set_mocks(mocks, project="ml-proto", stack="dev", preview=False, monitor=Recording(mocks))

def program():
    dashboard = pulumi.ComponentResource("ml-proto:index:Dashboard", "dashboard")
    targets = aws.ec2.SecurityGroup("dashboard-service-sg", opts=pulumi.ResourceOptions(parent=dashboard))
    LoadBalancer("dashboard", LoadBalancerArgs(
        network=Network("vpc-1", ("subnet-a", "subnet-b"), True), allowed_cidrs=["203.0.113.0/24"],
        certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/x", domain_name="", target_port=8050,
        health_path="/health", targets_security_group=targets, idle_timeout_seconds=120, waker=True),
        opts=pulumi.ResourceOptions(parent=dashboard))

_sync_await(run_pulumi_func(program))
print(json.dumps(registered))
"""

def test_resources_moved_into_the_component_alias_their_old_parent() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    registered = json.loads(done.stdout.strip().splitlines()[-1])
    component = next(r for key, r in registered.items() if key.endswith(" ml-proto:index:LoadBalancer"))
    dashboard_urn = component["parent"]
    assert dashboard_urn.endswith("$ml-proto:index:Dashboard::dashboard")
    moved = {key for key, r in registered.items() if r["parent"].endswith("$ml-proto:index:LoadBalancer::dashboard")}
    # Its direct children were the Dashboard's before; their own children (rules, listeners) follow their parent.
    assert moved == {"dashboard-alb-sg aws:ec2/securityGroup:SecurityGroup",
                     "dashboard-alb aws:lb/loadBalancer:LoadBalancer",
                     "dashboard-tg aws:lb/targetGroup:TargetGroup",
                     "dashboard-waker-tg aws:lb/targetGroup:TargetGroup"}
    for key in moved:
        assert dashboard_urn in registered[key]["alias_parents"], f"{key} would be replaced: no alias to the Dashboard"
