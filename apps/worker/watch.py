"""Notice edits to the worker's own code, so `--watch` can restart itself between jobs."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from pathlib import Path

import jobkit

Snapshot = dict[str, tuple[int, int]]


class CodeWatcher:
    """Remembers the size and mtime of every .py file under some folders (and some single files)."""

    def __init__(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        self.paths = [Path(p) for p in paths]
        self._snapshot = self._scan()

    def _scan(self) -> Snapshot:
        snapshot: Snapshot = {}
        for path in self.paths:
            files = path.rglob("*.py") if path.is_dir() else [path]
            for file in files:
                try:
                    stat = file.stat()
                except OSError:
                    continue  # deleted under us: the next scan sees it gone
                snapshot[str(file)] = (stat.st_mtime_ns, stat.st_size)
        return snapshot

    def changed(self) -> list[str]:
        """The files added, removed or modified since the watcher was made (empty if none)."""
        now = self._scan()
        return sorted(name for name in now.keys() | self._snapshot.keys() if now.get(name) != self._snapshot.get(name))


def code_paths(algorithm_module: str) -> list[str]:
    """What a worker running `algorithm_module` should watch: the worker and jobkit packages and
    the algorithm's own file (found even when it cannot be imported, e.g. a syntax error)."""
    paths = [os.path.dirname(__file__), os.path.dirname(jobkit.__file__)]
    try:
        spec = importlib.util.find_spec(algorithm_module)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin and spec.origin.endswith(".py"):
        paths.append(spec.origin)
    return paths
