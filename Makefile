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

test: $(STAMP) servers
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

# Real servers the integration tests start themselves (CI: root on a clean machine).
servers:
	command -v redis-server >/dev/null || (apt-get update && apt-get install -y --no-install-recommends redis-server)

lint: $(STAMP)
	$(VENV)/bin/ruff check peppol ubl mappings smp_client transport exchange conformance access_point tests benches
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m benches

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
