# Two commands on a fresh machine: `make demo` and `make test`.
# The test setup installs torch==2.13.0 (CPU) and the integrations extra (transformers, trl, lightning, ...).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-deps lint typecheck schemas bench bench-quick bench-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[cli,plot,dev,integrations]"
	touch $(STAMP)

demo: $(STAMP)
	rm -rf runs/demo
	$(BIN)/python examples/grpo_demo.py --out runs/demo
	@echo; echo '$$ eventlog phases runs/demo'; $(BIN)/eventlog phases runs/demo
	@echo; echo '$$ eventlog table --last 10 runs/demo'; $(BIN)/eventlog table --last 10 runs/demo
	@echo; echo '$$ eventlog trend accuracy runs/demo'; $(BIN)/eventlog trend accuracy runs/demo
	@echo; echo '$$ eventlog report runs/demo --out runs/demo/report.html'; \
	  $(BIN)/eventlog report runs/demo --out runs/demo/report.html

# The browser test drives Debian's chromium through chromedriver, the watch test runs in tmux.
# Installed with apt when missing (root, as in CI); elsewhere those tests are skipped, except in CI.
TEST_TOOLS := chromium chromedriver tmux
test-deps:
	@missing=""; for t in $(TEST_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing the test tools:$$missing (apt)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver tmux >/dev/null; } \
	  || { [ -z "$$CI" ] && echo "could not install$$missing: the browser and watch tests will be skipped"; }; \
	fi

test: $(STAMP) test-deps
	EVENTLOG_STRICT=1 EVENTLOG_FRAMEWORK_TESTS=required $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check eventlog cli tests examples

typecheck: $(STAMP)
	$(BIN)/mypy

schemas: $(STAMP)
	$(BIN)/python -c "from eventlog._schema import write_schemas; write_schemas('schemas')"

bench-deps: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[cli,dev,bench]"
	command -v jq >/dev/null || (apt-get update -qq && apt-get install -y -qq jq) || echo "jq unavailable: its rows are skipped"

bench: bench-deps
	$(BIN)/python bench/run.py full

bench-quick: bench-deps
	$(BIN)/python bench/run.py quick

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
