# Every target sets up what it needs: a fresh machine needs only `make run` or `make test`.
SHELL := /bin/bash
PYTHON310 ?= $(shell command -v python3.10 2>/dev/null || echo $(HOME)/.pyenv/versions/3.10.13/bin/python3.10)
VENV := .venv
PY := $(VENV)/bin/python
export REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run test bench train install redis chromium dovecot lint clean

# One install for every target: the runtime pins and the development ones (tests, ruff,
# hadolint, playwright), which requirements-dev.lock includes. The image installs only the
# runtime pins (Dockerfile).
install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock requirements-dev.lock
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.lock
	@touch $@

train: install
	$(PY) -m bot train

redis:
	@scripts/ensure-redis

chromium:
	@scripts/ensure-chromium

# The e-mail tests' IMAP server (Debian's dovecot-imapd), started privately by the tests.
dovecot:
	@scripts/ensure-dovecot

run: install train redis
	PY=$(PY) scripts/run-with-demo-backoffice

test: install lint train redis chromium dovecot
	$(PY) -m pytest

bench: install train redis
	$(PY) -m bot bench --out bench-results.json
	$(PY) -m tests.bench_e2e
	$(PY) scripts/bench_readme.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/hadolint Dockerfile

clean:
	rm -rf $(VENV) models .pytest_cache
