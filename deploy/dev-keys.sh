#!/usr/bin/env bash
# Development API keys for `make run` and `make ops`, one per role, each in var/keys/<role>.key
# (owner-only); the store var/keys/api-keys.jsonl keeps only their hashes. A key file removed is
# issued again. Never for production: there, keys are issued per person or system.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p var/keys
for role in submitter social_worker operator administrator reviewer citizen_portal; do
  if [ ! -s "var/keys/$role.key" ]; then
    (umask 077 && .venv/bin/socialsvc-keys --file var/keys/api-keys.jsonl issue "dev-$role" "$role" >"var/keys/$role.key")
  fi
done
