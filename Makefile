# Ordo: `make run` starts everything, `make test` passes the tests. Both set up first.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced-$(shell cat uv.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test test-fast lint bench bench-dashboard screenshots setup clean

setup: $(STAMP)

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Ordo needs Python 3.11 or 3.12: set PYTHON=python3.11")'
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@rm -f $(VENV)/.synced-*
	@touch $@

run: $(STAMP)
	$(VENV)/bin/ordo up

test: $(STAMP)
	@command -v chromium >/dev/null || echo "*** NOTE: no Chromium here, so the browser tests (tests/browser) will be SKIPPED: apt-get install chromium ***"
	$(VENV)/bin/pytest -n 2

# Unit tests and the workflow tests whose activities are faked at their contracts.
test-fast: $(STAMP)
	$(VENV)/bin/pytest tests/unit tests/workflow/test_orchestration.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/bandit -q -c pyproject.toml -r .

bench: $(STAMP)
	$(VENV)/bin/ordo bench --orders 200 --check

# Pictures of the console for the README, from a running `make run`.
screenshots: $(STAMP)
	$(VENV)/bin/ordo screenshots

# The dashboard's queries over 1,000,000 historic orders in PostgreSQL (ORDO_BENCH_PG_URL).
bench-dashboard: $(STAMP)
	$(VENV)/bin/ordo bench --section dashboard

clean:
	rm -rf $(VENV) $(TOOLS) var
