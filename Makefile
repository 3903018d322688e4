# terrafuse — two commands: `make serve` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test lint bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[server,test]'
	@touch $(STAMP)

## serve: set everything up and start the platform with demo data on http://127.0.0.1:8000
serve: $(STAMP)
	$(BIN)/terrafuse serve --demo

## test: set everything up and run the whole test suite
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/job_overhead.py
	$(BIN)/python benchmarks/water_bodies.py
	$(BIN)/python benchmarks/slicing.py

clean:
	rm -rf $(VENV) .terrafuse .pytest_cache .ruff_cache
