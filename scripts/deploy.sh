#!/usr/bin/env bash
# Deploy ITS Camera AI: the founding document's entry point, forwarding to `npx itsctl deploy`.
#
#   ./scripts/deploy.sh -e <env> [-v <version>] [-s rolling|blue-green|canary] [--rollback] [--dry-run]
#
# For development (local images, no registry) it first makes sure what the deployment needs exists on
# this machine: the two base images, the router image and the product image, building what is missing.
# Then it deploys and prints the URLs. Arguments are validated here and passed as an argument array:
# nothing is ever evaluated by a shell.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
docker_bin=/usr/bin/docker
[ -x "$docker_bin" ] || docker_bin=docker

usage() {
  cat <<'USAGE'
Usage: scripts/deploy.sh -e <env> [-v <version>] [-s <strategy>] [--rollback] [--dry-run]

  -e <env>         environment: a file in deploy/environments (development, staging, production)
  -v <version>     image version (tag); default: the environment's image.defaultVersion
  -s <strategy>    rolling | blue-green | canary; default: the environment's strategy
  --rollback       return to the previous version (blue-green: an instant traffic flip)
  --dry-run        print the exact plan and change nothing
  -h, --help       this help

Examples:
  ./scripts/deploy.sh -e development                  build if needed, deploy, print the URLs
  ./scripts/deploy.sh -e production -v 1.4.2 --dry-run
  ./scripts/deploy.sh -e production --rollback

Exit codes: 0 deployed; 1 a step or check failed (rolled back, the previous version serves);
2 bad usage or configuration. More: packages/delivery/docs/deploy.md.
USAGE
}

die() { echo "deploy.sh: $1" >&2; echo "(run scripts/deploy.sh --help for usage)" >&2; exit 2; }

env_name="" version="" strategy="" rollback=0 dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    -e) [ $# -ge 2 ] || die "-e needs an environment"; env_name="$2"; shift 2 ;;
    -v) [ $# -ge 2 ] || die "-v needs a version"; version="$2"; shift 2 ;;
    -s) [ $# -ge 2 ] || die "-s needs a strategy"; strategy="$2"; shift 2 ;;
    --rollback) rollback=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option \"$1\"" ;;
  esac
done

[ -n "$env_name" ] || die "-e <env> is required"
[[ "$env_name" =~ ^[a-z][a-z0-9-]{0,30}$ ]] || die "\"$env_name\" is not a valid environment name"
if [ -n "$version" ] && ! [[ "$version" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  die "\"$version\" is not a valid version (letters, digits, '.', '-', '_' only)"
fi
if [ -n "$strategy" ]; then
  case "$strategy" in rolling | blue-green | canary) ;; *) die "unknown strategy \"$strategy\" (rolling, blue-green, canary)" ;; esac
fi

args=(deploy -e "$env_name")
[ -n "$version" ] && args+=(-v "$version")
[ -n "$strategy" ] && args+=(-s "$strategy")
[ "$rollback" = 1 ] && args+=(--rollback)
[ "$dry_run" = 1 ] && args+=(--dry-run)

has_image() { "$docker_bin" image inspect "$1" >/dev/null 2>&1; }

# Development runs on this machine from local images: make what is missing (skipped for dry runs).
if [ "$env_name" = development ] && [ "$dry_run" = 0 ] && [ "$rollback" = 0 ] && [ -z "${ITS_DEPLOY_ENVIRONMENTS:-}" ]; then
  cd "$root"
  if ! has_image debian:bookworm-slim || ! has_image node:20-bookworm-slim; then
    echo "▸ creating the base images (scripts/bootstrap-base-images.sh)" >&2
    scripts/bootstrap-base-images.sh
  fi
  if ! has_image its-haproxy:latest; then
    echo "▸ building the router image its-haproxy:latest (docker/haproxy)" >&2
    DOCKER_BUILDKIT=1 "$docker_bin" build -q -t its-haproxy:latest docker/haproxy >/dev/null
  fi
  tag="${version:-production}"
  if ! has_image "its-camera-ai:$tag"; then
    if [ "$tag" = production ]; then
      echo "▸ building the product image its-camera-ai:production (itsctl build --target production)" >&2
      npx --no-install itsctl build --target production >&2
    else
      echo "deploy.sh: its-camera-ai:$tag is not on this machine; build or tag it first" >&2
      exit 2
    fi
  fi
fi

cd "$root"
set +e
npx --no-install itsctl "${args[@]}"
code=$?
set -e
if [ "$code" = 0 ] && [ "$dry_run" = 0 ] && [ "$env_name" = development ] && [ -z "${ITS_DEPLOY_ENVIRONMENTS:-}" ]; then
  echo "ITS Camera AI (development) is up:" >&2
  echo "  API:     http://127.0.0.1:8080  (health: http://127.0.0.1:8080/health)" >&2
  echo "  status:  npx itsctl status -e development" >&2
fi
exit "$code"
