"""Sleep when idle, wake on a person's visit (components/sleepwake): the decisions, the pages, and the moves
they make, against moto's ECS, ELBv2 and DynamoDB."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from types import SimpleNamespace

import pytest
from dashboard.activity import ActivityRecord
from dashboard.launcher import STARTED_BY

from components.sleepwake import decision, handler, moves
from components.sleepwake.decision import Action, Observation, is_a_visit
from components.sleepwake.page import ASLEEP_MESSAGE, WAKING_MESSAGE, alb_response, safe_path
from components.sleepwake.settings import SleepWakeSettings
from tests.infra import sleepwake_twin as twin

pytestmark = pytest.mark.timeout(180)
N = twin.SLEEP_AFTER
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
LONG_AGO = NOW - dt.timedelta(hours=2)


def seen(**changes) -> Observation:
    base = {"desired": 1, "healthy": 1, "routed_to_waker": False, "last_activity": LONG_AGO, "changed_at": LONG_AGO}
    return Observation(**{**base, **changes})


def minutes_ago(m: float) -> dt.datetime:
    return NOW - dt.timedelta(minutes=m)


@pytest.mark.parametrize(("observation", "action"), [
    (seen(), Action.DROWSE),  # quiet, but the first quiet look: remember it
    (seen(quiet_look_at=minutes_ago(5)), Action.SLEEP),  # the second quiet look
    (seen(last_activity=None, changed_at=None, quiet_look_at=minutes_ago(5)), Action.SLEEP),
    (seen(quiet_look_at=minutes_ago(0.5)), Action.DROWSE),  # one look twice (a duplicated event) is one look
    (seen(last_activity=minutes_ago(N + 2), quiet_look_at=minutes_ago(5)), Action.DROWSE),  # active before that look
    (seen(last_activity=minutes_ago(3), quiet_look_at=minutes_ago(5)), Action.STAY),  # a person since
    (seen(last_activity=minutes_ago(N - 1)), Action.STAY),
    (seen(changed_at=minutes_ago(N - 1), quiet_look_at=minutes_ago(5)), Action.STAY),  # just woken: its window
    (seen(workers=1, quiet_look_at=minutes_ago(5)), Action.STAY),  # a batch job runs: its reconciler stays up
    (seen(desired=0), Action.ROUTE_TO_WAKER),  # stopped some other way: visitors to the waking page
    (seen(desired=0, routed_to_waker=True), Action.STAY),
    (seen(routed_to_waker=True, last_activity=minutes_ago(1)), Action.ROUTE_TO_DASHBOARD),  # woken, healthy
    (seen(routed_to_waker=True, healthy=0, changed_at=minutes_ago(1)), Action.STAY),  # woken, still starting
])
def test_sleep_decision(observation: Observation, action: Action) -> None:
    assert decision.decide(observation, N, NOW) is action


def test_a_short_window_needs_only_half_of_it_between_the_two_looks() -> None:
    window = 0.5  # minutes: a laptop's DEVSTACK_SLEEP_AFTER=30s
    quiet = seen(last_activity=minutes_ago(2), quiet_look_at=minutes_ago(0.3))
    assert decision.decide(quiet, window, NOW) is Action.SLEEP
    assert decision.decide(seen(last_activity=minutes_ago(2), quiet_look_at=minutes_ago(0.2)), window, NOW) \
        is Action.DROWSE


@pytest.mark.parametrize(("earlier", "kept"), [
    (None, NOW), (minutes_ago(0.5), minutes_ago(0.5)),  # looks closer than LOOK_GAP add up, not reset each other
    (minutes_ago(5), minutes_ago(5))])
def test_a_drowsy_look_keeps_the_first_quiet_look(earlier, kept) -> None:
    assert decision.quiet_look_to_keep(seen(quiet_look_at=earlier), N, NOW) == kept


def test_an_earlier_look_that_was_not_quiet_is_replaced() -> None:
    stale = seen(last_activity=minutes_ago(N + 2), quiet_look_at=minutes_ago(5))
    assert decision.quiet_look_to_keep(stale, N, NOW) == NOW


PAGE_LOAD = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "none",
             "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(("method", "headers", "body", "visit"), [
    ("GET", PAGE_LOAD, "", True),  # a person's page load (typed, a bookmark, a reload)
    ("get", {k.lower(): v for k, v in PAGE_LOAD.items()}, "", True),
    ("POST", {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Content-Type": FORM}, "wake=1", True),
    ("POST", {"Content-Type": FORM}, "wake=1", True),  # the button, in a browser without Fetch Metadata
    ("POST", {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Content-Type": "application/json",
              "Accept": "application/json"}, '{"output": "jobs-grid.rowData"}', False),  # an open tab's poll
    ("POST", {"Sec-Fetch-Mode": "cors", "Content-Type": FORM}, "wake=1", False),  # a script's fetch
    ("POST", {"Content-Type": FORM}, "wake=0", False),
    ("GET", {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script", "Accept": "*/*"}, "", False),  # an asset
    ("GET", {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe", "Accept": "text/html"}, "", False),
    ("GET", {"Accept": "text/html"}, "", False),  # a scanner or curl: no Fetch Metadata
    ("GET", {"User-Agent": "ELB-HealthChecker/2.0"}, "", False),
    ("GET", {}, "", False),
    ("HEAD", PAGE_LOAD, "", False),
    ("GET", {**PAGE_LOAD, "Accept": "application/json"}, "", False),
])
def test_only_a_persons_page_load_or_click_is_a_visit(method: str, headers: dict, body: str, visit: bool) -> None:
    assert is_a_visit(method, headers, body) is visit


def test_the_pages_say_what_happens_and_only_the_waking_one_refreshes() -> None:
    waking = alb_response("GET", visit=True, ready=False, path="/jobs")
    assert waking["statusCode"] == 200 and waking["headers"]["Content-Type"].startswith("text/html")
    assert WAKING_MESSAGE in waking["body"] and '<meta http-equiv="refresh" content="10">' in waking["body"]
    assert "url=" not in waking["body"]  # refreshes the very URL the visitor asked for
    asleep = alb_response("GET", visit=False, ready=False, path="/jobs")
    assert asleep["statusCode"] == 200 and ASLEEP_MESSAGE in asleep["body"]
    assert "refresh" not in asleep["body"]  # a forgotten tab on it never wakes the dashboard
    assert '<form method="post" action="/jobs">' in asleep["body"] and 'name="wake" value="1"' in asleep["body"]
    clicked = alb_response("POST", visit=True, ready=False, path="/jobs")
    assert clicked["statusCode"] == 303 and clicked["headers"]["Location"] == "/jobs"
    polled = alb_response("POST", visit=False, ready=False, path="/_dash-update-component")
    assert polled["statusCode"] == 503 and polled["headers"]["Retry-After"] == "10"


@pytest.mark.parametrize(("path", "safe"), [("/jobs", "/jobs"), ("//evil.example", "/"), ("/\\evil", "/"),
                                            ("https://evil.example", "/"), ("", "/"), (None, "/")])
def test_the_click_goes_back_only_to_a_path_of_this_site(path, safe) -> None:
    assert safe_path(path) == safe


def test_settings_round_trip_through_the_environment() -> None:
    settings = SleepWakeSettings("c", "s", "l", "tg1", "tg2", "jobs", awake_count=2, sleep_after_minutes=N,
                                 workers_started_by="me", log_level="DEBUG")
    assert SleepWakeSettings.from_env(settings.to_env()) == settings


@pytest.fixture
def c(aws_endpoint: str) -> SimpleNamespace:
    return twin.clients()


@pytest.fixture
def stack(c: SimpleNamespace, store_settings) -> SleepWakeSettings:
    return twin.build(c, store_settings.table)


def desired(c: SimpleNamespace, s: SleepWakeSettings) -> int:
    return c.ecs.describe_services(cluster=s.cluster, services=[s.service])["services"][0]["desiredCount"]


def routed_to_waker(c: SimpleNamespace, s: SleepWakeSettings) -> bool:
    return moves.observe(twin.dashboard(c, s)).routed_to_waker


def look(c: SimpleNamespace, s: SleepWakeSettings, now: dt.datetime) -> Action:
    return moves.look(twin.dashboard(c, s), "sleeper", now)[0]


def active_at(c: SimpleNamespace, s: SleepWakeSettings, when: dt.datetime) -> None:
    """The dashboard's own record of a signed-in request at `when` (its writer, dashboard.activity)."""
    ActivityRecord(c.dynamodb, s.table).write(when.timestamp())


