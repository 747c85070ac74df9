"""Where the trained model lives: load the cached artifact, or train it once and cache it.

An artifact is named after the model's MODEL_VERSION and a digest of what its training depends on
(predictor.training_key: train()'s own source and the helpers, constants, local modules and files
it reaches, not predict()), so an edit that may change the trained model (locally) trains a fresh
one once and never serves a stale one, and an edit of predict() alone reuses the artifact. The
image runs `python -m predictor.artifact` at build time, so Lambda only ever loads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from predictor.training_key import training_digest

log = logging.getLogger("predictor.artifact")

ARTIFACT_MODE = 0o644  # world-readable: Lambda runs the function as a user other than the build's
FOLDER_MODE = 0o755


@dataclass(frozen=True)
class Loaded:
    """A model ready to predict, where it came from, and whether it was trained just now."""

    model: Any
    path: Path
    trained: bool


def artifact_path(model_module: ModuleType, model_dir: Path) -> Path:
    """The file the model trained from this version and these training inputs is cached in."""
    digest = training_digest(model_module)[:12]
    version = re.sub(r"[^A-Za-z0-9._-]", "_", str(model_module.MODEL_VERSION))[:80]
    return model_dir / f"{version}-{digest}.pkl"


def train_and_save(model_module: ModuleType, path: Path) -> Any:
    """Train the model and write it to `path` atomically (concurrent instances cannot clash), readable
    by every user; if the folder is read-only (a Lambda without a built artifact) keep it in memory only.

    The temporary file (`.tmp-*` beside `path`) exists for the whole training: whoever builds the
    image can see that a retrain is under way (the local Lambda keeps the old code answering then)."""
    tmp = _open_temporary(path)
    try:
        started = time.perf_counter()
        model = model_module.train()
        train_ms = round((time.perf_counter() - started) * 1000, 1)
        if tmp is None:
            log.warning("model trained but not cached", extra={"artifact": str(path), "train_ms": train_ms,
                                                               "error": f"cannot write into {path.parent}"})
            return model
        try:
            with tmp:
                pickle.dump(model, tmp, protocol=pickle.HIGHEST_PROTOCOL)
            # NamedTemporaryFile makes 0600 files; the image build runs as root but Lambda runs the
            # code as another user, who must be able to read the artifact.
            os.chmod(tmp.name, ARTIFACT_MODE)
            os.replace(tmp.name, path)
            log.info("model trained and cached", extra={"artifact": str(path), "train_ms": train_ms})
        except OSError as error:
            log.warning("model trained but not cached",
                        extra={"artifact": str(path), "train_ms": train_ms, "error": str(error)})
        return model
    finally:
        if tmp is not None:
            tmp.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp.name)


def _open_temporary(path: Path) -> IO[bytes] | None:
    """A new temporary file beside `path`, or None where that folder cannot be written."""
    try:
        _make_readable_folder(path.parent)
        return tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False)  # noqa: SIM115
    except OSError:
        return None


def _make_readable_folder(folder: Path) -> None:
    """Create `folder` (and parents) if missing; whatever the umask, a folder made here is 0755."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, FOLDER_MODE)


def load_or_train(model_module: ModuleType, model_dir: Path) -> Loaded:
    """The cached model for this version and source; trained (and cached) first if missing."""
    path = artifact_path(model_module, model_dir)
    if path.exists():
        with path.open("rb") as file:
            # Only artifacts this module wrote into MODEL_DIR (or the image build did) are read.
            return Loaded(pickle.load(file), path, trained=False)  # noqa: S301
    log.info("no model artifact for this version; training it once", extra={"artifact": str(path)})
    return Loaded(train_and_save(model_module, path), path, trained=True)


def main() -> int:
    """Build step: train the model into MODEL_DIR (or next to the code) and print the path; an
    artifact already there for this version and source is kept (a rebuild with a cache)."""
    from jobkit import logs

    from predictor import model
    from predictor.settings import PredictorSettings

    settings = PredictorSettings.from_env()
    logs.configure("predictor-build", settings.log_level)
    path = artifact_path(model, settings.model_dir)
    if not path.exists():
        train_and_save(model, path)
    if not path.exists():
        print(f"Could not write the model artifact to {path}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
