#!/usr/bin/env bash
# The compose end-to-end check (`make compose-check`, a step of `make test`): builds every image, brings
# the stack up with the `sim` profile on its own host ports (18000, 18081, ...; nothing clashes with
# `make up`), waits for health, then proves through the published ports that
#   - live prices arrive (/api/realtime-price/: upbit-sim -> ingest -> Kafka -> stream-sink -> Redis -> API),
#   - the Airflow API refuses anonymous requests and answers its admin, whose first triggered ticker run
#     fills the marts (/api/market-stats/); the API's pipeline-health page reads Airflow and ingest,
#   - Celery Beat fires and the worker runs what it sent;
# then removes the stack with its volumes. Prints the timings.
#   scripts/compose-check.sh [--no-build]      # --no-build: use the images already built
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/containers.sh

check_dir=${CRYPTOFLOW_STATE_DIR:-$PWD/.state}/compose-check
mkdir -p "$check_dir"
export CRYPTOFLOW_COMPOSE_ENV_FILE="$check_dir/.env" CRYPTOFLOW_COMPOSE_PROJECT=cryptoflow-check
api_port=${CRYPTOFLOW_CHECK_API_PORT:-18000}
airflow_port=${CRYPTOFLOW_CHECK_AIRFLOW_PORT:-18081}
airflow_password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
cat >"$CRYPTOFLOW_COMPOSE_ENV_FILE" <<EOF
COMPOSE_PROFILES=sim
CRYPTOFLOW_PYTHON_IMAGE=$PYTHON_IMAGE
CRYPTOFLOW_RUST_IMAGE=$RUST_IMAGE
CRYPTOFLOW_KAFKA_IMAGE=$KAFKA_IMAGE
CRYPTOFLOW_POSTGRES_IMAGE=$POSTGRES_IMAGE
CRYPTOFLOW_REDIS_IMAGE=$REDIS_IMAGE
CRYPTOFLOW_SERVICE_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
CRYPTOFLOW_AIRFLOW_PASSWORD=$airflow_password
CRYPTOFLOW_UPBIT_WS_URL=ws://upbit-sim:8765/websocket/v1
CRYPTOFLOW_UPBIT_REST_URL=http://upbit-sim:8765
CRYPTOFLOW_SIM_MARKETS=10
CRYPTOFLOW_HISTORY_DAYS=30
CRYPTOFLOW_SERVICE_VOLUME_SCAN_EVERY_S=10
CRYPTOFLOW_API_PORT=$api_port
CRYPTOFLOW_AIRFLOW_PORT=$airflow_port
CRYPTOFLOW_SIM_PORT=${CRYPTOFLOW_CHECK_SIM_PORT:-18765}
CRYPTOFLOW_INGEST_METRICS_PORT=${CRYPTOFLOW_CHECK_INGEST_PORT:-19108}
CRYPTOFLOW_SINK_METRICS_PORT=${CRYPTOFLOW_CHECK_SINK_PORT:-19109}
CRYPTOFLOW_ARCHIVE_METRICS_PORT=${CRYPTOFLOW_CHECK_ARCHIVE_PORT:-19110}
EOF
project=$CRYPTOFLOW_COMPOSE_PROJECT
compose() { bash scripts/compose.sh "$@"; }
container() { compose_container "$project" "$1"; }

start=$SECONDS
elapsed() { echo $((SECONDS - start)); }
declare -A timings

teardown() {
  local status=$?
  if ((status)); then
    echo "compose-check: FAILED; the last lines of every service's log:" >&2
    project_logs "$project" 15
  fi
  compose down -v >/dev/null 2>&1 || true
  exit "$status"
}

# http_json URL [JQ-LIKE PYTHON EXPRESSION on `d`]: exit 0 when the URL answers 200 and the expression holds
http_ok() {
  python3 - "$@" <<'EOF'
import json, sys, urllib.request
url, test = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "True"
try:
    with urllib.request.urlopen(url, timeout=5) as response:
        d = json.load(response)
except Exception:
    sys.exit(1)
rows = d.get("results", d) if isinstance(d, dict) else d
sys.exit(0 if eval(test, {"d": d, "rows": rows}) else 1)
EOF
}

