#!/usr/bin/env bash
# `make up`: install what is missing, then run the whole system on loopback, detached:
# Kafka, PostgreSQL, Redis → upbit-sim → ingest → Kafka → stream-sink → Redis (hot path);
# Kafka → archive → PostgreSQL (every trade, candles for every market);
# Airflow → lake → marts (cold path); the API, dashboard, Celery worker and Beat (service).
# Every part logs to .state/logs/<part>.log; `make status` checks it, `make down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/toolchain.sh
# Airflow, Django and Celery start many processes: let each reuse the bytecode the first one wrote.
unset PYTHONDONTWRITEBYTECODE
bash scripts/bootstrap.sh
source scripts/lib/proc.sh
set -a
source deploy/local/stack.env
# shellcheck source=/dev/null
[[ -f .env ]] && source .env
set +a
run() { uv run --no-sync "$@"; }

echo "up: services"
run cryptoflow-localstack up

echo "up: schemas"
run cryptoflow-batch db upgrade --create
# The production settings refuse a default secret: the local stack keeps its own, generated once.
secret_file="$STATE_DIR/service-secret-key"
[[ -s "$secret_file" ]] || python3 -c "import secrets; print(secrets.token_urlsafe(48))" >"$secret_file"
export CRYPTOFLOW_SERVICE_SECRET_KEY="$(cat "$secret_file")"
# Airflow's API and UI ask for a login: one password, generated once, for the user and the dashboard.
airflow_password_file="$STATE_DIR/airflow-password"
[[ -s "$airflow_password_file" ]] || python3 -c "import secrets; print(secrets.token_urlsafe(18))" >"$airflow_password_file"
export CRYPTOFLOW_BATCH_AIRFLOW_PASSWORD="${CRYPTOFLOW_BATCH_AIRFLOW_PASSWORD:-$(cat "$airflow_password_file")}"
export CRYPTOFLOW_SERVICE_AIRFLOW_USERNAME="${CRYPTOFLOW_BATCH_AIRFLOW_USER:-admin}"
export CRYPTOFLOW_SERVICE_AIRFLOW_PASSWORD="$CRYPTOFLOW_BATCH_AIRFLOW_PASSWORD"
run cryptoflow-service migrate

echo "up: applications"
proc_start upbit-sim uv run --no-sync upbit-sim serve --host 127.0.0.1 --port "$CRYPTOFLOW_SIM_PORT" \
  --markets "$CRYPTOFLOW_SIM_MARKETS" --rate "$CRYPTOFLOW_SIM_RATE" --seed 1
proc_wait_line upbit-sim "ws=" 60
# 120 days of daily candles for every market, so the marts, indicators and dashboard charts have history
# from the first minute (idempotent and resumable: a second `make up` fetches only what is missing).
echo "up: history (daily candles, 120 days, every market)"
markets=$(curl -fsS "http://127.0.0.1:$CRYPTOFLOW_SIM_PORT/v1/market/all" \
  | python3 -c 'import json, sys; print(",".join(m["market"] for m in json.load(sys.stdin)))')
run cryptoflow-batch backfill --no-progress --markets "$markets" \
  --from "$(date -u -d '120 days ago' +%F)" --to "$(date -u +%F)" >"$LOG_DIR/history.log" 2>&1 \
  || { echo "  history backfill failed; see $LOG_DIR/history.log" >&2; exit 1; }
# The first 24 h market stats now, not when Airflow's first ticker run comes round (Airflow takes minutes
# to start on a small machine): one ticker snapshot of every market, then its transforms.
run cryptoflow-batch el ticker >"$LOG_DIR/first-ticker.log" 2>&1 \
  || echo "  no first market stats (see $LOG_DIR/first-ticker.log); the ticker DAG will collect them" >&2
# A first ML model on that history (walk-forward validated, registered, every market scored), so
# /api/predict/ answers from the start; the ml_train DAG retrains on every indicators update.
echo "up: first ML model (1d)"
run cryptoflow-batch train --no-progress >"$LOG_DIR/ml-train.log" 2>&1 \
  || echo "  no first ML model (see $LOG_DIR/ml-train.log); the ml_train DAG will train one" >&2
proc_start stream-sink uv run --no-sync cryptoflow-stream-sink
# The permanent record: every trade into lake.trades, candles for every market (schema applied above).
proc_start archive uv run --no-sync cryptoflow-archive run
# The restart checkpoint (newest trade Kafka acknowledged per market) lives with the rest of the state.
proc_start ingest uv run --no-sync cryptoflow-ingest --state-file "$STATE_DIR/ingest-state.json"
proc_start airflow bash deploy/local/airflow.sh
proc_start api uv run --no-sync cryptoflow-service serve --bind "$CRYPTOFLOW_SERVICE_BIND"
proc_start celery-worker uv run --no-sync cryptoflow-service worker
proc_start celery-beat uv run --no-sync cryptoflow-service beat --schedule "$STATE_DIR/celerybeat-schedule"
proc_wait_line api "Listening at|Booting worker" 60
proc_wait_line airflow "airflow: ready" 300

echo
echo "CryptoFlow is up:"
echo "  dashboard + API  http://$CRYPTOFLOW_SERVICE_BIND/   (OpenAPI docs: /api/docs/)"
echo "  Airflow          http://127.0.0.1:$CRYPTOFLOW_BATCH_AIRFLOW_PORT/   (user ${CRYPTOFLOW_BATCH_AIRFLOW_USER:-admin}, password in $airflow_password_file)"
echo "  upbit-sim        ws://127.0.0.1:$CRYPTOFLOW_SIM_PORT/websocket/v1  http://127.0.0.1:$CRYPTOFLOW_SIM_PORT"
echo "  metrics          ingest http://127.0.0.1:$CRYPTOFLOW_INGEST_METRICS_PORT/metrics  sink http://127.0.0.1:$CRYPTOFLOW_SINK_METRICS_PORT/metrics  archive http://127.0.0.1:$CRYPTOFLOW_ARCHIVE_METRICS_PORT/metrics"
echo "  logs             $LOG_DIR"
echo "  stop with        make down"
