"""Login page, throttled guessing, signed cookies, logout, and no anonymous access anywhere."""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import replace

import pytest
from dashboard.app import create_app
from dashboard.auth import ADDRESS_FAILURES_FREE, NAME_FAILURES_FREE, check_password
from jobkit.login_throttle import LoginThrottle
from jobkit.sessions import SessionGenerations

from bench.dash_calls import login_form, sign_out_form
from tests.dashboard.conftest import LOGINS, DashCaller, prop, sign_in


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
    behind_alb = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    page = client.get("/login", headers=behind_alb).get_data(as_text=True)
    response = client.post("/login", data=login_form(page, "alice", LOGINS["alice"]), headers=behind_alb)
    assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]


def test_cookie_is_secure_behind_cloudfront_whose_last_hop_is_plain_http(app, dashboard_settings):
    """CloudFront ends TLS and reaches the load balancer over HTTP, so the ALB's X-Forwarded-Proto says http:
    the stack's secure_cookies (DASHBOARD_SECURE_COOKIES) marks the cookie Secure anyway."""
    behind_cloudfront = {"X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.9, 130.176.0.1"}
    for secure in (True, False):
        front_app = create_app(replace(dashboard_settings, proxy_hops=2, secure_cookies=secure),
                               services=app.services, reconcile=False)
        client = front_app.server.test_client()
        page = client.get("/login", headers=behind_cloudfront).get_data(as_text=True)
        response = client.post("/login", data=login_form(page, "alice", LOGINS["alice"]), headers=behind_cloudfront)
        assert response.status_code == 302
        assert ("Secure" in response.headers["Set-Cookie"]) is secure


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
    other = client.post("/login", data=login_form(client.get("/login").get_data(as_text=True), "mallory", "x"))
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


def _post_login(client, user, password, headers=None):
    page = client.get("/login", headers=headers).get_data(as_text=True)
    return client.post("/login", data=login_form(page, user, password), headers=headers)


def sign_out(client):
    """Press the page's Sign out button: a POST with the CSRF token the page's layout carries."""
    layout = json.loads(client.get("/_dash-layout").get_data())
    return client.post("/logout", data=sign_out_form(layout))


def test_failures_are_counted_per_client_ip_across_user_names(client):
    assert ADDRESS_FAILURES_FREE >= 10 * NAME_FAILURES_FREE
    for n in range(ADDRESS_FAILURES_FREE - 1):
        assert _post_login(client, f"u{n}", "x").status_code == 401
    assert _post_login(client, "last", "x").status_code == 429
    assert sign_in(client).status_code == 429  # same IP, any user


def test_a_few_failures_from_one_address_do_not_lock_out_everyone_behind_it(client):
    """An office behind one NAT address: five people mistype once each; the sixth signs in."""
    for n in range(NAME_FAILURES_FREE):
        assert _post_login(client, f"colleague{n}", "typo").status_code == 401
    assert sign_in(client).status_code == 302


def _at_once(app, attempts):
    """Post each (name, password) from a client of its own, all released at the same moment."""
    clients = [app.server.test_client() for _ in attempts]
    forms = [login_form(c.get("/login").get_data(as_text=True), user, password)
             for c, (user, password) in zip(clients, attempts, strict=True)]
    start, codes = threading.Barrier(len(clients)), {}

    def post(n):
        start.wait()
        codes[n] = clients[n].post("/login", data=forms[n]).status_code

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return [codes.get(n) for n in range(len(clients))]


def test_concurrent_guesses_get_no_more_answers_than_allowed(app):
    """40 wrong guesses at once for one name: each is decided by its own atomic count, so exactly
    four hear "do not match", the fifth earns the lockout, and the other 35 only hear "wait"."""
    codes = _at_once(app, [("bob", f"guess {n}") for n in range(40)])
    assert sorted(codes) == [401] * (NAME_FAILURES_FREE - 1) + [429] * (40 - NAME_FAILURES_FREE + 1)


def test_a_right_guess_racing_wrong_ones_is_refused_once_they_reached_the_limit(app, store, monkeypatch):
    """The race: 39 wrong guesses and the right one at once. The right one's password check is held
    until the wrong ones have been counted past the limit: it must be refused, since whether it may
    be let in is decided after its check, by the counter, not by a read from before it."""
    from dashboard import auth
    from jobkit.login_throttle import counter_key

    from tests.support import wait_until

    released = threading.Barrier(40)

    def failures():
        item = store.dynamodb.get_item(TableName=store.settings.table, ConsistentRead=True,
                                       Key=counter_key("user-ip:bob|127.0.0.1")).get("Item", {})
        return int(item.get("failures", {}).get("N", 0))

    def racing_check(logins, user, password):
        released.wait(timeout=60)  # every guess is past whatever came before its check
        if password == LOGINS["bob"]:
            wait_until(lambda: failures() >= NAME_FAILURES_FREE, timeout=60)
        return check_password(logins, user, password)

    monkeypatch.setattr(auth, "check_password", racing_check)
    codes = _at_once(app, [("bob", f"wrong {n}") for n in range(39)] + [("bob", LOGINS["bob"])])
    assert codes[-1] == 429
    assert 302 not in codes


