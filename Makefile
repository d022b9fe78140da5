# The README's commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
SMTP_PORT ?= 8025
# PostgreSQL used by the second half of `make test` (this machine: trust auth on 127.0.0.1).
RCP_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi

.PHONY: install run test test-sqlite test-postgres test-e2e lint initial-migration clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Besides the web application: a local SMTP server storing what it receives under
# instance/mailbox (aiosmtpd; listed on /dev/courriels) and the delivery worker sending the
# outbox to it. Ctrl+C stops all three.
run: $(STAMP)
	$(BIN)/flask rcp setup
	@trap 'kill $$mailbox $$deliver 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python -m rcp_app.delivery.mailbox --dir instance/mailbox --port $(SMTP_PORT) & mailbox=$$!; \
	sleep 1; \
	RCP_SMTP_PORT=$(SMTP_PORT) $(BIN)/flask rcp deliver --interval 3 & deliver=$$!; \
	RCP_SMTP_PORT=$(SMTP_PORT) $(BIN)/flask run --host $(HOST) --port $(PORT)

# SQLite first, then PostgreSQL when reachable. RCP_REQUIRE_POSTGRES=1 (CI) turns an
# unreachable server into a failure instead of a skipped half. The browser tests (marker e2e,
# tests/e2e: their own server on a SQLite file) run once, in the SQLite pass.
test: test-sqlite test-postgres

test-sqlite: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser tests alone (Debian's chromium, or RCP_E2E_CHROMIUM=/path/to/chromium).
test-e2e: $(STAMP)
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

test-postgres: $(STAMP)
	@if $(BIN)/python -m tests.support.pg_reachable "$(RCP_TEST_POSTGRES_URL)"; then \
		echo "== PostgreSQL: $(RCP_TEST_POSTGRES_URL)"; \
		RCP_TEST_DATABASE_URL="$(RCP_TEST_POSTGRES_URL)" $(BIN)/pytest -m "not e2e" $(PYTEST_ARGS); \
	elif [ -n "$(RCP_REQUIRE_POSTGRES)" ]; then \
		echo "PostgreSQL injoignable ($(RCP_TEST_POSTGRES_URL)) alors que RCP_REQUIRE_POSTGRES est défini." >&2; \
		exit 1; \
	else \
		echo "PostgreSQL injoignable ($(RCP_TEST_POSTGRES_URL)) : la série PostgreSQL est sautée."; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check rcp_app tests

# Regenerate the (not yet released) initial migration from the models.
initial-migration: $(STAMP)
	rm -rf /tmp/rcp-held-migrations && mkdir -p /tmp/rcp-held-migrations
	find migrations/versions -name '*.py' ! -name '0001_*' -exec mv {} /tmp/rcp-held-migrations/ \;
	rm -f migrations/versions/0001_initial_schema.py /tmp/rcp-initial-migration.sqlite3
	RCP_DATABASE_URL=sqlite:////tmp/rcp-initial-migration.sqlite3 $(BIN)/flask db migrate -m "initial schema" --rev-id 0001 \
		; status=$$?; mv /tmp/rcp-held-migrations/*.py migrations/versions/; rm -f /tmp/rcp-initial-migration.sqlite3; exit $$status

clean:
	rm -rf $(VENV) instance/*.sqlite3*
