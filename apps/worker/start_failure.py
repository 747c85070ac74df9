"""Why the batch algorithm cannot start, in the words a data scientist acts on.

`explain(error, module)` turns what loading (or running) the algorithm raised into a
`StartFailure`: the file and line, the error in one line, and the fix ("add pandas to
apps/worker/requirements.in, then make lock"). The worker logs it and publishes it to the job table
(`JobStore.publish_start_failure`), where the batch page and the `make dev` terminal read it.
"""

from __future__ import annotations

import importlib.util
import os
import traceback
from dataclasses import asdict, dataclass
from types import TracebackType

REQUIREMENTS = "apps/worker/requirements.txt"  # the lock, which `make lock` writes from:
SHORT_LIST = "apps/worker/requirements.in"
# Import names whose package on PyPI is called something else.
PACKAGE_NAMES = {"sklearn": "scikit-learn", "yaml": "PyYAML", "cv2": "opencv-python", "PIL": "Pillow",
                 "bs4": "beautifulsoup4", "dateutil": "python-dateutil", "skimage": "scikit-image"}
_OWN_PACKAGES = ("worker", "jobkit")


@dataclass(frozen=True)
class StartFailure:
    """One reason the algorithm cannot work: `kind` is "import", "syntax", "load" or "every_job"."""

    kind: str
    file: str  # as the data scientist's repository names it: apps/worker/algorithm.py
    line: int | None
    error: str  # "ModuleNotFoundError: No module named 'pandas'"
    fix: str

    def sentence(self) -> str:
        """"<error> (<file> line N). Fix: <fix>." -- one line for a terminal or a banner."""
        where = f"{self.file} line {self.line}" if self.line else self.file
        return f"{self.error} ({where}). Fix: {self.fix}."

    def to_record(self) -> dict[str, object]:
        return asdict(self)


def repo_path(path: str | None) -> str:
    """A file of the worker's image as the repository names it: .../worker/x.py -> apps/worker/x.py
    (an algorithm module from elsewhere keeps its own path)."""
    if not path:
        return "(unknown file)"
    parts = os.path.normpath(path).split(os.sep)
    for package in _OWN_PACKAGES:
        if package in parts:
            index = len(parts) - 1 - parts[::-1].index(package)
            return "/".join(["apps", *parts[index:]])
    return path


def module_file(module: str) -> str | None:
    """Where `module` would be loaded from, without importing it ("" when it cannot be found)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def _innermost(tb: TracebackType | None, prefer: str | None) -> tuple[str | None, int | None]:
    """The frame to name: the deepest one in `prefer` (the algorithm's file), else the deepest
    one that is not the import machinery or a library."""
    frames = traceback.extract_tb(tb)
    for frame in reversed(frames):
        if prefer and os.path.abspath(frame.filename) == os.path.abspath(prefer):
            return frame.filename, frame.lineno
    for frame in reversed(frames):
        if "<frozen" not in frame.filename and "site-packages" not in frame.filename:
            return frame.filename, frame.lineno
    return prefer, None


def one_line(error: BaseException) -> str:
    message = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {message}"[:300] if message else type(error).__name__


def explain(error: BaseException, module: str) -> StartFailure:
    """Why loading algorithm `module` raised `error`, and what to do about it."""
    own_file = module_file(module)
    if isinstance(error, SyntaxError):
        file = repo_path(error.filename or own_file)
        return StartFailure("syntax", file, error.lineno, one_line(error),
                            f"correct the syntax of {file} at line {error.lineno}")
    path, line = _innermost(error.__traceback__, own_file)
    file = repo_path(path)
    if isinstance(error, ModuleNotFoundError) and error.name:
        top = error.name.split(".")[0]
        if top in _OWN_PACKAGES or top == module.split(".")[0]:
            fix = f"check the import of {error.name!r} in {file}: it is not a module of the worker"
        else:
            fix = f"add {PACKAGE_NAMES.get(top, top)} to {SHORT_LIST}, then make lock"
        return StartFailure("import", file, line, one_line(error), fix)
    if isinstance(error, ImportError):
        return StartFailure("import", file, line, one_line(error),
                            f"check the import at {file} line {line} (is the package's version in "
                            f"{REQUIREMENTS} the one the code expects?)")
    return StartFailure("load", file, line, one_line(error), f"fix {file}" + (f" at line {line}" if line else ""))


def every_job(error: BaseException, module: str, attempts: int) -> StartFailure:
    """The algorithm raised `error` on `attempts` attempts in a row (of different jobs)."""
    path, line = _innermost(error.__traceback__, module_file(module))
    file = repo_path(path)
    return StartFailure("every_job", file, line, f"{one_line(error)} (the last {attempts} attempts in a row)",
                        f"fix {file}" + (f" at line {line}" if line else "") + "; failed jobs can be retried")
