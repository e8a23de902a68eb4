#!/bin/bash
# As the official image: `redis-server ARGS` runs without protected mode, anything else runs as given.
set -euo pipefail
if [[ "${1:-}" == redis-server ]]; then
  shift
  exec redis-server --protected-mode no --dir /data "$@"
fi
exec "$@"
