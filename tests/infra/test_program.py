"""The real __main__.py, run once per committed stack under mocks: what it builds and wires."""

from __future__ import annotations

import pytest

from components import settings as settings_module
from tests.infra.contract import APPS, contract_variables
from tests.infra.stackview import Deployment

pytestmark = pytest.mark.timeout(120)

# Variables the contract lists that the cloud deliberately does not set as plain environment.
NOT_PLAIN_ENV = {
    # A secret: it comes through the task definition's `secrets` from SSM (see test_security).
    ("dashboard", "DASHBOARD_LOGINS"),
    # Lambda reserves AWS_REGION and sets it itself; a function that sets it is refused.
    ("predictor", "AWS_REGION"),
    # A test and benchmark knob; the image's default module is the production algorithm.
    ("worker", "WORKER_ALGORITHM"),
}


def image_for(d: Deployment, app: str):
    return d.one("awsx:ecr:Image", f"{app}-image")


def test_the_contract_table_is_parsed(deployment: Deployment) -> None:
    needed = contract_variables()
    # Guards the parser itself: a silently empty list would make the env test pass vacuously.
    assert {"JOBS_TABLE", "JOBS_BUCKET", "AWS_REGION", "LOG_LEVEL"} <= needed["worker"]
    assert {"ECS_CLUSTER", "WORKER_TASK_DEFINITION", "PREDICTOR_FUNCTION"} <= needed["dashboard"]
    assert not any(name.startswith("AWS_ENDPOINT_URL") for names in needed.values() for name in names)


def test_three_images_are_built_from_their_own_dockerfiles(deployment: Deployment) -> None:
    platform = deployment.setting("platform")
    for app in APPS:
        image = image_for(deployment, app)
        assert image.inputs["context"] == "apps"
        assert image.inputs["dockerfile"] == f"apps/{app}/Dockerfile"
        assert image.inputs["platform"] == platform
        repo = deployment.one("aws:ecr/repository:Repository", f"{app}-repo")
        assert image.inputs["repositoryUrl"] == repo.outputs["repositoryUrl"]
        assert deployment.component_of(image).type == "ml-proto:index:AppImage"
        assert deployment.exports["images"][app] == image.outputs["imageUri"]


def test_each_repository_expires_old_images(deployment: Deployment) -> None:
    import json

    policies = deployment.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert len(policies) == 3
    for policy in policies:
        (rule,) = json.loads(policy.inputs["policy"])["rules"]
        assert rule["selection"]["countType"] == "imageCountMoreThan"
        assert rule["selection"]["countNumber"] == deployment.setting("imagesToKeep")
        assert rule["action"]["type"] == "expire"


def test_the_lambda_is_image_based_and_runs_the_predictor_image(deployment: Deployment) -> None:
    function = deployment.one("aws:lambda/function:Function")
    assert function.inputs["packageType"] == "Image"
    assert function.inputs["imageUri"] == image_for(deployment, "predictor").outputs["imageUri"]
    assert "@sha256:" in function.inputs["imageUri"]
    architecture = settings_module.PLATFORMS[deployment.setting("platform")]
    assert function.inputs["architectures"] == [architecture]
    assert function.inputs["memorySize"] == deployment.setting("predictorMemoryMb")
    assert function.inputs["timeout"] == deployment.setting("predictorTimeoutSeconds")
    expected_name = f"ml-proto-{deployment.stack}-predictor"
    assert function.inputs["name"] == deployment.exports["predictorFunction"] == expected_name


def test_the_service_and_the_batch_task_run_their_images(deployment: Deployment) -> None:
    assert deployment.container("-dashboard")["image"] == image_for(deployment, "dashboard").outputs["imageUri"]
    assert deployment.container("-worker")["image"] == image_for(deployment, "worker").outputs["imageUri"]
    service = deployment.one("aws:ecs/service:Service")
    dashboard_task = deployment.task_definition("-dashboard")
    assert service.inputs["taskDefinition"] == dashboard_task.outputs["arn"]
    for task in (dashboard_task, deployment.task_definition("-worker")):
        assert task.inputs["requiresCompatibilities"] == ["FARGATE"]
        assert task.inputs["runtimePlatform"]["cpuArchitecture"] == \
            settings_module.PLATFORMS[deployment.setting("platform")].upper()


