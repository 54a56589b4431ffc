# Developer entry points. Everything runs from the checkout: the virtualenv is .venv (made by
# scripts/install.sh), PostgreSQL and Redis come from scripts/services.py (shared ones on
# 127.0.0.1 when they answer, otherwise private instances under var/).

SHELL := /bin/bash

# services.py is pure stdlib, so it runs before the virtualenv exists.
SERVICES := python3 scripts/services.py exec --
# e.g. make test PYTEST_ARGS="-k packets -x"
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench

help:
	@echo "make install  uv, .venv and the system libraries (idempotent)"
	@echo "make run      the portal on http://127.0.0.1:8000 with worker and beat"
	@echo "make test     the test suite, browser tests included (PYTEST_ARGS=...)"
	@echo "make lint     ruff"
	@echo "make bench    the benchmark in bench/"
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
	$(SERVICES) .venv/bin/pytest $(PYTEST_ARGS)

lint: install
	.venv/bin/ruff check .

bench: install
	$(SERVICES) .venv/bin/python bench/run.py
