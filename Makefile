# Lingshou: `make demo` runs the whole product locally, `make test` runs lint and the suite.
# Both need only python3 and make: the virtualenv, the database and the broker come with them.

# bash with pipefail: a recipe's pipeline fails when its first command does.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint audit check pytest db db-stop format vendor clean

# The virtualenv's own setuptools (65.5 with Python 3.11) has published advisories (CVE-2022-40897,
# CVE-2024-6345, CVE-2025-47273), and pip-audit audits the whole environment: it is upgraded with pip.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip uv "setuptools>=78.1.1"
	$(BIN)/uv pip install --quiet --python $(PY) -r pyproject.toml --extra dev
	touch $@

install: $(STAMP)

demo: install
	$(PY) -m demo

test: install
	$(PY) -m config.database run -- $(MAKE) --no-print-directory check

# What `make test` runs once a database is there (DATABASE_URL set).
check: lint audit pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Security audits: bandit over the code (settings in pyproject.toml; bench/ with ruff's per-file ignores),
# pip-audit over the installed environment against PyPI's advisories. bandit warns about every other node
# on a line whose finding a `# nosec` excuses; only its findings matter, so those warnings are dropped.
# pip-audit lists (and passes) a dependency it could not look up; PIP_AUDIT_ARGS=--strict fails on it.
PIP_AUDIT_ARGS ?=
audit: install
	$(BIN)/bandit -c pyproject.toml -r . -q 2>&1 | { grep -v "nosec encountered" || true; }
	$(BIN)/bandit -r bench -s B101,B311,B403,B404,B603 -q 2>&1 | { grep -v "nosec encountered" || true; }
	$(BIN)/pip-audit --progress-spinner off $(PIP_AUDIT_ARGS)

# Two test processes (pytest-xdist), each with its own test database and broker database (tests/conftest.py),
# a file to one process at a time; PYTEST_PROCESSES=0 runs the suite in this process.
PYTEST_PROCESSES ?= 2
pytest: install
	$(BIN)/pytest $(if $(filter-out 0,$(PYTEST_PROCESSES)),-n $(PYTEST_PROCESSES) --dist loadfile) $(PYTEST_ARGS)

db: install
	$(PY) -m config.database start

db-stop: install
	$(PY) -m config.database stop

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the vendored front-end assets in static/vendor from npm (not needed to run).
vendor:
	npm ci && sh scripts/vendor.sh

clean:
	rm -rf $(VENV) .data
