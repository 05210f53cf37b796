# Signet: `make run` starts the portal on the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: install run test lint typecheck migrations pytest

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing Signet and its dependencies into $(VENV) ..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2> >(grep -v "is ignored: it is neither" >&2)
	@# Bytecode, as pip writes it for installed packages: an editable install has none, and where
	@# PYTHONDONTWRITEBYTECODE is set every command would compile Signet's sources again.
	@$(PY) -m compileall -q apps portal manage.py > /dev/null
	@touch $@

## install: create .venv and install Signet with its pinned dependencies (shared by run and test)
install: $(VENV)/.installed

## run: migrate, seed the demo organisation, start web server + Celery worker and beat (Ctrl-C stops all)
run: export DEBUG ?= true
run: install
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
test: install
	@$(PY) -m portal.preflight
	$(MAKE) --no-print-directory lint typecheck migrations pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## migrations: fail when a model change has no migration
migrations: install
	$(PY) manage.py makemigrations --check --dry-run --verbosity 1

typecheck: install
	$(VENV)/bin/mypy

pytest: install
	$(VENV)/bin/pytest
