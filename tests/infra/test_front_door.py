"""HTTPS by default: CloudFront (default certificate, or a domain's) in front of the internal load balancer,
the dashboard's cookies Secure behind it; frontDoor alb keeps an internet-facing load balancer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components.front_door import ALL_VIEWER_EXCEPT_HOST_HEADER, CACHING_DISABLED
from tests.infra.stackview import Deployment

pytestmark = pytest.mark.timeout(120)

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def test_the_distribution_passes_everything_through_uncached_over_https(deployment: Deployment) -> None:
    distribution = deployment.one("aws:cloudfront/distribution:Distribution").inputs
    behaviour = distribution["defaultCacheBehavior"]
    assert behaviour["viewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["cachePolicyId"] == CACHING_DISABLED
    assert behaviour["originRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER  # cookies, query, headers pass
    assert {"POST", "GET", "HEAD", "OPTIONS"} <= set(behaviour["allowedMethods"])  # the login form and callbacks
    assert distribution["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert not distribution.get("aliases")
    (origin,) = distribution["origins"]
    lb = deployment.one("aws:lb/loadBalancer:LoadBalancer")
    assert origin["domainName"] == lb.outputs["dnsName"]
    vpc_origin = deployment.one("aws:cloudfront/vpcOrigin:VpcOrigin")
    assert origin["vpcOriginConfig"]["vpcOriginId"] == vpc_origin.id
    # CloudFront waits longer than the dashboard waits for a prediction, and at most its 60 s limit.
    wait = float(deployment.container_env("-dashboard")["PREDICTOR_TIMEOUT_SECONDS"])
    assert wait < origin["vpcOriginConfig"]["originReadTimeout"] <= 60
    endpoint = vpc_origin.inputs["vpcOriginEndpointConfig"]
    assert endpoint["originProtocolPolicy"] == "http-only" and endpoint["httpPort"] == 80
    assert endpoint["name"] == f"ml-proto-{deployment.stack}-dashboard"  # one per stack in an account
    listeners = deployment.of_type("aws:lb/listener:Listener")
    assert [(li.inputs["port"], li.inputs["protocol"]) for li in listeners] == [(80, "HTTP")]


def test_behind_cloudfront_cookies_are_secure_and_the_visitor_is_two_hops_out(deployment: Deployment) -> None:
    env = deployment.container_env("-dashboard")
    assert env["DASHBOARD_SECURE_COOKIES"] == "true"
    assert env["DASHBOARD_PROXY_HOPS"] == "2"  # CloudFront appends the visitor, the load balancer CloudFront


def test_a_domain_uses_its_certificate_on_cloudfront(run_with: Callable[..., Deployment]) -> None:
    run = run_with("dev", certificateArn=CERT, domainName="demo.example.com")
    assert run.error is None, run.error
    distribution = run.one("aws:cloudfront/distribution:Distribution").inputs
    assert distribution["aliases"] == ["demo.example.com"]
    assert distribution["viewerCertificate"]["acmCertificateArn"] == CERT
    assert distribution["viewerCertificate"]["sslSupportMethod"] == "sni-only"
    assert run.exports["url"] == "https://demo.example.com"
    assert not [li for li in run.of_type("aws:lb/listener:Listener") if li.inputs["port"] == 443]


def test_front_door_alb_is_the_internet_facing_load_balancer_without_cloudfront(
        run_with: Callable[..., Deployment]) -> None:
    run = run_with("dev", frontDoor="alb", allowPlainHttp="true")
    assert run.error is None, run.error
    assert not run.of_type("aws:cloudfront/distribution:Distribution")
    assert not run.of_type("aws:ec2/subnet:Subnet")
    lb = run.one("aws:lb/loadBalancer:LoadBalancer")
    assert lb.inputs["internal"] is False
    assert run.exports["url"] == f"http://{lb.outputs['dnsName']}"
    env = run.container_env("-dashboard")
    assert env["DASHBOARD_SECURE_COOKIES"] == "false" and env["DASHBOARD_PROXY_HOPS"] == "1"


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"allowedCidrs": '["203.0.113.0/24"]'}, "ml-proto:allowedCidrs: ['203.0.113.0/24'] would narrow"),
    ({"certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/x", "domainName": "a.example.com"},
     "CloudFront takes only certificates from ACM in us-east-1"),
    ({"predictorTimeoutSeconds": "55"}, "ml-proto:predictorTimeoutSeconds: 55 s is longer than CloudFront waits"),
    ({"vpcId": "vpc-0mine", "subnetIds": '["subnet-0a", "subnet-0b"]'}, "ml-proto:loadBalancerSubnetIds"),
    ({"privateSubnetCidrs": '["172.31.240.0/28", "172.31.240.16/28"]'}, "a /27 or larger block"),
    ({"privateSubnetCidrs": '["10.9.0.0/26", "10.9.0.64/26"]'}, "not inside the VPC's 172.31.0.0/16"),
])
def test_front_door_settings_aws_would_refuse_are_refused_first(
        run_with: Callable[..., Deployment], overrides: dict[str, str], problem: str) -> None:
    run = run_with("dev", **overrides)
    assert run.error is not None and problem in run.error["message"], run.error
    assert not [r for r in run.resources if r.type.startswith("aws:cloudfront")]


def test_a_warm_predictor_in_office_hours_is_scheduled_on_the_alias_the_dashboard_invokes(
        run_with: Callable[..., Deployment]) -> None:
    run = run_with("demo", predictorProvisionedConcurrency="2", predictorWarmHours="Mon-Fri 08:00-18:00",
                   timeZone="America/New_York")
    assert run.error is None, run.error
    alias = run.one("aws:lambda/alias:Alias")
    function = run.one("aws:lambda/function:Function", "predictor-function")
    # Application Auto Scaling owns the alias's provisioned concurrency: no config of the program's own.
    assert not run.of_type("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")
    (target,) = [t.inputs for t in run.of_type("aws:appautoscaling/target:Target")
                 if t.inputs["serviceNamespace"] == "lambda"]
    assert target["scalableDimension"] == "lambda:function:ProvisionedConcurrency"
    assert target["resourceId"] == f"function:{function.outputs['name']}:{alias.inputs['name']}"
    assert (target["minCapacity"], target["maxCapacity"]) == (0, 2)
    actions = {a.inputs["name"].rsplit("-", 1)[1]: a.inputs
               for a in run.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")
               if a.inputs["serviceNamespace"] == "lambda"}
    assert actions["open"]["schedule"] == "cron(0 8 ? * MON-FRI *)"
    assert actions["close"]["schedule"] == "cron(0 18 ? * MON-FRI *)"
    assert {a["timezone"] for a in actions.values()} == {"America/New_York"}
    assert actions["open"]["scalableTargetAction"] == {"minCapacity": 2, "maxCapacity": 2}
    assert actions["close"]["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 0}
    assert {a["resourceId"] for a in actions.values()} == {target["resourceId"]}
    assert run.container_env("-dashboard")["PREDICTOR_FUNCTION"] == alias.outputs["arn"]


def test_warm_hours_without_warm_instances_are_refused(run_with: Callable[..., Deployment]) -> None:
    run = run_with("dev", predictorWarmHours="Mon-Fri 08:00-18:00")
    assert run.error is not None and "ml-proto:predictorWarmHours" in run.error["message"], run.error


def test_both_committed_stacks_keep_the_predictor_cold(deployment: Deployment) -> None:
    """Off unless its price is shown: `make cost` lists it under Options (tests/deploy/test_cost.py)."""
    assert not deployment.of_type("aws:lambda/alias:Alias")
    assert deployment.setting("predictorProvisionedConcurrency") == 0
