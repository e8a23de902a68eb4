#!/usr/bin/env bash
# Start, stop or check the local Kafka, PostgreSQL and Redis (detached; state, logs and pid files under
# ${CRYPTOFLOW_STATE_DIR:-.state}/). A thin wrapper over the `cryptoflow-localstack` command:
#   deploy/local/services.sh up [kafka|postgres|redis ...]
#   deploy/local/services.sh status            # exit 1 when a service is down
#   deploy/local/services.sh down
set -euo pipefail
cd "$(dirname "$0")/../.."
export UV_PYTHON_DOWNLOADS=never
exec uv run --package cryptoflow-localstack cryptoflow-localstack "$@"
