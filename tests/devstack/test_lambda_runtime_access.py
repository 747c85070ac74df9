"""The local Runtime API answers only the instance's own user: another local user can neither read
the event (a stakeholder's inputs) nor post the answer."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time

import pytest

from devstack.lambda_runtime_api import Event, RuntimeApi, peer_uid

NOBODY = 65534
EVENT = Event("req-1", b'{"inputs": "a stakeholder\'s"}', int(time.time() * 1000) + 30_000, "arn:fn")


def next_event(api: RuntimeApi) -> tuple[int, bytes] | None:
    """(status, body) of GET /next from this process; None when the connection is closed unanswered."""
    host, port = api.address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", "/2018-06-01/runtime/invocation/next")
        answer = connection.getresponse()
        return answer.status, answer.read()
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return None
    finally:
        connection.close()


PROBE = """
import http.client, sys
host, port = sys.argv[1].split(":")
c = http.client.HTTPConnection(host, int(port), timeout=30)
try:
    c.request("GET", "/2018-06-01/runtime/invocation/next")
    r = c.getresponse()
    print(r.status, r.read().decode())
except (http.client.RemoteDisconnected, ConnectionResetError):
    print("refused")
"""


def as_nobody(api: RuntimeApi) -> str:
    """What a process of another user (nobody) gets from GET /next."""
    return subprocess.run(["/usr/bin/python3", "-c", PROBE, api.address], user=NOBODY, group=NOBODY,  # noqa: S603
                          extra_groups=[], cwd="/", capture_output=True, text=True, timeout=60,
                          check=True).stdout.strip()


def test_the_peer_of_a_loopback_connection_is_known_by_its_uid():
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    accepted, address = server.accept()
    try:
        assert peer_uid(address, server.getsockname()) == os.geteuid()
        assert peer_uid(("127.0.0.1", 1), server.getsockname()) is None  # no such connection
    finally:
        for sock in (accepted, client, server):
            sock.close()


def test_the_instances_own_user_gets_the_event():
    api = RuntimeApi(allowed_uid=os.geteuid())
    try:
        api.send(EVENT)
        assert next_event(api) == (200, EVENT.payload)
    finally:
        api.close()


def test_another_uid_is_closed_unanswered_and_never_sees_the_event():
    api = RuntimeApi(allowed_uid=os.geteuid() + 4242)
    try:
        api.send(EVENT)
        assert next_event(api) is None
        assert api.current is None  # the event was not handed out
    finally:
        api.close()


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/bin/python3"),
                    reason="a process of another user needs root (and a system python3) to start")
def test_a_real_other_user_is_refused_and_the_instance_user_is_served():
    for_root = RuntimeApi(allowed_uid=0)
    try:
        for_root.send(EVENT)
        assert as_nobody(for_root) == "refused"
    finally:
        for_root.close()
    for_nobody = RuntimeApi(allowed_uid=NOBODY)
    try:
        for_nobody.send(EVENT)
        assert as_nobody(for_nobody) == f"200 {EVENT.payload.decode()}"
    finally:
        for_nobody.close()
