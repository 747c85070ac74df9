"""`.devstack/target.json`: how a script finds the running local stack (`ml-proto --local`).

Written when the stack is up, removed when it stops. It holds what a client needs to speak the
apps' own contract: the local AWS and Lambda endpoints, the table, bucket and function names,
and how the dashboard's launcher starts a local worker (its command, limit, log folder and
environment). No login: the local AWS takes any key pair, and the dashboard's password is not a
client's business. Written owner-only all the same.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILE_NAME = "target.json"
FORMAT = 1


def path(state_dir: Path) -> Path:
    return Path(state_dir) / FILE_NAME


def write(state_dir: Path, content: dict[str, Any]) -> Path:
    """Write `content` (plus the format number) atomically, mode 0600; returns the file's path."""
    target = path(state_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".json.tmp")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        json.dump({"format": FORMAT, **content}, file, indent=2, sort_keys=True)
    partial.replace(target)
    return target


def remove(state_dir: Path) -> None:
    path(state_dir).unlink(missing_ok=True)
