#!/usr/bin/env bash
# Development API keys for `make run` and `make ops`, one per role, each in var/keys/<role>.key
# (owner-only); the store var/keys/api-keys.jsonl keeps only their hashes. A key file removed is
# issued again. Never for production: there, keys are issued per person or system.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p var/keys
for role in submitter social_worker operator administrator reviewer citizen_portal monitor; do
  if [ ! -s "var/keys/$role.key" ]; then
    (umask 077 && .venv/bin/socialsvc-keys --file var/keys/api-keys.jsonl issue "dev-$role" "$role" >"var/keys/$role.key")
  fi
done

# The workspace's demo people (README: Workspaces), each key in var/keys/<name>.key: a social
# worker of the demo applications' districts, a reviewer, and the home-care team of Xətai, which
# the first demo application is offered a place with.
demo_key() {
  local name=$1
  shift
  if [ ! -s "var/keys/$name.key" ]; then
    (umask 077 && .venv/bin/socialsvc-keys --file var/keys/api-keys.jsonl issue "$name" "$@" >"var/keys/$name.key")
  fi
}
demo_key demo-worker social_worker --district Xətai --district Gəncə --district Şəki \
  --district Lənkəran --district Qobustan --district Sumqayıt --district Quba
demo_key demo-reviewer reviewer
demo_key demo-provider provider --provider hc-xetai

# A key for every provider `make demo-statistics` puts in the registry, each in
# var/keys/providers/<id>.key: the services read the store only when they start, so a provider
# key issued while they run would not be known to them.
.venv/bin/python -m deploy.demo.ministry.keys ||
  echo "dev-keys: the demo's provider keys were not issued; make demo-statistics will answer offers through the operator's route" >&2
