"""The real __main__.py, run once per committed stack under mocks: what it builds and wires."""

from __future__ import annotations

import pytest
from dashboard.settings import SECRET_VARIABLES, DashboardSettings, ServerSettings
from jobkit.settings import merge_env
from predictor.settings import PredictorSettings
from worker.settings import WorkerSettings

from components import settings as settings_module
from deploy.mock_program import CHOSEN_SUBNETS, DEFAULT_SUBNET_ZONES, DEFAULT_VPC
from deploy.stack_config import stack_settings
from tests.infra.stackview import Deployment

pytestmark = pytest.mark.timeout(120)

APPS = ("dashboard", "predictor", "worker")


def image_for(d: Deployment, app: str):
    return d.one("awsx:ecr:Image", f"{app}-image")


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
    function = deployment.one("aws:lambda/function:Function", "predictor-function")
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


def test_each_app_is_given_exactly_what_its_settings_write(deployment: Deployment) -> None:
    """Read back with the app's own from_env, each environment is what that app's to_env writes: no
    variable the app reads is missing, none it does not read is set."""
    worker = deployment.container_env("-worker")
    assert WorkerSettings.from_env(worker).to_env() == worker
    predictor = deployment.lambda_env()
    assert PredictorSettings.from_env(predictor).to_env() == predictor
    dashboard = deployment.container_env("-dashboard")
    with_logins = {**dashboard, "DASHBOARD_LOGINS": '{"someone": "a-password"}'}
    written = merge_env(DashboardSettings.from_env(with_logins).to_env(), ServerSettings.from_env(dashboard).to_env())
    assert {name: value for name, value in written.items() if name not in SECRET_VARIABLES} == dashboard
    # The logins are the one secret, and they come from SSM, not plain environment.
    assert [s["name"] for s in deployment.container("-dashboard")["secrets"]] == sorted(SECRET_VARIABLES)
    assert "AWS_REGION" not in predictor  # Lambda reserves it
    for env in (worker, predictor, dashboard):
        assert all(value not in ("", None) for value in env.values()), env
        assert not any(name.startswith("AWS_ENDPOINT_URL") for name in env)


def test_environment_names_the_resources_this_stack_created(deployment: Deployment) -> None:
    d = deployment
    table = d.one("aws:dynamodb/table:Table").outputs["name"]
    bucket = d.one("aws:s3/bucket:Bucket").outputs["bucket"]
    worker_sg = d.one("aws:ec2/securityGroup:SecurityGroup", "worker-sg").id
    # The predictor reads no job-store variable (PredictorSettings), so it is told none.
    assert d.lambda_env() == {"LOG_LEVEL": d.setting("logLevel")}
    for env in (d.container_env("-dashboard"), d.container_env("-worker")):
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
    sleeper = [f"/aws/lambda/ml-proto-{deployment.stack}-dashboard-sleep"] if deployment.of_type(
        "ml-proto:index:DashboardSleep") else []
    assert set(groups) == {deployment.exports[k] for k in ("dashboardLogGroup", "predictorLogGroup",
                                                           "workerLogGroup")} | set(sleeper)
    for group in groups.values():
        assert group.inputs["retentionInDays"] == deployment.setting("logRetentionDays")
    for suffix in ("-dashboard", "-worker"):
        log = deployment.container(suffix)["logConfiguration"]
        assert log["logDriver"] == "awslogs"
        assert log["options"]["awslogs-group"] in groups
    function = deployment.one("aws:lambda/function:Function", "predictor-function")
    assert function.inputs["loggingConfig"]["logGroup"] == f"/aws/lambda/{function.inputs['name']}"
    assert function.inputs["loggingConfig"]["logGroup"] in groups


def test_the_worker_can_use_either_fargate_provider(deployment: Deployment) -> None:
    capacity = deployment.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert set(capacity.inputs["capacityProviders"]) == {"FARGATE", "FARGATE_SPOT"}
    assert capacity.inputs["clusterName"] == deployment.exports["cluster"]
    task = deployment.task_definition("-worker")
    settings = stack_settings(deployment.stack)  # workerCpu/workerMemoryMb, or RESOURCES where they are 0
    assert task.inputs["cpu"] == str(settings.worker.cpu)
    assert task.inputs["memory"] == str(settings.worker.memory_mb)
    # No ECS service keeps workers running: the dashboard starts them with RunTask.
    assert len(deployment.of_type("aws:ecs/service:Service")) == 1


