#!/usr/bin/env bash
# Create the project's only two base images locally, for machines that cannot pull from a registry:
#   debian:bookworm-slim   debootstrap --variant=minbase, trimmed, `docker import`ed
#   node:20-bookworm-slim  FROM that, with this host's Node 20 + npm, user node (uid 1000), CA bundle
# Idempotent: an image that already exists is left alone (use --force to rebuild both).
# The debootstrap rootfs is cached as a tarball under $ITS_BOOTSTRAP_CACHE so reruns take seconds.
set -euo pipefail

CACHE_DIR="${ITS_BOOTSTRAP_CACHE:-/var/cache/its-bootstrap}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
DEBIAN_IMAGE=debian:bookworm-slim
NODE_IMAGE=node:20-bookworm-slim
FORCE=0

# Debian's client: a newer docker earlier on PATH may lack buildx, which DOCKER_BUILDKIT=1 needs.
DOCKER="${DOCKER:-/usr/bin/docker}"
[ -x "$DOCKER" ] || DOCKER="$(command -v docker || true)"

usage() {
  cat <<USAGE
Usage: scripts/bootstrap-base-images.sh [--force]
Creates $DEBIAN_IMAGE and $NODE_IMAGE in the local Docker Engine when they are missing.
  --force   rebuild both images even if they exist (the cached rootfs tarball is reused)
Environment: ITS_BOOTSTRAP_CACHE (default /var/cache/its-bootstrap), DEBIAN_MIRROR, DOCKER.
USAGE
}

for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bootstrap: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

[ -n "$DOCKER" ] || die "no docker client found; install it with: apt-get install -y docker.io"
"$DOCKER" info >/dev/null 2>&1 || die "Docker Engine is not reachable on /var/run/docker.sock; start it with: dockerd > /var/log/dockerd.log 2>&1 &"

image_exists() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

build_rootfs_tarball() {
  local tarball="$1"
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
  say "debootstrap --variant=minbase $SUITE from $MIRROR (about a minute)"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $CACHE_DIR/debootstrap.log"

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

create_debian_image() {
  local tarball="$CACHE_DIR/$SUITE-minbase-amd64.tar"
  mkdir -p "$CACHE_DIR"
  if [ -s "$tarball" ]; then
    say "reusing cached rootfs $tarball"
  else
    build_rootfs_tarball "$tarball"
  fi
  say "importing $DEBIAN_IMAGE"
  "$DOCKER" import -c 'CMD ["bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -m "debootstrap --variant=minbase $SUITE (scripts/bootstrap-base-images.sh)" "$tarball" "$DEBIAN_IMAGE" >/dev/null
}

create_node_image() {
  local node_bin npm_dir ca_bundle ctx version
  node_bin="$(readlink -f "$(command -v node || true)")"
  [ -x "$node_bin" ] || die "no host Node found; install Node 20 first"
  version="$("$node_bin" -v)"
  case "$version" in v20.*) ;; *) die "host Node is $version; node:20-bookworm-slim needs Node 20" ;; esac
  npm_dir=""
  for candidate in /usr/lib/node_modules/npm /usr/local/lib/node_modules/npm "$(dirname "$node_bin")/../lib/node_modules/npm"; do
    [ -f "$candidate/bin/npm-cli.js" ] && { npm_dir="$(readlink -f "$candidate")"; break; }
  done
  [ -n "$npm_dir" ] || die "could not find the host's npm (looked under /usr/lib/node_modules and /usr/local/lib/node_modules)"
  ca_bundle=/etc/ssl/certs/ca-certificates.crt
  [ -s "$ca_bundle" ] || die "no CA bundle at $ca_bundle (apt-get install -y ca-certificates)"

  ctx="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$ctx'" EXIT
  cp "$node_bin" "$ctx/node"
  cp -a "$npm_dir" "$ctx/npm"
  cp "$ca_bundle" "$ctx/ca-certificates.crt"
  # Node's C++ headers, as the official image ships them: native addons (better-sqlite3) compile
  # against them with node-gyp, which cannot download them here.
  local headers=""
  for candidate in /usr/include/node "$(dirname "$node_bin")/../include/node"; do
    [ -f "$candidate/node.h" ] && { headers="$(readlink -f "$candidate")"; break; }
  done
  [ -n "$headers" ] || die "no Node headers found (/usr/include/node/node.h); install the nodejs package that provides them"
  mkdir -p "$ctx/include"
  cp -a "$headers" "$ctx/include/node"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $DEBIAN_IMAGE
ENV NODE_VERSION=${version#v}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY include /usr/local/include
# node-gyp finds the headers here instead of downloading them from nodejs.org.
ENV npm_config_nodedir=/usr/local
# The host's CA bundle: HTTPS from build containers may pass an intercepting proxy.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node -e 'process.exit(0)' && npm --version >/dev/null
CMD ["node"]
DOCKERFILE
  say "building $NODE_IMAGE with the host's Node $version and npm $(node "$npm_dir/bin/npm-cli.js" --version 2>/dev/null || echo '?')"
  DOCKER_BUILDKIT=1 "$DOCKER" build -q -t "$NODE_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
  trap - EXIT
}

if [ "$FORCE" = 0 ] && image_exists "$DEBIAN_IMAGE"; then
  say "$DEBIAN_IMAGE exists, skipping"
else
  create_debian_image
fi

node_image_current() {
  # Images from earlier versions of this script lack the headers native addons need.
  image_exists "$NODE_IMAGE" && "$DOCKER" run --rm --entrypoint test "$NODE_IMAGE" -f /usr/local/include/node/node.h
}

if [ "$FORCE" = 0 ] && node_image_current; then
  say "$NODE_IMAGE exists, skipping"
else
  image_exists "$NODE_IMAGE" && [ "$FORCE" = 0 ] && say "$NODE_IMAGE lacks Node's headers (made by an older version of this script): rebuilding it"
  create_node_image
fi

"$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' | grep -E "^($DEBIAN_IMAGE|$NODE_IMAGE)\b" | sed 's/^/bootstrap: ready /'
