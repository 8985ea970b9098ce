#!/usr/bin/env bash
# `make run`: the whole platform on this machine. Starts the broker (if it is not running), creates the
# topics, starts the four services, and on Ctrl-C stops the services and whatever it started itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
services=(intake eligibility assignment notifications)
logs=var/log
mkdir -p "$logs" var/data

kafka_started=no
if ! deploy/kafka/kafkactl status single >/dev/null 2>&1; then kafka_started=yes; fi
deploy/kafka/kafkactl start single
.venv/bin/socialsvc-topics

declare -A pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "run: stopping the services"
  for name in "${!pids[@]}"; do kill -TERM "${pids[$name]}" 2>/dev/null || true; done
  for name in "${!pids[@]}"; do
    wait "${pids[$name]}" 2>/dev/null || true
    echo "run: $name stopped"
  done
  if [ "$kafka_started" = yes ]; then deploy/kafka/kafkactl stop single; fi
  exit 0
}
trap stop_all INT TERM EXIT

for name in "${services[@]}"; do
  .venv/bin/python -m "$name" >"$logs/$name.log" 2>&1 &
  pids[$name]=$!
done

for name in "${services[@]}"; do
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
echo "run: the platform is up; Kafka on 127.0.0.1:9092. Ctrl-C stops everything."
status=0
wait -n || status=$?
echo "run: a service stopped (exit status $status); stopping the rest. Logs: $logs/" >&2
stop_all
