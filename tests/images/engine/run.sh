#!/usr/bin/env bash
# make images-test: build the three app images with a real engine, then run each against the local
# twin (tests/images/engine/test_built_images.py). Steps, each timed:
#   1. an engine: a running dockerd, else (as root) Debian's docker.io installed and dockerd started;
#   2. the base images: the real ones when present or pullable, else stand-ins built from Debian's
#      packages (mmdebstrap), passed through each Dockerfile's ARG BASE_IMAGE (docs/docker.md);
#   3. docker build of apps/{worker,dashboard,predictor}/Dockerfile with apps/ as the context;
#   4. the containers run: worker drains a job, predictor answers via awslambdaric, dashboard /health.
# Where no engine can start it says why in one line; with IMAGES_OPTIONAL=1 (CI) that is exit 0.
set -euo pipefail
cd "$(dirname "$0")/../../.."

PY=${PY:-.venv/bin/python}
DOCKER=${DOCKER:-docker}
TAG=${IMAGES_TEST_TAG:-images-test}
WORK=${IMAGES_TEST_DIR:-/tmp/ml-proto-images-test}
# The real bases: each Dockerfile's ARG BASE_IMAGE default (the dashboard's is the worker's).
PYTHON_BASE=$(sed -n 's/^ARG BASE_IMAGE=//p' apps/worker/Dockerfile)
LAMBDA_BASE=$(sed -n 's/^ARG BASE_IMAGE=//p' apps/predictor/Dockerfile)
PYTHON_STAND_IN=ml-proto-python-stand-in:bookworm
LAMBDA_STAND_IN=ml-proto-lambda-stand-in:bookworm
mkdir -p "$WORK"

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f s", b - a }'; }
cannot() {
  echo "make images-test: not run: $*"
  [ "${IMAGES_OPTIONAL:-0}" = 1 ] && exit 0
  exit 1
}

# 1. The engine.
t=$(now)
if ! $DOCKER info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || cannot "no Docker engine here, and installing docker.io needs root and apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null; } \
      || cannot "apt-get could not install docker.io"
  fi
  [ "$(id -u)" = 0 ] || cannot "dockerd is installed but not running, and starting it needs root"
  setsid dockerd --storage-driver overlay2 --pidfile "$WORK/dockerd.pid" >"$WORK/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 60); do $DOCKER info >/dev/null 2>&1 && break; sleep 1; done
  $DOCKER info >/dev/null 2>&1 || cannot "dockerd did not start: $(tail -n 1 "$WORK/dockerd.log")"
  echo "engine: started dockerd (overlay2, log $WORK/dockerd.log) in $(took "$t")"
else
  echo "engine: $($DOCKER version --format 'Docker {{.Server.Version}}') already running"
fi

# BuildKit reads each Dockerfile's own .dockerignore; without buildx the classic builder reads
# only apps/.dockerignore (docs/docker.md).
if $DOCKER buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=1; else export DOCKER_BUILDKIT=0; fi

# 2. The bases: real when present or pullable, else stand-ins from Debian's packages.
have() { $DOCKER image inspect "$1" >/dev/null 2>&1 || timeout 20 $DOCKER pull -q "$1" >/dev/null 2>&1; }
python_base=$PYTHON_BASE lambda_base=$LAMBDA_BASE
if ! have "$PYTHON_BASE" || ! have "$LAMBDA_BASE"; then
  if ! $DOCKER image inspect "$PYTHON_STAND_IN" "$LAMBDA_STAND_IN" >/dev/null 2>&1; then
    t=$(now)
    command -v mmdebstrap >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq mmdebstrap >/dev/null; } \
      || cannot "no registry reachable for the base images, and mmdebstrap (to build stand-ins) is not installed"
    rm -f "$WORK/debian.tar"
    mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$WORK/debian.tar"
    $DOCKER import "$WORK/debian.tar" ml-proto-debian-root:bookworm >/dev/null
    echo "bases: Debian bookworm root file system (mmdebstrap, docker import) in $(took "$t")"
    t=$(now)
    context="$WORK/stand-in-context"
    rm -rf "$context" && mkdir -p "$context"
    cp /etc/ssl/certs/ca-certificates.crt "$context/"  # pip inside a build trusts what this machine trusts
    cp tests/images/engine/awslambdaric.txt "$context/"
    $DOCKER build -q --network host -f tests/images/engine/python-base.Dockerfile -t "$PYTHON_STAND_IN" "$context" >>"$WORK/stand-ins.log" 2>&1
    $DOCKER build -q --network host -f tests/images/engine/lambda-base.Dockerfile -t "$LAMBDA_STAND_IN" "$context" >>"$WORK/stand-ins.log" 2>&1
    echo "bases: stand-ins $PYTHON_STAND_IN and $LAMBDA_STAND_IN built in $(took "$t")"
  fi
  python_base=$PYTHON_STAND_IN lambda_base=$LAMBDA_STAND_IN
  echo "bases: $PYTHON_BASE / $LAMBDA_BASE cannot be pulled here: building on the stand-ins (Python 3.11, docs/twin.md)"
fi

# 3. The images, exactly as make docker-build does, but on the chosen bases.
for app in worker dashboard predictor; do
  t=$(now)
  base=$python_base
  [ "$app" = predictor ] && base=$lambda_base
  if ! $DOCKER build --network host --build-arg "BASE_IMAGE=$base" -f "apps/$app/Dockerfile" \
      -t "ml-proto-$app:$TAG" apps >"$WORK/build-$app.log" 2>&1; then
    tail -n 30 "$WORK/build-$app.log"
    echo "make images-test: docker build of apps/$app/Dockerfile failed (log $WORK/build-$app.log)" >&2
    exit 1
  fi
  size=$($DOCKER image inspect -f '{{.Size}}' "ml-proto-$app:$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }')
  echo "build: ml-proto-$app:$TAG on $base in $(took "$t") ($size)"
done

# 4. The containers against the local twin.
t=$(now)
IMAGES_TEST_TAG=$TAG DOCKER=$DOCKER $PY -m pytest tests/images/engine -p no:cacheprovider -q -s \
  --durations=0 --durations-min=1
echo "run: the three containers against the local twin in $(took "$t")"
