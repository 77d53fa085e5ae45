# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# Test processes (pytest-xdist): one per core; `make test PYTEST_WORKERS=0` runs in this one.
PYTEST_WORKERS ?= auto

.PHONY: run test test-another-day lint bench install browser assets

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The analyst pages' bpmn-js bundle (npm, esbuild): rebuilt when missing or out of date.
ASSETS := web/analyst/static/dist/.built
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make assets needs Node.js and npm" >&2; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts
$(ASSETS): node_modules/.package-lock.json $(wildcard web/analyst/assets/*) web/analyst/assets/.bpmnlintrc
	npm run --silent build

assets: $(ASSETS)

# The demo's sandbox carrier delivers a shipped token two minutes after shipping (instead
# of three days), so a person trying the journey need not wait; set it to override.
run: export TOKENFLOW_SANDBOX_DELIVERY_AFTER ?= PT2M
run: $(STAMP) assets
	$(BIN)/tokenflow db upgrade
	$(BIN)/tokenflow demo
	$(BIN)/tokenflow deploy
	$(BIN)/tokenflow run

# Debian's chromium drives the browser tests; never a downloaded browser.
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) browser assets
	$(BIN)/ruff check .
	$(BIN)/mypy
	@if [ "$$CI" = "true" ] && [ -z "$$TOKENFLOW_TEST_POSTGRES_URL" ]; then \
		export TOKENFLOW_TEST_POSTGRES_URL="$(PG_URL)"; fi; \
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The same suite on SQLite with business time pinned to a Friday evening instead of
# conftest's Monday 02:00 UTC: a test that depends on the day or the hour fails one of them.
test-another-day: $(STAMP) browser assets
	TOKENFLOW_TEST_NOW=2026-12-11T18:00:00+00:00 TOKENFLOW_TEST_POSTGRES_URL= CI= \
		$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/engine.py --repeat 5
