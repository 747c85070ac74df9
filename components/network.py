"""Where things run: two subnets of the account's default VPC, or the VPC and subnets config gives."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
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
    zones: tuple[str, ...] = ()  # the availability zone of each of subnet_ids, where looked up
    vpc_cidr: str = ""  # the default VPC's block, where looked up
    # The internal load balancer's private subnets (behind CloudFront); empty: it uses subnet_ids.
    load_balancer_subnet_ids: tuple[pulumi.Input[str], ...] = ()


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
        return Network(vpc.id, settings.subnet_ids, settings.assign_public_ip,
                       tuple(zones[subnet][0] for subnet in settings.subnet_ids), vpc.cidr_block)
    subnets = aws.ec2.get_subnets(filters=[
        aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc.id]),
        aws.ec2.GetSubnetsFilterArgs(name="default-for-az", values=["true"]),
    ], opts=opts)
    zones = _zones(subnets.ids, opts)
    chosen = choose_subnets((subnet, zone) for subnet, (zone, _) in zones.items())
    return Network(vpc.id, chosen, settings.assign_public_ip, tuple(zones[subnet][0] for subnet in chosen),
                   vpc.cidr_block)


def _zones(subnet_ids: Iterable[str], opts: pulumi.InvokeOptions) -> dict[str, tuple[str, str]]:
    """subnet id -> (availability zone, VPC id), as EC2 describes each subnet."""
    found = {}
    for subnet_id in subnet_ids:
        subnet = aws.ec2.get_subnet(id=subnet_id, opts=opts)
        found[subnet_id] = (subnet.availability_zone, subnet.vpc_id)
    return found


def private_subnets(name: str, network: Network, cidrs: Sequence[str],
                    parent: pulumi.Resource) -> list[pulumi.Output[str]]:
    """Subnets with no route out of the VPC, one per CIDR block, in the zones of the network's first subnets.

    For the internal load balancer behind CloudFront's VPC origin, which AWS documents for private
    subnets. Their own route table holds only the VPC's local route: the default VPC's main table routes
    0.0.0.0/0 to its internet gateway, so a subnet left to it would be public.
    """
    zones = sorted(set(network.zones))
    if len(zones) < len(cidrs[:LOAD_BALANCER_SUBNETS]) or len(zones) < LOAD_BALANCER_SUBNETS:
        raise pulumi.RunError("The internal load balancer's private subnets need the zones of two task subnets")
    if network.vpc_cidr:
        vpc = ipaddress.ip_network(network.vpc_cidr)
        outside = [c for c in cidrs if not ipaddress.ip_network(c).subnet_of(vpc)]  # type: ignore[arg-type]
        if outside:
            raise pulumi.RunError(f"ml-proto:privateSubnetCidrs: {outside} not inside the VPC's {vpc}; pick free "
                                  f"blocks of it")
    table = aws.ec2.RouteTable(f"{name}-private-routes", vpc_id=network.vpc_id,
                               tags={"Name": f"{name}-private (no internet route)"},
                               opts=pulumi.ResourceOptions(parent=parent))
    ids = []
    for i, (cidr, zone) in enumerate(zip(cidrs, zones, strict=False)):
        subnet = aws.ec2.Subnet(f"{name}-private-{i}", vpc_id=network.vpc_id, cidr_block=cidr, availability_zone=zone,
                                map_public_ip_on_launch=False, tags={"Name": f"{name}-private-{zone}"},
                                opts=pulumi.ResourceOptions(parent=parent))
        aws.ec2.RouteTableAssociation(f"{name}-private-{i}-routes", subnet_id=subnet.id, route_table_id=table.id,
                                      opts=pulumi.ResourceOptions(parent=subnet))
        ids.append(subnet.id)
    return ids


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