def test_an_idle_dashboard_sleeps_after_two_quiet_looks_and_visitors_go_to_the_waker_first(c, stack) -> None:
    first = twin.later()
    assert look(c, stack, first) is Action.DROWSE and desired(c, stack) == 1 and not routed_to_waker(c, stack)
    assert look(c, stack, first + dt.timedelta(seconds=30)) is Action.DROWSE  # too soon to count as a second look
    assert look(c, stack, first + dt.timedelta(minutes=5)) is Action.SLEEP
    assert desired(c, stack) == 0 and routed_to_waker(c, stack)


def test_a_signed_in_request_between_the_looks_keeps_it_awake_and_needs_two_fresh_looks(c, stack) -> None:
    first = twin.later()
    assert look(c, stack, first) is Action.DROWSE
    active_at(c, stack, first + dt.timedelta(minutes=1))
    second = first + dt.timedelta(minutes=5)
    assert look(c, stack, second) is Action.STAY and desired(c, stack) == 1
    assert twin.dashboard(c, stack).record.quiet_look_at() is None  # forgotten: not quiet any more
    assert look(c, stack, second + dt.timedelta(minutes=N)) is Action.DROWSE  # quiet again, first look again
    assert look(c, stack, second + dt.timedelta(minutes=N + 5)) is Action.SLEEP


