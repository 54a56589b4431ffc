# Developer entry points. Everything runs from the checkout: the virtualenv is .venv (made by
# scripts/install.sh), PostgreSQL and Redis come from scripts/services.py (shared ones on
# 127.0.0.1 when they answer, otherwise private instances under var/).

SHELL := /bin/bash

# services.py is pure stdlib, so it runs before the virtualenv exists.
SERVICES := python3 scripts/services.py exec --
# e.g. make test PYTEST_ARGS="-k packets -x"
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench backup restore

help:
	@echo "make install  uv, .venv and the system libraries (idempotent)"
	@echo "make run      the portal on http://127.0.0.1:8000 with worker and beat"
	@echo "make test     the test suite, browser tests included (PYTEST_ARGS=...)"
	@echo "make lint     ruff and the import-linter layer contracts"
	@echo "make bench    the benchmark in bench/"
	@echo "make backup   database dump + stored files into BACKUP_DIR (default var/backups)"
	@echo "make restore BACKUP=var/backups/portal-...  [REPLACE=1]  restore one backup"
	@echo "              (COMPOSE=1: the same in the docker compose stack; see README.md)"
	@echo "PORTAL_LOCAL_SERVICES=private forces private PostgreSQL/Redis under var/."

install:
	bash scripts/install.sh

run: install
	$(SERVICES) bash scripts/run.sh

# The suite runs with production settings (DJANGO_DEBUG unset), which insist on a secret key.
test: export DJANGO_SECRET_KEY ?= insecure-key-for-the-test-suite-only
# Not "test: install": the browser variant of the install is needed here.
test:
	bash scripts/install.sh --browser
	.venv/bin/lint-imports --no-cache
	$(SERVICES) .venv/bin/pytest $(PYTEST_ARGS)

lint: install
	.venv/bin/ruff check .
	.venv/bin/lint-imports --no-cache

bench: install
	$(SERVICES) .venv/bin/python bench/run.py

# Backups: scripts/backup.py, configured by the portal's own variables (DATABASE_URL,
# PORTAL_STORAGE, PORTAL_MEDIA_ROOT or AWS_*). See README.md, "Backups".
BACKUP_DIR ?= var/backups
BACKUP ?=
ifdef COMPOSE
# In the docker compose stack: the backup service writes to ./var/backups (its /backups)
# and keeps the newest PORTAL_BACKUP_KEEP.
backup:
	docker compose run --rm backup
restore:
	@test -n "$(BACKUP)" || { echo "usage: make restore COMPOSE=1 BACKUP=var/backups/portal-... [REPLACE=1]" >&2; exit 2; }
	docker compose run --rm backup restore /backups/$(notdir $(patsubst %/,%,$(BACKUP))) $(if $(REPLACE),--replace)
else
backup: install
	$(SERVICES) .venv/bin/python scripts/backup.py backup $(BACKUP_DIR)

restore: install
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=var/backups/portal-... [REPLACE=1]" >&2; exit 2; }
	$(SERVICES) .venv/bin/python scripts/backup.py restore $(BACKUP) $(if $(REPLACE),--replace)
endif
