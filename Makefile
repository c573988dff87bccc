# levibot — one way in. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: help deps demo test test-fast lint format cluster cluster-down cluster-status bench clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install everything (Debian packages, .venv, Go-built binaries); idempotent
	@hack/bootstrap.sh

demo: deps ## The main job: run levibot end to end on a local control plane
	@$(PY) -m levibot_devstack.demo $(DEMO_ARGS)

# Workers for pytest-xdist. Tests on one control plane share a worker (tests/conftest.py
# groups them), so each cluster starts once; the e2e stack tests run afterwards on two workers,
# each with its own whole stack (they mostly wait on the demo's time scale): the drift loop's
# test (~20 min) in a group of its own, every other e2e file in order on the other (~15 min).
PYTEST_WORKERS ?= 2
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup

test: deps lint ## Lint, then the whole suite (unit, services, cluster on both cores; then e2e, a stack per worker) — what CI runs
	@$(PY) -m pytest $(XDIST) --ignore=tests/e2e --durations=30 $(PYTEST_ARGS)
	@$(PY) -m pytest $(XDIST) tests/e2e --durations=30 $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-fast: ## Only the tests that need no server (no deps check)
	@$(PY) -m pytest $(XDIST) -m "not cluster and not postgres and not prometheus and not slow" $(PYTEST_ARGS)

lint: deps ## ruff (lint + format check), mypy --strict, import-linter
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy
	@$(VENV)/bin/lint-imports

format: ## Apply ruff's fixes and formatting
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

cluster: deps ## Start the local control plane (etcd, kube-apiserver, KCM, scheduler, kwok)
	@$(PY) -m levibot_devstack.cluster up

cluster-down: ## Stop the local control plane and remove its state
	@$(PY) -m levibot_devstack.cluster down

cluster-status: ## Is the local control plane running?
	@$(PY) -m levibot_devstack.cluster status

bench: deps ## Run every benchmark in bench/ (figures side by side with their baselines)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean: cluster-down ## Remove local state (.run/); keeps .venv and the binary cache
	@rm -rf .run
