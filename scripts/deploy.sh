#!/usr/bin/env bash
# Deploy ITS Camera AI: the founding document's entry point, forwarding to `npx itsctl deploy`.
#
#   ./scripts/deploy.sh -e <env> [-v <version>] [-s rolling|blue-green|canary] [--rollback] [--dry-run]
#
# For an environment of local images (development: the whole stack — API, dashboard, vision worker,
# PostgreSQL, Redis) it first builds the production image from the working tree (unless -v names a
# version) and what else is missing (base, router and accessory images), then deploys and prints the
# URLs. Arguments are validated here and passed as an argument array: nothing is ever evaluated by a shell.
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
  ./scripts/deploy.sh -e development                  build, deploy the whole stack, print the URLs
  npx itsctl teardown -e development --yes            stop it (data volumes stay)
  ./scripts/deploy.sh -e production -v 1.4.2 --dry-run
  ./scripts/deploy.sh -e production --rollback

Exit codes: 0 deployed; 1 a step or check failed (rolled back, the previous version serves);
2 bad usage or configuration. More: packages/deploy/docs/deploy.md.
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

# Set the machine up first (scripts/setup.sh, ITS_SETUP=skip opts out): node_modules from the lockfile,
# itsctl among them, and for a real deploy a running Docker Engine; a dry run changes nothing, so it
# installs no system packages.
if [ "$dry_run" = 1 ]; then "$root/scripts/setup.sh" deps; else "$root/scripts/setup.sh" deploy; fi
[ -x /usr/bin/docker ] && docker_bin=/usr/bin/docker # the setup may just have installed Debian's client
itsctl="$root/node_modules/.bin/itsctl"

has_image() { "$docker_bin" image inspect "$1" >/dev/null 2>&1; }
step() { echo "▸ $1" >&2; }

# Environments built from local images (image.source: local, e.g. development) run on this machine:
# without -v the production image is built first from the working tree (itsctl build: BuildKit with its
# layer cache, so an unchanged tree takes seconds), so a deploy always ships what is checked out. The
# router and the accessories' images (PostgreSQL, Redis) are built when missing. Dry runs and
# rollbacks build nothing. ITS_DEPLOY_ENVIRONMENTS (tests, other repositories) skips all of this.
env_file="$root/deploy/environments/$env_name.yml"
is_local=0
if [ -z "${ITS_DEPLOY_ENVIRONMENTS:-}" ] && [ -f "$env_file" ] && grep -Eq '^[[:space:]]+source:[[:space:]]*local' "$env_file"; then
  is_local=1
fi
if [ "$is_local" = 1 ] && [ "$dry_run" = 0 ] && [ "$rollback" = 0 ]; then
  cd "$root"
  if ! has_image debian:bookworm-slim || ! has_image node:24-bookworm-slim; then
    step "creating the base images (scripts/bootstrap-base-images.sh)"
    scripts/bootstrap-base-images.sh
  fi
  if ! has_image its-haproxy:latest; then
    step "building the router image its-haproxy:latest (docker/haproxy)"
    DOCKER_BUILDKIT=1 "$docker_bin" build -q -t its-haproxy:latest docker/haproxy >/dev/null
  fi
  for service in postgres redis; do
    if grep -q "image: its-camera-ai/$service:latest" "$env_file" && ! has_image "its-camera-ai/$service:latest"; then
      step "building the accessory image its-camera-ai/$service:latest (docker/$service)"
      DOCKER_BUILDKIT=1 "$docker_bin" build -q -t "its-camera-ai/$service:latest" "docker/$service" >/dev/null
    fi
  done
  if [ -z "$version" ]; then
    step "building the product image its-camera-ai:production from the working tree (itsctl build --target production)"
    started=$(date +%s)
    "$itsctl" build --target production \
      --version "$(node -p 'require("./package.json").version')" \
      --revision "$(git rev-parse HEAD 2>/dev/null || echo unknown)" >&2
    step "built in $(($(date +%s) - started)) s; deploying"
  elif ! has_image "its-camera-ai:$version"; then
    echo "deploy.sh: its-camera-ai:$version is not on this machine; build or tag it first (versions: npx itsctl deploy -e $env_name -v x)" >&2
    exit 2
  fi
fi

cd "$root"
set +e
"$itsctl" "${args[@]}"
code=$?
set -e
# itsctl's summary lists every tier's URL; say how to stop it too.
if [ "$code" = 0 ] && [ "$dry_run" = 0 ] && [ "$is_local" = 1 ]; then
  echo "  status:   npx itsctl status -e $env_name" >&2
  echo "  stop:     npx itsctl teardown -e $env_name --yes   (data volumes stay; add --volumes to delete them)" >&2
fi
exit "$code"
