"""`--stack NAME`: the target comes from the stack's Pulumi outputs, AWS from the environment.

A fake `pulumi` on PATH answers `stack output --json` with outputs naming a table, bucket and
cluster in moto's server (the tests' local AWS, reached through AWS_ENDPOINT_URL as boto3 reaches
AWS). The client submits as the dashboard does and starts the worker task with the dashboard's
own ECS launcher, using the launch settings in the dashboard service's task definition. moto
records the task and runs nothing.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys

import boto3
import pytest
import requests
from dashboard.launcher import STARTED_BY
from jobkit import JobStatus

from mlproto import Client, Target, TargetNotFound
from mlproto.cli import main

FAKE_PULUMI = """#!{python}
import json, sys
args = sys.argv[1:]
outputs = json.load(open({outputs!r}))
stack = args[args.index("--stack") + 1] if "--stack" in args else ""
if stack not in outputs:
    sys.stderr.write(f"error: no stack named '{{stack}}' found\\n")
    sys.exit(255)
if args[:2] == ["stack", "output"]:
    print(json.dumps(outputs[stack]))
elif args[:2] == ["config", "get"] and args[2] == "aws:region":
    print(json.dumps({{"value": "us-east-1", "secret": False}}))
else:
    sys.exit(2)
"""


@pytest.fixture
def cloud(aws_endpoint, local_aws, store_settings, tmp_path, monkeypatch):
    """A 'deployed' stack in moto: table, bucket, cluster, and a dashboard service whose task
    definition carries the worker launch settings; a fake pulumi that reports its outputs."""
    requests.post(f"{aws_endpoint}/moto-api/state-manager/set-transition", timeout=5,
                  headers=local_aws.control_headers,
                  json={"model_name": "ecs::task", "transition": {"progression": "manual", "times": 10**6}},
                  ).raise_for_status()
    ecs, ec2 = boto3.client("ecs"), boto3.client("ec2")
    name = store_settings.table
    cluster = ecs.create_cluster(clusterName=name)["cluster"]["clusterArn"]
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(VpcId=vpc, GroupName=f"w-{name}", Description="worker")["GroupId"]
    worker = ecs.register_task_definition(
        family=f"{name}-worker", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512", memory="1024",
        containerDefinitions=[{"name": "worker", "image": "worker:latest", "cpu": 512, "memory": 1024}],
    )["taskDefinition"]["taskDefinitionArn"]
    launch = {"WORKER_LAUNCHER": "ecs", "ECS_CLUSTER": cluster, "WORKER_TASK_DEFINITION": worker,
              "WORKER_SUBNETS": subnet, "WORKER_SECURITY_GROUPS": group, "MAX_WORKERS": "2",
              "JOBS_TABLE": store_settings.table, "JOBS_BUCKET": store_settings.bucket,
              "PREDICTOR_FUNCTION": f"{name}-predictor"}
    dashboard = ecs.register_task_definition(
        family=f"{name}-dashboard", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "dashboard", "image": "dashboard:latest", "cpu": 256, "memory": 512,
                               "environment": [{"name": k, "value": v} for k, v in launch.items()]}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=cluster, serviceName="dashboard", taskDefinition=dashboard, desiredCount=0,
                       launchType="FARGATE")
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"demo": {"table": store_settings.table, "bucket": store_settings.bucket,
                                            "predictorFunction": f"{name}-predictor", "cluster": name,
                                            "workerTaskDefinition": f"{name}-worker"},
                                   "half": {"table": store_settings.table}}))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(FAKE_PULUMI.format(python=sys.executable, outputs=str(outputs)))
    pulumi.chmod(pulumi.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("AWS_REGION", raising=False)  # the stack's aws:region says
    yield {"cluster": cluster, "worker": worker, "store": store_settings}
    requests.post(f"{aws_endpoint}/moto-api/state-manager/unset-transition", timeout=5,
                  headers=local_aws.control_headers,
                  json={"model_name": "ecs::task"})


def test_the_stack_outputs_name_the_target(cloud):
    target = Target.stack("demo")
    assert (target.store.table, target.store.bucket, target.region) == (cloud["store"].table, cloud["store"].bucket,
                                                                         "us-east-1")
    assert target.function_name.endswith("-predictor") and target.aws_endpoint_url is None


def test_submit_to_a_stack_starts_the_dashboards_worker_task(cloud, store, tmp_path):
    store.publish_description({"title": "Fixture scores", "input": {"min_rows": 2}, "params": []})
    path = tmp_path / "data.csv"
    path.write_text("x\n1\n2\n3\n")
    client = Client.stack("demo", user="analyst")
    job = client.submit(path)
    assert store.get(job.job_id).status is JobStatus.PENDING and job.owner == "analyst"
    assert store.read_input(job) == b"x\n1\n2\n3\n"
    ecs = boto3.client("ecs")
    tasks = ecs.list_tasks(cluster=cloud["cluster"], startedBy=STARTED_BY)["taskArns"]
    described = ecs.describe_tasks(cluster=cloud["cluster"], tasks=tasks)["tasks"]
    assert [t["taskDefinitionArn"] for t in described] == [cloud["worker"]]
    assert [j.job_id for j in client.jobs().items] == [job.job_id]
    assert client.cancel(job.job_id).status is JobStatus.CANCELLED


def test_stack_errors_exit_3(cloud):
    with pytest.raises(TargetNotFound, match="no output bucket, predictorFunction"):
        Target.stack("half")
    err = io.StringIO()
    assert main(["jobs", "--stack", "nosuch"], stdout=io.StringIO(), stderr=err) == 3
    assert "no stack named 'nosuch'" in err.getvalue()


def test_no_pulumi_cli_exits_3(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    err = io.StringIO()
    assert main(["jobs", "--stack", "dev"], stdout=io.StringIO(), stderr=err) == 3
    assert "Pulumi CLI is not installed" in err.getvalue()
