"""The predictor's Dockerfile (no Docker engine here: check its shape; tests/images lints it)."""

from __future__ import annotations

import ast
import re

from bench.image_sizes import requirement_lines
from tests.images.context import Dockerfile
from tests.predictor.lambda_support import APPS

DOCKERFILE = APPS / "predictor" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    return [(step.keyword, step.args) for step in Dockerfile(DOCKERFILE).instructions]


def test_lambda_base_image_dependencies_before_code_model_trained_at_build():
    steps = instructions()
    assert Dockerfile(DOCKERFILE).base_image() == "public.ecr.aws/lambda/python:3.12"
    steps = steps[next(i for i, (k, _) in enumerate(steps) if k == "FROM"):]
    kinds = [kind for kind, _ in steps]
    install = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "pip install" in a)
    copies = [i for i, (k, a) in enumerate(steps) if k == "COPY" and "requirements" not in a]
    train = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "python -m predictor.artifact" in a)
    assert "requirements.txt" in steps[install - 1][1] and install < min(copies) < train
    assert {a.split()[0] for k, a in steps if k == "COPY"} >= {"jobkit/", "predictor/"}
    assert kinds[-1] == "CMD" and steps[-1][1] == '["predictor.handler.handler"]'


def test_the_cmd_names_a_real_handler_and_requirements_are_pinned():
    # checked without importing: importing the handler runs the instance's init in this process
    tree = ast.parse((APPS / "predictor" / "handler.py").read_text())
    assert "handler" in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    requirements = requirement_lines(APPS / "predictor" / "requirements.txt")
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][^\s]*", line) for line in requirements), requirements
    assert "scikit-learn==1.9.1" in requirements


def test_the_build_context_sends_only_the_predictor_and_the_contract():
    ignore = (APPS / "predictor" / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*"
    assert {"!jobkit", "!predictor"} <= set(rules)
    assert "predictor/artifacts/*.pkl" in rules


def test_everything_the_build_writes_or_copies_is_readable_by_lambdas_user():
    # Lambda runs the image's code as a non-root user: a checkout made under umask 077 would copy
    # in 0600 files, so once the model is trained the build opens the code and artifacts to every user.
    steps = instructions()
    train = steps.index(("RUN", "python -m predictor.artifact"))
    assert steps[train + 1] == ("RUN", "chmod -R a+rX jobkit predictor")
    assert train > max(i for i, (k, _) in enumerate(steps) if k == "COPY")
