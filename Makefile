# galley: the two commands of the README's quick start, and the test tiers.
#   make up     install into .venv and run the whole pipeline (embedded Redis)
#   make test   install into .venv (and Chromium for the browser tests) and run every test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: up test install unit integration e2e browser lint clean lighthouse

$(BIN)/galley: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/galley

up: install
	$(BIN)/galley up

test: install
	scripts/install-chromium
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

e2e: install
	$(BIN)/pytest tests/e2e

browser: install
	scripts/install-chromium
	$(BIN)/pytest tests/browser

# Lighthouse 12.2.3 (pinned in tools/lighthouse) on the reader site's article, feed and
# author pages, mobile and desktop, in headless Chromium; fails below 98 in any category.
LIGHTHOUSE := tools/lighthouse/node_modules/.package-lock.json

$(LIGHTHOUSE): tools/lighthouse/package.json tools/lighthouse/package-lock.json
	cd tools/lighthouse && npm ci --no-audit --no-fund
	touch $@

lighthouse: install $(LIGHTHOUSE)
	scripts/install-chromium
	$(BIN)/python scripts/lighthouse

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data artifacts .pytest_cache
