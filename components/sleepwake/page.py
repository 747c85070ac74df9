"""The waking page: what a visitor sees from the dashboard's URL while it starts (an ALB Lambda response)."""

from __future__ import annotations

import html

WAKING_MESSAGE = "Waking the dashboard up, about a minute..."
READY_MESSAGE = "The dashboard is up; taking you there..."
REFRESH_SECONDS = 10
READY_REFRESH_SECONDS = 2


def waking_page(ready: bool) -> str:
    """A self-refreshing HTML page for the same URL; once the dashboard answers, the next refresh goes in."""
    message = READY_MESSAGE if ready else WAKING_MESSAGE
    seconds = READY_REFRESH_SECONDS if ready else REFRESH_SECONDS
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"refresh\" content=\"{seconds}\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>Waking the dashboard</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:20vh auto;max-width:32em;text-align:center;color:#333}"
        "</style></head><body>"
        f"<h1>{html.escape(message)}</h1>"
        "<p>It sleeps when nobody has looked for a while, to cost nothing. This page reloads itself "
        f"every {seconds} seconds and opens the dashboard as soon as it answers.</p>"
        "</body></html>"
    )


def alb_response(method: str, ready: bool) -> dict:
    """The ALB Lambda-target response: the page for GET/HEAD, 503 with Retry-After for anything else.

    A POST (a Dash callback, an upload) from a tab opened before the dashboard slept cannot be
    answered here; 503 tells the browser to retry rather than showing it HTML it did not ask for.
    """
    headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    if method.upper() in ("GET", "HEAD"):
        return {"statusCode": 200, "statusDescription": "200 OK", "isBase64Encoded": False, "headers": headers,
                "body": waking_page(ready)}
    headers["Retry-After"] = str(REFRESH_SECONDS)
    return {"statusCode": 503, "statusDescription": "503 Service Unavailable", "isBase64Encoded": False,
            "headers": headers, "body": waking_page(ready)}
