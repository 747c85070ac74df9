"""A bench-only model whose training takes about TRAIN_SECONDS of CPU: benchmark 10 saves edits of it.

It obeys apps/predictor/model.py's contract with no dependency. train() fits a line by gradient
descent for TRAIN_SECONDS (wall clock) and records TRAINING_TAG in the model; predict() adds
ANSWER_TAG to its label. The benchmark edits ANSWER_TAG (used by predict() alone: no retrain) and
TRAINING_TAG (used by train(): a retrain), and tells the answers of the two versions apart by them.
"""

from __future__ import annotations

import time
from typing import Any

from predictor.interface import Answer, Number

MODEL_VERSION = "bench-slow-1"
TITLE = "Bench: a model that trains for seconds"
DESCRIPTION = "Fits y = a x + b to a small synthetic table by gradient descent, for a fixed time."

INPUTS = [Number("x", "x", min=0.0, max=10.0, step=0.5, default=2.0)]
OUTPUT = {"name": "y", "label": "y", "kind": "number"}

TRAIN_SECONDS = 5.0
TRAINING_TAG = "training-0"
ANSWER_TAG = "answer-0"
POINTS = [(x / 10, 3.0 * x / 10 + 1.0) for x in range(100)]


def train() -> dict[str, Any]:
    """Gradient descent on the squared error until TRAIN_SECONDS have passed."""
    a = b = 0.0
    steps = 0
    deadline = time.perf_counter() + TRAIN_SECONDS
    while time.perf_counter() < deadline:
        grad_a = sum((a * x + b - y) * x for x, y in POINTS) / len(POINTS)
        grad_b = sum(a * x + b - y for x, y in POINTS) / len(POINTS)
        a, b = a - 0.05 * grad_a, b - 0.05 * grad_b
        steps += 1
    return {"a": a, "b": b, "steps": steps, "tag": TRAINING_TAG}


def predict(model: dict[str, Any], record: dict[str, Any]) -> Answer:
    value = model["a"] * record["x"] + model["b"]
    return Answer(label=f"y = {value:.3f} ({ANSWER_TAG})", value=value,
                  details={"training_tag": model["tag"], "answer_tag": ANSWER_TAG})
