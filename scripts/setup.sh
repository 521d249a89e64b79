#!/usr/bin/env bash
# Set this machine up for ITS Camera AI. The one place that installs anything: `npm test`
# (scripts/test.mjs), ./scripts/deploy.sh, .ci/run and scripts/ci-containers.sh all call it, so the
# README's two commands work on a fresh Debian 12 machine (root, Node 20, nothing else).
#
#   scripts/setup.sh [--clean] STEP…
#
#   deps        node_modules as package-lock.json describes it: `npm ci` when it is missing or differs
#   test-tools  the Debian packages the integration tests drive (servers, browsers, ffmpeg, QEMU …)
#               and arm64 emulation (binfmt_misc)
#   docker      a running Docker Engine (Debian's docker.io only when no engine answers and no dockerd
#               is installed) and debootstrap (the offline base images)
#   compose     a Docker Compose: Debian's docker-compose 1.29 unless `docker compose` (v2) or
#               docker-compose already works
#   unit = deps   integration = deps test-tools compose docker   deploy = deps docker   (what each
#   caller needs)
#
#   --clean        deps runs `npm ci` even when node_modules is current (CI: a clean install)
#   ITS_SETUP=skip do nothing at all: for machines whose owners install things themselves
#   DOCKER_CLI     the docker client that tells whether an engine answers (default: Debian's, then PATH's)
#   DOCKERD_LOG    where a dockerd this script starts logs (default /var/log/dockerd.log)
#
# Each step is idempotent and costs a few milliseconds when there is nothing to do (it then prints
# nothing); otherwise it says what it does and why, and how long it took. System steps use apt as
# root (only the missing packages, --no-install-recommends). Nothing is downloaded from anywhere but
# the npm registry and Debian's repositories.
# Exit codes: 0 ready; 1 a step failed; 2 it cannot be done here by this script (not root, no apt-get,
# bad arguments) — the message names the command to run instead.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
me=scripts/setup.sh
[ "$PWD" = "$root" ] || me="$root/scripts/setup.sh"

# The Debian packages the integration tests use. The tests start their own private servers on free
# 127.0.0.1 ports; these packages only provide the binaries.
TEST_PACKAGES=(
  postgresql redis-server                                   # packages/testkit
  chromium firefox-esr                                      # dashboard tests (puppeteer-core)
  ffmpeg                                                    # the vision worker's frame sources
  debootstrap                                               # offline base images
  docker-registry                                           # registry publish/promote tests
  prometheus prometheus-alertmanager prometheus-pushgateway # canary analysis, monitoring
  openssh-server                                            # the DOCKER_HOST=ssh:// test's private sshd
  qemu-user-static binfmt-support                           # arm64 images, emulated
)
DOCKER_PACKAGES=(debootstrap) # docker.io is added only when no Docker Engine is there at all
COMPOSE_PACKAGES=(docker-compose) # only when no Compose works (see compose_works)

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
say() { printf 'setup: %s\n' "$*" >&2; }
fail() { say "$1"; exit "${2:-1}"; }

clean=0
want_deps=0 want_test_tools=0 want_docker=0 want_compose=0
[ $# -gt 0 ] || { usage >&2; exit 2; }
for arg in "$@"; do
  case "$arg" in
    --clean) clean=1 ;;
    deps | unit) want_deps=1 ;;
    test-tools) want_test_tools=1 want_compose=1 ;; # the compose stack tests
    docker) want_docker=1 ;;
    compose) want_compose=1 ;;
    integration) want_deps=1 want_test_tools=1 want_compose=1 want_docker=1 ;;
    deploy) want_deps=1 want_docker=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; fail "unknown step \"$arg\" (deps, test-tools, docker, compose, unit, integration, deploy)" 2 ;;
  esac
done

case "${ITS_SETUP:-}" in
  skip) exit 0 ;;
  '') ;;
  *) fail "ITS_SETUP=${ITS_SETUP}: the only value is \"skip\" (or leave it unset)" 2 ;;
