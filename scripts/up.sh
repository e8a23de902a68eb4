#!/usr/bin/env bash
# `make up`: install what is missing, then run the whole system on loopback, detached.
# Every part logs to .state/logs/<part>.log; `make status` checks it, `make down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
bash scripts/bootstrap.sh
source scripts/lib/proc.sh
# shellcheck source=/dev/null
[[ -f .env ]] && set -a && source .env && set +a

SIM_PORT="${CRYPTOFLOW_SIM_PORT:-8765}"
SIM_MARKETS="${CRYPTOFLOW_SIM_MARKETS:-20}"
SIM_RATE="${CRYPTOFLOW_SIM_RATE:-200}"

echo "up: services"
uv run --no-sync cryptoflow-localstack up

echo "up: upbit-sim (stands in for api.upbit.com)"
proc_start upbit-sim uv run --no-sync upbit-sim serve --host 127.0.0.1 --port "$SIM_PORT" \
  --markets "$SIM_MARKETS" --rate "$SIM_RATE" --seed 1
proc_wait_line upbit-sim "ws=" 30

echo
echo "CryptoFlow is up:"
echo "  upbit-sim   ws://127.0.0.1:$SIM_PORT/websocket/v1  http://127.0.0.1:$SIM_PORT"
echo "  logs        $LOG_DIR"
echo "  stop with   make down"
