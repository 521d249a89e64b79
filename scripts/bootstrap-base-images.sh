#!/usr/bin/env bash
# Create the project's only two base images locally, for machines that cannot pull from a registry:
#   debian:bookworm-slim     debootstrap --variant=minbase, trimmed, imported
#   node:24-bookworm-slim    FROM that: the official Node.js 24 LTS binary and headers from the npm
#                            registry's node-linux-<arch> package, npm from the `npm` package, user node
#                            (uid 1000), the host's CA bundle
# for the engine's own architecture, and with --arch arm64 (or amd64 on an arm64 host) for a foreign
# one, emulated through QEMU/binfmt. A foreign architecture's images are tagged with the architecture
# as a suffix (debian:bookworm-slim-arm64, node:24-bookworm-slim-arm64): Docker 20.10's image store
# keeps one image per tag, and `itsctl build --platform linux/arm64` passes these names as build args.
# Idempotent: an image that already exists (and is current) is left alone; --force rebuilds.
# The debootstrap rootfs and the Node package are cached under $ITS_BOOTSTRAP_CACHE so reruns take seconds.
# Nothing is downloaded from outside Debian's mirror and the npm registry.
set -euo pipefail

CACHE_DIR="${ITS_BOOTSTRAP_CACHE:-/var/cache/its-bootstrap}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
# The Node.js release every image ships (24 LTS; Node 20 reached end of life on 2026-04-30) and the npm
# that comes with it. Bump both here; structure tests assert the major version.
NODE_VERSION="${ITS_NODE_VERSION:-24.22.3}"
NPM_VERSION="${ITS_NPM_VERSION:-11.21.2}"
NODE_MAJOR="${NODE_VERSION%%.*}"
FORCE=0
ARCHES=()

# Debian's client: a newer docker earlier on PATH may lack buildx, which DOCKER_BUILDKIT=1 needs.
DOCKER="${DOCKER:-/usr/bin/docker}"
[ -x "$DOCKER" ] || DOCKER="$(command -v docker || true)"

usage() {
  cat <<USAGE
Usage: scripts/bootstrap-base-images.sh [--arch amd64|arm64]… [--force]
Creates debian:bookworm-slim and node:$NODE_MAJOR-bookworm-slim in the local Docker Engine when they
are missing (Node $NODE_VERSION, npm $NPM_VERSION).
  --arch A   an architecture to create them for; repeatable (default: the engine's own). A foreign
             one needs QEMU (apt-get install -y qemu-user-static binfmt-support) and is tagged with
             the architecture as a suffix, e.g. node:$NODE_MAJOR-bookworm-slim-arm64
  --force    rebuild the images even if they exist (the cached rootfs and Node package are reused)
Environment: ITS_BOOTSTRAP_CACHE (default /var/cache/its-bootstrap), DEBIAN_MIRROR, DOCKER,
ITS_NODE_VERSION, ITS_NPM_VERSION.
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --arch)
      [ $# -ge 2 ] || { echo "bootstrap: --arch needs amd64 or arm64" >&2; exit 2; }
      case "$2" in amd64 | arm64) ARCHES+=("$2") ;; *) echo "bootstrap: --arch: unknown architecture '$2' (amd64, arm64)" >&2; exit 2 ;; esac
      shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bootstrap: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

[ -n "$DOCKER" ] || die "no docker client found; install it with: apt-get install -y docker.io"
"$DOCKER" info >/dev/null 2>&1 || die "Docker Engine is not reachable on /var/run/docker.sock; start it with: dockerd > /var/log/dockerd.log 2>&1 &"

image_exists() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

