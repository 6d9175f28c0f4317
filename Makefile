# Ferry — run and schedule commerce data imports and exports.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

VENV ?= .venv
PY := $(VENV)/bin/python
PROTO_FILES := $(wildcard protos/ferry/v1/*.proto)
GEN_DIR := common
STAMP := $(VENV)/.installed
# Debian packages the tests need (tmux: the dashboard test; npm: buf; python3-venv: the venv).
TEST_DEBIAN_PACKAGES := tmux jq npm python3-venv openssh-server

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@command -v python3 >/dev/null || { echo "Ferry needs Python 3.11+: apt-get install python3 python3-venv" >&2; exit 1; }
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

BUF := node_modules/.bin/buf
$(BUF): package.json package-lock.json
	@command -v npm >/dev/null || { echo "buf comes from npm: install Node.js and npm (apt-get install nodejs npm)" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: venv
venv: $(STAMP) ## Create the virtualenv and install Ferry with its dev tools

.PHONY: proto
proto: $(STAMP) ## Regenerate the Python code for protos/ferry/v1 (into common/ferry/v1)
	rm -f $(GEN_DIR)/ferry/v1/*_pb2*.py $(GEN_DIR)/ferry/v1/*_pb2*.pyi
	$(PY) -m grpc_tools.protoc -I protos --python_out=$(GEN_DIR) --pyi_out=$(GEN_DIR) \
	  --grpc_python_out=$(GEN_DIR) $(PROTO_FILES)
	@touch $(GEN_DIR)/ferry/v1/__init__.py

.PHONY: run
run: $(STAMP) ## Start Ferry (registry, scheduler, runners) in the foreground; Ctrl-C stops it all
	$(PY) -m tools.devstack

.PHONY: tools
tools: $(STAMP) $(BUF) ## Install the dev tools (Python venv and buf)

.PHONY: test-setup
test-setup: ## Install the Debian packages the tests need; start PostgreSQL, MariaDB, RabbitMQ
	TEST_DEBIAN_PACKAGES="$(TEST_DEBIAN_PACKAGES)" bash tools/test-setup.sh

.PHONY: test
test: test-setup tools ## Set up, then run the whole test suite (unit, contract, integration, faults)
	$(PY) -m pytest -q -n 2 --dist loadgroup tests

.PHONY: test-unit
test-unit: $(STAMP) ## Run the fast unit tests only
	$(PY) -m pytest -q tests/unit

.PHONY: lint
lint: $(STAMP) $(BUF) ## Lint Python (ruff), the import rules (import-linter), module sizes and protos (buf lint)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) tools/check_module_size.py
	cd protos && ../$(BUF) lint

.PHONY: breaking
breaking: $(BUF) ## Check protos/ for breaking changes against main (buf breaking)
	cd protos && ../$(BUF) breaking --against '../.git#branch=main,subdir=protos'

.PHONY: bench
bench: $(STAMP) ## Run the benchmarks under bench/
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b; done

.PHONY: clean
clean: ## Remove the virtualenv and local state
	rm -rf $(VENV) .ferry .pytest_cache
