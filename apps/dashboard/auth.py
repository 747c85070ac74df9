"""Named-user login on a page of its own, signed session cookies that sign-out and a password
change end, and failed sign-ins slowed down per user name and client address.

Passwords come from DASHBOARD_LOGINS; the session cookie is signed with a random key of its own
(settings.session_key). A session carries its user, a fingerprint of that user's password (a
changed password ends it) and the user's session generation (signing out bumps it, in the job
table, which ends every session of that user everywhere). The login form and the sign-out form
carry a CSRF token (sign-out is a POST: a GET from another site must not end anyone's sessions).
A `before_request` hook refuses every route except the few public ones to anonymous callers.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import flask
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from jobkit.errors import StoreUnavailable
from jobkit.login_throttle import Limit, LoginThrottle
from jobkit.sessions import SessionGenerations

log = logging.getLogger("dashboard.auth")

# Reachable without a session: the load balancer's probe, the login page and what it shows.
PUBLIC_PATHS = frozenset({"/health", "/login", "/assets/style.css", "/_favicon.ico"})
SESSION_USER_KEYS = ("user", "pw", "gen")
# Static files (Dash's script bundles, this site's assets): served to any validly signed session.
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/")
# Failures allowed before a lockout: per name and address, and per address alone. The address's
# limit is far higher, so one person's mistakes (or an office behind one NAT address) do not lock
# everyone else out; it still stops one address from trying many names.
NAME_FAILURES_FREE = 5
ADDRESS_FAILURES_FREE = 50


def password_fingerprint(key: bytes, user: str, password: str) -> str:
    """What a session keeps of its user's password: a keyed hash, so a changed password ends it."""
    return hmac.new(key, f"password\0{user}\0{password}".encode(), hashlib.sha256).hexdigest()[:32]


def check_password(logins: dict[str, str], user: str, password: str) -> bool:
    """True when `password` is `user`'s; compares in constant time, also for unknown users."""
    expected = logins.get(user)
    # Compare against something even for an unknown user so timing does not reveal user names.
    candidate = (expected if expected is not None else "\0unknown-user").encode()
    matches = hmac.compare_digest(candidate, password.encode())
    return matches and expected is not None


def throttle_limits(user: str, client: str | None) -> list[Limit]:
    """Failures count per (name, address) and per address: never per name alone, so failures from
    other addresses cannot lock a user out of their own address. A success forgets the name's
    failures; an address's are forgotten only after the hour."""
    return [Limit(f"user-ip:{user.lower()}|{client}", NAME_FAILURES_FREE),
            Limit(f"ip:{client}", ADDRESS_FAILURES_FREE, reset_on_success=False)]


def name_for_log(logins: dict[str, str], user: str) -> dict[str, Any]:
    """A known user's name, else only the length of what was typed (it may be a password)."""
    return {"user": user} if user in logins else {"unknown_name_length": len(user)}


def wait_message(seconds: float) -> str:
    seconds = math.ceil(seconds)
    when = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    return f"Too many failed sign-in attempts. Please wait {when} before trying again."


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session; the cookie is Secure whenever the request came over HTTPS
    (directly or via the load balancer's X-Forwarded-Proto), so plain-HTTP local use still works."""

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (flask.request and flask.request.is_secure))


def csrf_token() -> str:
    """The current session's CSRF token, for a form this site renders (the sign-out button's)."""
    return generate_csrf()


def current_user() -> str | None:
    """The signed-in user of the current request, or None."""
    return flask.session.get("user")


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login page cannot be used as an open redirect. Browsers drop
    tabs and newlines from URLs (`/\t/host` becomes `//host`), so any control or space character
    refuses the target outright, as does anything with a scheme, a host or a backslash."""
    if not target or not target.startswith("/") or "\\" in target:
        return "/"
    if any(unicodedata.category(char)[0] in "CZ" for char in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
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
  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
  <button id="login-button" type="submit" class="primary">Sign in</button>
</form></body></html>"""