build_rootfs_tarball() {
  local tarball="$1" arch="$2"
  command -v debootstrap >/dev/null 2>&1 || {
    [ "$(id -u)" = 0 ] || die "debootstrap is missing; run as root or: sudo apt-get install -y debootstrap"
    say "installing debootstrap (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
  }
  [ "$(id -u)" = 0 ] || die "debootstrap needs root"
  local rootfs
  rootfs="$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: the trap must remove this very directory
  trap "rm -rf '$rootfs'" EXIT
  if [ "$arch" = "$NATIVE_ARCH" ]; then
    say "debootstrap --variant=minbase --arch=$arch $SUITE from $MIRROR (about a minute)"
  else
    say "debootstrap --variant=minbase --arch=$arch $SUITE from $MIRROR, second stage emulated (about three minutes)"
  fi
  debootstrap --variant=minbase --arch="$arch" "$SUITE" "$rootfs" "$MIRROR" >"$CACHE_DIR/debootstrap-$arch.log" 2>&1 \
    || die "debootstrap --arch=$arch failed; see $CACHE_DIR/debootstrap-$arch.log"

  say "trimming the rootfs (apt lists, docs, man pages, locales, caches)"
  # The same dpkg/apt settings the official slim image carries, so later `apt-get install`s stay slim.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  cat >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends" <<'CFG'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
CFG
  # Include updates and security, as the official image does.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<CFG
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
CFG
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/root/.cache
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/groff/* \
    "$rootfs"/usr/share/lintian/* "$rootfs"/usr/share/linda/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  : >"$rootfs/etc/machine-id"
  mkdir -p "$rootfs/var/lib/apt/lists/partial"

  say "packing the rootfs into $tarball"
  tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  rm -rf "$rootfs"
  trap - EXIT
}

# Docker's architecture names → the kernel's (binfmt handlers) and Node's (npm package names).
qemu_handler() { case "$1" in arm64) echo qemu-aarch64 ;; amd64) echo qemu-x86_64 ;; esac; }
node_arch() { case "$1" in arm64) echo arm64 ;; amd64) echo x64 ;; esac; }
suffix() { [ "$1" = "$NATIVE_ARCH" ] || printf -- '-%s' "$1"; }

check_emulation() {
  local arch="$1" handler
  [ "$arch" = "$NATIVE_ARCH" ] && return 0
  handler="$(qemu_handler "$arch")"
  if [ ! -e "/proc/sys/fs/binfmt_misc/$handler" ]; then
    die "no QEMU emulation for linux/$arch: binfmt handler $handler is not registered; fix (root): apt-get install -y qemu-user-static binfmt-support && { [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; } && update-binfmts --enable $handler"
  fi
  grep -q '^enabled' "/proc/sys/fs/binfmt_misc/$handler" \
    || die "binfmt handler $handler is registered but disabled; fix (root): update-binfmts --enable $handler"
}

check_space() { # an emulated rootfs and its layers need room; say so before starting, not halfway
  local need_mb="$1" dir="$2" free_mb
  mkdir -p "$dir"
  free_mb="$(df -Pm "$dir" | awk 'NR==2 {print $4}')"
  if [ -n "$free_mb" ] && [ "$free_mb" -lt "$need_mb" ]; then
    die "only ${free_mb} MB free under $dir; the base images need about ${need_mb} MB; free some space (docker image prune, or ITS_BOOTSTRAP_CACHE on a larger disk)"
  fi
}

create_debian_image() {
  local arch="$1" image="$2" tarball ctx
  tarball="$CACHE_DIR/$SUITE-minbase-$arch.tar"
  mkdir -p "$CACHE_DIR"
  if [ -s "$tarball" ]; then
    say "reusing cached rootfs $tarball"
  else
    check_space 1200 "$CACHE_DIR"
    build_rootfs_tarball "$tarball" "$arch"
  fi
  say "importing $image (linux/$arch)"
  if [ "$arch" = "$NATIVE_ARCH" ]; then
    "$DOCKER" import -c 'CMD ["bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      -m "debootstrap --variant=minbase $SUITE (scripts/bootstrap-base-images.sh)" "$tarball" "$image" >/dev/null
  else
    # `docker import --platform` records the wrong architecture on Docker 20.10: build FROM scratch instead.
    ctx="$(mktemp -d)"
    # shellcheck disable=SC2064
    trap "rm -rf '$ctx'" EXIT
    ln "$tarball" "$ctx/rootfs.tar" 2>/dev/null || cp "$tarball" "$ctx/rootfs.tar"
    printf 'FROM scratch\nADD rootfs.tar /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nCMD ["bash"]\n' >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=1 "$DOCKER" build -q --platform "linux/$arch" -t "$image" "$ctx" >/dev/null
    rm -rf "$ctx"
    trap - EXIT
  fi
}

# The npm registry's node-linux-<arch> package is the official Node.js build (bin/node, include/node);
# npm itself comes from the `npm` package. Both are cached as the tarballs `npm pack` writes.
fetch_package() { # fetch_package NAME@VERSION → path of the cached tarball
  local spec="$1" file
  file="$CACHE_DIR/$(printf '%s' "$spec" | tr '@/' '--').tgz"
  if [ ! -s "$file" ]; then
    command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $spec from the npm registry"
    local tmp
    tmp="$(mktemp -d "$CACHE_DIR/pack.XXXXXX")"
    say "fetching $spec from the npm registry" >&2
    (cd "$tmp" && npm pack --silent "$spec" >/dev/null) || { rm -rf "$tmp"; die "npm pack $spec failed (is the npm registry reachable?)"; }
    mv "$tmp"/*.tgz "$file"
    rm -rf "$tmp"
  fi
  printf '%s' "$file"
}

create_node_image() {
  local arch="$1" debian_image="$2" image="$3" ca_bundle ctx node_tgz npm_tgz
  ca_bundle=/etc/ssl/certs/ca-certificates.crt
  [ -s "$ca_bundle" ] || die "no CA bundle at $ca_bundle (apt-get install -y ca-certificates)"
  mkdir -p "$CACHE_DIR"
  node_tgz="$(fetch_package "node-linux-$(node_arch "$arch")@$NODE_VERSION")"
  npm_tgz="$(fetch_package "npm@$NPM_VERSION")"

  ctx="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$ctx'" EXIT
  mkdir -p "$ctx/node" "$ctx/npm"
  tar -xzf "$node_tgz" -C "$ctx/node" --strip-components=1
  tar -xzf "$npm_tgz" -C "$ctx/npm" --strip-components=1
  if [ ! -x "$ctx/node/bin/node" ] || [ ! -f "$ctx/node/include/node/node.h" ]; then
    die "node-linux-$(node_arch "$arch")@$NODE_VERSION has no bin/node or include/node/node.h"
  fi
  cp "$ca_bundle" "$ctx/ca-certificates.crt"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $debian_image
ENV NODE_VERSION=$NODE_VERSION
COPY node/bin/node /usr/local/bin/node
# Node's C++ headers, as the official image ships them: native addons (better-sqlite3) compile
# against them with node-gyp, which cannot download them here.
COPY node/include /usr/local/include
COPY npm /usr/local/lib/node_modules/npm
ENV npm_config_nodedir=/usr/local
# The host's CA bundle: HTTPS from build containers may pass an intercepting proxy.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && test "\$(node -v)" = "v$NODE_VERSION" && npm --version >/dev/null
CMD ["node"]
DOCKERFILE
  say "building $image (linux/$arch) with Node $NODE_VERSION and npm $NPM_VERSION"
  DOCKER_BUILDKIT=1 "$DOCKER" build -q --platform "linux/$arch" -t "$image" "$ctx" >/dev/null \
    || die "building $image failed (rerun without -q: see the Dockerfile written by this script)"
  rm -rf "$ctx"
  trap - EXIT
}

image_arch() { "$DOCKER" image inspect --format '{{.Architecture}}' "$1" 2>/dev/null || true; }

node_image_current() { # the right architecture, Node version and headers (older script versions lacked them)
  local image="$1" arch="$2" envs
  [ "$(image_arch "$image")" = "$arch" ] || return 1
  envs="$("$DOCKER" image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image")"
  printf '%s\n' "$envs" | grep -qx "NODE_VERSION=$NODE_VERSION" && printf '%s\n' "$envs" | grep -qx 'npm_config_nodedir=/usr/local'
}

NATIVE_ARCH="$("$DOCKER" version --format '{{.Server.Arch}}' 2>/dev/null || true)"
[ -n "$NATIVE_ARCH" ] || NATIVE_ARCH=amd64
[ ${#ARCHES[@]} -gt 0 ] || ARCHES=("$NATIVE_ARCH")

for arch in "${ARCHES[@]}"; do
  check_emulation "$arch"
  debian_image="debian:$SUITE-slim$(suffix "$arch")"
  node_image="node:$NODE_MAJOR-$SUITE-slim$(suffix "$arch")"
  if [ "$FORCE" = 0 ] && [ "$(image_arch "$debian_image")" = "$arch" ]; then
    say "$debian_image exists, skipping"
  else
    create_debian_image "$arch" "$debian_image"
  fi
  if [ "$FORCE" = 0 ] && node_image_current "$node_image" "$arch"; then
    say "$node_image exists, skipping"
  else
    image_exists "$node_image" && [ "$FORCE" = 0 ] && say "$node_image is not Node $NODE_VERSION (made by an older version of this script): rebuilding it"
    create_node_image "$arch" "$debian_image" "$node_image"
  fi
  for image in "$debian_image" "$node_image"; do
    say "ready $image linux/$(image_arch "$image") $("$DOCKER" image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
  done
done
