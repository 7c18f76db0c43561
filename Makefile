# streammart — the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
# The test suite runs against its own stack (own data dir and ports), so it never
# touches the demo's data and both can run side by side.
TEST_ENV := STREAMMART_HOME=$(CURDIR)/.stack-test STREAMMART_PG_PORT=15442 STREAMMART_KAFKA_PORT=19102 \
	STREAMMART_KAFKA_CONTROLLER_PORT=19103 STREAMMART_AIRFLOW_PORT=18090 STREAMMART_DEMO_API_PORT=18091 STREAMMART_DASHBOARD_PORT=18095 STREAMMART_WORKER_METRICS_PORT=18096 STREAMMART_DBT_TARGET=ci \
	STREAMMART_AIRFLOW_DAGS_PAUSED=true

.PHONY: help install demo test test-unit test-stack-down stack-up stack-down bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml stack/install-system-packages.sh
	bash stack/install-system-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip sync --quiet --compile-bytecode requirements.lock
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)  ## system packages + virtualenv from requirements.lock

demo: install  ## stack up, sample data produced and landed, marts built by Airflow, dashboard pointers
	$(BIN)/streammart demo

test: install  ## the whole test suite against a real local stack of its own (started if needed)
	$(TEST_ENV) $(BIN)/streammart-stack start
	$(TEST_ENV) $(BIN)/python -m pytest

test-stack-down:  ## stop the test suite's stack
	$(TEST_ENV) $(BIN)/streammart-stack stop

test-unit: install  ## only the tests that need no services
	$(BIN)/python -m pytest -m "not services and not airflow"

bench: install  ## landing and producer throughput, one table (Postgres + Kafka of the stack, a few minutes)
	$(BIN)/streammart-stack start postgres kafka
	$(BIN)/python -m bench.landing

stack-up: install  ## start Postgres, Kafka and Airflow
	$(BIN)/streammart-stack start

stack-down:  ## stop every local service (data kept)
	$(BIN)/streammart-stack stop

clean:  ## stop services and delete their data, the virtualenv and outputs
	-$(BIN)/streammart-stack stop --purge
	-$(TEST_ENV) $(BIN)/streammart-stack stop --purge
	rm -rf $(VENV) rejects dbt/target dbt/logs screenshots
