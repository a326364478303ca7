# Every target depends on .venv/.installed, a file built from the lock, so the first
# `make anything` on a fresh clone installs exactly the locked versions.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ALEMBIC := $(BIN)/alembic
CONV := $(BIN)/python -m conventions

.DEFAULT_GOAL := help
.PHONY: help migrate rollback revision status inspect plan lint test bench db-stop psql clean lock
# make passes command-line variables (m=…, t=…) to recipes' environment; the recipes
# read them as $$m / $$t so quotes or $( in a message never reach the shell as code.
export m t a

help: ## List every target with what it does
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

migrate: $(STAMP) ## Apply every pending migration (starts the embedded database if no DATABASE_URL)
	@$(CONV) migrate

rollback: $(STAMP) ## Roll back one migration (alembic downgrade -1)
	@$(CONV) rollback

revision: $(STAMP) ## Start a new migration: make revision m="add loyalty tiers to offers"
	@test -n "$$m" || { echo 'usage: make revision m="what this migration does"' >&2; exit 2; }
	@$(ALEMBIC) revision -m "$$m"

status: $(STAMP) ## Show applied/pending revisions, heads, drift and recent history
	@$(CONV) status

inspect: $(STAMP) ## Show a table's columns, indexes and constraints: make inspect t=offers
	@test -n "$$t" || { echo 'usage: make inspect t=TABLE' >&2; exit 2; }
	@$(CONV) inspect "$$t"

plan: $(STAMP) ## Show what pending migrations will lock, rewrite and block on the target (make plan a="--check")
	@$(CONV) plan $$a

lint: $(STAMP) ## Run ruff, mypy, the house lint (no Enum types, applied migrations unchanged) and squawk
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy
	@$(CONV) lint
	@$(CONV) lint --models app.models
	@$(CONV) lint --squawk

test: $(STAMP) ## Run the test suite on a real PostgreSQL (embedded unless DATABASE_URL is set)
	@# The pooler tests start a real PgBouncer (Debian's package); install it when missing.
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null 2>&1; } ; } || \
	  echo "note: pgbouncer is not installed; the PgBouncer tests will be skipped" >&2
	@$(BIN)/pytest -q

bench: $(STAMP) ## Run the benchmarks and write docs/benchmarks.md (BENCH_ROWS=N, BENCH_QUICK=1)
	@$(BIN)/python -m bench

db-stop: $(STAMP) ## Stop the embedded PostgreSQL server
	@$(CONV) db stop

psql: $(STAMP) ## Open a SQL prompt on the current database
	@$(CONV) db psql

clean: ## Stop the embedded server and remove .venv and .pgdata
	@if [ -x $(BIN)/python ]; then $(CONV) db stop || true; fi
	rm -rf $(VENV) .pgdata .pytest_cache .ruff_cache *.egg-info

lock: ## Re-resolve pyproject.toml ranges into requirements.lock
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet -e '.[dev,server,bench]'
	{ echo "# Exact versions resolved from pyproject.toml ranges; regenerate with 'make lock'."; \
	  .lockvenv/bin/pip freeze --exclude-editable | grep -v '^-e'; } > requirements.lock
	rm -rf .lockvenv