def test_the_alb_forwards_to_port_8050_and_checks_health(deployment: Deployment) -> None:
    group = deployment.one("aws:lb/targetGroup:TargetGroup", "dashboard-tg")
    assert group.inputs["port"] == 8050 and group.inputs["targetType"] == "ip"
    assert group.inputs["healthCheck"]["path"] == "/health"
    (listener,) = deployment.of_type("aws:lb/listener:Listener")  # no certificate in either stack file
    assert listener.inputs["port"] == 80
    if deployment.setting("dashboardSleepAfterMinutes"):  # weighted: the sleeper moves visitors to the waker
        waker = deployment.one("aws:lb/targetGroup:TargetGroup", "dashboard-waker-tg")
        assert listener.inputs["defaultActions"] == [{"type": "forward", "forward": {"targetGroups": [
            {"arn": group.outputs["arn"], "weight": 1}, {"arn": waker.outputs["arn"], "weight": 0}]}}]
    else:
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
    # Sleep scales to zero; office hours to zero outside them (the range as of `pulumi up`, then the
    # schedule's); otherwise the floor is dashboardMinCount.
    floor, most = deployment.setting("dashboardMinCount"), deployment.setting("dashboardMaxCount")
    if deployment.setting("dashboardSleepAfterMinutes"):
        expected = [(0, most)]
    elif deployment.setting("dashboardOfficeHours"):
        expected = [(floor, most), (0, 0)]
    else:
        expected = [(floor, most)]
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) in expected
    assert target.inputs["resourceId"] == f"service/{deployment.exports['cluster']}/{service.outputs['name']}"
    policy = deployment.one("aws:appautoscaling/policy:Policy")
    tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    assert policy.inputs["policyType"] == "TargetTrackingScaling"
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    assert tracking["targetValue"] == float(deployment.setting("dashboardCpuTargetPercent"))


def test_exports(deployment: Deployment) -> None:
    lb = deployment.one("aws:lb/loadBalancer:LoadBalancer")
    distribution = deployment.one("aws:cloudfront/distribution:Distribution")
    assert deployment.exports["url"] == f"https://{distribution.outputs['domainName']}"
    assert distribution.outputs["domainName"].endswith(".cloudfront.net")
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
    sleep = {"ml-proto:index:DashboardSleep"} if deployment.setting("dashboardSleepAfterMinutes") else set()
    assert kinds == {"ml-proto:index:MlPrototype", "ml-proto:index:JobStore", "ml-proto:index:AppImage",
                     "ml-proto:index:RealtimePredictor", "ml-proto:index:BatchWorker", "ml-proto:index:Dashboard",
                     "ml-proto:index:LoadBalancer", "ml-proto:index:FrontDoor", *sleep}


def test_the_default_vpc_is_used_without_a_nat_gateway(deployment: Deployment) -> None:
    assert any(i["token"] == "aws:ec2/getVpc:getVpc" and i["args"].get("default") for i in deployment.invokes)
    network = deployment.one("aws:ecs/service:Service").inputs["networkConfiguration"]
    assert network["assignPublicIp"] is True
    for group in deployment.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert group.inputs["vpcId"] == DEFAULT_VPC
    assert not [r for r in deployment.resources if r.type.startswith("aws:ec2/natGateway")]


def test_the_load_balancer_spans_two_private_subnets_in_the_tasks_zones(deployment: Deployment) -> None:
    """Tasks run in two default subnets (the first two zones by name, whatever order EC2 lists them in); the
    internal load balancer in two private subnets the program creates in those zones."""
    # In the program's order (private-0, private-1): the engine may record the two registrations either way.
    subnets = sorted(deployment.of_type("aws:ec2/subnet:Subnet"), key=lambda subnet: subnet.name)
    assert deployment.one("aws:lb/loadBalancer:LoadBalancer").inputs["subnets"] == [s.id for s in subnets]
    assert [s.inputs["availabilityZone"] for s in subnets] == sorted(DEFAULT_SUBNET_ZONES[s] for s in CHOSEN_SUBNETS)
    assert deployment.one("aws:ecs/service:Service").inputs["networkConfiguration"]["subnets"] == CHOSEN_SUBNETS
    assert deployment.container_env("-dashboard")["WORKER_SUBNETS"] == ",".join(CHOSEN_SUBNETS)
