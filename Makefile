# signalbank: `make dev` runs the whole pipeline on embedded servers; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint typecheck unit faults compose-check alerts-check contracts-check schemas rules-check browser-check screenshot bench bench-profile bench-rules bench-rules-instructions clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/signalbank dev $(ARGS)

test: $(STAMP) lint typecheck rules-check compose-check alerts-check contracts-check browser-check unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check streams agents schemas rules sinks tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

rules-check: $(STAMP)
	$(BIN)/signalbank rules check rules
	$(BIN)/signalbank rules test
	$(BIN)/signalbank rules docs --check

# The topic contracts: JSON Schemas and schemas/asyncapi.yaml current, the latter valid for the
# official AsyncAPI parser (pinned in .ci/asyncapi, installed by npm ci into .signalbank/ci).
contracts-check: $(STAMP)
	$(BIN)/signalbank schemas export --check
	bash .ci/asyncapi/check

compose-check:
	bash .ci/validate-compose

# The Prometheus alert rules' unit tests (input series -> expected alerts), promtool from .ci/promtool.
alerts-check:
	PROMTOOL="$$(bash .ci/promtool)" && "$$PROMTOOL" test rules docs/ops/prometheus/alerts_test.yml

# The staff page's browser test (tests/integration/test_staff_page.py) drives Debian's chromium and
# chromium-driver (.ci/run installs them). Without them the test skips; in CI (CI=true) it must run,
# so this check and the test fail there.
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
browser-check:
	@if [ -x "$(CHROMIUM)" ] && [ -x "$(CHROMEDRIVER)" ]; then :; \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "browser-check: $(CHROMIUM) or $(CHROMEDRIVER) missing (apt-get install chromium chromium-driver)" >&2; exit 1; \
	else \
	  echo "browser-check: no chromium/chromedriver: the staff page's browser test will skip (apt-get install chromium chromium-driver)"; \
	fi

# The staff page's screenshot in docs/staff.md, made by the browser test on a real worker.
screenshot: $(STAMP) browser-check
	SIGNALBANK_SCREENSHOT=docs/img/customer-page.png $(BIN)/pytest -q tests/integration/test_staff_page.py

unit: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Fault tests alone (also part of `unit`): SIGKILL, Redis outage, broker cut, hostile input, rule sandbox.
faults: $(STAMP)
	$(BIN)/pytest -m faults $(PYTEST_ARGS)

# End-to-end: worker vs Faust consume-only and per-event baselines, latency, Redis memory (~15 min).
bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

# Where the worker's time goes: the pipeline in-process under pyinstrument.
bench-profile: $(STAMP)
	$(BIN)/python -m bench.pipeline_profile $(ARGS)

bench-rules: $(STAMP)
	$(BIN)/python -m bench.rule_cost --naive $(ARGS)

bench-rules-instructions: $(STAMP)
	$(BIN)/python -m bench.rule_instructions $(ARGS)

schemas: $(STAMP)
	$(BIN)/signalbank schemas export

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .signalbank
