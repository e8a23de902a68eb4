#!/usr/bin/env bash
# `make down`: stop every part of the local stack, applications first, services last. Data stays in .state/.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
source scripts/lib/proc.sh

echo "down: applications"
for ((i = ${#STACK_APPS[@]} - 1; i >= 0; i--)); do
  proc_stop "${STACK_APPS[i]}"
done
echo "down: services"
uv run --no-sync cryptoflow-localstack down
