"""Where things run: two subnets of the account's default VPC, or the VPC and subnets config gives."""

from __future__ import annotations

from collections.abc import Iterable
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


# An ALB needs subnets in two availability zones, and holds one public IPv4 address ($0.005/h)
# per subnet it spans: two is the cheapest load balancer AWS allows.
LOAD_BALANCER_SUBNETS = 2


def choose_subnets(subnets: Iterable[tuple[str, str]], count: int = LOAD_BALANCER_SUBNETS) -> tuple[str, ...]:
    """`count` subnet ids in distinct zones from (subnet id, availability zone) pairs: the first by
    zone name, then subnet id, so the same subnets come back whatever order AWS lists them in."""
    chosen: dict[str, str] = {}
    for subnet_id, zone in sorted(subnets, key=lambda pair: (pair[1], pair[0])):
        chosen.setdefault(zone, subnet_id)
    if len(chosen) < count:
        raise pulumi.RunError(
            f"Found subnets in {len(chosen)} availability zone(s) ({', '.join(sorted(chosen)) or 'none'}); "
            f"an Application Load Balancer needs {count}. Set ml-proto:subnetIds (and ml-proto:vpcId)."
        )
    return tuple(list(chosen.values())[:count])


def resolve_network(settings: NetworkSettings, parent: pulumi.Resource | None = None) -> Network:
    """The configured VPC and subnets, or two subnets of the default VPC (public, no NAT gateway).

    In the default VPC, `subnetIds` picks the subnets (checked to be its own, in two zones or
    more); without it the program takes two default subnets as `choose_subnets` orders them.
    """
    if settings.vpc_id:
        return Network(settings.vpc_id, settings.subnet_ids, settings.assign_public_ip)
    opts = pulumi.InvokeOptions(parent=parent)
    vpc = aws.ec2.get_vpc(default=True, opts=opts)
    if settings.subnet_ids:
        zones = _zones(settings.subnet_ids, opts)
        foreign = sorted(subnet for subnet, (_, vpc_id) in zones.items() if vpc_id != vpc.id)
        if foreign:
            raise pulumi.RunError(f"ml-proto:subnetIds: {', '.join(foreign)} not in the default VPC {vpc.id}; "
                                  f"set ml-proto:vpcId to their VPC")
        choose_subnets(((subnet, zone) for subnet, (zone, _) in zones.items()))  # two zones or more
        return Network(vpc.id, settings.subnet_ids, settings.assign_public_ip)
    subnets = aws.ec2.get_subnets(filters=[
        aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc.id]),
        aws.ec2.GetSubnetsFilterArgs(name="default-for-az", values=["true"]),
    ], opts=opts)
    zones = _zones(subnets.ids, opts)
    chosen = choose_subnets((subnet, zone) for subnet, (zone, _) in zones.items())
    return Network(vpc.id, chosen, settings.assign_public_ip)


def _zones(subnet_ids: Iterable[str], opts: pulumi.InvokeOptions) -> dict[str, tuple[str, str]]:
    """subnet id -> (availability zone, VPC id), as EC2 describes each subnet."""
    found = {}
    for subnet_id in subnet_ids:
        subnet = aws.ec2.get_subnet(id=subnet_id, opts=opts)
        found[subnet_id] = (subnet.availability_zone, subnet.vpc_id)
    return found


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
