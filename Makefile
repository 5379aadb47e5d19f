# fsdash — the two commands of the README:
#   make run    creates the environment, builds the demo warehouse when absent, starts the dashboard
#   make test   creates the environment (and installs Chromium for browser tests), lints, runs every test
# and, for developers:
#   make test-fast  lint and the tests that need neither a browser nor a full demo build (a few minutes)
#   make lint       ruff check and ruff format --check
#   make bench      python -m fsdash bench (BENCHMARKS.md, benchmarks/results.json)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= $(or $(FSDASH_DB),data/fsdash.duckdb)
PORT ?= 8501

.PHONY: run test test-fast lint bench demo browser clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The developer's demo: local mode, no sign-in (explicit, with a banner on every page; refused where
# .streamlit/secrets.toml configures sign-in). A server for users configures [auth] and the roles file.
run: $(VENV)/.installed
	FSDASH_AUTH=$(or $(FSDASH_AUTH),local) $(PY) -m fsdash serve --db $(DB) --port $(PORT)

demo: $(VENV)/.installed
	$(PY) -m fsdash demo --db $(DB)

# Debian's packages the tests need: Chromium for the Playwright tests (never `playwright install`: no
# download at run time) and nginx for the replicas-behind-a-proxy test (skipped when absent).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium nginx-light >/dev/null; \
	  else echo "Chromium ou nginx absent : sudo apt-get install chromium nginx-light (les tests navigateur et mandataire seront ignorés)"; fi; }

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: $(VENV)/.installed browser lint
	$(PY) -m pytest

test-fast: $(VENV)/.installed lint
	$(PY) -m pytest -m "not e2e and not slow"

bench: $(VENV)/.installed
	$(PY) -m fsdash bench

clean:
	rm -rf $(VENV) .pytest_cache
