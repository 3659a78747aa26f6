# carepool — every command a developer or CI needs. `make` alone lists them.
#
# A newcomer needs two: `make demo` and `make test`. Each sets up what it needs first.
# Extra arguments: make test PYTEST_ARGS="-k allocation -x"   make demo DEMO_ARGS="--port 8001"
# The tests run in parallel, one pytest-xdist worker per core: PYTEST_WORKERS=4 for four,
# PYTEST_WORKERS=0 (or PYTEST_ARGS="-n 0") to run them in one process, as for --pdb.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Use the machine's Python; never let uv download one.
export UV_PYTHON_DOWNLOADS := never

BIN := .venv/bin
PYTEST_WORKERS ?= auto
# pyproject.toml adds --dist loadgroup, which keeps the Spark tests on one worker.
PYTEST := $(BIN)/pytest -p no:cacheprovider -n $(PYTEST_WORKERS)
PYTEST_ARGS ?=
DEMO_ARGS ?=
BENCH_ARGS ?=
WITH_POSTGRES := bash scripts/test-postgres.sh run --
GOVUK_SOURCE := node_modules/govuk-frontend/dist/govuk
GOVUK_TARGET := src/carepool/web/static/govuk

# uv on PATH if it runs, else the module `make setup` installed with pip. Evaluated when used,
# so it sees an install made earlier in the same run.
UV = $(shell uv --version >/dev/null 2>&1 && echo uv || echo "python3 -m uv")

# Run a pytest command; exit 5 ("no tests collected") is fine for a category not written yet.
define pytest_category
	status=0; $(1) || status=$$?; \
	if [ "$$status" = 5 ]; then echo "(no tests of this kind yet)"; status=0; fi; \
	exit "$$status"
endef

.PHONY: help setup uv venv assets system-deps demo test test-unit test-postgres test-browser \
	check _check format bench clean

