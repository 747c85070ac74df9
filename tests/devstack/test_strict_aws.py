"""The strict layer refuses what AWS refuses and moto accepts, answering as AWS answers.

Each case runs twice: against plain moto (which accepts it, or answers something else) and
against the local AWS every test and `make dev` use (which refuses it with AWS's code and status).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from devstack.local_aws import LocalAws, bootstrap, local_client
from devstack.strict_aws import LIST_TASKS_FILTERS
from tests.conftest import REGION
from tests.support import free_port, wait_until

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def plain_moto() -> Iterator[LocalAws]:
    server = LocalAws("127.0.0.1", free_port(), strict=False).start()
    yield server
    server.stop()


@dataclass(frozen=True)
class World:
    """moto's resources (shared by every server in this process) and clients for one endpoint."""

    endpoint: str
    names: dict[str, Any]

    def client(self, service: str) -> Any:
        return local_client(service, self.endpoint, REGION)


@pytest.fixture(scope="module")
def names(aws_endpoint: str) -> dict[str, Any]:
    table = f"strict-{uuid.uuid4().hex[:8]}"
    bootstrap(aws_endpoint, REGION, table, table)
    ecs = local_client("ecs", aws_endpoint, REGION)
    ec2 = local_client("ec2", aws_endpoint, REGION)
    cluster = ecs.create_cluster(clusterName=table)["cluster"]["clusterArn"]
    task = ecs.register_task_definition(
        family=table, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "worker", "image": "worker:latest", "cpu": 256, "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(VpcId=vpc, GroupName=table, Description="worker")["GroupId"]
    return {"table": table, "bucket": table, "cluster": cluster, "task": task, "subnet": subnet, "group": group}


def run_task(world: World, count: int = 1, started_by: str = "ml-proto-dashboard", subnets: int = 1,
             groups: int = 1) -> Any:
    n = world.names
    vpc = {"subnets": [n["subnet"]] * subnets, "securityGroups": [n["group"]] * groups}
    return world.client("ecs").run_task(cluster=n["cluster"], taskDefinition=n["task"], count=count,
                                        startedBy=started_by, launchType="FARGATE",
                                        networkConfiguration={"awsvpcConfiguration": vpc})


def update_with_empty_names(world: World) -> Any:
    return world.client("dynamodb").update_item(
        TableName=world.names["table"], Key={"pk": {"S": "job#x"}, "sk": {"S": "job"}},
        UpdateExpression="SET progress = :p", ExpressionAttributeNames={},
        ExpressionAttributeValues={":p": {"N": "1"}})


def query(world: World, **extra: Any) -> Any:
    return world.client("dynamodb").query(
        TableName=world.names["table"], KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "job#x"}, **extra.pop("values", {})}, **extra)


# (what, the call, AWS's error code, AWS's HTTP status)
CASES: list[tuple[str, Callable[[World], Any], str, int]] = [
    ("ListTasks: startedBy with desiredStatus",
     lambda w: w.client("ecs").list_tasks(cluster=w.names["cluster"], startedBy="a", desiredStatus="RUNNING"),
     "InvalidParameterException", 400),
    ("ListTasks: startedBy with family",
     lambda w: w.client("ecs").list_tasks(cluster=w.names["cluster"], startedBy="a", family="f"),
     "InvalidParameterException", 400),
    ("RunTask: count 11", lambda w: run_task(w, count=11), "InvalidParameterException", 400),
    ("RunTask: count 0", lambda w: run_task(w, count=0), "InvalidParameterException", 400),
    ("RunTask: startedBy of 129 characters", lambda w: run_task(w, started_by="w" * 129),
     "InvalidParameterException", 400),
    ("RunTask: startedBy with a space", lambda w: run_task(w, started_by="ml proto"),
     "InvalidParameterException", 400),
    ("RunTask: 17 subnets", lambda w: run_task(w, subnets=17), "InvalidParameterException", 400),
    ("RunTask: 6 security groups", lambda w: run_task(w, groups=6), "InvalidParameterException", 400),
    ("DescribeTasks: 101 tasks",
     lambda w: w.client("ecs").describe_tasks(cluster=w.names["cluster"], tasks=[f"t{i}" for i in range(101)]),
     "InvalidParameterException", 400),
    ("UpdateItem: empty ExpressionAttributeNames", update_with_empty_names, "ValidationException", 400),
    ("Query: an unused value", lambda w: query(w, values={":unused": {"S": "x"}}), "ValidationException", 400),
    ("GetObject: a missing key",
     lambda w: w.client("s3").get_object(Bucket=w.names["bucket"], Key="jobs/missing/input.csv"),
     "AccessDenied", 403),
]


