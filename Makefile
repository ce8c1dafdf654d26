# Stepwell: `make run` starts a server on SQLite, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export STEPWELL_DATABASE_URL ?= sqlite:///stepwell.db
export STEPWELL_HOST ?= 127.0.0.1
export STEPWELL_PORT ?= 8080

.PHONY: run test lint bench profile check-migrations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/stepwell db upgrade
	$(BIN)/stepwell server

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -p no:cacheprovider tests

lint: $(STAMP)
	$(BIN)/ruff check engine workers api tests bench examples
	$(BIN)/ruff format --check engine workers api tests bench examples
	$(BIN)/mypy engine api workers
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench.run

# Where the server's time goes under a workload (py-spy): make profile WORKLOAD=chain STORE=sqlite
profile: $(STAMP)
	$(BIN)/python -m bench.profile --only $(or $(WORKLOAD),chain) --store $(or $(STORE),sqlite)

clean:
	rm -rf $(VENV) stepwell.db stepwell.db-wal stepwell.db-shm
