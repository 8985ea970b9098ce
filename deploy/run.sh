#!/usr/bin/env bash
# `make run`: the whole platform on this machine. Starts the broker (unless it runs), creates the
# topics, starts the local SMS, e-gov inbox and e-mail sinks, the four services, the statistics
# service and the audit archive, submits the demo applications and prints their journeys. Ctrl-C
# stops the processes and the broker if this script started it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
processes=(sinks intake eligibility assignment notifications statistics archive workspace)
# The demo shows its messages at once, whatever the hour in Baku; production keeps quiet hours.
export NOTIFICATIONS_QUIET_HOURS=${NOTIFICATIONS_QUIET_HOURS:-off}
# The local gateways report deliveries back like real providers do.
export NOTIFICATIONS_SINK_RECEIPTS_URL=${NOTIFICATIONS_SINK_RECEIPTS_URL:-http://127.0.0.1:8003/receipts}
logs=var/log
mkdir -p "$logs" var/data var/sinks var/keys

# Development API keys, one per role, each in var/keys/<role>.key; `make ops` uses the same store.
keys=var/keys/api-keys.jsonl
export INTAKE_API_KEYS_FILE=$root/$keys ASSIGNMENT_API_KEYS_FILE=$root/$keys
export ELIGIBILITY_API_KEYS_FILE=$root/$keys NOTIFICATIONS_API_KEYS_FILE=$root/$keys
export STATISTICS_API_KEYS_FILE=$root/$keys
# The workspace signs people in with the same store, and calls the services with their keys.
export WORKSPACE_API_KEYS_FILE=$root/$keys
deploy/dev-keys.sh

kafka_started=no
if ! deploy/kafka/kafkactl status single >/dev/null 2>&1; then kafka_started=yes; fi
deploy/kafka/kafkactl start single
.venv/bin/socialsvc-topics
# Each service's database at the head of its history (the services refuse any other).
.venv/bin/socialsvc-db upgrade all

declare -A pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "run: stopping the services"
  # The reverse of the start order: services drain before the sinks they send to go away.
  local index name
  for ((index = ${#processes[@]} - 1; index >= 0; index--)); do
    name=${processes[$index]}
    [ -n "${pids[$name]:-}" ] || continue
    kill -TERM "${pids[$name]}" 2>/dev/null || true
    while kill -0 "${pids[$name]}" 2>/dev/null; do sleep 0.2; done
    echo "run: $name stopped"
  done
  if [ "$kafka_started" = yes ]; then deploy/kafka/kafkactl stop single; fi
  exit 0
}
trap stop_all INT TERM EXIT

for name in "${processes[@]}"; do
  module=$name
  [ "$name" = sinks ] && module=notifications.sinks
  [ "$name" = archive ] && module=socialsvc_ops.archive
  [ "$name" = statistics ] && module=ministry_statistics
  # Own session: Ctrl-C reaches this script, which stops the processes in order.
  setsid .venv/bin/python -m "$module" >"$logs/$name.log" 2>&1 &
  pids[$name]=$!
done

for name in "${processes[@]}"; do
  waited=0
  until grep -q '"event": "started"' "$logs/$name.log" 2>/dev/null; do
    if ! kill -0 "${pids[$name]}" 2>/dev/null; then
      tail -n 20 "$logs/$name.log" >&2
      echo "run: $name exited during start-up; its log is $logs/$name.log" >&2
      exit 1
    fi
    [ "$waited" -ge 60 ] && { echo "run: $name not started after 60s; see $logs/$name.log" >&2; exit 1; }
    sleep 1
    waited=$((waited + 1))
  done
  echo "run: $name running (pid ${pids[$name]}), log: $logs/$name.log"
done

echo "run: Kafka 127.0.0.1:9092; intake http://127.0.0.1:8000 (eligibility :8001,"
echo "run: assignment :8002, notifications :8003, statistics :8006); SMS sink :8090, e-gov inbox"
echo "run: sink :8091 and SMTP sink :8025 write what citizens receive to var/sinks/{sms,inbox,mail}.jsonl."
echo "run: API keys by role in var/keys/<role>.key, e.g."
echo "run:   curl -H \"Authorization: Bearer \$(cat var/keys/social_worker.key)\" localhost:8000/applications/<id>"
echo "run: a citizen's view through the portal (README: A citizen's view through the portal):"
echo "run:   curl -H \"Authorization: Bearer \$(cat var/keys/citizen_portal.key)\" -H 'X-Citizen-FIN: <FIN>' localhost:8000/portal/applications"
echo "run: the ministry's figures (README: Statistics), e.g."
echo "run:   curl -H \"Authorization: Bearer \$(cat var/keys/operator.key)\" 'localhost:8006/statistics?from=2026-01'"
echo "run: the audit archive keeps every event in var/data/archive.db: .venv/bin/socialsvc-ops archive query --help"
echo "run: the operations page: \`make ops\` in another terminal, then log in at http://127.0.0.1:8080/"
echo "run: with the operator key in var/keys/operator.key."
echo "run: the workspace: http://127.0.0.1:8005/ (README: Workspaces); sign in with the key in"
echo "run:   var/keys/demo-worker.key (a social worker of the demo's districts),"
echo "run:   var/keys/demo-reviewer.key (a reviewer) or var/keys/demo-provider.key (Xətai's home-care team)."
.venv/bin/python deploy/demo/demo.py || echo "run: the demo did not finish; the platform keeps running" >&2
echo "run: the platform keeps running. Ctrl-C stops everything."

# Poll rather than `wait -n`: bash runs the INT trap once the foreground `sleep` ends.
while :; do
  for name in "${!pids[@]}"; do
    if ! kill -0 "${pids[$name]}" 2>/dev/null; then
      echo "run: $name stopped on its own; stopping the rest. Logs: $logs/" >&2
      stop_all
    fi
  done
  sleep 1
done