esac

# Two setups at once (two terminals, a test beside a deploy) would run two `npm ci` in one tree.
mkdir -p "$root/.state"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.state/setup.lock"
  flock 9
fi

# ---- deps -----------------------------------------------------------------------------------------

# Why node_modules must be (re)installed, or nothing when it is current. "Current" is decided by
# content, not by mtimes: npm's hidden lockfile (node_modules/.package-lock.json, written by every
# install) must list exactly the packages package-lock.json does, except the optional ones this
# platform skips. A checkout that rewrites an identical lockfile (git stash, switching branches and
# back) newly dates it without changing anything, and copies or archives can carry any dates at all.
# The Node ABI that setup last installed for is kept too: native addons (better-sqlite3) built for
# another Node.js fail to load.
deps_reason() {
  # shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
  node -e '(() => {
    const fs = require("node:fs");
    const root = process.argv[1];
    const read = (p) => JSON.parse(fs.readFileSync(`${root}/${p}`, "utf8"));
    if (!fs.existsSync(`${root}/node_modules`)) return console.log("node_modules missing");
    let hidden;
    try {
      hidden = read("node_modules/.package-lock.json").packages ?? {};
    } catch {
      return console.log("node_modules has no npm record of its install (interrupted or foreign)");
    }
    const locked = read("package-lock.json").packages ?? {};
    const differ = Object.keys(hidden).filter((k) => JSON.stringify(hidden[k]) !== JSON.stringify(locked[k]));
    const absent = Object.keys(locked).filter(
      (k) => k !== "" && !(k in hidden) && !locked[k].optional && !locked[k].devOptional,
    );
    if (differ.length + absent.length > 0)
      return console.log(
        `node_modules differs from package-lock.json (${differ.length + absent.length} package${differ.length + absent.length === 1 ? "" : "s"}, e.g. ${[...differ, ...absent][0].replace(/^.*node_modules\//, "")})`,
      );
    let abi;
    try {
      abi = fs.readFileSync(`${root}/node_modules/.its-setup-node-abi`, "utf8").trim();
    } catch {
      return; // installed by hand: trust it
    }
    if (abi !== process.versions.modules)
      console.log(`node_modules was installed for another Node.js (ABI ${abi}; this is ${process.version}, ABI ${process.versions.modules})`);
  })()' "$root"
}

setup_deps() {
  local reason
  if [ "$clean" = 1 ]; then
    reason="--clean: a clean install from the lockfile"
  else
    reason="$(deps_reason)" || fail "could not read package-lock.json or node_modules (see above)"
    [ -n "$reason" ] || return 0
  fi
  say "npm ci ($reason) …"
  local t0=$SECONDS
  # npm's own output goes to stderr: a caller's stdout (a dry run's plan) stays clean.
  (cd "$root" && npm ci --no-audit --no-fund) >&2 || fail "npm ci failed (see above); fix it and run $me deps"
  node -p 'process.versions.modules' >"$root/node_modules/.its-setup-node-abi"
  say "npm ci done in $((SECONDS - t0)) s"
}

# ---- system packages, arm64 emulation, Docker Engine ----------------------------------------------

is_root() { [ "$(id -u)" = 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }

# The packages among "$@" that are not installed. Without dpkg only the ones with a known command can
# be checked; the others count as missing (the message then asks the user to install them).
missing_packages() {
  local pkg installed=""
  if have dpkg-query; then
    # dpkg-query exits 1 when it knows a package only from apt lists or not at all: not an error.
    installed="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null | awk '$2 == "ii" { print $1 }' || true)"
  fi
  for pkg in "$@"; do
    grep -qxF "$pkg" <<<"$installed" && continue
    if ! have dpkg-query; then
      case "$pkg" in
        debootstrap | docker-compose) have "$pkg" && continue ;;
      esac
    fi
    echo "$pkg"
  done
}

