# The one entry point for people and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(or $(UV_PYTHON),python3)
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
KAFKA := deploy/kafka/kafkactl
PG := deploy/postgres/pgctl

.PHONY: help install run ops prometheus k8s demo-statistics test test-unit test-integration bench bench-idle chaos multihost lint format infra infra-stop migrate topics schemas asyncapi \
	kafka-jars kafka-start kafka-stop kafka-status kafka-wipe \
	cluster-start cluster-stop cluster-status cluster-wipe \
	secure-cluster-start secure-cluster-stop secure-cluster-status secure-cluster-wipe \
	pg-start pg-stop pg-status pg-wipe

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install -q "uv==$(UV_VERSION)"

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set, Python reads .pyc files
# but never writes them, and every process would compile each module it imports again (a
# service's start took 6-7 s of CPU instead of 2.5). The workspace's own sources are compiled at
# every install (a quarter of a second when nothing changed).
$(VENV)/.synced: $(UV) uv.lock pyproject.toml libs/common/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --all-packages --locked --quiet --compile-bytecode
	@touch $@

install: $(VENV)/.synced ## install Python, the workspace and its tools (uv, locked)
	@$(PY) -m compileall -q libs services tests benchmarks chaos deploy tools

run: install ## start Kafka, create the topics, run the four services and the workspace (Ctrl-C stops all)
	@deploy/run.sh

ops: install ## the live operations page on http://127.0.0.1:8080 for the `make run` platform
	@deploy/dev-keys.sh
	@echo "ops: log in with the operator key in $(CURDIR)/var/keys/operator.key"
	$(VENV)/bin/socialsvc-ops serve --bootstrap 127.0.0.1:9092 --port $${OPS_PORT:-8080} \
		--keys-file var/keys/api-keys.jsonl --metrics-key-file var/keys/monitor.key

prometheus: install ## Prometheus (Debian's package) with the alert rules, scraping `make run`'s services, on http://127.0.0.1:9090
	@deploy/dev-keys.sh
	@mkdir -p var/prometheus
	$$(deploy/debian-tool prometheus) --config.file=deploy/prometheus/prometheus.yml \
		--storage.tsdb.path=var/prometheus --web.listen-address=127.0.0.1:$${PROMETHEUS_PORT:-9090}

# The ministry's scale into the running `make run` platform, e.g.
# `make demo-statistics DEMO_ARGS="--people 2000"`; `python -m deploy.demo.ministry --help` for the rest.
DEMO_ARGS ?=
demo-statistics: install ## load 20,000 people, 66 NGOs' 195 projects, institutions and home-care teams into `make run`'s platform; time the statistics
	$(PY) -m deploy.demo.ministry $(DEMO_ARGS)

# Two workers (pytest-xdist, a file at a time), each with a test broker of its own: most of a
# test's time is waiting for processes, so the suite takes about two thirds as long as in one.
TEST_WORKERS ?= 2
test: install lint ## lint, then every test tier but chaos/bench against real Kafka and PostgreSQL
	@TEST_WORKERS=$(TEST_WORKERS) deploy/with-infra.sh $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

test-unit: install ## pure logic only: no broker, no database
	$(PY) -m pytest tests/unit

test-integration: install ## integration and end-to-end tests (starts Kafka and PostgreSQL)
	@TEST_WORKERS=$(TEST_WORKERS) deploy/with-infra.sh $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile tests/integration tests/e2e

# Five minutes at 1,000/s by default; e.g. `make bench BENCH_ARGS="--rate 500"` for the latency
# target, `--mode kafka` to submit through the e-government topic, `--help` for the rest.
BENCH_ARGS ?=
bench: install kafka-jars pg-start ## throughput and latency of the whole platform next to the broker's limit
	$(PY) -m benchmarks.bench $(BENCH_ARGS)

bench-idle: install kafka-jars pg-start ## what the platform costs with nothing to do: CPU per process, commits a second
	$(PY) -m benchmarks.idle $(IDLE_ARGS)

SCENARIO ?=
APPLICATIONS ?= 10000
chaos: install kafka-jars ## the chaos suite: SCENARIO=<name> (default: all), APPLICATIONS=10000
	$(PY) -m chaos $(if $(SCENARIO),--scenario $(SCENARIO),--all) --applications $(APPLICATIONS) $(CHAOS_ARGS)