def test_every_contract_variable_is_set_for_every_app(deployment: Deployment) -> None:
    env_of = {
        "dashboard": deployment.container_env("-dashboard"),
        "worker": deployment.container_env("-worker"),
        "predictor": deployment.lambda_env(),
    }
    for app, names in contract_variables().items():
        missing = {n for n in names if n not in env_of[app] and (app, n) not in NOT_PLAIN_ENV}
        assert not missing, f"{app} lacks {sorted(missing)}"
        assert all(value not in ("", None) for value in env_of[app].values()), env_of[app]
    assert "AWS_REGION" not in env_of["predictor"]


def test_environment_names_the_resources_this_stack_created(deployment: Deployment) -> None:
    d = deployment
    table = d.one("aws:dynamodb/table:Table").outputs["name"]
    bucket = d.one("aws:s3/bucket:Bucket").outputs["bucket"]
    worker_sg = d.one("aws:ec2/securityGroup:SecurityGroup", "worker-sg").id
    for env in (d.container_env("-dashboard"), d.container_env("-worker"), d.lambda_env()):
        assert env["JOBS_TABLE"] == table == d.exports["table"]
        assert env["JOBS_BUCKET"] == bucket == d.exports["bucket"]
        assert env["JOB_LEASE_SECONDS"] == str(d.setting("jobLeaseSeconds"))
        assert env["RESULT_RETENTION_DAYS"] == str(d.setting("resultRetentionDays"))
        assert env["LOG_LEVEL"] == d.setting("logLevel")
    env = d.container_env("-dashboard")
    assert env["AWS_REGION"] == d.config["aws:region"]
    assert env["PREDICTOR_FUNCTION"] == d.exports["predictorInvokeTarget"]
    assert env["WORKER_LAUNCHER"] == "ecs"
    assert env["ECS_CLUSTER"] == d.one("aws:ecs/cluster:Cluster").outputs["name"] == d.exports["cluster"]
    assert env["WORKER_TASK_DEFINITION"] == d.task_definition("-worker").inputs["family"]
    assert env["WORKER_CONTAINER_NAME"] == d.container("-worker")["name"]
    assert env["WORKER_SECURITY_GROUPS"] == worker_sg
    assert env["WORKER_SUBNETS"].split(",") == d.one("aws:ecs/service:Service").inputs[
        "networkConfiguration"]["subnets"]
    assert env["WORKER_CAPACITY_PROVIDER"] == d.setting("workerCapacityProvider")
    assert env["WORKER_ASSIGN_PUBLIC_IP"] == "ENABLED"
    assert env["WORKER_LOG_GROUP"] == d.exports["workerLogGroup"]
    assert env["MAX_WORKERS"] == str(d.setting("maxWorkers"))
    assert env["UPLOAD_MAX_BYTES"] == str(d.setting("uploadMaxBytes"))
    assert env["GUNICORN_WORKERS"] == str(d.setting("dashboardWorkers"))
    assert env["GUNICORN_THREADS"] == str(d.setting("dashboardThreads"))
    # The dashboard (and the ALB in front of it) wait longer than the Lambda may run.
    assert int(env["PREDICTOR_TIMEOUT_SECONDS"]) > d.setting("predictorTimeoutSeconds")
    idle = d.one("aws:lb/loadBalancer:LoadBalancer").inputs["idleTimeout"]
    assert idle > int(env["PREDICTOR_TIMEOUT_SECONDS"])
    # ... and gunicorn keeps idle connections longer than the ALB, so the ALB never reuses a closed one.
    assert int(env["GUNICORN_KEEPALIVE"]) > idle


