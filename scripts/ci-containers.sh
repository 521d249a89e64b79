#!/usr/bin/env bash
# Containers end to end, as CI runs them on a fresh Debian 12 machine (root, no registry access):
#   1. install Docker Engine, docker-compose and debootstrap when missing; start dockerd when it is not up
#   2. bootstrap the two base images (debian:bookworm-slim, node:20-bookworm-slim)
#   3. build the five targets (itsctl build) and run each target's structure tests
#   4. compose up -d (docker compose v2, else docker-compose v1), check /health through 127.0.0.1:${API_PORT:-8000}, tear the stack down
# Exits non-zero on the first failure, printing what failed. Options:
#   --skip-build   reuse the images already built (structure tests and compose only)
#   --targets "a b"  build and test only these targets (default: all five)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
DOCKER=/usr/bin/docker
TARGETS="development testing production gpu-production edge"
SKIP_BUILD=0
API_PORT="${API_PORT:-8000}"
export API_PORT
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-its-ci}"
# The compose file has no default admin token on purpose; CI uses a throw-away one per run.
ADMIN_TOKEN="${ADMIN_TOKEN:-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')}"
export ADMIN_TOKEN
REPORTS="$ROOT/reports/containers"

while [ $# -gt 0 ]; do
  case "$1" in
    --skip-build) SKIP_BUILD=1 ;;
    --targets) shift; TARGETS="$1" ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "ci-containers: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

started=$(date +%s)
step() { printf '\n==> [%3ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
die() { printf 'ci-containers: FAILED: %s\n' "$*" >&2; exit 1; }

step "Docker Engine"
# The same setup as npm test and deploy.sh: Debian's docker.io when no engine is there, dockerd started
# when it is not running, debootstrap, and docker-compose when no Compose works.
scripts/setup.sh docker compose || die "could not set up Docker (see above)"
# `compose`: Compose v2 (`docker compose`) when it works, else v1 (`docker-compose`) (scripts/lib/compose.sh).
. scripts/lib/compose.sh
compose_version="$(compose_describe)" || die "no Docker Compose (see above)"
echo "engine $("$DOCKER" version --format '{{.Server.Version}}'), compose: $compose_version"

step "Base images"
scripts/bootstrap-base-images.sh

itsctl() { node packages/delivery/bin/itsctl.js "$@"; }

if [ "$SKIP_BUILD" = 0 ]; then
  step "Build: $TARGETS"
  args=()
  for t in $TARGETS; do args+=(--target "$t"); done
  itsctl build "${args[@]}" --version "$(node -p 'require("./package.json").version')" --revision "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    || die "itsctl build failed"
fi

step "Structure tests"
mkdir -p "$REPORTS"
for t in $TARGETS; do
  itsctl structure-test --image "its-camera-ai:$t" --config "docker/structure-tests/$t.yaml" --junit "$REPORTS/structure-$t.xml" \
    || die "structure tests failed for $t"
done

step "Service images"
for s in postgres redis; do
  DOCKER_BUILDKIT=1 "$DOCKER" build -q -t "its-camera-ai/$s:latest" "docker/$s" >/dev/null || die "building docker/$s failed"
  echo "its-camera-ai/$s:latest"
done

step "Compose stack (project $COMPOSE_PROJECT_NAME, api on 127.0.0.1:$API_PORT)"
teardown() { compose down -v --remove-orphans -t 10 >/dev/null 2>&1 || true; }
trap teardown EXIT
compose up -d || { compose logs --tail 50; die "compose up failed"; }
ok=0
for _ in $(seq 1 90); do
  if body="$(curl -fsS "http://127.0.0.1:$API_PORT/health" 2>/dev/null)"; then ok=1; break; fi
  sleep 1
done
[ "$ok" = 1 ] || { compose ps; compose logs --tail 50 api; die "/health never answered on 127.0.0.1:$API_PORT"; }
echo "GET /health → $body"
case "$body" in *'"status":"ok"'*) ;; *) die "/health answered without status ok: $body" ;; esac
compose ps

step "Tear down"
teardown
trap - EXIT
step "containers OK"
