"""Named-user login on a page of its own, signed session cookies, and slowed-down guessing.

Passwords come from DASHBOARD_LOGINS. The session cookie is signed with a key derived from that
secret (HMAC-SHA256), so no extra secret is needed and changing any password logs everyone out.
A `before_request` hook refuses every route except the few public ones to anonymous callers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import flask
from flask.sessions import SecureCookieSessionInterface

log = logging.getLogger("dashboard.auth")

# Reachable without a session: the load balancer's probe, the login page and what it shows.
PUBLIC_PATHS = frozenset({"/health", "/login", "/assets/style.css", "/_favicon.ico"})
_SESSION_PURPOSE = b"ml-proto dashboard session key v1"


def session_secret(logins: dict[str, str]) -> bytes:
    """The cookie-signing key: HMAC-SHA256 of a fixed purpose, keyed by the canonical logins JSON."""
    canonical = json.dumps(logins, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(canonical, _SESSION_PURPOSE, hashlib.sha256).digest()


def check_password(logins: dict[str, str], user: str, password: str) -> bool:
    """True when `password` is `user`'s; compares in constant time, also for unknown users."""
    expected = logins.get(user)
    # Compare against something even for an unknown user so timing does not reveal user names.
    candidate = (expected if expected is not None else "\0unknown-user").encode()
    matches = hmac.compare_digest(candidate, password.encode())
    return matches and expected is not None


class LoginThrottle:
    """Counts failed logins per key (user, client IP); after `free` failures a key is refused for
    `base_seconds`, doubling with each further failure up to `max_seconds`. Thread-safe; per process."""

    def __init__(
        self,
        free: int = 5,
        base_seconds: float = 30.0,
        max_seconds: float = 900.0,
        forget_seconds: float = 3600.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.base, self.max = free, base_seconds, max_seconds
        self.forget, self.max_keys = forget_seconds, max_keys
        self.clock = clock
        self._lock = threading.Lock()
        # key -> (failures, locked_until, last_failure); oldest first, so eviction is cheap.
        self._failures: OrderedDict[str, tuple[int, float, float]] = OrderedDict()

    def retry_after(self, keys: Iterable[str]) -> float:
        """Seconds until any of `keys` may try again (0 when none is locked)."""
        now = self.clock()
        with self._lock:
            waits = [self._failures[k][1] - now for k in keys if k in self._failures]
        return max([0.0, *waits])

    def failed(self, keys: Iterable[str]) -> float:
        """Record one failure on every key; returns the lockout it caused (0 for none)."""
        now = self.clock()
        lockout = 0.0
        with self._lock:
            for key in keys:
                count, _, last = self._failures.pop(key, (0, 0.0, now))
                if now - last > self.forget:
                    count = 0
                count += 1
                wait = 0.0
                if count >= self.free:
                    wait = min(self.base * 2 ** (count - self.free), self.max)
                self._failures[key] = (count, now + wait, now)
                lockout = max(lockout, wait)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
        return lockout

    def succeeded(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def wait_message(seconds: float) -> str:
    seconds = math.ceil(seconds)
    when = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    return f"Too many failed sign-in attempts. Please wait {when} before trying again."


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session; the cookie is Secure whenever the request came over HTTPS
    (directly or via the load balancer's X-Forwarded-Proto), so plain-HTTP local use still works."""

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (flask.request and flask.request.is_secure))


def current_user() -> str | None:
    """The signed-in user of the current request, or None."""
    return flask.session.get("user")


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login page cannot be used as an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - {{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body">
<form class="card login-card" method="post" action="/login">
  <h1>{{ title }}</h1>
  <p class="muted">Sign in with the name and password you were given.</p>
  {% if message %}<div id="login-message" class="alert {{ kind }}" role="alert">{{ message }}</div>{% endif %}
  <label for="user">Name</label>
  <input id="user" name="user" autocomplete="username" value="{{ user }}" required autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <input type="hidden" name="next" value="{{ next }}">
  <button id="login-button" type="submit" class="primary">Sign in</button>
</form></body></html>"""


def install(
    server: flask.Flask,
    logins: dict[str, str],
    throttle: LoginThrottle,
    *,
    title: str = "ml-proto",
    session_hours: float = 12.0,
    on_request: Callable[[], Any] | None = None,
) -> None:
    """Configure sessions, add /login and /logout, and refuse anonymous requests elsewhere."""
    server.secret_key = session_secret(logins)
    server.session_interface = _SessionInterface()
    server.config.update(
        SESSION_COOKIE_NAME="ml_proto_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=session_hours),
    )

    @server.before_request
    def require_login() -> Any:
        if on_request is not None:
            on_request()
        if flask.request.path in PUBLIC_PATHS:
            return None
        user = current_user()
        if user is not None and user in logins:
            return None
        flask.session.clear()
        wants_page = flask.request.method == "GET" and "text/html" in flask.request.headers.get("Accept", "")
        if wants_page and not flask.request.path.startswith("/_"):
            return flask.redirect("/login?" + urlencode({"next": flask.request.full_path.rstrip("?")}))
        return flask.jsonify(error="Please sign in again.", login="/login"), 401

    def page(message: str = "", kind: str = "error", user: str = "", status: int = 200) -> Any:
        html = flask.render_template_string(
            LOGIN_PAGE, title=title, message=message, kind=kind, user=user,
            next=_safe_next(flask.request.values.get("next")),
        )
        return flask.Response(html, status=status, mimetype="text/html")

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if flask.request.method == "GET":
            if flask.request.args.get("signed_out"):
                return page("You have signed out.", kind="info")
            return page()
        user = flask.request.form.get("user", "").strip()[:100]
        password = flask.request.form.get("password", "")[:1000]
        keys = [f"user:{user.lower()}", f"ip:{flask.request.remote_addr}"]
        wait = throttle.retry_after(keys)
        if wait > 0:
            log.warning("login refused: throttled", extra={"user": user, "client_ip": flask.request.remote_addr})
            return page(wait_message(wait), user=user, status=429)
        if not user or not password or not check_password(logins, user, password):
            lockout = throttle.failed(keys)
            log.warning("login failed", extra={"user": user, "client_ip": flask.request.remote_addr})
            if lockout > 0:
                return page(wait_message(lockout), user=user, status=429)
            return page("That name and password do not match. Please try again.", user=user, status=401)
        throttle.succeeded(keys)
        flask.session.clear()
        flask.session.permanent = True
        flask.session["user"] = user
        log.info("login", extra={"user": user})
        return flask.redirect(_safe_next(flask.request.form.get("next")))

    @server.route("/logout", methods=["GET", "POST"])
    def logout() -> Any:
        log.info("logout", extra={"user": current_user()})
        flask.session.clear()
        return flask.redirect("/login?signed_out=1")
