"""A no-I/O guard for predict(): while it is on, network use, file writes and new processes raise
`IOBlocked` and are recorded (even when user code catches the error). Reading files stays allowed
(a lazy import reads its module). It uses an audit hook, so install it only in a probe process."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_NETWORK = ("socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto", "urllib.Request")
_PROCESS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.spawn")
_FILES = ("os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.truncate", "shutil.copyfile", "shutil.rmtree")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class IOBlocked(RuntimeError):
    """predict() tried to do I/O."""


@dataclass
class Guard:
    """Records what was blocked as (problem, "file:line" in user code or "")."""

    user_files: dict[Path, str]
    active: bool = False
    blocked: list[tuple[str, str]] = field(default_factory=list)

    def _problem(self, event: str, args: tuple) -> str | None:
        if event.startswith(_NETWORK):
            return f"uses the network ({event} {args[1:2]!r:.60})" if event.startswith("socket") else \
                f"uses the network ({event})"
        if event.startswith(_PROCESS):
            return f"starts a process ({event})"
        if event.startswith(_FILES):
            return f"changes files ({event} {str(args[:1])[:80]})"
        if event == "open":
            path, mode, flags = (args + (None, None, None))[:3]
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                     (isinstance(flags, int) and flags & _WRITE_FLAGS)
            if writes:
                return f"writes a file ({path!s:.80})"
        return None

    def hook(self, event: str, args: tuple) -> None:
        if not self.active:
            return
        problem = self._problem(event, args)
        if problem is None:
            return
        where = ""
        for frame in traceback.extract_stack():
            shown = self.user_files.get(Path(frame.filename).resolve())
            if shown:
                where = f"{shown}:{frame.lineno}"
        self.blocked.append((problem, where))
        raise IOBlocked(f"predict() must not do I/O: it {problem}")

    def install(self) -> None:
        sys.addaudithook(self.hook)

    @contextmanager
    def on(self) -> Iterator[None]:
        self.active = True
        try:
            yield
        finally:
            self.active = False
