#!/usr/bin/env bash
# podman-compose with deploy/compose/compose.yaml, on this kind of machine (podman 4.3, no systemd):
#   scripts/compose.sh up [SERVICE...]          # every service (or those), in dependency order (see below)
#   scripts/compose.sh ARGS...                  # anything else goes to podman-compose as it is
# Why `up` is ours: podman runs HEALTHCHECKs only from systemd timers, which this machine lacks;
# podman-compose ignores `condition: service_healthy` with a podman older than 4.6, takes
# `service_completed_successfully` as "stopped" whatever the exit code, and links containers with
# `--requires`, which makes podman 4.3 restart finished one-shot jobs. So `up` starts the services one by
# one in dependency order (scripts/lib/compose-order.py), each once its dependencies meet their conditions,
# running the health checks itself. With Docker none of this is needed: `docker compose up -d` does it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/containers.sh

env_file=${CRYPTOFLOW_COMPOSE_ENV_FILE:-deploy/compose/.env}
project=${CRYPTOFLOW_COMPOSE_PROJECT:-cryptoflow}
quiet() { grep -v --line-buffered -e 'systemd connection' -e 'failed to connect to syslog' || true; }
compose() {
  local env_args=()
  [[ -f "$env_file" ]] && env_args=(--env-file "$env_file")
  if [[ "$CONTAINER" == docker ]]; then
    docker compose "${env_args[@]}" -p "$project" -f deploy/compose/compose.yaml "$@"
  else
    # Without systemd podman complains about every health check it cannot schedule: noise, see above.
    uv run --no-sync podman-compose "${env_args[@]}" -p "$project" -f deploy/compose/compose.yaml "$@" \
      2> >(quiet >&2)
  fi
}

# wait_healthy SERVICE SECONDS: runs the container's health check until it passes
wait_healthy() {
  local container deadline=$((SECONDS + $2))
  container=$(compose_container "$project" "$1")
  until podman healthcheck run "$container" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "compose: $1 is not healthy after $2 s; its log:" >&2
      podman logs --tail 40 "$container" >&2 || true
      return 1
    fi
    sleep 1
  done
}

# wait_dependency SERVICE CONDITION: blocks until that service meets the compose condition
wait_dependency() {
  local container state deadline=$((SECONDS + 900))
  case "$2" in
    service_healthy) wait_healthy "$1" 300; return ;;
    service_completed_successfully | service_started) ;;
    *) echo "compose: unknown condition $2 (on $1)" >&2; return 1 ;;
  esac
  while :; do
    container=$(compose_container "$project" "$1")
    state=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$container" 2>/dev/null || echo missing)
    case "$2:$state" in
      service_started:running*) return 0 ;;
      service_completed_successfully:"exited 0") return 0 ;;
      service_completed_successfully:exited*)
        echo "compose: $1 failed ($state); its log:" >&2
        podman logs --tail 40 "$container" >&2 || true
        return 1 ;;
    esac
    if ((SECONDS > deadline)); then
      echo "compose: $1 did not reach $2 ($state)" >&2
      return 1
    fi
    sleep 1
  done
}

if [[ "${1:-}" == up && "$CONTAINER" == docker ]]; then
  shift
  compose up -d "$@"
elif [[ "${1:-}" == up ]]; then
  # Every container created first (`--no-deps`: no `--requires` links), then each started once its
  # dependencies meet their conditions, in dependency order. `up SERVICE...` does that for those only.
  shift
  profiles=$( (grep -hs '^COMPOSE_PROFILES=' "$env_file" || true) | tail -n 1 | cut -d= -f2-)
  profiles=${COMPOSE_PROFILES:-$profiles}
  compose up --no-start --no-deps "$@" >/dev/null
  # The list on fd 3: podman reads standard input.
  while read -r service deps <&3; do
    (($#)) && [[ " $* " != *" $service "* ]] && continue
    for dep in $deps; do wait_dependency "${dep%%:*}" "${dep#*:}"; done
    podman start "$(compose_container "$project" "$service")" </dev/null >/dev/null 2>/dev/null
  done 3< <(uv run --no-sync python scripts/lib/compose-order.py deploy/compose/compose.yaml "$profiles")
  echo "compose: up (project $project)"
else
  compose "$@"
fi
