"""Local AWS state that survives a restart of `make dev`: moto's own request recorder.

moto's server can record every request it serves to a file and replay that file into a fresh
server (`/moto-api/recorder/...`). `make dev` points the recorder at `.devstack/aws-recording.jsonl`
before moto is imported, replays the file on start (after dropping the read-only calls, which
change nothing), then records on: every write is appended as it happens, so even a killed stack
keeps what it did. `make dev-reset` deletes the file to start clean.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

RECORDING_NAME = "aws-recording.jsonl"
# DynamoDB operations that change nothing: replaying them is wasted time.
READ_ONLY_DYNAMODB = frozenset({
    "GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "ListTables", "DescribeTimeToLive",
    "DescribeContinuousBackups", "ListTagsOfResource", "TransactGetItems",
})


def recording_path(state_dir: Path) -> Path:
    return state_dir / RECORDING_NAME


def point_recorder_at(path: Path) -> None:
    """Make moto's recorder write to `path`; must run before moto is imported (it reads this once)."""
    if "moto" in sys.modules:
        raise RuntimeError("point_recorder_at() must run before moto is imported")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.environ["MOTO_RECORDER_FILEPATH"] = str(path)


def changes_state(line: str) -> bool:
    """True for a recorded request that may have changed something (kept for the replay)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return False  # a line cut short when the stack was killed mid-write
    headers = {name.lower(): value for name, value in (entry.get("headers") or {}).items()}
    target = headers.get("x-amz-target", "")
    if target:
        return target.partition(".")[2] not in READ_ONLY_DYNAMODB
    return entry.get("method") not in ("GET", "HEAD")


def compact(path: Path) -> int:
    """Drop the read-only requests from the recording; how many requests are left."""
    if not path.exists():
        return 0
    kept = [line for line in path.read_text().splitlines() if line.strip() and changes_state(line)]
    temporary = path.with_suffix(".tmp")
    temporary.write_text("".join(line + "\n" for line in kept))
    temporary.replace(path)
    return len(kept)


class AwsRecording:
    """Replays the recording into the local AWS at `aws_url`, then records every further request."""

    def __init__(self, aws_url: str, path: Path) -> None:
        self.aws_url, self.path = aws_url, path

    def restore(self) -> int:
        """Replay what earlier runs did; the number of requests replayed."""
        count = compact(self.path)
        if count:
            self._post("replay-recording")
        return count

    def record(self) -> None:
        """Append every request from now on to the recording."""
        self.path.touch()
        self._post("start-recording")

    def _post(self, action: str) -> None:
        url = f"{self.aws_url}/moto-api/recorder/{action}"
        request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310 - the local AWS
        with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310 - the local AWS
            answer.read()
