#!/usr/bin/env bash
# Runs a command (the test suite) with the test broker (127.0.0.1:9192, apart from the one `make run`
# uses, so test records never reach the demo), PostgreSQL and the topics in place.
# What this script starts, it stops again afterwards; what was already running stays running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

started=()
if ! deploy/kafka/kafkactl status test >/dev/null 2>&1; then started+=(kafka); fi
if ! deploy/postgres/pgctl status >/dev/null 2>&1; then started+=(postgres); fi

cleanup() {
  local status=$?
  for part in "${started[@]}"; do
    case $part in
      kafka) deploy/kafka/kafkactl stop test ;;
      postgres) deploy/postgres/pgctl stop ;;
    esac
  done
  exit "$status"
}
trap cleanup EXIT

deploy/kafka/kafkactl start test
deploy/postgres/pgctl start
export SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9192
.venv/bin/socialsvc-topics >/dev/null

# Every client (libpq, asyncpg) checks the server's certificate, host name included.
export PGSSLMODE=verify-full PGSSLROOTCERT
PGSSLROOTCERT=$(deploy/postgres/pgctl ca)
export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgresql+asyncpg://socialsvc:socialsvc@127.0.0.1:${PG_PORT:-25432}/socialsvc_test}
"$@"
