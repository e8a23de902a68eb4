#!/bin/bash
# As the official apache/kafka image: every KAFKA_* variable becomes a server property (KAFKA_LOG_DIRS ->
# log.dirs; `__` stands for `_` and `___` for `-`), the log directory is formatted once with CLUSTER_ID,
# then the broker runs in the foreground.
set -euo pipefail
config=/tmp/server.properties
: "${CLUSTER_ID:=5L6g3nShT-eMCtK--X86sw}" "${KAFKA_LOG_DIRS:=/var/lib/kafka/data}" "${KAFKA_HEAP_OPTS:=-Xmx512m -Xms512m}"
export KAFKA_LOG_DIRS
: >"$config"
while IFS='=' read -r name value; do
  [[ "$name" == KAFKA_* && "$name" != KAFKA_HEAP_OPTS ]] || continue
  key=${name#KAFKA_}
  key=${key,,}
  key=${key//___/-}
  key=${key//__/@}
  key=${key//_/.}
  key=${key//@/_}
  printf '%s=%s\n' "$key" "$value" >>"$config"
done < <(env)
# shellcheck disable=SC2206 # the heap options are words
java=(java $KAFKA_HEAP_OPTS -Dlog4j.configuration=file:/opt/kafka/config/log4j.properties -cp '/opt/kafka/libs/*')
if [[ ! -f "$KAFKA_LOG_DIRS/meta.properties" ]]; then
  "${java[@]}" kafka.tools.StorageTool format --cluster-id "$CLUSTER_ID" --config "$config" --ignore-formatted
fi
exec "${java[@]}" kafka.Kafka "$config"
