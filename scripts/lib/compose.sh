# shellcheck shell=bash
# Sourced, not run: defines `compose`, which runs Docker Compose v2 (`docker compose`, the plugin Docker
# Engine 29 ships) when it works, else Compose v1 (`docker-compose` 1.29, Debian 12's package), else
# fails saying how to install one. The compose files are format 2.4, which both read.
#   . scripts/lib/compose.sh; compose up -d; compose_describe   # "docker compose 2.40.3"
# COMPOSE_CMD="docker-compose" (or "docker compose") skips the detection.

_compose_detect() {
  [ -n "${_COMPOSE_CMD+x}" ] && return 0
  if [ -n "${COMPOSE_CMD:-}" ]; then
    _COMPOSE_CMD="$COMPOSE_CMD"
    return 0
  fi
  local docker
  # The plugin belongs to a client: try the one the caller uses ($DOCKER), then the one on PATH.
  for docker in ${DOCKER:+"$DOCKER"} docker; do
    if command -v "$docker" >/dev/null 2>&1 && "$docker" compose version >/dev/null 2>&1; then
      _COMPOSE_CMD="$docker compose"
      return 0
    fi
  done
  if command -v docker-compose >/dev/null 2>&1 && docker-compose version >/dev/null 2>&1; then
    _COMPOSE_CMD="docker-compose"
    return 0
  fi
  echo "compose: neither 'docker compose' (v2 plugin) nor 'docker-compose' (v1) works here;" \
    "install one: apt-get install -y docker-compose (Debian 12), or Docker's docker-compose-plugin" >&2
  return 127
}

compose() {
  _compose_detect || return $?
  # Word-splitting on purpose: "docker compose" is a program and its subcommand (no quoting inside).
  # shellcheck disable=SC2086
  $_COMPOSE_CMD "$@"
}

compose_describe() {
  _compose_detect || return $?
  printf '%s %s\n' "$_COMPOSE_CMD" "$(compose version --short 2>/dev/null || echo '?')"
}
