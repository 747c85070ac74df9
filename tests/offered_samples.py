"""What a stakeholder's jobs page offers to run, read over HTTP from a running dashboard."""

from __future__ import annotations

import requests

from bench import dash_calls
from tests.support import wait_until


def first_offered_sample(session: requests.Session, base: str, timeout: float = 120) -> str:
    """The first sample the batch algorithm published, as the jobs page offers it. Opening the page
    starts a worker, which publishes its description as it starts: poll until a sample is offered."""
    def offered() -> str | None:
        page = session.post(f"{base}/_dash-update-component", json=dash_calls.open_page("/jobs"), timeout=60)
        published = (dash_calls.find(page.json(), "batch-published") or {}).get("data") or {}
        return next(iter(published.get("samples") or []), None)

    return wait_until(offered, timeout=timeout, interval=0.5, what="the jobs page to offer the algorithm's samples")
