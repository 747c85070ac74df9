"""Small helpers the benchmarks share."""

from __future__ import annotations

import socket
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_mentioning(text: str) -> list[int]:
    """Live (not zombie) processes whose environment mentions `text`: a local stack's processes
    all carry its state folder (DEVSTACK_DIR, LOCAL_LOG_DIR or PYTHONPATH), whoever started them."""
    found = []
    needle = text.encode()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            state = (environ.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]  # after "(comm)"
            if state != "Z" and needle in environ.read_bytes():
                found.append(int(environ.parent.name))
        except (OSError, IndexError):
            continue
    return found
