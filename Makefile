# Set-up and developer commands. Every target creates .venv when missing and installs what it needs;
# the install is redone only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: demo test lint bench install clean servers

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m access_point.dev.demo

# Server binaries the integration tests start themselves (tests/servers.py, tests/service): PostgreSQL
# and redis-server. CI runs as root on a clean clone, so they are installed here when missing;
# elsewhere those tests skip.
servers:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql; \
	else echo "note: PostgreSQL server binaries missing (apt-get install postgresql): those tests will skip"; fi
	@if command -v redis-server >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server; \
	else echo "note: redis-server missing (apt-get install redis-server): those tests will skip"; fi

test: $(STAMP) servers
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

lint: $(STAMP)
	$(VENV)/bin/ruff check peppol ubl mappings smp_client transport exchange conformance access_point tests benches
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m benches

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