# The docker clients to try, in order: DOCKER_CLI alone when it is set (as itsctl does), else Debian's
# and the first on PATH.
docker_clients() {
  if [ -n "${DOCKER_CLI:-}" ]; then echo "$DOCKER_CLI"; else echo /usr/bin/docker "$(command -v docker || true)"; fi
}
# A Docker Engine answers: through Debian's client or whichever `docker` is first on PATH (a user's
# newer Docker may refuse the older client's API version, and the other way round).
engine_up() {
  local bin
  for bin in $(docker_clients); do
    [ -n "$bin" ] && [ -x "$bin" ] && timeout 20 "$bin" info >/dev/null 2>&1 && return 0
  done
  return 1
}
# Compose v2 (the plugin of Debian's client or of the docker first on PATH) or v1: either will do
# (scripts/lib/compose.sh picks one the same way).
compose_works() {
  local bin
  for bin in $(docker_clients); do
    [ -n "$bin" ] && [ -x "$bin" ] && "$bin" compose version >/dev/null 2>&1 && return 0
  done
  have docker-compose # not run: Python's start-up costs seconds
}
have_dockerd() { have dockerd || [ -x /usr/bin/dockerd ] || [ -x /usr/sbin/dockerd ]; }
# A DOCKER_HOST elsewhere is someone else's engine: never replaced by a local one.
remote_engine() { [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != unix:///var/run/docker.sock ]; }

# The foreign architecture the multi-arch builds emulate, as binfmt-support names its QEMU entry.
foreign_binfmt() {
  case "$(uname -m)" in
    x86_64) echo qemu-aarch64 ;;
    aarch64 | arm64) echo qemu-x86_64 ;;
  esac
}
binfmt_ready() {
  local entry
  entry="$(foreign_binfmt)"
  [ -z "$entry" ] || [ "$(head -n1 "/proc/sys/fs/binfmt_misc/$entry" 2>/dev/null)" = enabled ]
}

apt_install() {
  local t0=$SECONDS log sshd_before
  log="$(mktemp)"
  say "apt-get install ${*} (missing) …"
  # openssh-server is only the binary for the ssh:// test's private sshd on 127.0.0.1: if installing it
  # starts a system sshd (listening on every address), that one is stopped; one running before stays.
  sshd_before=no
  pgrep -x sshd >/dev/null 2>&1 && sshd_before=yes
  export DEBIAN_FRONTEND=noninteractive
  # 9>&-: a service a package's install script starts must not inherit the setup lock (see start_dockerd).
  if ! { apt-get -o DPkg::Lock::Timeout=300 update -q &&
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "$@"; } >"$log" 2>&1 9>&-; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    fail "apt-get install failed (its last lines are above)"
  fi
  rm -f "$log"
  if [ "$sshd_before" = no ] && pgrep -x sshd >/dev/null 2>&1; then
    service ssh stop >/dev/null 2>&1 || true
  fi
  say "apt-get install done in $((SECONDS - t0)) s"
}

setup_binfmt() {
  local entry t0=$SECONDS
  entry="$(foreign_binfmt)"
  say "enabling $entry emulation (binfmt_misc) …"
  if [ ! -e /proc/sys/fs/binfmt_misc/register ] &&
    ! mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null; then
    say "warning: cannot mount /proc/sys/fs/binfmt_misc (an unprivileged container?); foreign-architecture builds will fail"
    return 0
  fi
  if ! update-binfmts --enable "$entry" >/dev/null 2>&1 && ! binfmt_ready; then
    say "warning: update-binfmts --enable $entry failed; foreign-architecture builds will fail"
    return 0
  fi
  say "$entry emulation enabled in $((SECONDS - t0)) s"
}

