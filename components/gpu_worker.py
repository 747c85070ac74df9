"""GpuCapacity component: NVIDIA GPU instances for batch workers, started by ECS for a job and stopped when idle.

An Amazon ECS Managed Instances capacity provider (AWS launches, patches and terminates the EC2
instances): its instance requirements ask for the worker's GPUs (NVIDIA, x86_64) and at least the
worker's vCPUs and memory; Spot when workerGpuSpot says so; an instance with no task is scaled in
after workerGpuScaleInSeconds, so nothing runs -- and nothing is billed -- when no job does.

IAM, exactly what AWS documents for Managed Instances (docs/gpu.md has the sources):
- the infrastructure role (trusted by ecs.amazonaws.com) has the AWS managed policy
  AmazonECSInfrastructureRolePolicyForManagedInstances, plus iam:PassRole of the one instance role
  to EC2 (the managed policy's own PassRole grant covers only roles named ecsInstanceRole*);
- the instance role (trusted by ec2.amazonaws.com, named ecsInstanceRole-... as that policy
  requires) has the AWS managed policy AmazonECSInstanceRolePolicyForManagedInstances and nothing
  else; it reaches the instances through one instance profile.
The worker's own task and execution roles are the Fargate worker's, unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.iam import Statement, assume_role_policy, policy_document
from components.settings import WorkerSettings
from components.shared import Shared

INFRASTRUCTURE_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForManagedInstances"
INSTANCE_POLICY = "arn:aws:iam::aws:policy/AmazonECSInstanceRolePolicyForManagedInstances"
# AmazonECSInfrastructureRolePolicyForManagedInstances passes only roles whose name starts with this.
INSTANCE_ROLE_PREFIX = "ecsInstanceRole"
# Memory the instance keeps beyond the task's (the ECS agent, the OS): the instance must have this much more.
INSTANCE_MEMORY_HEADROOM_MB = 1024
# The instances' task volume: a CUDA-bundling torch image is several GB, layers unpack beside it.
TASK_VOLUME_GIB = 60
# x86_64 CPUs only: the worker image is built for linux/amd64 (Graviton GPU instances are arm64).
CPU_MANUFACTURERS = ["intel", "amd"]
# NVIDIA G families on x86_64 (T4, A10G, L4): one quota family, and the ones deploy/prices.json prices.
ALLOWED_INSTANCE_TYPES = ("g4dn.*", "g5.*", "g6.*")


@dataclass(frozen=True)
class GpuCapacityArgs:
    """The worker's settings (size, GPUs, Spot, scale-in), the stack's shared bundle, the cluster and the
    security group the instances run in (the worker's: no inbound, HTTPS out)."""

    settings: WorkerSettings
    shared: Shared
    cluster_name: pulumi.Input[str]
    security_group_id: pulumi.Input[str]


@dataclass(frozen=True)
class GpuNeeds:
    """What one GPU worker's instance must have: at least `vcpu` vCPUs and `memory_mib` MiB, exactly `gpus` GPUs."""

    vcpu: int
    memory_mib: int
    gpus: int


def gpu_needs(s: WorkerSettings) -> GpuNeeds:
    """The instance one worker needs: its task's vCPUs and memory (plus the agent's headroom), its GPUs."""
    return GpuNeeds(vcpu=max(1, math.ceil(s.cpu / 1024)), memory_mib=s.memory_mb + INSTANCE_MEMORY_HEADROOM_MB,
                    gpus=s.gpus)


def instance_requirements(s: WorkerSettings) -> aws.ecs.CapacityProviderManagedInstancesProviderInstanceLaunchTemplateInstanceRequirementsArgs:  # noqa: E501
    """G-family NVIDIA instances with exactly the worker's GPU count and at least its vCPUs and memory."""
    needs = gpu_needs(s)
    req = aws.ecs
    return req.CapacityProviderManagedInstancesProviderInstanceLaunchTemplateInstanceRequirementsArgs(
        vcpu_count=req.CapacityProviderManagedInstancesProviderInstanceLaunchTemplateInstanceRequirementsVcpuCountArgs(
            min=needs.vcpu),
        memory_mib=req.CapacityProviderManagedInstancesProviderInstanceLaunchTemplateInstanceRequirementsMemoryMibArgs(
            min=needs.memory_mib),
        accelerator_types=["gpu"],
        accelerator_manufacturers=["nvidia"],
        accelerator_count=req.CapacityProviderManagedInstancesProviderInstanceLaunchTemplateInstanceRequirementsAcceleratorCountArgs(  # noqa: E501
            min=needs.gpus, max=needs.gpus),
        cpu_manufacturers=CPU_MANUFACTURERS,
        # G instances only: they draw on one EC2 quota ("G and VT"), which `make preflight` checks.
        allowed_instance_types=list(ALLOWED_INSTANCE_TYPES),
    )


class GpuCapacity(pulumi.ComponentResource):
    """Infrastructure role, instance role and profile, and the Managed Instances capacity provider."""

    infrastructure_role: aws.iam.Role
    instance_role: aws.iam.Role
    instance_profile: aws.iam.InstanceProfile
    capacity_provider: aws.ecs.CapacityProvider

    def __init__(self, name: str, args: GpuCapacityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-proto:index:GpuCapacity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s, names = args.settings, args.shared.names

        self.instance_role = aws.iam.Role(
            f"{name}-instance-role",
            name=f"{INSTANCE_ROLE_PREFIX}-{names.aws('worker-gpu')}"[:64],
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            description="ml-proto GPU worker instances: the ECS agent registers them and runs the worker's task",
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-instance-role-policy", role=self.instance_role.name, policy_arn=INSTANCE_POLICY,
            opts=pulumi.ResourceOptions(parent=self.instance_role))
        self.instance_profile = aws.iam.InstanceProfile(
            f"{name}-instance-profile", role=self.instance_role.name, opts=child)

        self.infrastructure_role = aws.iam.Role(
            f"{name}-infrastructure-role",
            assume_role_policy=assume_role_policy("ecs.amazonaws.com"),
            description="ml-proto GPU worker: ECS launches, scales in and terminates the GPU instances",
            opts=child,
        )
        infrastructure_policy = aws.iam.RolePolicyAttachment(
            f"{name}-infrastructure-role-policy", role=self.infrastructure_role.name, policy_arn=INFRASTRUCTURE_POLICY,
            opts=pulumi.ResourceOptions(parent=self.infrastructure_role))
        pass_instance_role = aws.iam.RolePolicy(
            f"{name}-infrastructure-role-pass",
            role=self.infrastructure_role.id,
            policy=policy_document([Statement(
                "PassInstanceRole", ["iam:PassRole"], [self.instance_role.arn],
                {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})]),
            opts=pulumi.ResourceOptions(parent=self.infrastructure_role),
        )

        mi = aws.ecs
        self.capacity_provider = aws.ecs.CapacityProvider(
            f"{name}-provider",
            name=names.aws("worker-gpu"),
            cluster=args.cluster_name,
            managed_instances_provider=mi.CapacityProviderManagedInstancesProviderArgs(
                infrastructure_role_arn=self.infrastructure_role.arn,
                propagate_tags="CAPACITY_PROVIDER",
                infrastructure_optimization=mi.CapacityProviderManagedInstancesProviderInfrastructureOptimizationArgs(
                    scale_in_after=s.gpu_scale_in_seconds),
                instance_launch_template=mi.CapacityProviderManagedInstancesProviderInstanceLaunchTemplateArgs(
                    ec2_instance_profile_arn=self.instance_profile.arn,
                    capacity_option_type="SPOT" if s.gpu_spot else "ON_DEMAND",
                    instance_requirements=instance_requirements(s),
                    network_configuration=mi.CapacityProviderManagedInstancesProviderInstanceLaunchTemplateNetworkConfigurationArgs(  # noqa: E501
                        subnets=list(args.shared.network.subnet_ids),
                        security_groups=[args.security_group_id]),
                    storage_configuration=mi.CapacityProviderManagedInstancesProviderInstanceLaunchTemplateStorageConfigurationArgs(  # noqa: E501
                        storage_size_gib=TASK_VOLUME_GIB),
                ),
            ),
            tags={"ml-proto:app": "worker"},
            # ECS checks both roles' permissions when the provider is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[infrastructure_policy, pass_instance_role]),
        )
        self.register_outputs({"capacityProvider": self.capacity_provider.name,
                               "instanceRole": self.instance_role.name})