def test_a_burst_at_the_limit_is_decided_once_then_everything_waits(app):
    """Four failures, then six guesses at once: one is decided (the fifth failure, a lockout), the
    others only hear "wait", and so does the right password after them: 429, in the same words, so
    nothing tells it was right."""
    for n in range(NAME_FAILURES_FREE - 1):
        assert _post_login(app.server.test_client(), "bob", f"wrong {n}").status_code == 401
    codes = _at_once(app, [("bob", "last wrong")] * 6)
    assert sorted(codes) == [429] * 6
    assert _post_login(app.server.test_client(), "bob", LOGINS["bob"]).status_code == 429


def test_one_shared_login_signs_in_from_many_browsers_at_once(app):
    """Right passwords hold nothing: 30 browsers of one shared login sign in together."""
    assert _at_once(app, [("alice", LOGINS["alice"])] * 30) == [302] * 30


def test_failures_from_other_addresses_never_lock_a_user_out_of_their_own(app, dashboard_settings, store):
    """Behind the ALB (one trusted hop): an outsider fails as bob from many addresses; bob, from
    his own address, still signs in at once."""
    behind_alb = create_app(replace(dashboard_settings, proxy_hops=1), services=app.services,
                            reconcile=False).server.test_client()
    codes = [_post_login(behind_alb, "bob", "x", {"X-Forwarded-For": f"198.51.100.{n % 2}"}).status_code
             for n in range(12)]
    assert codes[-2:] == [429, 429]  # both attacking addresses are locked...
    own = _post_login(behind_alb, "bob", LOGINS["bob"], {"X-Forwarded-For": "203.0.113.50"})
    assert own.status_code == 302  # ...bob is not


def test_a_forged_forwarded_for_does_not_change_the_counted_address(app, dashboard_settings):
    """Behind the ALB the address counted is the one the ALB appended (the last hop), so an attacker
    who writes a fresh X-Forwarded-For on every guess is still locked out after five."""
    behind_alb = create_app(replace(dashboard_settings, proxy_hops=1), services=app.services,
                            reconcile=False).server.test_client()
    codes = [_post_login(behind_alb, "bob", "x", {"X-Forwarded-For": f"10.9.9.{n}, 198.51.100.7"}).status_code
             for n in range(6)]
    assert codes == [401] * 4 + [429, 429]


def test_locally_x_forwarded_for_is_ignored(client):
    """Locally nothing stands in front (DASHBOARD_PROXY_HOPS=0): a forged header is not an address."""
    codes = [_post_login(client, "bob", "x", {"X-Forwarded-For": f"10.0.0.{n}"}).status_code for n in range(6)]
    assert codes == [401] * 4 + [429, 429]


def test_failures_are_counted_across_processes(app, dashboard_settings, store, clock):
    """Two dashboard processes (two apps on one table) share the counts: five failures split
    between them lock the address in both."""
    other = create_app(dashboard_settings, services=app.services, throttle=LoginThrottle(store, clock=clock),
                       reconcile=False).server.test_client()
    first = app.server.test_client()
    for n in range(4):
        assert _post_login(first if n % 2 else other, "bob", "x").status_code == 401
    assert _post_login(first, "bob", "x").status_code == 429
    assert _post_login(other, "bob", LOGINS["bob"]).status_code == 429


def test_session_key_is_the_configured_secret_not_a_function_of_the_passwords(app, dashboard_settings, alice):
    cookie = alice.get_cookie("ml_proto_session").value
    other_key = create_app(replace(dashboard_settings, session_key=b"another key of 32 characters or more"),
                           services=app.services, reconcile=False).server.test_client()
    other_key.set_cookie("ml_proto_session", cookie)
    assert other_key.get("/_dash-layout").status_code == 401
    same = create_app(dashboard_settings, services=app.services, reconcile=False).server.test_client()
    same.set_cookie("ml_proto_session", cookie)
    assert same.get("/_dash-layout").status_code == 200