help: ## List the targets
	@echo "carepool: make TARGET"
	@echo
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z0-9_-]+:[^#]*## / {printf "  %-14s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)
	@echo
	@echo "Start with 'make demo' (try it in the browser) or 'make test' (everything CI runs)."

# ---------------------------------------------------------------------------------------------
# Setting up

setup: venv assets ## Install uv if missing, the locked Python dependencies into .venv, the web assets

uv:
	@if ! uv --version >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then \
		echo "==> uv not found: installing it with pip"; \
		python3 -m pip install --user --quiet uv \
			|| python3 -m pip install --quiet uv \
			|| python3 -m pip install --user --break-system-packages --quiet uv; \
	fi

venv: uv
	@echo "==> Python dependencies (uv.lock) into .venv"
	@$(UV) sync --frozen

assets: ## Fetch GOV.UK Frontend (and axe-core, for the browser tests) with npm; copy GOV.UK assets into the web package
	@if [ ! -f package.json ]; then \
		echo "warning: no package.json: skipping the GOV.UK Frontend assets"; exit 0; \
	fi; \
	if ! command -v npm >/dev/null 2>&1; then \
		echo "warning: npm not found: install Node.js and npm for the GOV.UK Frontend assets"; \
		exit 0; \
	fi; \
	if [ ! -f package-lock.json ]; then \
		echo "warning: no package-lock.json: skipping the GOV.UK Frontend assets"; \
		echo "  (create it with 'npm install --package-lock-only' and commit it)"; exit 0; \
	fi; \
	if [ ! -f node_modules/.package-lock.json ] \
		|| [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		echo "==> npm ci"; \
		npm ci --no-audit --no-fund; \
	fi; \
	if [ ! -d $(GOVUK_SOURCE) ]; then \
		echo "error: $(GOVUK_SOURCE) not found after npm"; exit 1; \
	fi; \
	if [ ! -f $(GOVUK_TARGET)/.copied ] \
		|| [ node_modules/.package-lock.json -nt $(GOVUK_TARGET)/.copied ]; then \
		echo "==> GOV.UK Frontend assets into $(GOVUK_TARGET)"; \
		mkdir -p $(dir $(GOVUK_TARGET)); \
		staging=$$(mktemp -d $(dir $(GOVUK_TARGET)).govuk-XXXXXX); \
		cp -R $(GOVUK_SOURCE)/. "$$staging"/; \
		touch "$$staging"/.copied; \
		chmod 755 "$$staging"; \
		rm -rf $(GOVUK_TARGET); \
		mv "$$staging" $(GOVUK_TARGET); \
	fi

system-deps: ## Install the Debian packages the tests need (PostgreSQL, Chromium, Java for Spark) if missing
	@missing=""; \
	if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
		&& ! command -v pg_ctl >/dev/null 2>&1; then missing="$$missing postgresql"; fi; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	if [ -z "$$missing" ]; then echo "==> system packages: PostgreSQL, Chromium and Java present"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else \
		echo "warning: missing Debian packages:$$missing"; \
		echo "  install them as root: apt-get install --no-install-recommends$$missing"; \
		exit 0; \
	fi; \
	echo "==> installing Debian packages:$$missing"; \
	$$sudo apt-get update -qq; \
	$$sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $$missing

# ---------------------------------------------------------------------------------------------
# The two commands

# Published statistics files, imported by the demo beside its computed metrics when present.
STATISTICS_DIR ?= ../shared/data

demo: setup ## Build a synthetic nation into carepool.db (allocations, plans, pools, metrics) and serve it
	@statistics=""; if [ -d "$(STATISTICS_DIR)" ]; then statistics="--statistics $(STATISTICS_DIR)"; fi; \
	$(BIN)/carepool demo $$statistics $(DEMO_ARGS)

test: setup system-deps ## Run make check, then every test (unit, PostgreSQL, browser): what CI runs
	@echo "==> make check"; \
	checked=0; $(MAKE) _check || checked=$$?; \
	echo "==> pytest, with a throwaway PostgreSQL server"; \
	tested=0; $(WITH_POSTGRES) $(PYTEST) $(PYTEST_ARGS) || tested=$$?; \
	if [ "$$checked" != 0 ]; then echo "make test: 'make check' failed (see above)"; fi; \
	if [ "$$tested" != 0 ]; then exit "$$tested"; fi; \
	exit "$$checked"

# ---------------------------------------------------------------------------------------------
# Developing

test-unit: setup ## Run the tests that need no PostgreSQL and no browser (fast)
	@$(call pytest_category,$(PYTEST) -m "not postgres and not browser" $(PYTEST_ARGS))

test-postgres: setup system-deps ## Run the PostgreSQL tests against a throwaway server
	@$(call pytest_category,$(WITH_POSTGRES) $(PYTEST) -m postgres $(PYTEST_ARGS))

test-browser: setup system-deps ## Run the headless Chromium browser tests
	@$(call pytest_category,$(WITH_POSTGRES) $(PYTEST) -m browser $(PYTEST_ARGS))

check: setup ## Format check, lint, type check, import contracts, lock file up to date
	@$(MAKE) _check

_check:
	@failed=(); \
	run() { echo "--> $$*"; "$$@" || failed+=("$$*"); }; \
	run $(BIN)/ruff format --check .; \
	run $(BIN)/ruff check .; \
	run $(BIN)/mypy; \
	run $(BIN)/lint-imports; \
	run $(UV) lock --check; \
	if [ "$${#failed[@]}" != 0 ]; then \
		echo "check FAILED:"; printf '  %s\n' "$${failed[@]}"; exit 1; \
	fi; \
	echo "check: all green"

format: setup ## Reformat the code and apply ruff's safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup ## Run the benchmarks
	@if [ -f benchmarks/__main__.py ]; then \
		$(BIN)/python -m benchmarks $(BENCH_ARGS); \
	else \
		echo "no benchmarks yet (benchmarks/__main__.py)"; \
	fi

clean: ## Remove .venv, caches, the demo database, local state, assets and test servers
	@for state in .test-run/*.env; do \
		[ -e "$$state" ] || continue; \
		CAREPOOL_TEST_PG_NAME="$$(basename "$$state" .env)" bash scripts/test-postgres.sh stop || true; \
	done
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache \
		.test-run .carepool carepool.db carepool.db-* node_modules $(GOVUK_TARGET)
	find . -path ./node_modules -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
