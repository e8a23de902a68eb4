#!/usr/bin/env bash
# Installs what the local stack needs (PostgreSQL, Redis, Java, Maven, Kafka jars), idempotently.
# The script itself ships inside the cryptoflow-localstack wheel, so the pytest plugin can run it on a
# machine that has the wheel but not this repository; this wrapper runs that one copy.
#   deploy/local/install.sh                      # Kafka 3.9.1 (the default broker) and 4.1.1
#   KAFKA_VERSIONS="3.9.1" deploy/local/install.sh
set -euo pipefail
# The repository's tests also run against a Kafka 4.x broker: fetch it here rather than mid-test.
export KAFKA_VERSIONS="${KAFKA_VERSIONS:-${CRYPTOFLOW_KAFKA_VERSION:-3.9.1} 4.1.1}"
exec bash "$(dirname "$0")/../../packages/localstack/src/cryptoflow_localstack/install.sh" "$@"
