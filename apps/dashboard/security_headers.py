"""Security headers on every response (Flask-Talisman): no framing by other sites, and a
Content-Security-Policy that lets only this site's own scripts (and Dash's hashed inline
renderer) run. HTTPS itself is the load balancer's job, so Talisman never redirects."""

from __future__ import annotations

from collections.abc import Sequence

import flask
from flask_talisman import Talisman


def content_security_policy(inline_script_hashes: Sequence[str]) -> dict[str, str | list[str]]:
    """The policy: same-origin everything; Dash's inline renderer script by hash; inline style
    attributes (Dash components and Plotly set them); data:/blob: images (Plotly's downloads)."""
    return {
        "default-src": "'self'",
        "script-src": ["'self'", *inline_script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def install(server: flask.Flask, inline_script_hashes: Sequence[str]) -> None:
    """Set the headers on every response of `server` (cookies keep their own settings)."""
    Talisman(
        server,
        force_https=False,  # the ALB redirects HTTP to HTTPS; locally there is no TLS
        frame_options="DENY",
        content_security_policy=content_security_policy(inline_script_hashes),
        session_cookie_secure=False,  # the session interface marks it Secure behind HTTPS
        session_cookie_http_only=True,
        referrer_policy="strict-origin-when-cross-origin",
    )
