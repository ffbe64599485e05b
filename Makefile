# One entry point per job; every target builds the virtualenv it needs from pyproject.toml.
# The main venv's Python: 3.11, the oldest the package claims, where this machine has it.
PYTHON ?= $(or $(shell .ci/find-python 3.11),python3)
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
	$(BIN)/ruff check kraken_futures_async tests benchmarks examples
	$(BIN)/ruff format --check kraken_futures_async tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	@$(BIN)/python -c 'import sys; print("suite on Python", sys.version.split()[0], "($(VENV))")'
	$(BIN)/pytest

# The suite again with the wall clock moved 400 days ahead and 400 days back: no test may
# depend on today's date (tests/clock_shift.py). Each run also proves one more Python version
# the package claims (pyproject's classifiers), at no extra suite time: `unit` runs on the main
# venv (3.11 in CI), +400 days on 3.12, -400 days on 3.13, each in its own venv (.venv-3.12,
# .venv-3.13) built from pyproject.toml. A version this machine lacks (.ci/find-python finds
# none) runs on the main venv instead; every run prints the Python it used.
clock-shifted: $(STAMP)
	@$(MAKE) --no-print-directory shifted-suite PY_VERSION=3.12 SHIFT_DAYS=400
	@$(MAKE) --no-print-directory shifted-suite PY_VERSION=3.13 SHIFT_DAYS=-400

# One clock-shifted run: PY_VERSION=X.Y SHIFT_DAYS=N (called by clock-shifted).
.PHONY: shifted-suite
FOUND_PYTHON = $(if $(PY_VERSION),$(shell .ci/find-python $(PY_VERSION)))
SHIFT_VENV = $(if $(FOUND_PYTHON),.venv-$(PY_VERSION),$(VENV))
shifted-suite: $(if $(FOUND_PYTHON),.venv-$(PY_VERSION)/.installed-dev,$(STAMP))
	@$(if $(FOUND_PYTHON),,echo "Python $(PY_VERSION) is not installed here: this run uses the main venv";)
	@$(SHIFT_VENV)/bin/python -c 'import sys; print("suite, clock shifted $(SHIFT_DAYS) days, on Python", sys.version.split()[0], "($(SHIFT_VENV))")'
	$(SHIFT_VENV)/bin/pytest --clock-shift-days=$(SHIFT_DAYS) -p no:cacheprovider

.venv-%/.installed-dev: pyproject.toml
	$(shell .ci/find-python $*) -m venv .venv-$*
	.venv-$*/bin/python -m pip install --quiet --upgrade pip
	.venv-$*/bin/python -m pip install --quiet -e '.[dev]'
	touch $@

# The wheel and the sdist, built into a temporary directory, each installed into a fresh
# virtualenv and smoke-tested there (import, kraken-futures --version, a call on the twin).
.PHONY: package-check
package-check: $(STAMP)
	.ci/package-check $(BIN)/python

test: lint typecheck unit clock-shifted docs package-check

clean:
	rm -rf $(VENV) .venv-3.* .mypy_cache .pytest_cache .ruff_cache

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