def outcome(call: Callable[[], Any]) -> tuple[str, int]:
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]
    return "accepted", 200


@pytest.mark.parametrize(("what", "call", "code", "status"), CASES, ids=[case[0] for case in CASES])
def test_the_strict_layer_refuses_what_aws_refuses_and_moto_accepts(what, call, code, status, names, aws_endpoint,
                                                                     local_aws, plain_moto):
    assert outcome(lambda: call(World(plain_moto.url, names))) != (code, status)  # moto alone lets it through
    refused_before = local_aws.strict.refused.copy()
    assert outcome(lambda: call(World(aws_endpoint, names))) == (code, status)
    assert sum(local_aws.strict.refused.values()) == sum(refused_before.values()) + 1


# A value of the right shape for each ListTasks filter.
FILTER_VALUES = {"containerInstance": "ci", "family": "f", "serviceName": "s", "desiredStatus": "RUNNING",
                 "launchType": "FARGATE", "daemonName": "d"}


def test_the_strict_layer_lists_every_filter_aws_documents_for_list_tasks():
    import botocore.session

    members = botocore.session.get_session().get_service_model("ecs").operation_model("ListTasks").input_shape.members
    assert set(LIST_TASKS_FILTERS) == set(members) - {"cluster", "nextToken", "maxResults", "startedBy"}
    assert set(FILTER_VALUES) == set(LIST_TASKS_FILTERS)


@pytest.mark.parametrize("name", LIST_TASKS_FILTERS)
def test_started_by_with_any_other_list_tasks_filter_is_refused(name, names, aws_endpoint, local_aws):
    ecs = World(aws_endpoint, names).client("ecs")
    before = local_aws.strict.refused.copy()
    outcome(lambda: ecs.list_tasks(cluster=names["cluster"], **{name: FILTER_VALUES[name]}))
    # Alone, each filter is allowed (whatever moto then answers: its containerInstance filter
    # fails on a cluster holding Fargate tasks).
    assert local_aws.strict.refused == before
    assert outcome(lambda: ecs.list_tasks(cluster=names["cluster"], startedBy="a", **{name: FILTER_VALUES[name]})) \
        == ("InvalidParameterException", 400)
    assert outcome(lambda: ecs.list_tasks(cluster=names["cluster"], startedBy="a")) == ("accepted", 200)


def test_a_refused_json_request_has_the_body_and_content_type_aws_sends(aws_endpoint):
    ecs = requests.post(aws_endpoint, timeout=10, data='{"startedBy": "a", "desiredStatus": "RUNNING"}', headers={
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListTasks",
        "Content-Type": "application/x-amz-json-1.1"})
    assert ecs.status_code == 400 and ecs.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert ecs.json()["__type"] == "InvalidParameterException"
    assert "startedBy must be the only filter" in ecs.json()["message"]

    dynamodb = requests.post(aws_endpoint, timeout=10, data='{"TableName": "t", "ExpressionAttributeNames": {}}',
                             headers={"X-Amz-Target": "DynamoDB_20120810.UpdateItem",
                                      "Content-Type": "application/x-amz-json-1.0"})
    assert dynamodb.status_code == 400 and dynamodb.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert dynamodb.json() == {"__type": "com.amazon.coral.validate#ValidationException",
                               "message": "ExpressionAttributeNames must not be empty"}


