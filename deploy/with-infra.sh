#!/usr/bin/env bash
# Runs a command (the test suite) with the test brokers (127.0.0.1:9192, and 9194 for a second
# worker; apart from the one `make run` uses, so test records never reach the demo), PostgreSQL and
# the topics in place.
# What this script starts, it stops again afterwards; what was already running stays running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# TEST_WORKERS=2 (pytest-xdist's -n 2, as `make test` runs) starts a second test broker,
# 127.0.0.1:9194, for the second worker: two platforms on one broker would consume each other's
# events, since every run shares the topics.
workers=${TEST_WORKERS:-1}
case $workers in
  1) brokers=(test) ;;
  2) brokers=(test test-2) ;;
  *) echo "with-infra: TEST_WORKERS must be 1 or 2, not '$workers'" >&2; exit 2 ;;
esac

started=()
for broker in "${brokers[@]}"; do
  if ! deploy/kafka/kafkactl status "$broker" >/dev/null 2>&1; then started+=("kafka:$broker"); fi
done
if ! deploy/postgres/pgctl status >/dev/null 2>&1; then started+=(postgres); fi

pids=()
cleanup() {
  local status=$? pid
  # A broker still starting in the background (when another start failed) is waited for, so that
  # it is stopped below rather than left running.
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  for part in "${started[@]}"; do
    case $part in
      kafka:*) deploy/kafka/kafkactl stop "${part#kafka:}" ;;
      postgres) deploy/postgres/pgctl stop ;;
    esac
  done
  exit "$status"
}
trap cleanup EXIT

# The jars first, once; then the brokers start side by side with PostgreSQL.
deploy/kafka/kafkactl jars
for broker in "${brokers[@]}"; do
  deploy/kafka/kafkactl start "$broker" &
  pids+=($!)
done
deploy/postgres/pgctl start
for pid in "${pids[@]}"; do wait "$pid"; done
pids=()
declare -A address=([test]=127.0.0.1:9192 [test-2]=127.0.0.1:9194)
servers=()
for broker in "${brokers[@]}"; do
  SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS=${address[$broker]} .venv/bin/socialsvc-topics >/dev/null
  servers+=("${address[$broker]}")
done
export SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS=${servers[0]}
# Each worker's broker, in the order of the workers' numbers (tests/conftest.py).
export TEST_KAFKA_BROKERS="${servers[*]}"

# Every client (libpq, asyncpg) checks the server's certificate, host name included.
export PGSSLMODE=verify-full PGSSLROOTCERT
PGSSLROOTCERT=$(deploy/postgres/pgctl ca)
export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgresql+asyncpg://socialsvc:socialsvc@127.0.0.1:${PG_PORT:-25432}/socialsvc_test}
"$@"