def test_a_record_older_than_the_window_does_not_keep_it_awake(c, stack) -> None:
    first = twin.later()
    active_at(c, stack, first - dt.timedelta(minutes=N + 5))
    assert look(c, stack, first) is Action.DROWSE
    assert look(c, stack, first + dt.timedelta(minutes=5)) is Action.SLEEP


def test_a_running_batch_worker_keeps_it_awake_and_others_tasks_do_not(c, stack) -> None:
    c.ecs.register_task_definition(
        family=f"{stack.cluster}-worker", containerDefinitions=[{"name": "worker", "image": "worker", "memory": 512}],
        requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512")
    vpc = c.ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    c.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's RunTask needs it, as Fargate
    subnet = c.ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.1.0/24")["Subnet"]["SubnetId"]
    group = c.ec2.create_security_group(GroupName=f"w-{stack.cluster}", Description="worker", VpcId=vpc)["GroupId"]

    def run_worker(started_by: str) -> None:
        c.ecs.run_task(cluster=stack.cluster, taskDefinition=f"{stack.cluster}-worker", startedBy=started_by,
                       launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
                           "subnets": [subnet], "securityGroups": [group], "assignPublicIp": "ENABLED"}})

    run_worker("someone-else")
    first = twin.later()
    assert look(c, stack, first) is Action.DROWSE  # only the dashboard's workers count
    run_worker(STARTED_BY)
    assert look(c, stack, first + dt.timedelta(minutes=5)) is Action.STAY and desired(c, stack) == 1
    assert moves.close(twin.dashboard(c, stack), "close", first + dt.timedelta(minutes=6)) is Action.STAY


def test_a_visit_wakes_it_and_goes_straight_in_once_a_task_is_healthy(c, stack) -> None:
    d = twin.dashboard(c, stack)
    assert moves.close(d, "close", twin.later()) is Action.SLEEP  # asleep
    assert moves.wake(d, "visit-1", twin.later()) is False
    assert desired(c, stack) == stack.awake_count and routed_to_waker(c, stack)
    assert moves.wake(d, "visit-2", twin.later()) is False  # started, not yet healthy: still the page
    assert routed_to_waker(c, stack)
    twin.start_task(c, stack)
    assert moves.wake(d, "visit-3", twin.later()) is True
    assert not routed_to_waker(c, stack) and desired(c, stack) == 1