def test_a_password_change_ends_that_users_sessions_only(app, dashboard_settings, client):
    assert sign_in(client).status_code == 302
    bob = app.server.test_client()
    assert sign_in(bob, "bob").status_code == 302
    changed = create_app(replace(dashboard_settings, logins={**LOGINS, "alice": "a new password"}),
                         services=app.services, reconcile=False).server.test_client()
    changed.set_cookie("ml_proto_session", client.get_cookie("ml_proto_session").value)
    assert changed.get("/_dash-layout").status_code == 401
    changed.set_cookie("ml_proto_session", bob.get_cookie("ml_proto_session").value)
    assert changed.get("/_dash-layout").status_code == 200


def test_a_copied_cookie_stops_working_when_its_user_signs_out(app, alice):
    stolen = alice.get_cookie("ml_proto_session").value
    elsewhere = app.server.test_client()
    elsewhere.set_cookie("ml_proto_session", stolen)
    assert elsewhere.get("/_dash-layout").status_code == 200
    assert sign_out(alice).status_code == 302
    assert elsewhere.get("/_dash-layout").status_code == 401  # the copy died with the sign-out
    # ...also in another dashboard process, which reads the generation from the table
    other = create_app(app.services.settings, services=app.services, reconcile=False).server.test_client()
    other.set_cookie("ml_proto_session", stolen)
    assert other.get("/_dash-layout").status_code == 401
    assert sign_in(alice).status_code == 302 and alice.get("/_dash-layout").status_code == 200


def test_logout_ends_the_session(alice):
    response = sign_out(alice)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert alice.get("/_dash-layout").status_code == 401


def test_a_cross_site_logout_ends_nothing(alice):
    """Another site can make the browser GET /logout (a link, an image) or post a form without this
    site's token: neither ends the session."""
    alice.get("/logout")  # only Dash's page shell answers a GET here
    assert alice.get("/_dash-layout").status_code == 200
    forged = alice.post("/logout")
    assert forged.status_code == 400 and "Sign out" in forged.get_data(as_text=True)
    assert alice.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert alice.get("/_dash-layout").status_code == 200


def test_a_sign_out_in_another_process_ends_sessions_here_within_the_cache_bound(app, dashboard_settings, store):
    """Each process caches a user's session generation for `cache_seconds`: a sign-out in another
    process ends this process's copies of the session within that bound, and at once in its own."""
    now = [5000.0]
    here = create_app(dashboard_settings, services=app.services, reconcile=False,
                      generations=SessionGenerations(store, cache_seconds=2.0, clock=lambda: now[0]))
    there = create_app(dashboard_settings, services=app.services, reconcile=False)
    browser = here.server.test_client()
    assert sign_in(browser).status_code == 302 and browser.get("/_dash-layout").status_code == 200
    copy = there.server.test_client()
    copy.set_cookie("ml_proto_session", browser.get_cookie("ml_proto_session").value)
    assert sign_out(copy).status_code == 302  # signed out in the other process
    now[0] += 0.5
    assert browser.get("/_dash-layout").status_code == 200  # a young cached read: still valid here
    now[0] += 1.51
    assert browser.get("/_dash-layout").status_code == 401  # past the bound (2 s): ended here too


def test_login_redirects_only_to_local_paths(client):
    evil = sign_in(client, next="//evil.example/x")
    assert evil.headers["Location"] == "/"
    good = sign_in(client, next="/jobs?x=1")
    assert good.headers["Location"] == "/jobs?x=1"


