#!/usr/bin/env bash
# linux/arm64 images under QEMU, as CI builds and checks them (amd64 is scripts/ci-containers.sh):
#   1. the arm64 base images (scripts/bootstrap-base-images.sh --arch arm64; cached rootfs after the first run)
#   2. itsctl build --platform linux/arm64 for the targets (default: edge, the image that runs on arm64
#      devices next to a camera): build stages run natively, only the runtime images' apt steps are
#      emulated (docker/Dockerfile). `--targets "production edge"` adds production, whose emulated apt
#      step (Debian's ffmpeg) alone takes about 7 minutes on our 2-core machine: a release builds it
#      (.github/workflows/docker-cicd.yml, both platforms); .ci/run keeps to edge to stay under 45 min.
#   3. each image's structure tests (the same configs as amd64, run emulated), plus: it is an aarch64
#      image with Node 24
# The detector check in the arm64 edge image and the two-platform index are integration tests
# (packages/delivery/src/commands/build/multi-arch.int.test.ts) that `npm test` runs on these images.
# Needs qemu-user-static + binfmt-support with qemu-aarch64 enabled (scripts/setup.sh test-tools).
#   --targets "a b"   build and test these targets (default: edge; "production edge" for both)
set -euo pipefail

cd "$(dirname "$0")/.."
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=docker
TARGETS="edge"
REPORTS="reports/containers"
while [ $# -gt 0 ]; do
  case "$1" in
    --targets) [ $# -ge 2 ] || { echo "ci-arm64: --targets needs a list" >&2; exit 2; }; shift; TARGETS="$1" ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "ci-arm64: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

started=$(date +%s)
step() { printf '\n==> [%3ss] %s\n' "$(($(date +%s) - started))" "$*"; }
die() { printf 'ci-arm64: FAILED: %s\n' "$*" >&2; exit 1; }
itsctl() { node packages/delivery/bin/itsctl.js "$@"; }

step "arm64 base images"
scripts/bootstrap-base-images.sh --arch arm64

step "Build linux/arm64: $TARGETS"
args=()
for t in $TARGETS; do args+=(--target "$t"); done
itsctl build "${args[@]}" --platform linux/arm64 --version "$(node -p 'require("./package.json").version')" \
  --revision "$(git rev-parse HEAD 2>/dev/null || echo unknown)" || die "itsctl build --platform linux/arm64 failed"

step "Structure tests (emulated)"
mkdir -p "$REPORTS"
for t in $TARGETS; do
  image="its-camera-ai:$t-arm64"
  platform="$("$DOCKER" image inspect --format '{{.Os}}/{{.Architecture}}' "$image")"
  [ "$platform" = linux/arm64 ] || die "$image is $platform, not linux/arm64"
  itsctl structure-test --image "$image" --config "docker/structure-tests/$t.yaml" --junit "$REPORTS/structure-$t-arm64.xml" \
    || die "structure tests failed for $image"
  echo "$image: linux/arm64, $("$DOCKER" image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
done
step "arm64 images OK"
