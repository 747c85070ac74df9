"""Issue 9, part 5: private encrypted bucket, least-privilege IAM, only the ALB reachable, logs
retained, and the login secret never in plain environment."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi.runtime.rpc import _special_secret_sig, _special_sig_key

from deploy.mock_program import CLOUDFRONT_PREFIX_LIST
from tests.infra.stackview import SECRET_SIG, SECRET_SIG_KEY, Deployment

pytestmark = pytest.mark.timeout(120)

# The only Allow statements with Resource "*", and why AWS leaves no narrower choice.
WILDCARD_RESOURCE_ALLOWED = {
    # ecr:GetAuthorizationToken is account-wide: it supports no resource-level permissions.
    "ecr:GetAuthorizationToken": None,
    # ecs:ListTasks supports no task resource; it is narrowed by the ecs:cluster condition instead.
    "ecs:ListTasks": "ecs:cluster",
    # The dashboard's sleeper reads the listener and target health: ELB Describe* support no
    # resource-level permissions.
    "elasticloadbalancing:DescribeListeners": None,
    "elasticloadbalancing:DescribeTargetHealth": None,
}
SLEEPER_WILDCARDS = {"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTargetHealth"}


def sleeps(deployment: Deployment) -> bool:
    return int(deployment.setting("dashboardSleepAfterMinutes")) > 0


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allow_statements(d: Deployment) -> list[tuple[str, dict[str, Any]]]:
    return [(name, s) for name, doc in d.all_policy_documents().items()
            for s in doc["Statement"] if s["Effect"] == "Allow"]


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements if s["Effect"] == "Allow" for a in _as_list(s["Action"])}


# --- the bucket -----------------------------------------------------------------------------

def test_the_bucket_is_private_and_encrypted(deployment: Deployment) -> None:
    bucket = deployment.one("aws:s3/bucket:Bucket")
    block = deployment.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert block.inputs["bucket"] == bucket.id
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block.inputs[flag] is True, flag
    ownership = deployment.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"  # ACLs off
    assert "acl" not in bucket.inputs and "policy" not in bucket.inputs
    sse = deployment.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    (rule,) = sse.inputs["rules"]
    assert sse.inputs["bucket"] == bucket.id
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in ("AES256", "aws:kms")
    policy = json.loads(deployment.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert not [s for s in policy["Statement"] if s["Effect"] == "Allow"]


def test_job_files_expire_and_abandoned_uploads_are_cleaned(deployment: Deployment) -> None:
    rules = {r["id"]: r for r in deployment.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]}
    expire = rules["expire-job-files"]
    assert expire["status"] == "Enabled" and expire["filter"]["prefix"] == "jobs/"
    assert expire["expiration"]["days"] == deployment.setting("resultRetentionDays")
    assert rules["abort-incomplete-uploads"]["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1


# --- IAM --------------------------------------------------------------------------------------

def test_no_allow_statement_uses_wildcard_actions(deployment: Deployment) -> None:
    statements = allow_statements(deployment)
    assert len(statements) > 15  # the documents were found at all
    for where, statement in statements:
        for action in _as_list(statement.get("Action", [])):
            assert "*" not in action, f"{where}: wildcard action {action}"
        assert "NotAction" not in statement and "NotResource" not in statement, where


def test_wildcard_resources_only_where_aws_requires_them(deployment: Deployment) -> None:
    seen = set()
    for where, statement in allow_statements(deployment):
        if where.startswith("trust ") or "Principal" in statement:
            continue  # trust and resource policies name principals, not resources
        for resource in _as_list(statement["Resource"]):
            if resource != "*":
                assert not resource.endswith(":*:*") and resource.count("*") <= 1, f"{where}: {resource}"
                continue
            actions = _as_list(statement["Action"])
            assert len(actions) == 1 and actions[0] in WILDCARD_RESOURCE_ALLOWED, f"{where}: {statement}"
            condition_key = WILDCARD_RESOURCE_ALLOWED[actions[0]]
            if condition_key:
                conditions = {k for block in statement["Condition"].values() for k in block}
                assert condition_key in conditions, f"{where}: {actions[0]} on * without {condition_key}"
            seen.add(actions[0])
    assert seen == set(WILDCARD_RESOURCE_ALLOWED) - (set() if sleeps(deployment) else SLEEPER_WILDCARDS)


def test_each_role_gets_exactly_its_permissions(deployment: Deployment) -> None:
    roles = deployment.role_statements()
    # What jobkit's JobStore calls on each role's path (see components/iam.py).
    store = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
             "s3:GetObject", "s3:PutObject", "s3:ListBucket"}
    worker_store = store - {"dynamodb:PutItem"}
    pull_and_log = {"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer", "logs:CreateLogStream", "logs:PutLogEvents"}
    assert {name: actions_of(s) for name, s in roles.items()} == {
        # The dashboard records predictions; the predictor reads no store at all, it only logs.
        "predictor-role": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "worker-task-role": worker_store,
        "worker-execution-role": pull_and_log,
        # BatchGetItem: a sign-in reads its two throttle counters in one call (jobkit.login_throttle).
        "dashboard-task-role": store | {"dynamodb:BatchGetItem", "lambda:InvokeFunction",
                                        "lambda:GetFunctionConfiguration", "ecs:RunTask",
                                        "iam:PassRole", "ecs:DescribeTasks", "ecs:ListTasks"},
        "dashboard-execution-role": pull_and_log | {"ssm:GetParameters"},
        # Sleep when idle, wake on visit: set the dashboard's count and switch the listener, read and
        # write its two items of the job table, nothing else; its close schedule may only invoke it.
        **({"dashboard-sleep-role": {"logs:CreateLogStream", "logs:PutLogEvents", "ecs:DescribeServices",
                                     "ecs:UpdateService", "ecs:ListTasks", "elasticloadbalancing:ModifyListener",
                                     "dynamodb:GetItem", "dynamodb:UpdateItem"}
                                    | SLEEPER_WILDCARDS,
            "dashboard-sleep-close-role": {"lambda:InvokeFunction"}}
           if sleeps(deployment) else {}),
    }
    trusted = {r.name: json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]["Service"]
               for r in deployment.of_type("aws:iam/role:Role")}
    assert trusted == {"predictor-role": "lambda.amazonaws.com", "worker-task-role": "ecs-tasks.amazonaws.com",
                       "worker-execution-role": "ecs-tasks.amazonaws.com",
                       "dashboard-task-role": "ecs-tasks.amazonaws.com",
                       "dashboard-execution-role": "ecs-tasks.amazonaws.com",
                       **({"dashboard-sleep-role": "lambda.amazonaws.com",
                           "dashboard-sleep-close-role": "scheduler.amazonaws.com"} if sleeps(deployment) else {})}


def test_store_access_is_this_table_and_this_bucket_only(deployment: Deployment) -> None:
    table = deployment.one("aws:dynamodb/table:Table").outputs["arn"]
    bucket = deployment.one("aws:s3/bucket:Bucket").outputs["arn"]
    for role in ("worker-task-role", "dashboard-task-role"):
        for statement in deployment.role_statements()[role]:
            services = {a.split(":")[0] for a in statement["Action"]}
            if services == {"dynamodb"}:
                assert statement["Resource"] == [table, f"{table}/index/*"], role
            elif services == {"s3"}:
                assert statement["Resource"] in ([f"{bucket}/jobs/*"], [bucket]), role


def _statement(d: Deployment, role: str, sid: str) -> dict[str, Any]:
    (found,) = [s for s in d.role_statements()[role] if s.get("Sid") == sid]
    return found


def test_the_dashboard_may_start_and_watch_only_its_workers(deployment: Deployment) -> None:
    d = deployment
    cluster = d.one("aws:ecs/cluster:Cluster").outputs["arn"]
    worker_task = d.task_definition("-worker")
    run = _statement(d, "dashboard-task-role", "RunWorker")
    assert run["Resource"] == [worker_task.outputs["arnWithoutRevision"] + ":*"]
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": cluster}}
    pass_role = _statement(d, "dashboard-task-role", "PassWorkerRoles")
    assert sorted(pass_role["Resource"]) == sorted([worker_task.inputs["taskRoleArn"],
                                                    worker_task.inputs["executionRoleArn"]])
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    describe = _statement(d, "dashboard-task-role", "DescribeWorkerTasks")
    assert describe["Resource"] == [cluster.replace(":cluster/", ":task/") + "/*"]
    invoke = _statement(d, "dashboard-task-role", "InvokePredictor")
    assert invoke["Resource"] == [d.one("aws:lambda/function:Function", "predictor-function").outputs["arn"]]
    read = _statement(d, "dashboard-task-role", "ReadPredictorUpdate")  # the predict form's "being trained" note
    assert read["Action"] == ["lambda:GetFunctionConfiguration"] and read["Resource"] == invoke["Resource"]


def test_execution_roles_pull_only_their_own_image_and_write_only_their_own_logs(deployment: Deployment) -> None:
    d = deployment
    for app in ("dashboard", "worker"):
        statements = d.role_statements()[f"{app}-execution-role"]
        pull = next(s for s in statements if s.get("Sid") == "EcrPull")
        assert pull["Resource"] == [d.one("aws:ecr/repository:Repository", f"{app}-repo").outputs["arn"]]
        logs = next(s for s in statements if s.get("Sid") == "Logs")
        group = d.one("aws:cloudwatch/logGroup:LogGroup", f"{app}-logs").outputs["arn"]
        assert logs["Resource"] == [f"{group}:*"]


def test_lambda_may_pull_the_predictor_image_only_for_this_account(deployment: Deployment) -> None:
    policy = deployment.one("aws:ecr/repositoryPolicy:RepositoryPolicy")
    repo = deployment.one("aws:ecr/repository:Repository", "predictor-repo")
    assert policy.inputs["repository"] == repo.outputs["name"]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    account = repo.outputs["arn"].split(":")[4]
    assert f":{account}:function:" in statement["Condition"]["StringLike"]["aws:sourceArn"]


# --- network --------------------------------------------------------------------------------

def _rules(d: Deployment, kind: str) -> list:
    return d.of_type(f"aws:vpc/securityGroup{kind}Rule:SecurityGroup{kind}Rule")


def test_only_cloudfront_reaches_the_load_balancer(deployment: Deployment) -> None:
    """Nothing admits an address range: the internal ALB, in subnets with no internet route, admits CloudFront's
    origin-facing prefix list on port 80, and the distribution is the only way in."""
    groups = {g.id: g.name for g in deployment.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert set(groups.values()) == {"dashboard-alb-sg", "dashboard-service-sg", "worker-sg"}
    for group in deployment.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert not group.inputs.get("ingress") and not group.inputs.get("egress"), "inline rules hide intent"
    assert not [r for r in _rules(deployment, "Ingress") if r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6")]
    from_outside = [r for r in _rules(deployment, "Ingress") if not r.inputs.get("referencedSecurityGroupId")]
    assert [(groups[r.inputs["securityGroupId"]], r.inputs["prefixListId"], r.inputs["fromPort"], r.inputs["toPort"])
            for r in from_outside] == [("dashboard-alb-sg", CLOUDFRONT_PREFIX_LIST, 80, 80)]
    looked_up = [i["args"] for i in deployment.invokes if i["token"].endswith("getManagedPrefixList")]
    assert looked_up == [{"name": "com.amazonaws.global.cloudfront.origin-facing"}]
    alb = deployment.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["internal"] is True
    (table,) = deployment.of_type("aws:ec2/routeTable:RouteTable")
    assert not table.inputs.get("routes"), "the load balancer's subnets must have no route out of the VPC"
    associated = {a.inputs["subnetId"]: a.inputs["routeTableId"]
                  for a in deployment.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")}
    assert associated == {subnet: table.id for subnet in alb.inputs["subnets"]}
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in deployment.of_type("aws:ec2/subnet:Subnet"))
    (origin,) = deployment.of_type("aws:cloudfront/vpcOrigin:VpcOrigin")
    assert origin.inputs["vpcOriginEndpointConfig"]["arn"] == alb.outputs["arn"]


def test_dashboard_tasks_admit_only_the_alb_on_8050(deployment: Deployment) -> None:
    groups = {g.name: g.id for g in deployment.of_type("aws:ec2/securityGroup:SecurityGroup")}
    into_tasks = [r for r in _rules(deployment, "Ingress") if r.inputs["securityGroupId"] == groups[
        "dashboard-service-sg"]]
    assert [(r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["ipProtocol"])
            for r in into_tasks] == [(groups["dashboard-alb-sg"], 8050, 8050, "tcp")]
    alb_out = [r for r in _rules(deployment, "Egress") if r.inputs["securityGroupId"] == groups["dashboard-alb-sg"]]
    assert [(r.inputs.get("referencedSecurityGroupId"), r.inputs["fromPort"]) for r in alb_out] == [
        (groups["dashboard-service-sg"], 8050)]
    service = deployment.one("aws:ecs/service:Service")
    assert service.inputs["networkConfiguration"]["securityGroups"] == [groups["dashboard-service-sg"]]
    assert deployment.one("aws:lb/loadBalancer:LoadBalancer").inputs["securityGroups"] == [groups["dashboard-alb-sg"]]


def test_the_worker_has_no_inbound_rules(deployment: Deployment) -> None:
    worker = deployment.one("aws:ec2/securityGroup:SecurityGroup", "worker-sg")
    assert not [r for r in _rules(deployment, "Ingress") if r.inputs["securityGroupId"] == worker.id]
    out = [r for r in _rules(deployment, "Egress") if r.inputs["securityGroupId"] == worker.id]
    assert [(r.inputs["ipProtocol"], r.inputs["fromPort"]) for r in out] == [("tcp", 443)]


# --- logs and the login secret -----------------------------------------------------------------

def test_every_log_group_has_retention(deployment: Deployment) -> None:
    groups = deployment.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert len(groups) == (4 if sleeps(deployment) else 3)
    assert all(g.inputs.get("retentionInDays", 0) > 0 for g in groups)


def test_the_secret_wrapper_is_pulumis() -> None:
    assert (_special_sig_key, _special_secret_sig) == (SECRET_SIG_KEY, SECRET_SIG)


def test_the_login_secret_comes_from_ssm_never_from_plain_environment(deployment: Deployment) -> None:
    d = deployment
    for task in d.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        # A secret reaching a task definition would wrap (and hide) the whole definition.
        assert isinstance(task.inputs["containerDefinitions"], str), task.name
    parameter = d.one("aws:ssm/parameter:Parameter", "dashboard-logins")
    session_key = d.one("aws:ssm/parameter:Parameter", "dashboard-session-key")
    assert parameter.inputs["type"] == session_key.inputs["type"] == "SecureString"
    passwords = list(json.loads(d.exports["dashboardLogins"]).values())
    # Pulumi hands the provider a secret-wrapped value: it is encrypted in the state file.
    assert parameter.inputs["value"] == {SECRET_SIG_KEY: SECRET_SIG, "value": d.exports["dashboardLogins"]}
    assert d.exports["dashboardPassword"] in passwords
    assert list(json.loads(d.exports["dashboardLogins"])) == d.setting("dashboardUsers")
    for task in d.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        for container in d.containers(task):
            for item in container.get("environment", []):
                assert item["name"] != "DASHBOARD_LOGINS"
                assert not any(p in item["value"] for p in passwords), f"a password in {item['name']}"
    assert d.container("-dashboard")["secrets"] == [
        {"name": "DASHBOARD_LOGINS", "valueFrom": parameter.outputs["arn"]},
        {"name": "DASHBOARD_SESSION_KEY", "valueFrom": session_key.outputs["arn"]}]
    service = d.one("aws:ecs/service:Service").inputs
    assert service["triggers"] == {"loginsVersion": "1"} and service["forceNewDeployment"] is True  # rotation
    read = _statement(d, "dashboard-execution-role", "ReadSecrets")
    assert read["Resource"] == [parameter.outputs["arn"], session_key.outputs["arn"]]
    for name in ("dashboardPassword", "dashboardLogins"):
        assert name in d.secret_exports
    for policy in d.all_policy_documents().values():
        assert not any(p in json.dumps(policy) for p in passwords)


def test_the_session_key_is_random_and_kept_as_a_secret(deployment: Deployment) -> None:
    key = deployment.one("random:index/randomPassword:RandomPassword", "dashboard-session-key")
    assert key.inputs["length"] >= 32  # the dashboard refuses a shorter one
    parameter = deployment.one("aws:ssm/parameter:Parameter", "dashboard-session-key")
    assert parameter.inputs["value"][SECRET_SIG_KEY] == SECRET_SIG


def test_passwords_are_generated_per_user_when_none_is_configured(deployment: Deployment) -> None:
    generated = [r for r in deployment.of_type("random:index/randomPassword:RandomPassword")
                 if r.name.startswith("dashboard-password-")]
    users = deployment.setting("dashboardUsers")
    assert sorted(r.name for r in generated) == sorted(f"dashboard-password-{u}" for u in users)
    assert all(r.inputs["length"] >= 16 for r in generated)
    logins = json.loads(deployment.exports["dashboardLogins"])
    assert len(set(logins.values())) == len(users)
