# The README's commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
SMTP_PORT ?= 8025
# The address printed (link and QR code) on the fiches signed by `make run`, and in its e-mails:
# the one actually served, unless RCP_PUBLIC_URL is set (a proxy, a name, HOST=0.0.0.0). Passed
# to each process of `make run` rather than guessed from a request's Host header: `rcp setup`
# signs the demo's fiches and the worker writes its e-mails without any request, and a signed
# fiche must never carry an address chosen by whoever sent the request.
RCP_PUBLIC_URL ?= http://$(HOST):$(PORT)
# PostgreSQL used by the second half of `make test` (this machine: trust auth on 127.0.0.1).
RCP_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi

.PHONY: install lock syscheck-run syscheck-test run test test-sqlite test-postgres test-e2e lint \
	initial-migration clean

# The exact versions (and hashes) the tests passed with: requirements.lock, generated from
# pyproject.toml (dev extra included) by `make lock`. The project itself comes on top, alone.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Regenerate requirements.lock after a change to pyproject.toml's dependencies. Versions
# already locked are kept; `make lock LOCK_ARGS=--upgrade` (or --upgrade-package NAME) moves
# them. pip-tools lives in its own virtualenv, so that it never changes the project's.
LOCK_VENV := .venv-lock
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || \
		{ $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet pip-tools==7.7.0; }
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet --extra dev \
		--generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		$(LOCK_ARGS) -o requirements.lock pyproject.toml

# The system packages (Debian) each command needs, checked first, named on one line with the
# apt-get command that installs them (rcp_app/core/syscheck.py: standard library only, run
# with the system Python before the virtualenv exists; -I keeps the script's folder off the
# module path).
syscheck-run:
	@$(PYTHON) -I rcp_app/core/syscheck.py run

syscheck-test:
	@$(PYTHON) -I rcp_app/core/syscheck.py test

# Besides the web application: a local SMTP server storing what it receives under
# instance/mailbox (aiosmtpd; listed on /dev/courriels) and the delivery worker sending the
# outbox to it. Ctrl+C stops all three.
run: syscheck-run $(STAMP)
	RCP_PUBLIC_URL="$(RCP_PUBLIC_URL)" $(BIN)/flask rcp setup
	@echo "Fiches signées avec l'AC de démonstration $(CURDIR)/instance/pki-test/test-ca.pem ; pour que pdfsig la reconnaisse : README, « Vérifier une fiche avec pdfsig »."
	@trap 'kill $$mailbox $$deliver 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python -m rcp_app.delivery.mailbox --dir instance/mailbox --port $(SMTP_PORT) & mailbox=$$!; \
	sleep 1; \
	RCP_PUBLIC_URL="$(RCP_PUBLIC_URL)" RCP_SMTP_PORT=$(SMTP_PORT) $(BIN)/flask rcp deliver --interval 3 & deliver=$$!; \
	RCP_PUBLIC_URL="$(RCP_PUBLIC_URL)" RCP_SMTP_PORT=$(SMTP_PORT) $(BIN)/flask run --host $(HOST) --port $(PORT)

# SQLite first, then PostgreSQL when reachable. RCP_REQUIRE_POSTGRES=1 (CI) turns an
# unreachable server into a failure instead of a skipped half. The browser tests (marker e2e,
# tests/e2e: their own server on a SQLite file) run once, in the SQLite pass.
test: test-sqlite test-postgres

test-sqlite: syscheck-test $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser tests alone (Debian's chromium, or RCP_E2E_CHROMIUM=/path/to/chromium).
test-e2e: syscheck-test $(STAMP)
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

test-postgres: syscheck-test $(STAMP)
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
	rm -rf $(VENV) $(LOCK_VENV) instance/*.sqlite3*
