# Lingshou: `make demo` runs the whole product locally, `make test` runs lint and the suite.
# Both need only python3 and make: the virtualenv, the database and the broker come with them.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint check pytest db db-stop format vendor clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(PY) -r pyproject.toml --extra dev
	touch $@

install: $(STAMP)

demo: install
	$(PY) -m demo

test: install
	$(PY) -m config.database run -- $(MAKE) --no-print-directory check

# What `make test` runs once a database is there (DATABASE_URL set).
check: lint pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: install
	$(BIN)/pytest $(PYTEST_ARGS)

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