def install(
    server: flask.Flask,
    logins: dict[str, str],
    throttle: LoginThrottle,
    generations: SessionGenerations,
    session_key: bytes,
    *,
    title: str = "ml-proto",
    session_hours: float = 12.0,
    on_request: Callable[[], Any] | None = None,
) -> None:
    """Configure sessions and CSRF, add /login and /logout, and refuse anonymous requests elsewhere."""
    server.secret_key = session_key
    server.session_interface = _SessionInterface()
    server.config.update(
        SESSION_COOKIE_NAME="ml_proto_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=session_hours),
        # The cookie is written when the session changes (sign-in, a new CSRF token), not re-signed
        # on every response: that was the largest part of the session's cost per request. A session
        # therefore lasts `session_hours` from sign-in, however active.
        SESSION_REFRESH_EACH_REQUEST=False,
        # Only the login form is checked (csrf.protect() below): Dash's callbacks are JSON POSTs
        # that a cross-site form cannot send, and the session cookie is SameSite=Lax.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (anonymous) session
        WTF_CSRF_SSL_STRICT=False,  # no Referer check: the token is the check
    )
    csrf = CSRFProtect(server)

    def fingerprint(user: str) -> str:
        return password_fingerprint(session_key, user, logins[user])

    def signed_in(user: Any) -> bool:
        session = flask.session
        if not (isinstance(user, str) and user in logins
                and hmac.compare_digest(str(session.get("pw", "")), fingerprint(user))):
            return False
        # The same script bundles and styles for everyone: a signed cookie suffices, without the
        # generation read (everything with data behind it still checks the generation).
        return flask.request.path.startswith(STATIC_PREFIXES) or session.get("gen") == generations.current(user)

    @server.before_request
    def require_login() -> Any:
        if on_request is not None:
            on_request()
        if flask.request.path in PUBLIC_PATHS:
            return None
        try:
            if signed_in(current_user()):
                return None
        except StoreUnavailable:  # the session generation could not be read: say so, keep the session
            return flask.jsonify(error="The dashboard cannot reach its store right now. Please try again."), 503
        for key in SESSION_USER_KEYS:  # a stale sign-in goes; the login form's CSRF token stays
            flask.session.pop(key, None)
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

    @server.errorhandler(CSRFError)
    def expired_form(_error: CSRFError) -> Any:
        if flask.request.path == "/logout":
            log.warning("logout refused: missing or wrong CSRF token", extra={"client_ip": flask.request.remote_addr})
            return flask.Response("Sign out with the dashboard's own Sign out button.", status=400,
                                  mimetype="text/plain")
        log.warning("login refused: missing or wrong CSRF token", extra={"client_ip": flask.request.remote_addr})
        return page("This sign-in form has expired. Please sign in again.", status=400)

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if flask.request.method == "GET":
            if flask.request.args.get("signed_out"):
                return page("You have signed out.", kind="info")
            return page()
        csrf.protect()
        try:
            return sign_in()
        except StoreUnavailable:  # the failure counters live in the job table
            return page("Signing in is not available right now. Please try again in a moment.", status=503)

    def sign_in() -> Any:
        user = flask.request.form.get("user", "").strip()[:100]
        password = flask.request.form.get("password", "")[:1000]
        client = flask.request.remote_addr
        limits = throttle_limits(user, client)
        # The compare is cheap and constant-time; what may be answered is decided by the counters'
        # atomic conditional writes (jobkit.login_throttle), so concurrent guesses gain nothing.
        if not user or not password or not check_password(logins, user, password):
            wait = throttle.failed(limits)
            log.warning("login failed", extra={**name_for_log(logins, user), "client_ip": client,
                                               "throttled": wait > 0})
            if wait > 0:
                return page(wait_message(wait), user=user, status=429)
            return page("That name and password do not match. Please try again.", user=user, status=401)
        wait = throttle.succeeded(limits)
        if wait > 0:
            log.warning("login refused: throttled", extra={**name_for_log(logins, user), "client_ip": client})
            return page(wait_message(wait), user=user, status=429)
        flask.session.clear()
        flask.session.permanent = True
        flask.session.update(user=user, pw=fingerprint(user), gen=generations.current(user))
        log.info("login", extra={"user": user, "client_ip": client})
        return flask.redirect(_safe_next(flask.request.form.get("next")))

    @server.route("/logout", methods=["POST"])
    def logout() -> Any:
        csrf.protect()
        user = current_user()
        if signed_in(user):
            generations.bump(user)  # every session of this user ends, here and in every other process
        log.info("logout", extra={"user": user if user in logins else None})
        flask.session.clear()
        return flask.redirect("/login?signed_out=1")