def test_logs_go_to_log_groups_this_stack_created_with_retention(deployment: Deployment) -> None:
    groups = {g.inputs["name"]: g for g in deployment.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert set(groups) == {deployment.exports[k] for k in ("dashboardLogGroup", "predictorLogGroup",
                                                           "workerLogGroup")}
    for group in groups.values():
        assert group.inputs["retentionInDays"] == deployment.setting("logRetentionDays")
    for suffix in ("-dashboard", "-worker"):
        log = deployment.container(suffix)["logConfiguration"]
        assert log["logDriver"] == "awslogs"
        assert log["options"]["awslogs-group"] in groups
    function = deployment.one("aws:lambda/function:Function")
    assert function.inputs["loggingConfig"]["logGroup"] == f"/aws/lambda/{function.inputs['name']}"
    assert function.inputs["loggingConfig"]["logGroup"] in groups


def test_the_worker_can_use_either_fargate_provider(deployment: Deployment) -> None:
    capacity = deployment.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert set(capacity.inputs["capacityProviders"]) == {"FARGATE", "FARGATE_SPOT"}
    assert capacity.inputs["clusterName"] == deployment.exports["cluster"]
    task = deployment.task_definition("-worker")
    assert task.inputs["cpu"] == str(deployment.setting("workerCpu"))
    assert task.inputs["memory"] == str(deployment.setting("workerMemoryMb"))
    # No ECS service keeps workers running: the dashboard starts them with RunTask.
    assert len(deployment.of_type("aws:ecs/service:Service")) == 1


def test_the_alb_forwards_to_port_8050_and_checks_health(deployment: Deployment) -> None:
    group = deployment.one("aws:lb/targetGroup:TargetGroup")
    assert group.inputs["port"] == 8050 and group.inputs["targetType"] == "ip"
    assert group.inputs["healthCheck"]["path"] == "/health"
    (listener,) = deployment.of_type("aws:lb/listener:Listener")  # no certificate in either stack file
    assert listener.inputs["port"] == 80
    assert listener.inputs["defaultActions"] == [{"type": "forward", "targetGroupArn": group.outputs["arn"]}]
    service = deployment.one("aws:ecs/service:Service")
    assert service.inputs["loadBalancers"] == [
        {"targetGroupArn": group.outputs["arn"], "containerName": "dashboard", "containerPort": 8050}]
    assert deployment.container("-dashboard")["portMappings"] == [{"containerPort": 8050, "protocol": "tcp"}]
    # Creating the service before the target group is attached to a listener fails in ECS.
    assert listener.urn in service.dependencies


def test_the_service_rolls_back_bad_deploys_and_scales_on_cpu(deployment: Deployment) -> None:
    service = deployment.one("aws:ecs/service:Service")
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service.inputs["desiredCount"] == deployment.setting("dashboardDesiredCount")
    target = deployment.one("aws:appautoscaling/target:Target")
    assert target.inputs["minCapacity"] == deployment.setting("dashboardMinCount")
    assert target.inputs["maxCapacity"] == deployment.setting("dashboardMaxCount")
    assert target.inputs["resourceId"] == f"service/{deployment.exports['cluster']}/{service.outputs['name']}"
    policy = deployment.one("aws:appautoscaling/policy:Policy")
    tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    assert policy.inputs["policyType"] == "TargetTrackingScaling"
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    assert tracking["targetValue"] == float(deployment.setting("dashboardCpuTargetPercent"))


def test_exports(deployment: Deployment) -> None:
    lb = deployment.one("aws:lb/loadBalancer:LoadBalancer")
    assert deployment.exports["url"] == f"http://{lb.outputs['dnsName']}"
    assert deployment.exports["albDnsName"] == lb.outputs["dnsName"]
    assert deployment.exports["workerTaskDefinition"] == f"ml-proto-{deployment.stack}-worker"
    users = deployment.setting("dashboardUsers")
    assert deployment.exports["dashboardUser"] == users[0]
    assert set(deployment.secret_exports) == {"dashboardPassword", "dashboardLogins"}


def test_every_resource_belongs_to_a_component(deployment: Deployment) -> None:
    top = deployment.one("ml-proto:index:MlPrototype")
    for resource in deployment.resources:
        if resource is top:
            continue
        assert top in deployment.ancestors(resource), f"{resource.name} is not under MlPrototype"
    kinds = {r.type for r in deployment.resources if r.type.startswith("ml-proto:")}
    assert kinds == {"ml-proto:index:MlPrototype", "ml-proto:index:JobStore", "ml-proto:index:AppImage",
                     "ml-proto:index:RealtimePredictor", "ml-proto:index:BatchWorker", "ml-proto:index:Dashboard"}


def test_the_default_vpc_is_used_without_a_nat_gateway(deployment: Deployment) -> None:
    from tests.infra.harness import DEFAULT_SUBNETS, DEFAULT_VPC

    assert any(i["token"] == "aws:ec2/getVpc:getVpc" and i["args"].get("default") for i in deployment.invokes)
    assert deployment.one("aws:lb/loadBalancer:LoadBalancer").inputs["subnets"] == DEFAULT_SUBNETS
    network = deployment.one("aws:ecs/service:Service").inputs["networkConfiguration"]
    assert network["subnets"] == DEFAULT_SUBNETS and network["assignPublicIp"] is True
    for group in deployment.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert group.inputs["vpcId"] == DEFAULT_VPC
    assert not [r for r in deployment.resources if r.type.startswith("aws:ec2/natGateway")]
