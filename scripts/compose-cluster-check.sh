#!/usr/bin/env bash
# The compose `cluster` profile check (`make compose-cluster-check`, a step of `make test`): the three KRaft
# brokers of deploy/compose/compose.yaml (kafka, kafka-2, kafka-3, also the controller quorum) come up from
# the images `make images` built, the `topics` one-shot creates every contract topic with replication
# factor 3 and min.insync.replicas=2, and records produced with acks=all while kafka-2 is SIGKILLed are
# all consumed back once, with kafka-2 rejoining every partition's ISR. Then the project is removed with
# its volumes. Prints the timings. The full pipeline on the cluster: `make chaos` (one broker) and issue
# notes; this check proves the compose wiring.
#   scripts/compose-cluster-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/containers.sh

check_dir=${CRYPTOFLOW_STATE_DIR:-$PWD/.state}/compose-cluster-check
mkdir -p "$check_dir"
export CRYPTOFLOW_COMPOSE_ENV_FILE="$check_dir/.env" CRYPTOFLOW_COMPOSE_PROJECT=cryptoflow-cluster
bootstrap=kafka:9092,kafka-2:9092,kafka-3:9092
cat >"$CRYPTOFLOW_COMPOSE_ENV_FILE" <<EOF
COMPOSE_PROFILES=cluster
CRYPTOFLOW_KAFKA_IMAGE=$KAFKA_IMAGE
CRYPTOFLOW_KAFKA_VOTERS=1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093
CRYPTOFLOW_KAFKA_BOOTSTRAP=$bootstrap
CRYPTOFLOW_KAFKA_REPLICATION_FACTOR=3
CRYPTOFLOW_KAFKA_MIN_INSYNC_REPLICAS=2
CRYPTOFLOW_KAFKA_HEAP_OPTS=-Xmx256m -Xms256m
CRYPTOFLOW_SERVICE_SECRET_KEY=unused-by-the-brokers-but-the-file-needs-one-000000
CRYPTOFLOW_AIRFLOW_PASSWORD=unused-by-the-brokers
EOF
project=$CRYPTOFLOW_COMPOSE_PROJECT
compose() { bash scripts/compose.sh "$@"; }
container() { compose_container "$project" "$1"; }
start=$SECONDS

teardown() {
  local status=$?
  if ((status)); then
    echo "compose-cluster-check: FAILED; the last lines of every container's log:" >&2
    project_logs "$project" 4
  fi
  compose down -v >/dev/null 2>&1 || true
  exit "$status"
}
trap teardown EXIT

healthy() { "$CONTAINER" healthcheck run "$(container "$1")" >/dev/null 2>&1; } # its HEALTHCHECK (no systemd)
exited() { [[ $("$CONTAINER" inspect --format '{{.State.Status}}' "$(container "$1")") == exited ]]; }
# probe ARGS...: scripts/lib/cluster-probe.py in the contracts image, on the project's network
probe() {
  "$CONTAINER" run --rm --network "${project}_default" --entrypoint python \
    -v "$PWD/scripts/lib/cluster-probe.py:/probe.py:ro" "localhost/cryptoflow-contracts:latest" \
    /probe.py "$bootstrap" "$@" 2> >(grep -v -e 'systemd' >&2)
}

compose down -v >/dev/null 2>&1 || true
compose up kafka kafka-2 kafka-3 topics >/dev/null
for broker in kafka kafka-2 kafka-3; do wait_for "$broker healthy" 180 healthy "$broker"; done
echo "compose-cluster-check: three brokers listening after $((SECONDS - start)) s"
wait_for "the topics job to finish" 120 exited topics
"$CONTAINER" logs "$(container topics)" 2>&1 | tail -n 2
[[ $("$CONTAINER" inspect --format '{{.State.ExitCode}}' "$(container topics)") == 0 ]]
topic=upbit.trade
probe layout "$topic"
probe produce "$topic" 0 5000
"$CONTAINER" kill --signal KILL "$(container kafka-2)" >/dev/null
echo "compose-cluster-check: kafka-2 SIGKILLed"
probe produce "$topic" 5000 5000
"$CONTAINER" start "$(container kafka-2)" >/dev/null 2>&1
wait_for "kafka-2 healthy again" 180 healthy kafka-2
probe wait-isr "$topic" 3
probe count "$topic" 10000
echo "compose-cluster-check: passed in $((SECONDS - start)) s"