start_dockerd() {
  local t0=$SECONDS deadline=$((SECONDS + 60)) log="${DOCKERD_LOG:-/var/log/dockerd.log}"
  say "starting dockerd (no Docker Engine answered; log: $log) …"
  # Its own session: Ctrl-C in the terminal that ran `npm test` must not stop the engine (dockerd
  # handles SIGINT as a shutdown). There is no systemd on these machines. `9>&-`: dockerd must not
  # inherit the setup lock's descriptor, or it holds the lock for as long as it runs and every later
  # setup (the next CI stage, the next `npm test`) waits on it forever.
  setsid nohup dockerd >"$log" 2>&1 </dev/null 9>&- &
  local pid=$! # setsid and nohup exec: this becomes dockerd's pid (pgrep could look before it has)
  until engine_up; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2 || true
      fail "dockerd did not come up within 60 s (the end of $log is above)"
    fi
    sleep 1
  done
  say "Docker Engine up in $((SECONDS - t0)) s"
}

setup_system() {
  local packages=() missing=() need_binfmt=0 need_engine=0 problems=() sys_steps=()
  [ "$want_test_tools" = 1 ] && packages+=("${TEST_PACKAGES[@]}") && sys_steps+=(test-tools)
  if [ "$want_docker" = 1 ]; then
    sys_steps+=(docker)
    packages+=("${DOCKER_PACKAGES[@]}")
    if ! engine_up; then
      remote_engine && fail "DOCKER_HOST=$DOCKER_HOST does not answer (docker info); start that engine or unset DOCKER_HOST"
      need_engine=1
      have_dockerd || packages+=(docker.io)
    fi
  fi
  if [ "$want_compose" = 1 ]; then
    [ "$want_test_tools" = 1 ] || sys_steps+=(compose)
    compose_works || packages+=("${COMPOSE_PACKAGES[@]}")
  fi
  [ ${#packages[@]} -gt 0 ] || return 0
  mapfile -t missing < <(missing_packages "${packages[@]}" | awk '!seen[$0]++')
  [ "$want_test_tools" = 1 ] && ! binfmt_ready && need_binfmt=1

  if [ ${#missing[@]} -gt 0 ]; then
    if have dpkg-query; then
      problems+=("missing Debian packages: ${missing[*]}")
    else
      problems+=("needs these Debian packages (no dpkg here to tell which are installed): ${missing[*]}")
    fi
  fi
  [ "$need_binfmt" = 1 ] && problems+=("$(foreign_binfmt) emulation (binfmt_misc) is not enabled")
  local denied=0
  if [ "$need_engine" = 1 ]; then
    if ! is_root && [ -S /var/run/docker.sock ] && [ ! -w /var/run/docker.sock ] && pgrep -x dockerd >/dev/null; then
      denied=1 # an engine runs, but this user may not use it: nothing for root to install or start
      problems+=("a Docker Engine runs, but its socket /var/run/docker.sock is not writable for $(id -un)")
    else
      problems+=("no Docker Engine is running")
    fi
  fi
  [ ${#problems[@]} -gt 0 ] || return 0

  if ! is_root || { [ ${#missing[@]} -gt 0 ] && ! have apt-get; }; then
    local problem
    for problem in "${problems[@]}"; do say "$problem"; done
    if [ ${#missing[@]} -gt 0 ] && ! have apt-get; then
      say "this is not a Debian or Ubuntu machine (no apt-get): install their equivalents yourself, then run with ITS_SETUP=skip"
    elif [ ${#missing[@]} -gt 0 ] || [ "$need_binfmt" = 1 ] || { [ "$need_engine" = 1 ] && [ "$denied" = 0 ]; }; then
      say "run:  sudo $me ${sys_steps[*]}"
    fi
    [ "$denied" = 1 ] && say "and:  sudo usermod -aG docker $(id -un)   (then log in again)"
    say "(or set ITS_SETUP=skip if you manage this machine yourself)"
    exit 2
  fi

  [ ${#missing[@]} -gt 0 ] && apt_install "${missing[@]}"
  [ "$need_binfmt" = 1 ] && ! binfmt_ready && setup_binfmt
  if [ "$need_engine" = 1 ] && ! engine_up; then start_dockerd; fi
  return 0
}

[ "$want_deps" = 1 ] && setup_deps
setup_system
exit 0