one_shot_ok() { # one_shot_ok SERVICE: it has exited 0 (fails the check at once on another exit code)
  local state name
  name=$(container "$1")
  [[ -n "$name" ]] || return 1
  state=$("$CONTAINER" inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$name" 2>/dev/null) || return 1
  case "$state" in
    "exited 0") return 0 ;;
    exited*) echo "compose-check: one-shot $1 failed ($state)" >&2; "$CONTAINER" logs --tail 30 "$name" >&2; exit 1 ;;
    *) return 1 ;;
  esac
}

image_start=$SECONDS
if [[ "${1:-}" != --no-build ]]; then # --no-build: the images `make images` built last
  bash scripts/images.sh
fi
timings[images]=$((SECONDS - image_start))
uv run --no-sync python scripts/check-deploy.py --images

trap teardown EXIT
compose down -v >/dev/null 2>&1 || true # leftovers of an interrupted run
up_start=$SECONDS
compose up
for job in topics mart-migrate service-migrate airflow-init history-backfill; do
  wait_for "one-shot $job" 600 one_shot_ok "$job"
done
timings[one-shots]=$((SECONDS - up_start))
wait_for "API healthy" 180 http_ok "http://127.0.0.1:$api_port/healthz"

wait_for "a live price" 300 http_ok "http://127.0.0.1:$api_port/api/realtime-price/" "len(rows) > 0"
timings[first live price]=$((SECONDS - up_start))

wait_for "the Airflow API" 600 http_ok "http://127.0.0.1:$airflow_port/api/v2/monitor/health" \
  "d['scheduler']['status'] == 'healthy'"
# The ticker EL runs every 10 minutes; the first run is triggered through the API rather than waited for
# (market_stats_24h follows it through its Asset).
trigger_ticker_run() {
  python3 - "http://127.0.0.1:$airflow_port" "$airflow_password" <<'EOF'
import json, sys, urllib.error, urllib.request
base, password = sys.argv[1:]
try:
    urllib.request.urlopen(f"{base}/api/v2/dags", timeout=60)
    sys.exit("compose-check: Airflow's API answered an anonymous request")
except urllib.error.HTTPError as exc:
    if exc.code not in (401, 403):
        raise
try:
    login = urllib.request.Request(
        f"{base}/auth/token", data=json.dumps({"username": "admin", "password": password}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    token = json.load(urllib.request.urlopen(login, timeout=60))["access_token"]
    request = urllib.request.Request(
        f"{base}/api/v2/dags/upbit_ticker_el/dagRuns", data=json.dumps({"logical_date": None}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, method="POST")
    run = json.load(urllib.request.urlopen(request, timeout=60))
except OSError as exc:  # a busy API server answers late: the caller tries again
    print(f"compose-check: triggering upbit_ticker_el: {exc}", file=sys.stderr)
    sys.exit(1)
print(f"compose-check: triggered {run['dag_id']} run {run['dag_run_id']}")
EOF
}
wait_for "a triggered ticker run" 300 trigger_ticker_run
wait_for "market stats" 600 http_ok "http://127.0.0.1:$api_port/api/market-stats/" "len(rows) > 0"
timings[first market stat]=$((SECONDS - up_start))
# The dashboard's pipeline health logs in to Airflow server-side and reads every DAG's newest run.
wait_for "pipeline health reading Airflow" 120 http_ok "http://127.0.0.1:$api_port/api/pipeline-health/" \
  "d['airflow']['error'] is None and len(d['airflow']['dags']) > 0 and d['processes'][0]['error'] is None"

beat_fired() {
  "$CONTAINER" logs "$(container celery-beat)" 2>&1 | grep -q "Sending due task" \
    && "$CONTAINER" logs "$(container celery-worker)" 2>&1 | grep -q "succeeded in"
}
wait_for "Celery Beat to fire and the worker to run it" 180 beat_fired
timings[beat]=$((SECONDS - up_start))

down_start=$SECONDS
trap - EXIT
compose down -v >/dev/null
timings[teardown]=$((SECONDS - down_start))
echo "compose-check: passed in $(elapsed)s"
printf '  %-38s %5ss\n' "images (make images)" "${timings[images]}" \
  "up -> one-shots done" "${timings[one-shots]}" \
  "up -> first live price" "${timings[first live price]}" \
  "up -> first market stat" "${timings[first market stat]}" \
  "up -> Beat fired, worker ran it" "${timings[beat]}" \
  "teardown (down -v)" "${timings[teardown]}"
