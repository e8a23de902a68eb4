#!/usr/bin/env bash
# `make status`: one line per part of the local stack; exits non-zero when anything is down.
set -uo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
source scripts/lib/proc.sh

down=0
for name in "${STACK_APPS[@]}"; do
  if proc_alive "$name"; then
    echo "$name: up (pid $(cat "$RUN_DIR/$name.pid"))"
  else
    echo "$name: down"
    down=1
  fi
done
uv run --no-sync cryptoflow-localstack status || down=1
exit "$down"