# Needs root (network namespaces); e.g. `make multihost MULTIHOST_ARGS="--cut postgres --applications 500"`.
MULTIHOST_ARGS ?=
multihost: install kafka-jars ## brokers, PostgreSQL and services on hosts of their own (TLS, SCRAM, ACLs), each host cut off for a minute in turn
	$(PY) -m chaos.multihost $(MULTIHOST_ARGS)

lint: install ## ruff check, ruff format --check, mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

infra: kafka-start pg-start topics ## start the single-node broker and PostgreSQL, create topics

infra-stop: kafka-stop pg-stop ## stop the single-node broker and PostgreSQL

migrate: install ## bring every service's database to the head of its migrations (socialsvc-db)
	$(VENV)/bin/socialsvc-db upgrade all

topics: install ## create or update every topic of the registry on the running broker
	$(VENV)/bin/socialsvc-topics

k8s: install ## regenerate deploy/k8s (Strimzi topics and users, Deployments, KEDA scalers) from the registry and the access map
	$(PY) -m deploy.k8s.generate

schemas: install ## regenerate the committed JSON Schemas of the payloads (refuses breaking changes)
	$(PY) -m socialsvc_common.contract.schemas

asyncapi: install ## regenerate docs/asyncapi (AsyncAPI 3.0 and a Markdown page per service) from the code
	$(PY) -m socialsvc_common.asyncapi

kafka-jars: ## fetch the pinned Kafka jars from Maven Central
	@$(KAFKA) jars
kafka-start: ## start the single-node KRaft broker on 127.0.0.1:9092
	@$(KAFKA) start single
kafka-stop: ## stop the single-node broker
	@$(KAFKA) stop single
kafka-status: ## show whether the single-node broker runs
	@$(KAFKA) status single
kafka-wipe: ## delete the single-node broker's data (it must be stopped)
	@$(KAFKA) wipe single

cluster-start: ## start the three-broker cluster on 127.0.0.1:19092,29092,39092
	@$(KAFKA) start cluster
cluster-stop: ## stop the three-broker cluster
	@$(KAFKA) stop cluster
cluster-status: ## show the three-broker cluster
	@$(KAFKA) status cluster
cluster-wipe: ## delete the cluster's data (it must be stopped)
	@$(KAFKA) wipe cluster

SECURE_VAR := $(CURDIR)/var/kafka/cluster-secure
SECURE_BROKERS := 127.0.0.1:19094,127.0.0.1:29094,127.0.0.1:39094

# The admin's password goes from its owner-only file into the environment of the two commands,
# never onto a command line or the terminal.
secure-cluster-start: install ## start the TLS + SASL/SCRAM + ACL cluster on :19094,29094,39094, topics, users, ACLs
	@$(KAFKA) start cluster-secure
	@export SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS=$(SECURE_BROKERS) SOCIALSVC_KAFKA_SECURITY_PROTOCOL=SASL_SSL \
		SOCIALSVC_KAFKA_SSL_CAFILE=$(SECURE_VAR)/tls/ca.pem \
		SOCIALSVC_KAFKA_SASL_USERNAME=admin SOCIALSVC_KAFKA_SASL_PASSWORD="$$(cat $(SECURE_VAR)/admin.password)" && \
		$(VENV)/bin/socialsvc-topics && $(VENV)/bin/socialsvc-acls --passwords $(SECURE_VAR)/principals.passwords \
		--partners $(SECURE_VAR)/partners.jsonl
secure-cluster-stop: ## stop the secure cluster
	@$(KAFKA) stop cluster-secure
secure-cluster-status: ## show the secure cluster
	@$(KAFKA) status cluster-secure
secure-cluster-wipe: ## delete the secure cluster's data, users and passwords (it must be stopped)
	@$(KAFKA) wipe cluster-secure

pg-start: ## install (if needed) and start PostgreSQL on 127.0.0.1:25432 with the role and databases
	@$(PG) start
pg-stop: ## stop PostgreSQL
	@$(PG) stop
pg-status: ## show whether PostgreSQL runs
	@$(PG) status
pg-wipe: ## delete PostgreSQL's data (it must be stopped)
	@$(PG) wipe