def test_a_presigned_download_of_a_missing_object_is_access_denied(store):
    url = store.s3.generate_presigned_url("get_object", Params={"Bucket": store.settings.bucket,
                                                                "Key": "jobs/missing/result.csv"})
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 403 and answer.headers["Content-Type"] == "application/xml"
    assert "<Code>AccessDenied</Code><Message>Access Denied</Message>" in answer.text
    store.s3.put_object(Bucket=store.settings.bucket, Key="jobs/there/result.csv", Body=b"a\n1\n")
    there = store.s3.generate_presigned_url("get_object", Params={"Bucket": store.settings.bucket,
                                                                  "Key": "jobs/there/result.csv"})
    assert requests.get(there, timeout=10).content == b"a\n1\n"  # what exists reads as before


# --- presigned URLs: moto checks neither signature nor expiry; the strict layer checks both -----

def presigned(endpoint: str, bucket: str, key: str, expires: int = 60, key_id: str = "local") -> str:
    s3 = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key="local").client(
        "s3", endpoint_url=endpoint, region_name=REGION, config=Config(signature_version="s3v4"))
    return s3.generate_presigned_url("get_object", ExpiresIn=expires, Params={
        "Bucket": bucket, "Key": key, "ResponseContentDisposition": 'attachment; filename="a b.csv"'})


@pytest.fixture
def objects(store):
    bucket = store.settings.bucket
    for name in ("mine", "theirs"):
        store.s3.put_object(Bucket=bucket, Key=f"jobs/{name}/result.csv", Body=f"{name}\n".encode())
    return bucket


def test_a_presigned_url_as_signed_is_served(aws_endpoint, objects):
    answer = requests.get(presigned(aws_endpoint, objects, "jobs/mine/result.csv"), timeout=10)
    assert answer.status_code == 200 and answer.content == b"mine\n"


@pytest.mark.parametrize(("tamper", "code"), [
    (lambda url: url.replace("jobs/mine/", "jobs/theirs/"), "SignatureDoesNotMatch"),  # another job's result
    (lambda url: url.replace("filename%3D%22a", "filename%3D%22z"), "SignatureDoesNotMatch"),
    (lambda url: url[:-4] + ("0000" if not url.endswith("0000") else "1111"), "SignatureDoesNotMatch"),
    (lambda url: url.replace("X-Amz-Expires=60", "X-Amz-Expires=604800"), "SignatureDoesNotMatch"),
])
def test_a_tampered_presigned_url_is_refused_where_moto_serves_it(aws_endpoint, plain_moto, objects, tamper, code):
    url = tamper(presigned(aws_endpoint, objects, "jobs/mine/result.csv"))
    assert requests.get(url.replace(aws_endpoint, plain_moto.url), timeout=10).status_code == 200  # moto: served
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 403 and f"<Code>{code}</Code>" in answer.text


def test_an_expired_presigned_url_is_refused_where_moto_serves_it(aws_endpoint, plain_moto, objects):
    url = presigned(aws_endpoint, objects, "jobs/mine/result.csv", expires=1)
    wait_until(lambda: requests.get(url, timeout=10).status_code == 403, timeout=30, what="the URL to expire")
    assert "<Message>Request has expired</Message>" in requests.get(url, timeout=10).text
    assert requests.get(url.replace(aws_endpoint, plain_moto.url), timeout=10).status_code == 200


def test_a_url_signed_with_an_unknown_key_is_refused(aws_endpoint, objects):
    answer = requests.get(presigned(aws_endpoint, objects, "jobs/mine/result.csv", key_id="AKIAOTHER"), timeout=10)
    assert answer.status_code == 403 and "<Code>InvalidAccessKeyId</Code>" in answer.text
