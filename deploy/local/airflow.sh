#!/usr/bin/env bash
# The local Airflow of `make up`: creates the `airflow` metadata database and the CryptoFlow database when
# missing, applies the lake/mart migrations and `airflow db migrate`, then runs api-server (:8081),
# scheduler and dag-processor in the foreground until SIGTERM/SIGINT (stops all three together).
# Prints "airflow: ready api=http://127.0.0.1:8081" once the API answers.
#
#   deploy/local/airflow.sh                      # settings from CRYPTOFLOW_BATCH_* (see packages/batch/README.md)
#   CRYPTOFLOW_BATCH_UPBIT_REST_URL=http://127.0.0.1:8765 deploy/local/airflow.sh   # against upbit-sim
#   eval "$(uv run --no-sync cryptoflow-batch airflow env)"; airflow dags list       # by hand
set -euo pipefail
cd "$(dirname "$0")/../.."
export UV_PYTHON_DOWNLOADS=never
exec uv run --no-sync --package cryptoflow-batch cryptoflow-batch airflow run "$@"
