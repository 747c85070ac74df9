"""Typed settings for the predictor, read once per instance from the environment, written by `to_env()`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Next to the code: the image trains the model here at build time, so the artifact ships with it.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "artifacts"


@dataclass(frozen=True)
class PredictorSettings:
    """Where the model artifact lives, how much to log, and how large an inputs object may be."""

    model_dir: Path = DEFAULT_MODEL_DIR
    log_level: str = "INFO"
    max_fields: int = 100
    max_string_bytes: int = 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> PredictorSettings:
        """Read MODEL_DIR and LOG_LEVEL (both optional)."""
        return cls(
            model_dir=Path(environ.get("MODEL_DIR") or DEFAULT_MODEL_DIR),
            log_level=(environ.get("LOG_LEVEL") or "INFO").upper(),
        )

    def to_env(self) -> dict[str, str]:
        """The variables `from_env` reads, holding these settings: from_env(s.to_env()) == s.

        MODEL_DIR is written only when it is not the folder next to the code: a path on the machine
        that runs Pulumi means nothing inside the image.
        """
        env = {"LOG_LEVEL": self.log_level}
        if self.model_dir != DEFAULT_MODEL_DIR:
            env["MODEL_DIR"] = str(self.model_dir)
        return env
