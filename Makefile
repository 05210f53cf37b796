# Signet: `make run` starts the portal on the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: install install-run mlflow-server-env run test lint typecheck migrations pytest lock locks

# Every dependency, direct or transitive, is pinned with its hashes in requirements/*.txt, compiled
# from pyproject.toml by `make lock` (README, Dependencies). pip installs exactly those files and
# refuses anything whose hash differs; Signet itself then goes in as an editable install, using the
# locked setuptools and no dependency resolution of its own.
PIP := $(PY) -m pip --disable-pip-version-check
LOCK_INSTALL := $(PIP) install --quiet --require-hashes --no-deps
SELF_INSTALL := $(PIP) install --quiet --no-deps --no-build-isolation -e .
PIP_QUIET := 2> >(grep -v "is ignored: it is neither" >&2)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# What `make run` needs: the runtime lock (the embedded default has no PostgreSQL driver to build).
$(VENV)/.installed-run: requirements/run.txt pyproject.toml | $(VENV)/bin/python
	@echo "Installing Signet and its runtime dependencies (requirements/run.txt) into $(VENV) ..."
	@$(LOCK_INSTALL) -r requirements/run.txt $(PIP_QUIET)
	@$(SELF_INSTALL) $(PIP_QUIET)
	@# Bytecode, as pip writes it for installed packages: an editable install has none, and where
	@# PYTHONDONTWRITEBYTECODE is set every command would compile Signet's sources again.
	@$(PY) -m compileall -q apps portal manage.py > /dev/null
	@touch $@

# What `make test` needs: the dev lock, the runtime one plus the test toolchain (same versions).
$(VENV)/.installed-dev: requirements/dev.txt pyproject.toml | $(VENV)/bin/python
	@echo "Installing Signet, its dependencies and the test toolchain (requirements/dev.txt) into $(VENV) ..."
	@$(LOCK_INSTALL) -r requirements/dev.txt $(PIP_QUIET)
	@$(SELF_INSTALL) $(PIP_QUIET)
	@$(PY) -m compileall -q apps portal manage.py > /dev/null
	@touch $@ $(VENV)/.installed-run

# The tool that compiles the locks, pinned and hashed like everything else (requirements/tools.txt).
$(VENV)/.installed-tools: requirements/tools.txt | $(VENV)/bin/python
	@$(LOCK_INSTALL) -r requirements/tools.txt $(PIP_QUIET)
	@touch $@

# The MLflow tracking server that the MLflow bridge's tests start (tests/mlflow_server.py) and the bench
# runs on PostgreSQL: a virtualenv of its own, since mlflow 3.17.2 pins pyarrow<26 and Signet pins 26
# (requirements/mlflow-server.in says why not 3.18.0). Signet never imports it; the tests' client is
# mlflow-skinny in the dev lock.
MLFLOW_VENV := .venv-mlflow
$(MLFLOW_VENV)/.installed: requirements/mlflow-server.txt
	@echo "Installing the MLflow server for the bridge's tests (requirements/mlflow-server.txt) into $(MLFLOW_VENV) ..."
	@test -x $(MLFLOW_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW_VENV)
	@$(MLFLOW_VENV)/bin/python -m pip install --disable-pip-version-check --quiet --require-hashes --no-deps \
		-r requirements/mlflow-server.txt $(PIP_QUIET)
	@touch $@

## install: create .venv and install Signet with every pinned dependency and the test toolchain
install: $(VENV)/.installed-dev

## install-run: create .venv and install only what running Signet needs (requirements/run.txt)
install-run: $(VENV)/.installed-run

## mlflow-server-env: create .venv-mlflow, the MLflow server the bridge's tests start (requirements/mlflow-server.txt)
mlflow-server-env: $(MLFLOW_VENV)/.installed

## run: migrate, seed the demo organisation, start web server + Celery worker and beat (Ctrl-C stops all)
run: export DEBUG ?= true
run: install-run
	@mkdir -p var
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py seed_demo
	@echo ""
	@echo "  Signet is starting on http://$(HOST):$(PORT)/"
	@echo "  Sign in as business, developer, validator, itops, compliance, auditor, admin or outsider"
	@echo "  (password: signet-demo). Ctrl-C stops the web server, the worker and beat."
	@echo ""
	@HOST=$(HOST) PORT=$(PORT) $(PY) -m portal.devrun

## test: lint, type-check and run the whole suite against PostgreSQL and Redis
test: export DJANGO_SETTINGS_MODULE := tests.settings
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/signet
test: export REDIS_URL ?= redis://127.0.0.1:6379/0
test: locks install mlflow-server-env
	@$(PY) -m portal.preflight
	$(MAKE) --no-print-directory lint typecheck migrations pytest

## locks: fail when pyproject.toml changed without `make lock` (offline: compares fingerprints)
locks:
	@$(PYTHON) requirements/locks.py check

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## migrations: fail when a model change has no migration
migrations: install
	$(PY) manage.py makemigrations --check --dry-run --verbosity 1

typecheck: install
	$(VENV)/bin/mypy

# Worker processes of pytest-xdist: the suite mostly waits on subprocesses (Celery workers,
# gunicorn, Chromium, PostgreSQL), so more workers than cores pay (docs/decisions/0019).
# `--dist loadgroup` keeps tests marked with one xdist_group on one worker (tests/conftest.py), and
# `--no-loadscope-reorder` keeps pytest-django's order (plain database tests before transactional ones).
PYTEST_WORKERS ?= 3
pytest: install mlflow-server-env
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder

## lock: compile requirements/*.txt from pyproject.toml and requirements/*.in (UPGRADE=--upgrade for newer pins)
UV := $(VENV)/bin/uv
UV_COMPILE = $(UV) pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock" $(UPGRADE)
lock: $(VENV)/.installed-tools
	$(UV_COMPILE) requirements/tools.in -o requirements/tools.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in -o requirements/run.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra postgres -c requirements/run.txt \
		-o requirements/production.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra dev -c requirements/run.txt -o requirements/dev.txt
	$(UV_COMPILE) requirements/mlflow-server.in -o requirements/mlflow-server.txt
	$(PY) requirements/locks.py stamp
