"""Benchmark 1 in quick mode: listing reads the same number of items whatever the history."""

from __future__ import annotations

from bench import listing


def test_items_read_do_not_grow_with_history(aws_endpoint):
    rows = listing.run(aws_endpoint, "us-east-1", sizes=(60, 600), repeats=1)
    by_read: dict[str, set[int]] = {}
    for row in rows:
        by_read.setdefault(row["read"], set()).add(row["items_read"])
    assert by_read == {"list 50 most recent jobs": {50}, "find claimable jobs": {5}}
