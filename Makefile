# Two commands for a fresh machine with python3 and make: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# one pytest worker per core, each with a local cloud of its own (tests/conftest.py); worksteal
# evens out the few long tests (the course meta-test, the fairness suites)
PARALLEL ?= -n auto --dist worksteal

.PHONY: setup demo lint test test-fast bench docs manifest clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)  ## set up, grade every module's reference solution on the local target, show the figures
	$(BIN)/python -m workshop.demo

lint: $(STAMP)  ## ruff and mypy over workshop/, checks/ and tests/ (settings in pyproject.toml); `make lint FIX=1` applies ruff's fixes
	$(BIN)/ruff check workshop checks tests $(if $(FIX),--fix)
	$(BIN)/mypy

test: lint  ## lint, then the whole suite: tooling, local cloud, course meta-test, site
	$(BIN)/python -m pytest tests -q -p no:cacheprovider $(PARALLEL) --durations=25; status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$status

test-fast: $(STAMP)  ## everything but the course meta-test
	$(BIN)/python -m pytest tests -q -p no:cacheprovider $(PARALLEL) -m "not slow"

bench: $(STAMP)  ## measured figures: table on screen, JSON in bench/results.json, docs/data/bench.json and docs/data/cost.json
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m workshop.bench
	$(BIN)/python -m workshop.cost.figures

docs: $(STAMP)  ## the site, built offline and strictly
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

manifest: $(STAMP)  ## record the checksums of checks/ and the workshop code they run, after changing any of it
	$(BIN)/python -m workshop.grading.tamper

clean:
	-$(BIN)/workshop cloud down
	rm -rf .workshop site workspace
