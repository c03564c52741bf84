# Two commands: `make run` (install, migrate, seed, serve on 127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi

.PHONY: install migrate seed run serve test lint check bench clean lock

# The exact versions (with their hashes) in requirements.lock, then the project itself without resolving again.
$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	@echo "smartqn-backend: installing requirements.lock into $(VENV) (the first time takes a minute)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

migrate: install
	@echo "smartqn-backend: migrating the database"
	@SMARTQN_LOG_LEVEL=$${SMARTQN_LOG_LEVEL:-WARNING} $(FLASK) db upgrade

seed: migrate
	@echo "smartqn-backend: seeding the catalog"
	@SMARTQN_LOG_LEVEL=$${SMARTQN_LOG_LEVEL:-WARNING} $(FLASK) seed --demo-staff

# The mock eID issuer and the payment return/IPN URLs follow the address served on; the push worker
# runs inside the server (log sender unless SMARTQN_PUSH_SENDER says otherwise). Requests are logged once,
# as JSON lines by the app (werkzeug's own request lines are silenced).
run: seed
	@echo "smartqn-backend: serving on http://$(HOST):$(PORT) (Ctrl-C stops)"
	@SMARTQN_BASE_URL=$${SMARTQN_BASE_URL:-http://$(HOST):$(PORT)} SMARTQN_PUSH_WORKER=$${SMARTQN_PUSH_WORKER:-inline} \
	  $(FLASK) run --host $(HOST) --port $(PORT) --with-threads

# Production-style: gunicorn on the same code (set SMARTQN_* first, see README).
serve: install
	GUNICORN_BIND=$(HOST):$(PORT) $(BIN)/gunicorn --config deploy/gunicorn.conf.py wsgi:app

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

check: lint test

bench: install
	$(BIN)/python bench/load.py

# Regenerate requirements.lock from pyproject.toml (the base and [test] dependencies, every platform and
# Python 3.11+, with hashes); versions already locked are kept unless `make lock LOCK_FLAGS=--upgrade`.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 --generate-hashes \
	  --custom-compile-command 'make lock' --quiet $(LOCK_FLAGS) -o requirements.lock

clean:
	rm -rf $(VENV) instance *.egg-info