def test_a_woken_dashboard_gets_its_window_before_the_looks_sleep_it_again(c, stack) -> None:
    d = twin.dashboard(c, stack)
    moves.close(d, "close", twin.later())
    moves.wake(d, "visit", dt.datetime.now(dt.UTC))  # after hours: the service changes now
    twin.start_task(c, stack)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=N - 2)
    assert look(c, stack, soon) is Action.ROUTE_TO_DASHBOARD  # the look finishes the wake if the page did not
    assert look(c, stack, soon + dt.timedelta(minutes=1)) is Action.STAY  # within its window: stays up
    assert look(c, stack, soon + dt.timedelta(minutes=5)) is Action.DROWSE
    assert look(c, stack, soon + dt.timedelta(minutes=10)) is Action.SLEEP


def test_a_dashboard_stopped_some_other_way_is_routed_to_the_waking_page(c, stack) -> None:
    c.ecs.update_service(cluster=stack.cluster, service=stack.service, desiredCount=0)
    assert look(c, stack, dt.datetime.now(dt.UTC)) is Action.ROUTE_TO_WAKER
    assert routed_to_waker(c, stack)
    assert look(c, stack, dt.datetime.now(dt.UTC)) is Action.STAY


def test_a_move_waits_while_another_holds_the_lock_and_a_dead_holders_lock_runs_out(c, stack) -> None:
    d, now = twin.dashboard(c, stack), dt.datetime.now(dt.UTC)
    assert d.record.hold("crashed-sleeper", now)
    assert moves.close(d, "close", now) is Action.STAY and desired(c, stack) == 1
    assert moves.wake(d, "visit", now) is False
    assert moves.look(d, "look", now) == (Action.STAY, None)
    after_lease = now + dt.timedelta(seconds=61)
    assert moves.close(d, "close", after_lease) is Action.SLEEP and desired(c, stack) == 0


@pytest.fixture
def root_logging():
    """The handler takes over the root logger, as in Lambda; give the test session its own back."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def alb_event(s: SleepWakeSettings, method: str, path: str, headers: dict, body: str = "") -> dict:
    return {"requestContext": {"elb": {"targetGroupArn": s.waker_target_group_arn}}, "httpMethod": method,
            "path": path, "headers": {k.lower(): v for k, v in headers.items()},
            "body": base64.b64encode(body.encode()).decode(), "isBase64Encoded": True}


def test_the_lambda_entry_point_wakes_only_for_a_person_and_closes_on_the_schedule(
        c, stack, monkeypatch, capsys, root_logging) -> None:
    for name, value in stack.to_env().items():
        monkeypatch.setenv(name, value)
    assert handler.handle({"sleepwake": "close"}, SimpleNamespace(aws_request_id="req-0")) == {"action": "sleep"}
    assert desired(c, stack) == 0 and routed_to_waker(c, stack)
    poll = alb_event(stack, "POST", "/_dash-update-component",
                     {"Sec-Fetch-Mode": "cors", "Content-Type": "application/json"}, '{"output": "x"}')
    assert handler.handle(poll, SimpleNamespace(aws_request_id="req-1"))["statusCode"] == 503
    scanner = alb_event(stack, "GET", "/wp-login.php", {"Accept": "*/*"})
    assert ASLEEP_MESSAGE in handler.handle(scanner, SimpleNamespace(aws_request_id="req-2"))["body"]
    assert desired(c, stack) == 0  # neither woke it
    response = handler.handle(alb_event(stack, "GET", "/jobs", PAGE_LOAD), SimpleNamespace(aws_request_id="req-3"))
    assert response["statusCode"] == 200 and WAKING_MESSAGE in response["body"]
    assert desired(c, stack) == 1
    # The task was healthy at once here (moto leaves its target registered): the look routes visitors in.
    assert handler.handle({"source": "aws.events"}, SimpleNamespace(aws_request_id="req-4")) == {
        "action": "route-to-dashboard"}
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]  # every line is JSON
    ours = [x for x in logged if x["logger"] == "sleepwake"]
    assert [(x["message"], x["request_id"]) for x in ours] == [
        ("close", "req-0"), ("request while asleep", "req-1"), ("request while asleep", "req-2"),
        ("request while asleep", "req-3"), ("look", "req-4")]
    assert [x.get("visit") for x in ours[1:4]] == [False, False, True]
    assert ours[4]["desired"] == 1 and ours[4]["routed_to_waker"] is True
    assert all(x["request_id"] in ("req-0", "req-1", "req-2", "req-3", "req-4") for x in logged)
