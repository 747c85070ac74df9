"""workerCompute gpu: an ECS Managed Instances GPU capacity provider, a GPU task definition and their IAM,
and nothing else changed -- the default stacks keep their resources, the dashboard only its launch target."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from worker.resources import declared

from deploy.mock_program import CHOSEN_SUBNETS
from devstack.settings import REPO_ROOT
from tests.infra.resource_dump import diff, dump
from tests.infra.stackview import Deployment

pytestmark = pytest.mark.timeout(240)

CAPACITY_PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
GPU_TYPES = (CAPACITY_PROVIDER, ATTACHMENT, "aws:iam/instanceProfile:InstanceProfile", "ml-proto:index:GpuCapacity")

SHIPPED = declared(REPO_ROOT / "apps" / "worker" / "algorithm.py")  # whatever algorithm ships



@pytest.fixture(scope="module")
def gpu(run_with: Callable[..., Deployment]) -> Deployment:
    run = run_with("dev", workerCompute="gpu", workerGpus="1")
    assert run.error is None, run.error and run.error["traceback"]
    return run


@pytest.fixture(scope="module")
def gpu_spot(run_with: Callable[..., Deployment]) -> Deployment:
    run = run_with("demo", workerCompute="gpu", workerGpus="2", workerGpuSpot="true", workerGpuScaleInSeconds="60")
    assert run.error is None, run.error and run.error["traceback"]
    return run


def _provider(d: Deployment) -> dict:
    return d.one(CAPACITY_PROVIDER).inputs["managedInstancesProvider"]


def test_default_stacks_have_no_gpu_resources(deployment: Deployment) -> None:
    for type_ in GPU_TYPES:
        assert deployment.of_type(type_) == [], type_
    task = deployment.task_definition("-worker")
    assert task.inputs["requiresCompatibilities"] == ["FARGATE"] and task.inputs["networkMode"] == "awsvpc"
    assert "WORKER_NETWORK_MODE" not in deployment.container_env("-dashboard")


def test_the_gpu_stack_adds_the_gpu_resources_and_changes_only_the_workers_launch(deployments, gpu) -> None:
    changes = diff(dump(deployments["dev"]), dump(gpu))
    assert changes["removed"] == []
    assert sorted(key.split(" ", 1)[0] for key in changes["added"]) == sorted([
        CAPACITY_PROVIDER, "aws:iam/instanceProfile:InstanceProfile", "aws:iam/role:Role", "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy", ATTACHMENT, ATTACHMENT, "ml-proto:index:GpuCapacity"])
    changed = changes["changed"]
    assert set(changed) == {"aws:ecs/clusterCapacityProviders:ClusterCapacityProviders cluster-capacity",
                            "aws:ecs/taskDefinition:TaskDefinition dashboard-task",
                            "aws:ecs/taskDefinition:TaskDefinition worker-task",
                            "awsx:ecr:Image worker-image"}
    # The worker image with a CUDA-bundling torch; the CPU Dockerfile is what the other stacks build.
    assert changed["awsx:ecr:Image worker-image"] == {
        "dockerfile": ["apps/worker/Dockerfile", "apps/worker/Dockerfile.gpu"]}
    # The dashboard: only which provider RunTask asks for and that the task takes its instance's network.
    assert set(changed["aws:ecs/taskDefinition:TaskDefinition dashboard-task"]) == {
        "containerDefinitions[0].environment.WORKER_CAPACITY_PROVIDER",
        "containerDefinitions[0].environment.WORKER_NETWORK_MODE"}
    assert set(changed["aws:ecs/taskDefinition:TaskDefinition worker-task"]) == {
        "containerDefinitions[0].image",  # the GPU image's digest
        "containerDefinitions[0].resourceRequirements", "networkMode", "requiresCompatibilities"}


def test_the_capacity_provider_asks_for_the_workers_gpu_and_size_on_demand(gpu: Deployment) -> None:
    provider = gpu.one(CAPACITY_PROVIDER)
    assert provider.inputs["name"] == "ml-proto-dev-worker-gpu"
    assert provider.inputs["cluster"] == gpu.exports["cluster"]
    template = _provider(gpu)["instanceLaunchTemplate"]
    assert template["capacityOptionType"] == "ON_DEMAND"
    req = template["instanceRequirements"]
    assert req["acceleratorManufacturers"] == ["nvidia"] and req["acceleratorTypes"] == ["gpu"]
    assert req["acceleratorCount"] == {"min": 1, "max": 1}
    # dev's worker size comes from RESOURCES: the instance has that plus 1 GiB for the agent.
    assert req["vcpuCount"] == {"min": SHIPPED.vcpu} and req["memoryMib"] == {"min": SHIPPED.memory_mb + 1024}
    assert req["allowedInstanceTypes"] == ["g4dn.*", "g5.*", "g6.*"]
    assert template["networkConfiguration"]["subnets"] == CHOSEN_SUBNETS
    assert template["networkConfiguration"]["securityGroups"] == [
        gpu.one("aws:ec2/securityGroup:SecurityGroup", "worker-sg").id]
    assert _provider(gpu)["infrastructureOptimization"] == {"scaleInAfter": 300}
    capacity = gpu.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert capacity.inputs["capacityProviders"] == ["FARGATE", "FARGATE_SPOT", "ml-proto-dev-worker-gpu"]


def test_spot_gpu_count_and_scale_in_come_from_their_keys(gpu_spot: Deployment) -> None:
    template = _provider(gpu_spot)["instanceLaunchTemplate"]
    assert template["capacityOptionType"] == "SPOT"
    assert template["instanceRequirements"]["acceleratorCount"] == {"min": 2, "max": 2}
    # demo overrides the size: workerCpu 2048, workerMemoryMb 8192
    assert template["instanceRequirements"]["vcpuCount"] == {"min": 2}
    assert template["instanceRequirements"]["memoryMib"] == {"min": 8192 + 1024}
    assert _provider(gpu_spot)["infrastructureOptimization"] == {"scaleInAfter": 60}
    (container,) = gpu_spot.containers(gpu_spot.task_definition("-worker"))
    assert container["resourceRequirements"] == [{"type": "GPU", "value": "2"}]


def test_the_gpu_task_definition_runs_on_managed_instances_with_the_workers_roles(deployments, gpu) -> None:
    task = gpu.task_definition("-worker")
    assert task.inputs["requiresCompatibilities"] == ["MANAGED_INSTANCES"]
    assert task.inputs["networkMode"] == "host"
    assert (task.inputs["cpu"], task.inputs["memory"]) == (str(SHIPPED.cpu_units), str(SHIPPED.memory_mb))
    assert task.inputs["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"}
    (container,) = gpu.containers(task)
    assert container["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
    fargate = deployments["dev"].task_definition("-worker")
    for key in ("taskRoleArn", "executionRoleArn", "family"):
        assert task.inputs[key] == fargate.inputs[key], key
    assert gpu.container_env("-worker") == deployments["dev"].container_env("-worker")
    dashboard = gpu.container_env("-dashboard")
    assert dashboard["WORKER_CAPACITY_PROVIDER"] == "ml-proto-dev-worker-gpu"
    assert dashboard["WORKER_NETWORK_MODE"] == "host"


def test_gpu_iam_is_exactly_the_two_managed_policies_and_one_pass_role(gpu: Deployment) -> None:
    roles = {r.name: r for r in gpu.of_type("aws:iam/role:Role")}
    infrastructure, instance = roles["worker-gpu-infrastructure-role"], roles["worker-gpu-instance-role"]
    trust = {name: json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]["Service"]
             for name, role in (("infrastructure", infrastructure), ("instance", instance))}
    assert trust == {"infrastructure": "ecs.amazonaws.com", "instance": "ec2.amazonaws.com"}
    # AmazonECSInfrastructureRolePolicyForManagedInstances passes only roles named ecsInstanceRole*.
    assert instance.inputs["name"] == "ecsInstanceRole-ml-proto-dev-worker-gpu"
    attached = {(a.inputs["role"], a.inputs["policyArn"]) for a in gpu.of_type(ATTACHMENT)}
    assert attached == {
        (infrastructure.id, "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForManagedInstances"),
        (instance.id, "arn:aws:iam::aws:policy/AmazonECSInstanceRolePolicyForManagedInstances"),
    }
    statements = gpu.role_statements()
    assert "worker-gpu-instance-role" not in statements  # nothing beyond its managed policy
    assert statements["worker-gpu-infrastructure-role"] == [{
        "Sid": "PassInstanceRole", "Effect": "Allow", "Action": ["iam:PassRole"],
        "Resource": [instance.outputs["arn"]],
        "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}]
    profile = gpu.one("aws:iam/instanceProfile:InstanceProfile")
    assert profile.inputs["role"] == instance.id
    template = _provider(gpu)
    assert template["infrastructureRoleArn"] == infrastructure.outputs["arn"]
    assert template["instanceLaunchTemplate"]["ec2InstanceProfileArn"] == profile.outputs["arn"]


def test_the_dashboard_task_role_is_the_same_on_a_gpu_stack(deployments, gpu) -> None:
    assert gpu.role_statements()["dashboard-task-role"] == deployments["dev"].role_statements()["dashboard-task-role"]
