"""What a visitor sees from the dashboard's URL while it sleeps or starts: ALB Lambda responses.

A person's page load gets the waking page, which refreshes itself until the dashboard answers; any
other GET gets the sleeping page with one button (a browser without Fetch Metadata, a scanner);
anything else (a Dash callback from a tab opened before the sleep) gets 503 and wakes nothing.
"""

from __future__ import annotations

import html

from components.sleepwake.decision import WAKE_FIELD

WAKING_MESSAGE = "Waking the dashboard up, about a minute..."
READY_MESSAGE = "The dashboard is up; taking you there..."
ASLEEP_MESSAGE = "The dashboard is asleep."
WAKE_BUTTON = "Wake it up"
REFRESH_SECONDS = 10
READY_REFRESH_SECONDS = 2
_HEAD = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{refresh}"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>{title}</title>"
         "<style>body{{font-family:system-ui,sans-serif;margin:20vh auto;max-width:32em;text-align:center;color:#333}}"
         "button{{font-size:1.1em;padding:.5em 1.5em}}</style></head><body>")


def _hours(office_hours: str) -> str:
    if not office_hours:
        return ""
    return (f"<p>Office hours: {html.escape(office_hours)}. It closes at their end; outside them a visit "
            "still wakes it, until it has been idle a while.</p>")


def waking_page(ready: bool, office_hours: str = "") -> str:
    """A self-refreshing page for the same URL; once the dashboard answers, the next refresh goes in."""
    message = READY_MESSAGE if ready else WAKING_MESSAGE
    seconds = READY_REFRESH_SECONDS if ready else REFRESH_SECONDS
    return (_HEAD.format(refresh=f"<meta http-equiv=\"refresh\" content=\"{seconds}\">", title="Waking the dashboard")
            + f"<h1>{html.escape(message)}</h1>"
            "<p>It sleeps when nobody has looked for a while, to cost nothing. This page reloads itself "
            f"every {seconds} seconds and opens the dashboard as soon as it answers.</p>"
            + _hours(office_hours) + "</body></html>")


def asleep_page(path: str, office_hours: str = "") -> str:
    """No refresh (a forgotten tab must not wake it): one button, a form POST of wake=1 to the same URL."""
    return (_HEAD.format(refresh="", title="The dashboard is asleep")
            + f"<h1>{html.escape(ASLEEP_MESSAGE)}</h1>"
            "<p>It sleeps when nobody has looked for a while, to cost nothing. Waking it takes about a minute.</p>"
            f"<form method=\"post\" action=\"{html.escape(path, quote=True)}\">"
            f"<input type=\"hidden\" name=\"{WAKE_FIELD}\" value=\"1\">"
            f"<button type=\"submit\">{html.escape(WAKE_BUTTON)}</button></form>"
            + _hours(office_hours) + "</body></html>")


def safe_path(path: str | None) -> str:
    """The request's own path, or / for anything that could lead off the site ("//host", "\\")."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _response(status: int, reason: str, body: str, **headers: str) -> dict:
    return {"statusCode": status, "statusDescription": f"{status} {reason}", "isBase64Encoded": False,
            "headers": {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", **headers},
            "body": body}


def alb_response(method: str, visit: bool, ready: bool, path: str = "/", office_hours: str = "") -> dict:
    """The response to one request while the waker has the route.

    A visit by GET: the waking page (200). The button's POST: 303 back to the same URL, so the
    refreshing page is a GET the browser may reload. Another GET or HEAD: the sleeping page. Anything
    else: 503 with Retry-After, which tells a script to come back rather than read HTML it did not ask for.
    """
    method = method.upper()
    if visit and method == "POST":
        return _response(303, "See Other", "", Location=safe_path(path))
    if visit:
        return _response(200, "OK", waking_page(ready, office_hours))
    if method in ("GET", "HEAD"):
        return _response(200, "OK", asleep_page(safe_path(path), office_hours))
    return _response(503, "Service Unavailable", waking_page(ready, office_hours),
                     **{"Retry-After": str(REFRESH_SECONDS)})
