# Set-up and developer commands. Every target creates .venv when missing and installs what it needs;
# the install is redone only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: demo test lint bench install clean chromium

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m access_point.demo

# Headless Chromium renders the conformance HTML report in a test (tests/conformance/test_reports.py).
# CI runs as root on a clean clone, so it is installed here when missing; elsewhere that test skips.
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium \
	  || echo "WARNING: could not install chromium: the HTML report rendering test will be SKIPPED"; \
	else echo "WARNING: chromium missing (apt-get install chromium): the HTML report rendering test will be SKIPPED"; fi

test: $(STAMP) chromium
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

lint: $(STAMP)
	$(VENV)/bin/ruff check peppol ubl mappings smp_client transport conformance access_point tests benches
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m benches

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
