# Two commands a newcomer needs: `make demo` and `make test`. Both work on a fresh machine with
# Python 3.11+ and nothing else (SQLite, in-memory channel layer).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_PORT ?= 8000
export DEMO_PORT  # demo/settings.py reads it: printed links and emails use the served port

.PHONY: demo test lint typecheck schema schema-check install clean demo-frontend test-frontend test-browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the helpdesk with seeded demo data and GraphiQL at http://127.0.0.1:$(DEMO_PORT)/support/graphql/
demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@demo/frontend/build.sh || true
	$(BIN)/uvicorn asgi:application --host 127.0.0.1 --port $(DEMO_PORT) --ws-per-message-deflate false

## The demo's support pages (demo/frontend/, Vite), built when their sources are newer than the
## build. The Escalated package comes from ../shared/vendor/escalated-frontend when that folder
## exists, else from GitHub at the pinned commit: see scripts/npm-install-escalated
## (ESCALATED_FRONTEND_SOURCE=vendor|github).
demo-frontend:
	demo/frontend/build.sh

## The frontend-adapter's unit tests (vitest).
test-frontend:
	scripts/npm-install-escalated frontend-adapter
	cd frontend-adapter && ./node_modules/.bin/vitest run

## The browser tests (Playwright driving Debian's chromium) against the built demo frontend.
test-browser: $(STAMP) demo-frontend
	ESCALATED_TEST_BROWSER=1 $(BIN)/python -m pytest tests/browser -p no:cacheprovider $(PYTEST_ARGS)

## Install everything into $(VENV) and run the whole test suite.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy escalated

## Write schema/escalated.graphql from the code.
schema: $(STAMP)
	$(BIN)/python manage.py export_escalated_schema

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo/db.sqlite3 demo/media demo/mail \
		demo/tokens.json
