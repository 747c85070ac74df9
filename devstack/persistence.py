"""Local AWS state that survives a restart of `make dev`: moto's own request recorder.

moto's server can record every request it serves to a file and replay that file into a fresh
server (`/moto-api/recorder/...`). `make dev` points the recorder at `.devstack/aws-recording.jsonl`
before moto is imported, replays the file on start (after dropping the read-only calls, which
change nothing), then records on: every write is appended as it happens, so even a killed stack
keeps what it did. `make dev-reset` deletes the file to start clean.

The recording holds every upload and result, so it is owner-only (0600, in the 0700 state folder).
Only this run may drive the recorder (moto's control API takes this run's token, devstack.local_aws),
and `keep_recording` checks it is still on.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

# Also defined in devstack.local_aws, which imports moto: this module must not (point_recorder_at).
CONTROL_HEADER = "X-Devstack-Control-Token"
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
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ["MOTO_RECORDER_FILEPATH"] = str(path)


def owner_only(path: Path) -> Path:
    """`path` as an existing file only its owner may read or write (0600), its content kept."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)  # a file an older run left world-readable
    return path


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
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write("".join(line + "\n" for line in kept))
    os.chmod(temporary, 0o600)  # a leftover .tmp from a killed run keeps its old mode otherwise
    temporary.replace(path)
    return len(kept)


class AwsRecording:
    """Replays the recording into the local AWS at `aws_url`, then records every further request;
    `control_token` is the local AWS's token for its control API (LocalAws.control_token)."""

    def __init__(self, aws_url: str, path: Path, control_token: str) -> None:
        self.aws_url, self.path, self.control_token = aws_url, path, control_token

    def restore(self) -> int:
        """Replay what earlier runs did; the number of requests replayed."""
        count = compact(self.path)
        if count:
            self._post("replay-recording")
        return count

    def record(self) -> None:
        """Append every request from now on to the recording; RuntimeError if the recorder stays off."""
        owner_only(self.path)
        self._post("start-recording")
        if recorder_on() is False:
            raise RuntimeError("moto's recorder did not start: changes would not survive a restart")

    def keep_recording(self) -> bool:
        """Start the recorder again if it was stopped; True if it had to be (changes in between are lost)."""
        if recorder_on() is not False:
            return False
        self.record()
        return True

    def _post(self, action: str) -> None:
        url = f"{self.aws_url}/moto-api/recorder/{action}"
        request = urllib.request.Request(url, data=b"", method="POST",  # noqa: S310 - the local AWS
                                         headers={CONTROL_HEADER: self.control_token})
        with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310 - the local AWS
            answer.read()


def recorder_on() -> bool | None:
    """Whether moto's recorder in this process records (None when moto is not loaded here).

    moto's control API has no status call; its recorder object keeps the switch in
    `_user_enabled` (moto 5, pinned in requirements-dev.txt).
    """
    if "moto" not in sys.modules:
        return None
    from moto.moto_api import recorder

    state = getattr(recorder, "_user_enabled", None)
    return bool(state) if state is not None else None
