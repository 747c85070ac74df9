"""Login page, throttled guessing, signed cookies, logout, and no anonymous access anywhere."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from dashboard.app import create_app
from dashboard.auth import LoginThrottle, check_password, session_secret

from tests.dashboard.conftest import LOGINS, sign_in


@pytest.fixture
def store(module_store):
    return module_store  # these tests never read the store


@pytest.fixture
def store_settings(module_store):
    return module_store.settings


def test_login_page_is_a_form_not_a_browser_prompt(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "WWW-Authenticate" not in response.headers
    page = response.get_data(as_text=True)
    assert '<form' in page and 'name="password"' in page and 'type="password"' in page


def test_right_password_signs_in_with_a_safe_cookie(client):
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP (local): a Secure cookie would never come back
    assert LOGINS["alice"] not in cookie
    assert client.get("/_dash-layout").status_code == 200


def test_cookie_is_secure_behind_https(app, dashboard_settings):
    https_app = create_app(replace(dashboard_settings, proxy_hops=1), services=app.services, reconcile=False)
    client = https_app.server.test_client()
    response = client.post("/login", data={"user": "alice", "password": LOGINS["alice"]},
                           headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_says_so_and_never_echoes_it(client):
    response = sign_in(client, password="hunter2-wrong")
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "do not match" in page
    assert "hunter2-wrong" not in page
    assert 'value="alice"' in page  # the name is kept so only the password needs retyping
    assert client.get("/_dash-layout").status_code == 401


def test_unknown_user_gets_the_same_message(client):
    response = sign_in(client, user="alice", password="x")
    other = client.post("/login", data={"user": "mallory", "password": "x"})
    assert other.status_code == response.status_code == 401
    assert "do not match" in other.get_data(as_text=True)


def test_check_password_is_exact():
    assert check_password(LOGINS, "alice", LOGINS["alice"])
    assert not check_password(LOGINS, "alice", LOGINS["alice"] + " ")
    assert not check_password(LOGINS, "nobody", LOGINS["alice"])
    assert not check_password(LOGINS, "alice", "")


def test_repeated_failures_are_slowed_down_then_allowed_again(client, clock):
    for _ in range(4):
        assert sign_in(client, password="wrong").status_code == 401
    fifth = sign_in(client, password="wrong")
    assert fifth.status_code == 429
    assert re.search(r"wait \d+ seconds", fifth.get_data(as_text=True))
    # Even the right password is refused while locked, with the time left.
    locked = sign_in(client)
    assert locked.status_code == 429 and "30 seconds" in locked.get_data(as_text=True)
    clock.now += 31
    assert sign_in(client, password="wrong").status_code == 429  # 6th failure: a longer wait
    assert "60 seconds" in sign_in(client).get_data(as_text=True)
    clock.now += 61
    assert sign_in(client).status_code == 302


def test_failures_are_counted_per_client_ip_across_user_names(client):
    for user in ("u1", "u2", "u3", "u4"):
        assert client.post("/login", data={"user": user, "password": "x"}).status_code == 401
    assert client.post("/login", data={"user": "u5", "password": "x"}).status_code == 429
    assert sign_in(client).status_code == 429  # same IP, any user


def test_failures_are_counted_per_user_across_ips(app, dashboard_settings):
    throttle = LoginThrottle()
    proxied = create_app(replace(dashboard_settings, proxy_hops=1), services=app.services, throttle=throttle,
                         reconcile=False).server.test_client()
    for n in range(5):
        proxied.post("/login", data={"user": "bob", "password": "x"}, headers={"X-Forwarded-For": f"198.51.100.{n}"})
    response = proxied.post("/login", data={"user": "bob", "password": LOGINS["bob"]},
                            headers={"X-Forwarded-For": "198.51.100.77"})
    assert response.status_code == 429
    other_user = proxied.post("/login", data={"user": "alice", "password": LOGINS["alice"]},
                              headers={"X-Forwarded-For": "198.51.100.78"})
    assert other_user.status_code == 302


def test_session_key_derives_from_logins_so_rotation_signs_everyone_out(app, dashboard_settings, alice):
    assert session_secret(LOGINS) == session_secret(dict(reversed(list(LOGINS.items()))))
    assert session_secret(LOGINS) != session_secret({**LOGINS, "bob": "new password"})
    cookie = alice.get_cookie("ml_proto_session").value
    rotated = create_app(replace(dashboard_settings, logins={**LOGINS, "bob": "new password"}),
                         services=app.services, reconcile=False).server.test_client()
    rotated.set_cookie("ml_proto_session", cookie)
    assert rotated.get("/_dash-layout").status_code == 401
    same = create_app(dashboard_settings, services=app.services, reconcile=False).server.test_client()
    same.set_cookie("ml_proto_session", cookie)
    assert same.get("/_dash-layout").status_code == 200


def test_logout_ends_the_session(alice):
    response = alice.get("/logout")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert alice.get("/_dash-layout").status_code == 401


def test_login_redirects_only_to_local_paths(client):
    evil = client.post("/login", data={"user": "alice", "password": LOGINS["alice"], "next": "//evil.example/x"})
    assert evil.headers["Location"] == "/"
    good = client.post("/login", data={"user": "alice", "password": LOGINS["alice"], "next": "/jobs?x=1"})
    assert good.headers["Location"] == "/jobs?x=1"


def test_health_is_public_json(client):
    response = client.get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_anonymous_page_views_go_to_the_login_page(client):
    response = client.get("/jobs/abc", headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Fjobs%2Fabc")


def _every_route(app):
    """Every Flask rule (variables filled in) and every Dash callback endpoint."""
    for rule in app.server.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: {"job_id": "a" * 32}.get(m.group(1), "x.js"), rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, path


def test_every_route_but_the_public_ones_refuses_anonymous_callers(app, client):
    public = {"/health", "/login", "/assets/style.css", "/_favicon.ico"}
    checked = 0
    for method, path in _every_route(app):
        if path in public:
            continue
        response = client.open(path, method=method, json={} if method == "POST" else None)
        assert response.status_code == 401, (method, path, response.status_code)
        assert "password" not in response.get_data(as_text=True).lower()
        checked += 1
    assert checked >= 8
    callbacks = 0
    for key in app.callback_map:
        response = client.post("/_dash-update-component", json={"output": key, "outputs": [], "inputs": []})
        assert response.status_code == 401, key
        callbacks += 1
    assert callbacks >= 7
    print(f"\nrefused anonymous callers on {checked} route/method pairs and {callbacks} Dash callbacks")
    assert client.get("/_dash-component-suites/dash/dcc/dash_core_components.js").status_code == 401
    assert client.get("/assets/dashAgGridComponentFunctions.js").status_code == 401


@pytest.mark.parametrize("path", ["/health", "/login", "/assets/style.css"])
def test_public_paths_answer_without_a_session(client, path):
    assert client.get(path).status_code == 200


def test_settings_refuse_malformed_logins():
    from dashboard.settings import SettingsError, parse_logins

    with pytest.raises(SettingsError, match="not valid JSON"):
        parse_logins("{alice: secret}")
    with pytest.raises(SettingsError, match="non-empty"):
        parse_logins(json.dumps({"alice": ""}))
    with pytest.raises(SettingsError) as error:
        parse_logins(json.dumps({"alice": 12345678}))
    assert "12345678" not in str(error.value)
