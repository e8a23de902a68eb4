#!/usr/bin/env bash
# podman-compose with deploy/compose/compose.yaml, on this kind of machine (podman 4.3, no systemd):
#   scripts/compose.sh up [--env-file FILE]     # in two steps, see below; then every service
#   scripts/compose.sh ARGS...                  # anything else goes to podman-compose as it is
# Why `up` takes two steps: podman runs HEALTHCHECKs only from systemd timers, which this machine lacks,
# and podman-compose ignores `condition: service_healthy` with a podman older than 4.6. So `up` starts
# Kafka, PostgreSQL and Redis first, runs their health checks itself until they pass, then starts the rest
# (one-shot dependencies, `service_completed_successfully`, work as written). With Docker none of this is
# needed: `docker compose up -d` follows every condition.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/containers.sh

env_file=${CRYPTOFLOW_COMPOSE_ENV_FILE:-deploy/compose/.env}
project=${CRYPTOFLOW_COMPOSE_PROJECT:-cryptoflow}
compose() {
  local env_args=()
  [[ -f "$env_file" ]] && env_args=(--env-file "$env_file")
  if [[ "$CONTAINER" == docker ]]; then
    docker compose "${env_args[@]}" -p "$project" -f deploy/compose/compose.yaml "$@"
  else
    uv run --no-sync podman-compose "${env_args[@]}" -p "$project" -f deploy/compose/compose.yaml "$@"
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

if [[ "${1:-}" == up && "$CONTAINER" == docker ]]; then
  shift
  compose up -d "$@"
elif [[ "${1:-}" == up ]]; then
  shift
  compose up -d kafka postgres redis >/dev/null
  for service in kafka postgres redis; do wait_healthy "$service" 180; done
  compose up -d "$@" >/dev/null
  echo "compose: up (project $project)"
else
  compose "$@"
fi
