# The two commands the README starts with: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
UI_DIST := ui/dist/index.html
UI_SOURCES := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/package.json ui/package-lock.json ui/vite.config.ts ui/tsconfig.json

.PHONY: run test lint ui bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $(STAMP)

ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund

$(UI_DIST): ui/node_modules/.package-lock.json $(UI_SOURCES)
	cd ui && npm run build

## Build the web UI (ui/dist), served by the gateway
ui: $(UI_DIST)

## Set up (first time) and start the product: http://127.0.0.1:8080, superadmin / couture@123
run: $(STAMP) $(UI_DIST)
	$(VENV)/bin/couture standalone

## Set up (first time) and run the whole test suite, linters and type checks included.
## Starts Kafka, PostgreSQL and OpenLDAP on loopback (deploy/local/services) and installs
## Debian's Chromium for the browser tests when it is missing.
test: $(STAMP) $(UI_DIST)
	$(VENV)/bin/ruff check libs services tests bench
	$(VENV)/bin/ruff format --check libs services tests bench
	$(VENV)/bin/mypy libs services
	deploy/validate --no-pytest
	cd ui && npm test
	command -v chromium >/dev/null || deploy/local/chromium
	exports="$$(deploy/local/services up)" && eval "$$exports" && $(VENV)/bin/pytest -q tests

lint: $(STAMP)
	$(VENV)/bin/ruff check libs services tests bench
	$(VENV)/bin/mypy libs services

## Print the benchmarks' figures (the Kafka one needs `eval "$(deploy/local/services up)"`)
bench: $(STAMP)
	$(VENV)/bin/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache ui/node_modules ui/dist
