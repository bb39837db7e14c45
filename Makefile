# cauce entry points. Only Python 3.11+ and make are needed: the first target that
# needs the environment bootstraps uv into .cauce/tools and syncs .venv from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .cauce/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
# Two workers, a test file each at a time (--dist loadfile keeps a file's servers and
# fixtures in one process); PYTEST_ARGS= (empty) runs the suite in one process.
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: help venv browser run demo test bench chaos asyncapi lint fmt traces clean k8s-validate

help:
	@echo "make run        start the whole local stack (Ctrl-C stops it)"
	@echo "make demo       a scripted customer pays their vehicle tax; transcript + trace"
	@echo "make test       run the whole test suite against real servers"
	@echo "make bench      run the benchmarks and print figures"
	@echo "make asyncapi   regenerate docs/asyncapi.yaml from the contracts"
	@echo "make lint       ruff + mypy"
	@echo "make traces     list recent traces from the local span file (TRACE=<id>: one as a tree)"
	@echo "make chaos      the stack under load while faults hit it; prints the ledger"
	@echo "make k8s-validate  render the kustomize overlays and the helm chart; schemas + policy"

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (3.11+) on PATH"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "cauce needs Python 3.11+"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml devstack/pyproject.toml)
	$(UV) sync --frozen --all-packages --python $(PYTHON)
	@touch $@

# The console's browser libraries (htmx), from the npm registry, pinned by the lockfile.
CONSOLE_ASSETS := services/console/node_modules/.installed
$(CONSOLE_ASSETS): services/console/package.json services/console/package-lock.json
	@command -v npm >/dev/null || { echo "need npm (Debian: apt-get install npm) for the console's htmx"; exit 1; }
	cd services/console && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

venv: $(VENV)/.synced $(CONSOLE_ASSETS)

run: venv
	$(PY) -m cauce_devstack run

demo: venv
	$(PY) -m cauce_devstack demo

# The console's browser tests drive Debian's chromium through chromium-driver (browser
# downloads from the internet are not an option; the Debian packages are).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "installing Debian's chromium and chromium-driver for the console's browser tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends chromium chromium-driver >/dev/null; }

test: venv browser
	$(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	$(PY) -m bench

chaos: venv
	$(PY) -m cauce_devstack.chaos

asyncapi: venv
	$(PY) -m cauce_contracts.asyncapi --output docs/asyncapi.yaml

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/contracts/src libs/runtime/src services/*/src devstack/src bench

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

traces: venv
	$(PY) -m cauce_runtime.telemetry.traces $(if $(TRACE),--trace-id $(TRACE))

k8s-validate: venv
	$(PY) -m cauce_devstack.k8s validate

clean:
	rm -rf $(VENV) $(TOOLS)
