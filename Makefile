# Two commands for a fresh machine with python3 and make: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast bench docs manifest clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)  ## set up, grade every module's reference solution on the local target, show the figures
	$(BIN)/python -m workshop.demo

test: $(STAMP)  ## the whole suite: tooling, local cloud, course meta-test, site
	$(BIN)/python -m pytest tests -q -p no:cacheprovider; status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$status

test-fast: $(STAMP)  ## everything but the course meta-test
	$(BIN)/python -m pytest tests -q -p no:cacheprovider -m "not slow"

bench: $(STAMP)  ## measured figures: table on screen, JSON in bench/results.json and docs/data/bench.json
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m workshop.bench

docs: $(STAMP)  ## the site, built offline and strictly
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

manifest: $(STAMP)  ## record the checksums of checks/ after changing a checkpoint
	$(BIN)/python -m workshop.grading.tamper

clean:
	-$(BIN)/workshop cloud down
	rm -rf .workshop site workspace
