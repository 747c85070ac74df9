# ml-proto: `make dev` runs the whole prototype on this machine; `make test` proves it.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
REQUIREMENTS := requirements.txt requirements-dev.txt pyproject.toml $(wildcard apps/*/requirements.txt)
# Each app's lock (make lock writes it from requirements.in); the dev venv installs all three.
APP_LOCKS := apps/dashboard/requirements.txt apps/predictor/requirements.txt apps/worker/requirements.txt

STACK ?= dev

.PHONY: help venv dev dev-reset test test-fast check lint lock bench profile browser clean up down preflight cloud-test cost

# Docker targets for users who have a Docker engine (build, run under the Lambda emulator, compose).
-include docker.mk

help:
	@echo "make dev    run dashboard, predictor, worker launcher and local AWS on this machine"
	@echo "make dev-reset  forget the local jobs, results and feedback that make dev keeps"
	@echo "make test   install what the tests need and run them all"
	@echo "make check  the contract kit: does model.py / algorithm.py honour the framework's contracts?"
	@echo "            (another pair: make check CHECK_ARGS=\"--model M.py --algorithm A.py\")"
	@echo "make bench  measure the local stack and rewrite BENCHMARKS.md"
	@echo "make profile  where a loaded request's time goes (py-spy), into BENCHMARKS.md"
	@echo "make lint   ruff over the whole tree"
	@echo "make lock   pin each app's requirements.in into its requirements.txt, with hashes (README: Add a dependency)"
	@echo "make up STACK=dev     pre-flight checks, then pulumi up of the stack (make down: pulumi destroy)"
	@echo "make cost STACK=dev   monthly idle cost of the stack, resource by resource, and the cost per use"
	@echo "make cloud-test       deploy a throwaway stack, smoke-test it, destroy it (needs an AWS account)"
	@echo "make docker-help   build and run the images, for those with a Docker engine"

# The apps' locks first, hash-checked as the images install them (pip checks hashes for a whole
# run or none, so the dev tools, unhashed, come in a second run).
$(STAMP): $(REQUIREMENTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes $(addprefix -r ,$(APP_LOCKS))
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

dev: venv
	$(PY) -m devstack

# `make dev` keeps jobs, results and feedback in moto's request recording; this forgets them.
dev-reset:
	rm -f $${DEVSTACK_DIR:-.devstack}/aws-recording.jsonl
	@echo "Local state forgotten: the next make dev starts with no jobs, results or feedback."

# Browser tests drive Debian's chromium; install it when we may (root), else say how.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "Browser tests need chromium and chromedriver: sudo apt-get install chromium chromium-driver" >&2; exit 1; \
	  fi; }

# pytest exits 5 when it collected no tests: a broken collection, never a pass.
test: venv browser
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure" >&2; fi; \
	exit $$status

test-fast: venv
	$(PY) -m pytest -m "not browser and not slow" $(PYTEST_ARGS)

# The contract kit (contractkit/) against whatever model.py and algorithm.py are there (or CHECK_ARGS's).
check: venv
	$(PY) -m contractkit $(CHECK_ARGS)

# Each app's requirements.in resolved into its requirements.txt, every package pinned with its
# hashes (uv, pinned in requirements-dev.txt; only PyPI is asked). A version a lock already pins
# stays unless LOCK_ARGS says otherwise: make lock LOCK_ARGS=--upgrade (or --upgrade-package NAME).
# The images run Python 3.12 on Linux; the GPU lock is held to the worker's pins, for x86_64.
# (tests/images/engine/awslambdaric.txt is the Lambda stand-in base's, for Debian's Python 3.11.)
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --no-config --system-certs --generate-hashes \
  --default-index https://pypi.org/simple --custom-compile-command "make lock" $(LOCK_ARGS)

lock: venv
	@for app in dashboard predictor worker; do \
	  $(UV_COMPILE) --python-version 3.12 --python-platform linux apps/$$app/requirements.in \
	    -o apps/$$app/requirements.txt || exit 1; \
	  echo "apps/$$app/requirements.txt: $$(grep -c '^[A-Za-z0-9]' apps/$$app/requirements.txt) packages pinned"; \
	done
	@$(UV_COMPILE) --python-version 3.12 --python-platform x86_64-manylinux_2_28 -c apps/worker/requirements.txt \
	  apps/worker/requirements-gpu.in -o apps/worker/requirements-gpu.txt
	@echo "apps/worker/requirements-gpu.txt: $$(grep -c '^[A-Za-z0-9]' apps/worker/requirements-gpu.txt) packages pinned"
	@$(UV_COMPILE) --python-version 3.11 --python-platform linux tests/images/engine/awslambdaric.in \
	  -o tests/images/engine/awslambdaric.txt

lint: venv
	$(VENV)/bin/ruff check .

bench: venv
	$(PY) -m bench

# Where a loaded request's time goes: the load section under py-spy, PROFILE_REFERENCE first.
PROFILE_REFERENCE ?= main
profile: venv
	$(PY) -m bench.profile --reference $(PROFILE_REFERENCE) --write BENCHMARKS.md

# The cloud (deploy/): each target first checks the Pulumi CLI, Docker with buildx and AWS credentials.
up: venv
	$(PY) -m deploy up --stack $(STACK)

down: venv
	$(PY) -m deploy down --stack $(STACK)

# COST_ARGS prices the stack as if keys were set: make cost COST_ARGS="--set workerCompute=gpu --set workerGpus=1"
cost: venv
	$(PY) -m deploy.cost --stack $(STACK) $(COST_ARGS)

preflight: venv
	$(PY) -m deploy preflight --stack $(STACK)

cloud-test: venv
	$(PY) -m deploy cloud-test

clean:
	rm -rf $(VENV) .devstack .pytest_cache .hypothesis
