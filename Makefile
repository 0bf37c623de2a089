# SigmaTrader: `make run` starts the app, `make test` runs lint and every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run demo test lint typecheck bench venv clean-venv

# Re-install whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Web server (http://127.0.0.1:8000), Celery worker and Celery beat in the
# foreground; Ctrl-C stops all three.
run: venv
	$(BIN)/python scripts/ensure_env.py
	$(BIN)/python manage.py migrate --noinput
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/run_all.py

# Try SigmaTrader without a broker account: the broker emulator plus the app,
# on a database of their own (var/demo/), with a demo user and two accounts.
# Other ports: `make demo WEB_PORT=8460 EMULATOR_PORT=8461` (the emulator's address
# follows EMULATOR_PORT; EMULATOR overrides it only for an emulator elsewhere).
WEB_PORT ?= 8000
EMULATOR_PORT ?= 8100
EMULATOR ?= http://127.0.0.1:$(EMULATOR_PORT)
# The demo trades at any hour; DEMO_MARKET_CLOCK=always-closed (with
# EMULATOR_MARKET=closed) shows what a closed market looks like.
DEMO_MARKET_CLOCK ?= always-open
DEMO_ENV := SIGMATRADER_VAR_DIR=$(CURDIR)/var/demo \
	DATABASE_URL=sqlite:///$(CURDIR)/var/demo/sigmatrader-demo.sqlite3 \
	KITE_API_ROOT=$(EMULATOR) KITE_LOGIN_URL=$(EMULATOR)/connect/login \
	SMARTAPI_API_ROOT=$(EMULATOR) \
	SMARTAPI_INSTRUMENTS_URL=$(EMULATOR)/OpenAPI_File/files/OpenAPIScripMaster.json \
	MARKET_CLOCK=$(DEMO_MARKET_CLOCK)
demo: venv
	$(BIN)/python scripts/ensure_env.py
	mkdir -p var/demo
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py demo_setup
	$(DEMO_ENV) $(BIN)/python manage.py ensure_instruments
	$(DEMO_ENV) WEB_PORT=$(WEB_PORT) EMULATOR_PORT=$(EMULATOR_PORT) PROCFILE=Procfile.demo PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/run_all.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Types at the boundaries: brokers/ and orders/ so far ([tool.mypy] in pyproject.toml).
typecheck: venv
	$(BIN)/python scripts/ensure_env.py
	$(BIN)/mypy brokers orders

# DATABASE_URL / REDIS_URL in the environment put the suite on PostgreSQL / Redis.
# pytest exits 5 when it collected no test: for this project that is a broken
# suite, not a pass, so it fails with a plain message.
test: venv lint typecheck
	$(BIN)/python scripts/ensure_env.py
	SIGMATRADER_VAR_DIR=$(CURDIR)/var/test $(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests"; exit 1; fi; exit $$rc

# Benchmarks print figures (they are not tests), each with its goal beside it.
# DATABASE_URL=postgres://... runs them on PostgreSQL, in a throwaway test database.
# BENCH_EMULATOR_PORT picks the broker emulator's port (default: any free one).
# BENCH_POSTGRES_URL=postgres://... also prints the queue and holdings pages on PostgreSQL.
bench: venv
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/instruments.py
	$(BIN)/python bench/orders.py
	$(BIN)/python bench/portfolio.py
	$(BIN)/python bench/pages.py
	if [ -n "$(BENCH_POSTGRES_URL)" ]; then \
		DATABASE_URL=$(BENCH_POSTGRES_URL) $(BIN)/python bench/orders.py && \
		DATABASE_URL=$(BENCH_POSTGRES_URL) $(BIN)/python bench/portfolio.py; fi
	$(BIN)/python bench/paper.py
	$(BIN)/python bench/live.py
	$(BIN)/python bench/watchlists.py
	$(BIN)/python bench/alerts.py
	$(BIN)/python bench/write_lock.py
	$(BIN)/python bench/webhook.py --rate 100 --seconds 30
	$(BIN)/python bench/webhook.py --burst 500 --accounts 50
	$(BIN)/python bench/notifications.py

clean-venv:
	rm -rf $(VENV)
