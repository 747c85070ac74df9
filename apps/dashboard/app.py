"""Wiring: build the services, the Dash app, its pages and routes. WSGI callable: `dashboard.app:server`.

Read this file first: `create_app` shows every part the dashboard is made of.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import dash
import flask
from dash import Input, Output, dcc, html
from jobkit import JobStore, logs
from jobkit.login_throttle import LoginThrottle
from jobkit.sessions import SessionGenerations
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import (
    activity,
    auth,
    callback_guard,
    feedback_widget,
    request_ids,
    routes,
    security_headers,
    server_timing,
    uploads,
)
from dashboard.launcher import Launcher, Reconciler, make_launcher
from dashboard.pages import feedback, job_detail, jobs, predict
from dashboard.predictor_client import PredictorClient, lambda_client
from dashboard.services import Services
from dashboard.settings import DashboardSettings

ASSETS = Path(__file__).resolve().parent / "assets"
TITLE = "ml-proto"
NAV = [("Predict", "/predict"), ("Batch jobs", "/jobs"), ("Feedback", "/feedback")]


def _header() -> Any:
    return html.Header([
        html.A(TITLE, href="/", className="brand"),
        html.Nav([dcc.Link(name, href=href, className="nav-link", id=f"nav-{href.strip('/')}")
                  for name, href in NAV]),
        html.Div([html.Span(auth.current_user() or "", className="user", id="current-user"),
                  _sign_out()],
                 className="user-box"),
    ], className="topbar")


def _sign_out() -> Any:
    """Sign-out is a POST carrying the CSRF token: a link (a GET) could be followed from any site."""
    return html.Form([
        dcc.Input(type="hidden", name="csrf_token", value=auth.csrf_token(), id="logout-csrf"),
        html.Button("Sign out", type="submit", className="signout", id="logout-link"),
    ], method="post", action="/logout", className="signout-form")


def _not_found() -> Any:
    return html.Div([html.H1("Page not found"), dcc.Link("Go to the prediction page", href="/predict")])


def route(services: Services, pathname: str | None) -> Any:
    """The page for a URL path."""
    path = (pathname or "/").rstrip("/") or "/"
    if path in ("/", "/predict"):
        return predict.layout(services)
    if path == "/jobs":
        return jobs.layout(services)
    if path.startswith("/jobs/") and path.count("/") == 2:
        return job_detail.layout(services, path.split("/")[2])
    if path == "/feedback":
        return feedback.layout(services)
    return _not_found()


def build_services(settings: DashboardSettings, *, store: JobStore | None = None,
                   predictor: PredictorClient | None = None, launcher: Launcher | None = None) -> Services:
    return Services(
        settings=settings,
        store=store or JobStore(settings.store),
        predictor=predictor or PredictorClient(
            lambda_client(settings.region, settings.predictor_timeout_seconds),
            settings.predictor_function, settings.describe_cache_seconds),
        launcher=launcher or make_launcher(settings),
    )


def create_app(settings: DashboardSettings, *, services: Services | None = None,
               throttle: LoginThrottle | None = None, generations: SessionGenerations | None = None,
               reconcile: bool = True) -> dash.Dash:
    """The dashboard for these settings; the worker reconciler starts with the first request."""
    services = services or build_services(settings)
    app = dash.Dash(
        __name__,
        title=TITLE,
        assets_folder=str(ASSETS),
        serve_locally=True,  # no CDN: stakeholders' networks and the browser tests may have none
        suppress_callback_exceptions=True,
        update_title=None,
    )
    server = app.server
    server.wsgi_app = ProxyFix(server.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)
    server.config["SESSION_COOKIE_SECURE"] = settings.secure_cookies  # else Secure only when the request is HTTPS
    reconciler = _ReconcilerOnce(services, settings.reconcile_seconds) if reconcile else None
    if settings.server_timing:  # first, so its timing spans every other hook
        server_timing.install(server, {"dynamodb": services.store.dynamodb, "s3": services.store.s3,
                                       "lambda": services.predictor.client})
    request_ids.install(server)
    # A request body larger than the biggest upload's callback is refused (413) before it is read.
    server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    uploads.PARSE_SLOTS.resize(settings.upload_parse_slots)
    auth.install(server, settings.logins, throttle or LoginThrottle(services.store),
                 generations or SessionGenerations(services.store), settings.signing_key(), title=TITLE,
                 session_hours=settings.session_hours, on_request=reconciler.ensure if reconciler else None)
    activity.install(server, services.store.dynamodb, services.store.settings.table)  # lets the sleeper judge idle
    _refuse_oversized_streams(server, settings.max_request_bytes)  # after auth: no body read unsigned
    routes.install(server, settings.local_log_dir)
    app.layout = lambda: html.Div([dcc.Location(id="url"), _header(), html.Main(id="page", className="page")])

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def show_page(pathname: str | None) -> Any:
        return route(services, pathname)

    for page in (predict, jobs, job_detail, feedback_widget):
        page.register(app, services)
    callback_guard.install(app)  # after auth's hook: anonymous callers hear 401 first
    security_headers.install(server, app.csp_hashes())
    app.services = services  # for tests and scripts
    app.reconciler = reconciler
    return app


def _refuse_oversized_streams(server: flask.Flask, limit: int) -> None:
    """Refuse (413) a chunked body that reaches `limit`. Installed after auth's check, so an
    anonymous caller's body is never read: a slow one cannot hold a thread while it trickles."""

    @server.before_request
    def refuse_oversized_streams() -> Any:
        # A chunked body has no length to check: werkzeug stops reading at the limit and hands
        # on a truncated body, so a body that reaches the limit is refused here instead.
        request = flask.request
        chunked = request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        if chunked and len(request.get_data(cache=True)) >= limit:
            return flask.jsonify(error="The request is too large."), 413
        return None


class _ReconcilerOnce:
    """Starts one reconciler thread per process, on the first request (after gunicorn forks)."""

    def __init__(self, services: Services, interval: float) -> None:
        self.services, self.interval = services, interval
        self._pid: int | None = None
        self._lock = threading.Lock()
        self.reconciler: Reconciler | None = None

    def ensure(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self.reconciler = Reconciler(self.services.store, self.services.launcher, self.interval).start()
                self._pid = os.getpid()

    def stop(self) -> None:
        if self.reconciler is not None:
            self.reconciler.stop()


_default: dash.Dash | None = None
_default_lock = threading.Lock()


def default_app() -> dash.Dash:
    """The app for this process's environment (what gunicorn serves)."""
    global _default
    with _default_lock:
        if _default is None:
            settings = DashboardSettings.from_env()
            logs.configure("dashboard", settings.log_level)
            _default = create_app(settings)
        return _default


def __getattr__(name: str) -> Any:
    # `dashboard.app:server` is built on first access, so importing this module needs no environment.
    if name == "server":
        return default_app().server
    if name == "app":
        return default_app()
    raise AttributeError(name)