@pytest.mark.parametrize("target", [
    "/\t/evil.example/x", "/\n/evil.example", "/\r/evil.example", "/ /evil.example", "/\x0b/evil.example",
    "/\\evil.example", "//evil.example", "///evil.example", "https://evil.example/", "/\u3000/evil.example",
    "/jobs\r\nSet-Cookie: x=1", "/jobs\nLocation: //evil.example",
])
def test_no_next_parameter_leaves_the_site_or_breaks_the_answer(client, target):
    """Browsers drop tabs and newlines from a Location (`/<TAB>/host` is `//host`): such targets,
    and header-splitting ones, send the user home, never elsewhere and never with a 500."""
    response = sign_in(client, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 200 and 'name="next" value="/"' in page.get_data(as_text=True)


def test_the_login_form_needs_its_csrf_token(client):
    """Login CSRF: a cross-site form posts the attacker's name and password without this site's token."""
    forged = client.post("/login", data={"user": "alice", "password": LOGINS["alice"]})
    assert forged.status_code == 400 and "expired" in forged.get_data(as_text=True)
    assert forged.headers.get("Location") is None
    assert client.get("/_dash-layout").status_code == 401
    wrong = client.post("/login", data={"user": "alice", "password": LOGINS["alice"], "csrf_token": "forged"})
    assert wrong.status_code == 400
    assert sign_in(client).status_code == 302


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


def _forged_callbacks(app):
    """Callback requests no page of the dashboard sends: forged page state, uploads and outputs."""
    jobs_inputs = [prop("jobs-refresh", "n_intervals", 1), prop("jobs-older", "n_clicks", 1),
                   prop("jobs-newer", "n_clicks", 0), prop("jobs-changed", "data", None)]
    jobs_key = DashCaller(app, None).key_for("jobs-grid.rowData")
    submit_key = DashCaller(app, None).key_for("submit-message.children")

    def outputs(key):
        return [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in key.strip(".").split("...")]

    def jobs(paging):
        return {"output": jobs_key, "outputs": outputs(jobs_key), "inputs": jobs_inputs,
                "changedPropIds": ["jobs-older.n_clicks"], "state": [prop("jobs-paging", "data", paging)]}

    def upload(contents, filename="a.csv"):
        return {"output": submit_key, "outputs": outputs(submit_key), "changedPropIds": ["job-upload.contents"],
                "inputs": [prop("job-upload", "contents", contents), prop("sample-submit", "n_clicks", 0)],
                "state": [prop("job-upload", "filename", filename), prop("sample-choice", "value", None),
                          prop("submit-token", "data", "forged")]}

    return {
        "page index 10^9": jobs({"tokens": [None], "index": 10**9, "next": None}),
        "page index null": jobs({"tokens": [None], "index": None, "next": None}),
        "page index negative": jobs({"tokens": [None], "index": -5, "next": None}),
        "paging as a list": jobs([1, 2, 3]),
        "upload contents as a dict": upload({"a": 1}),
        "upload contents as a list": upload(["data:text/csv;base64,YQ=="]),
        "upload filename as a list": upload("data:text/csv;base64,YSxiCjEsMgo=", ["a.csv", "b.csv"]),
        "unknown output id": {"output": "nowhere.children", "outputs": [], "inputs": [], "state": []},
        "output as a list": {"output": ["page.children"], "outputs": [], "inputs": [], "state": []},
        "inputs as a dict": {"output": "page.children", "outputs": {"id": "page", "property": "children"},
                             "inputs": {"id": "url"}, "state": []},
        "body is a list": [1, 2, 3],
        "outputs of the wrong length": jobs({"tokens": [None], "index": 0, "next": None}) | {"outputs": []},
    }


def test_forged_callback_state_is_refused_without_a_stack_trace(app, alice, caplog):
    """Signed in, an attacker posts callback bodies no page sends: each gets a 4xx, and the log
    holds no stack trace (nor a 500)."""
    caplog.set_level(logging.INFO)
    answers = {}
    for name, body in _forged_callbacks(app).items():
        answers[name] = alice.post("/_dash-update-component", json=body).status_code
    assert all(400 <= code < 500 for code in answers.values()), answers
    traces = [record for record in caplog.records if record.exc_info or "Traceback" in record.getMessage()]
    assert not traces, [record.getMessage() for record in traces]
    assert alice.post("/_dash-update-component", json=_forged_callbacks(app)["page index 10^9"] | {
        "state": [prop("jobs-paging", "data", {"tokens": [None], "index": 0, "next": None})]}).status_code == 200


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


def test_an_anonymous_request_between_form_and_post_keeps_the_form_valid(client):
    """A browser fetches /favicon.ico (refused: anonymous) after showing the login page; the
    form's CSRF token must survive that refusal."""
    page = client.get("/login").get_data(as_text=True)
    assert client.get("/favicon.ico").status_code == 401
    assert client.post("/login", data=login_form(page, "alice", LOGINS["alice"])).status_code == 302


def test_static_files_need_a_signed_session_but_no_store_read(app, alice, monkeypatch):
    """Script bundles and assets: refused to anonymous callers, served to a signed-in one without
    reading the session generation; a data request still reads it."""
    generations = []
    from jobkit import sessions

    original = sessions.SessionGenerations.current
    monkeypatch.setattr(sessions.SessionGenerations, "current",
                        lambda self, user: generations.append(user) or original(self, user))
    assert alice.get("/_dash-component-suites/dash/dcc/dash_core_components.js").status_code == 200
    assert alice.get("/assets/style.css").status_code == 200
    assert generations == []
    assert alice.get("/_dash-layout").status_code == 200
    assert generations == ["alice"]
    anonymous = app.server.test_client()
    assert anonymous.get("/_dash-component-suites/dash/dcc/dash_core_components.js").status_code == 401
