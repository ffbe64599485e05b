# One entry point per job; every target builds the virtualenv it needs from pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
DEMO_STAMP := $(VENV)/.installed-demo
BENCH_STAMP := $(VENV)/.installed-bench
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: test lint typecheck unit clock-shifted venv clean demo bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[cli,sim]'
	touch $(DEMO_STAMP)

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench,sim]'
	touch $(BENCH_STAMP)

# The main job on the embedded exchange twin: no network, no credentials.
demo: $(DEMO_STAMP)
	$(BIN)/kraken-futures demo

# Side-by-side benchmarks on a loopback twin (a few minutes); results in benchmarks/results/.
bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check kraken_futures_async tests benchmarks
	$(BIN)/ruff format --check kraken_futures_async tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

# The suite again with the wall clock moved 400 days ahead and 400 days back: no test may
# depend on today's date (tests/clock_shift.py).
clock-shifted: $(STAMP)
	$(BIN)/pytest --clock-shift-days=400 -p no:cacheprovider
	$(BIN)/pytest --clock-shift-days=-400 -p no:cacheprovider

test: lint typecheck unit clock-shifted docs

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

# Which of Kraken's OpenAPI operations the endpoint table covers (exit 1 if one is missing).
.PHONY: coverage
coverage: $(STAMP)
	$(BIN)/python -m kraken_futures_async.coverage

# The documentation site, built strict into a throw-away directory: a warning, a broken link,
# a missing reference or an undocumented public name (docs/hooks.py) fails it. Not --quiet:
# that hides warnings from --strict, so a broken link would pass.
.PHONY: docs
$(DOCS_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(STAMP) $(DOCS_STAMP)
	site=$$(mktemp -d) && NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d "$$site"; \
	status=$$?; rm -rf "$$site"; exit $$status
