# fsdash — the two commands of the README:
#   make run    creates the environment, builds the demo warehouse when absent, starts the dashboard
#   make test   creates the environment (and installs Chromium for browser tests), runs every test
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= $(or $(FSDASH_DB),data/fsdash.duckdb)
PORT ?= 8501

.PHONY: run test demo browser clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m fsdash serve --db $(DB) --port $(PORT)

demo: $(VENV)/.installed
	$(PY) -m fsdash demo --db $(DB)

# Debian's Chromium for the Playwright tests (never `playwright install`: no download at run time).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium absent : sudo apt-get install chromium (les tests navigateur seront ignorés)"; fi; }

test: $(VENV)/.installed browser
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
