# `make demo` and `make test` each install what they need on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LOGDIR ?= runs
PORT   ?= 6006

.PHONY: install backends chromium node demo demo-full test test-py test-js lint bench frontend screenshots clean

$(STAMP): setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test,dev]'
	touch $@

install: $(STAMP)

# The JAX and PyTorch backends of Keras 3, for tests/backends/ (the demo does not need them).
$(VENV)/.backends: $(STAMP) setup.py
	$(PIP) install -q -e '.[backends]'
	touch $@

backends: $(VENV)/.backends

# Debian's Chromium drives the browser tests (Playwright cannot download its own here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

node: frontend/node_modules/.package-lock.json

# Rebuild the committed bundle in tb_nndebug/plugin/static/ from frontend/.
frontend: node
	cd frontend && npm run build

test-js: node
	cd frontend && npm test

test-py: install backends chromium node
	$(PY) -m pytest

# Style, complexity (ruff.toml) and the one-way import contract between stages (.importlinter).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: lint test-js test-py

demo: install
	$(VENV)/bin/tb-nndebug demo --logdir $(LOGDIR) --serve --port $(PORT)

demo-full: install
	$(VENV)/bin/tb-nndebug demo --full --logdir $(LOGDIR) --serve --port $(PORT)

bench: install chromium node
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Refresh the README's screenshots from the browser tests.
screenshots: install chromium node
	NNDEBUG_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/plugin/test_browser_tab.py

clean:
	rm -rf $(VENV) frontend/node_modules build dist *.egg-info
