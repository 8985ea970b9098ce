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

.PHONY: help install run test test-unit test-integration lint format infra infra-stop topics schemas chaos \
	kafka-jars kafka-start kafka-stop kafka-status kafka-wipe \
	cluster-start cluster-stop cluster-status cluster-wipe \
	pg-start pg-stop pg-status pg-wipe

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install -q "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml libs/common/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --all-packages --locked --quiet
	@touch $@

install: $(VENV)/.synced ## install Python, the workspace and its tools (uv, locked)

run: install ## start Kafka, create the topics and run the four services (Ctrl-C stops all)
	@deploy/run.sh

test: install lint ## lint, then every test tier but chaos/bench against real Kafka and PostgreSQL
	@deploy/with-infra.sh $(PY) -m pytest

test-unit: install ## pure logic only: no broker, no database
	$(PY) -m pytest tests/unit

test-integration: install ## integration and end-to-end tests (starts Kafka and PostgreSQL)
	@deploy/with-infra.sh $(PY) -m pytest tests/integration tests/e2e

SCENARIO ?=
APPLICATIONS ?= 10000
chaos: install kafka-jars ## the chaos suite: SCENARIO=<name> (default: all), APPLICATIONS=10000
	$(PY) -m chaos $(if $(SCENARIO),--scenario $(SCENARIO),--all) --applications $(APPLICATIONS) $(CHAOS_ARGS)

lint: install ## ruff check, ruff format --check, mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

infra: kafka-start pg-start topics ## start the single-node broker and PostgreSQL, create topics

infra-stop: kafka-stop pg-stop ## stop the single-node broker and PostgreSQL

topics: install ## create or update every topic of the registry on the running broker
	$(VENV)/bin/socialsvc-topics

schemas: install ## regenerate the committed JSON Schemas of the payloads (refuses breaking changes)
	$(PY) -m socialsvc_common.contract.schemas

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

pg-start: ## install (if needed) and start PostgreSQL on 127.0.0.1:55432 with the role and databases
	@$(PG) start
pg-stop: ## stop PostgreSQL
	@$(PG) stop
pg-status: ## show whether PostgreSQL runs
	@$(PG) status
pg-wipe: ## delete PostgreSQL's data (it must be stopped)
	@$(PG) wipe
