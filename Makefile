# Set-up and developer commands. Every target creates .venv when missing and installs what it needs;
# the install is redone only when pyproject.toml or constraints.txt changes. Versions are pinned by
# constraints.txt (reproducible installs); `make constraints` rewrites it from the current .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: demo test lint bench install clean servers constraints

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m access_point.dev.demo

# Servers the integration tests start themselves (tests/servers.py and the tests' fixtures):
# PostgreSQL, redis-server, and chromium for rendering the HTML reports. CI runs as root on a clean
# clone, so the missing ones are installed here with apt-get; elsewhere those tests skip, saying why.
servers:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	  || echo "WARNING: could not install$$missing: the tests that need them will be SKIPPED"; \
	else echo "note: missing$$missing (apt-get install$$missing): the tests that need them will skip"; fi

test: $(STAMP) servers
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

lint: $(STAMP)
	$(VENV)/bin/ruff check peppol ubl mappings smp_client transport exchange conformance access_point tests benches
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m benches

constraints: $(STAMP)
	{ sed -n '1,2p' constraints.txt; $(PY) -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
