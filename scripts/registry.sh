#!/usr/bin/env bash
# Local OCI registry for ITS Camera AI: Debian's docker-registry (distribution 2.8) bound to loopback.
#
#   scripts/registry.sh start    start it (idempotent: does nothing when it already answers)
#   scripts/registry.sh stop     stop the instance this script started
#   scripts/registry.sh status   print whether it answers, where, and its data directory
#   scripts/registry.sh gc       stop, garbage-collect unreferenced blobs (after `itsctl registry prune --apply`), start
#
# Settings (environment):
#   REGISTRY_ADDR     127.0.0.1:5000   listen address; loopback only, because there is no auth and no TLS
#   ITS_STATE_DIR     <repo>/.state    state root; the registry keeps config, data, pid and log under registry/
#
# Why our own config: the packaged /etc/docker/registry/config.yml listens on every interface and asks
# for htpasswd auth; we want loopback, no auth, and deletes enabled so that `itsctl registry prune` works.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
addr="${REGISTRY_ADDR:-127.0.0.1:5000}"
state="${ITS_STATE_DIR:-$root/.state}/registry"
config="$state/config.yml"
pidfile="$state/registry.pid"
logfile="$state/registry.log"
bin="${REGISTRY_BIN:-/usr/bin/docker-registry}"

case "$addr" in
  127.*:* | localhost:*) ;;
  *) echo "registry.sh: REGISTRY_ADDR=$addr is not a loopback address; this registry has no auth, refusing" >&2; exit 2 ;;
esac

answers() { curl -fsS -o /dev/null --max-time 2 "http://$addr/v2/" 2>/dev/null; }

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid="$(cat "$pidfile")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

write_config() {
  mkdir -p "$state/data"
  cat > "$config" <<EOF
version: 0.1
log:
  level: warn
  fields:
    service: its-registry
storage:
  filesystem:
    rootdirectory: $state/data
  delete:
    enabled: true
http:
  addr: $addr
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: false
EOF
}

start() {
  if answers; then
    echo "registry: already answering at http://$addr/v2/ (data: $state/data)"
    return 0
  fi
  if [ ! -x "$bin" ]; then
    echo "registry: $bin not found; install it with: apt-get install -y docker-registry" >&2
    exit 1
  fi
  write_config
  # setsid: the registry must outlive this shell and any terminal it was started from.
  setsid "$bin" serve "$config" >>"$logfile" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  for _ in $(seq 1 100); do
    if answers; then
      echo "registry: started pid $(cat "$pidfile") at http://$addr/v2/ (data: $state/data, log: $logfile)"
      return 0
    fi
    if ! running_pid >/dev/null; then break; fi
    sleep 0.1
  done
  echo "registry: did not answer at http://$addr/v2/; last log lines:" >&2
  tail -n 20 "$logfile" >&2 || true
  exit 1
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pidfile"
    echo "registry: stopped pid $pid"
  else
    rm -f "$pidfile"
    echo "registry: not running (no live pid in $pidfile)"
  fi
}

status() {
  if answers; then
    local pid
    pid="$(running_pid || echo 'not started by this script')"
    echo "registry: up at http://$addr/v2/ (pid: $pid, data: $state/data)"
  else
    echo "registry: down at http://$addr/v2/ (start it with: scripts/registry.sh start)"
    return 3
  fi
}

gc() {
  # Garbage collection must not run while the registry accepts pushes: stop, collect, start again.
  [ -f "$config" ] || write_config
  local was_running=0
  if running_pid >/dev/null; then was_running=1; stop; fi
  "$bin" garbage-collect --delete-untagged "$config"
  if [ "$was_running" = 1 ]; then start; fi
}

case "${1:-status}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  gc) gc ;;
  *) echo "usage: scripts/registry.sh start|stop|status|gc" >&2; exit 2 ;;
esac
