"""Where things run: the account's default VPC and its subnets, or the VPC and subnets config gives."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import NetworkSettings


@dataclass(frozen=True)
class Network:
    """A VPC id and the subnets the load balancer and tasks use."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    assign_public_ip: bool


def resolve_network(settings: NetworkSettings, parent: pulumi.Resource | None = None) -> Network:
    """The configured VPC, or the default VPC with its default (public) subnets: no NAT gateway."""
    if settings.vpc_id:
        return Network(settings.vpc_id, settings.subnet_ids, settings.assign_public_ip)
    opts = pulumi.InvokeOptions(parent=parent)
    vpc = aws.ec2.get_vpc(default=True, opts=opts)
    subnets = aws.ec2.get_subnets(filters=[
        aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc.id]),
        aws.ec2.GetSubnetsFilterArgs(name="default-for-az", values=["true"]),
    ], opts=opts)
    if len(subnets.ids) < 2:
        raise pulumi.RunError(
            f"The default VPC {vpc.id} has {len(subnets.ids)} default subnet(s); an Application Load Balancer "
            f"needs two. Set ml-proto:vpcId and ml-proto:subnetIds."
        )
    return Network(vpc.id, tuple(sorted(subnets.ids)), settings.assign_public_ip)


def https_egress(name: str, security_group_id: pulumi.Input[str], parent: pulumi.Resource) -> None:
    """Outbound HTTPS anywhere: every AWS API the apps call (and ECR image pulls) is HTTPS."""
    aws.vpc.SecurityGroupEgressRule(
        name,
        security_group_id=security_group_id,
        description="HTTPS to AWS APIs",
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        cidr_ipv4="0.0.0.0/0",
        opts=pulumi.ResourceOptions(parent=parent),
    )
