# Two commands: `make run` (install, migrate, seed, serve on 127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi

.PHONY: install migrate seed run serve test lint check bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed --demo-staff

# The mock eID issuer and the payment return/IPN URLs follow the address served on; the push worker
# runs inside the server (log sender unless SMARTQN_PUSH_SENDER says otherwise).
run: seed
	SMARTQN_BASE_URL=$${SMARTQN_BASE_URL:-http://$(HOST):$(PORT)} SMARTQN_PUSH_WORKER=$${SMARTQN_PUSH_WORKER:-inline} \
	  $(FLASK) run --host $(HOST) --port $(PORT) --with-threads

# Production-style: gunicorn on the same code (set SMARTQN_* first, see README).
serve: install
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --access-logfile - wsgi:app

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

check: lint test

bench: install
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) instance *.egg-info
