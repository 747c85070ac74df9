# Docker targets for people who have a Docker engine (the Makefile includes this file).
# Each app builds with apps/ as its context and apps/<app>/Dockerfile, exactly as `pulumi up`
# does; docs/docker.md explains the targets and docker-compose.yml.
#
#   make docker-build                      all three images, tagged ml-proto-<app>:dev
#   make docker-run-predictor              the Lambda image under the Runtime Interface Emulator
#   make docker-up DASHBOARD_LOGINS='{"demo": "pick-a-password"}'   the whole stack (compose)

DOCKER ?= docker
COMPOSE ?= $(DOCKER) compose
DOCKER_APPS := dashboard predictor worker
IMAGE_PREFIX ?= ml-proto
IMAGE_TAG ?= dev
# Empty builds for this machine's CPU; set linux/amd64 or linux/arm64 to build what the
# stack's `platform` config ships (an arm64 laptop otherwise builds images Fargate can't run).
DOCKER_PLATFORM ?=
PREDICTOR_PORT ?= 9000

DOCKER_BUILD_TARGETS := $(addprefix docker-build-,$(DOCKER_APPS))
DOCKER_COMPOSE_TARGETS := docker-run-dashboard docker-run-worker docker-up docker-down

# compose reads the image tag and the dashboard's logins from its environment; exported rather
# than written on the command line, so make never echoes the password.
$(DOCKER_COMPOSE_TARGETS): export IMAGE_TAG := $(IMAGE_TAG)
$(DOCKER_COMPOSE_TARGETS): export DASHBOARD_LOGINS := $(DASHBOARD_LOGINS)

.PHONY: docker-help docker-build $(DOCKER_BUILD_TARGETS) docker-run-predictor docker-run-dashboard \
        docker-run-worker docker-up docker-down images-test

docker-help:
	@echo "make docker-build            build ml-proto-{dashboard,predictor,worker}:$(IMAGE_TAG) (apps/ is the context)"
	@echo "make docker-build-<app>      build one image"
	@echo "make docker-run-predictor    the predictor under the Lambda emulator on port $(PREDICTOR_PORT)"
	@echo "make docker-run-dashboard    the dashboard on :8050 with moto, the table and the predictor (compose)"
	@echo "make docker-run-worker       one draining worker against compose's moto"
	@echo "make docker-up / docker-down the whole local stack in containers (docker-compose.yml)"
	@echo "make images-test             build the three images and run each against the local twin (timed)"

docker-build: $(DOCKER_BUILD_TARGETS)

$(DOCKER_BUILD_TARGETS): docker-build-%:
	$(DOCKER) build $(if $(DOCKER_PLATFORM),--platform $(DOCKER_PLATFORM) )-f apps/$*/Dockerfile -t $(IMAGE_PREFIX)-$*:$(IMAGE_TAG) apps

docker-run-predictor: docker-build-predictor
	@echo "The predictor answers Lambda Invoke on port $(PREDICTOR_PORT) (Ctrl-C stops it). Try:"
	@echo "  curl -XPOST localhost:$(PREDICTOR_PORT)/2015-03-31/functions/function/invocations -d '{\"action\":\"describe\"}'"
	$(DOCKER) run --rm -p $(PREDICTOR_PORT):8080 $(IMAGE_PREFIX)-predictor:$(IMAGE_TAG)

# The dashboard and the worker need a job store: compose brings moto and creates the table first.
docker-run-dashboard: docker-build-dashboard
	$(COMPOSE) up dashboard

docker-run-worker: docker-build-worker
	$(COMPOSE) up worker

docker-up: docker-build
	$(COMPOSE) up

docker-down:
	$(COMPOSE) down --volumes

# The images built by a real engine (started here when root can) on the real bases, or on stand-ins
# built from Debian's packages where no registry is reachable, then run against the local twin:
# the worker drains a job, the predictor answers through awslambdaric, the dashboard's /health.
images-test: venv
	PY=$(PY) DOCKER=$(DOCKER) bash tests/images/engine/run.sh
