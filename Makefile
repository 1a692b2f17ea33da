# The two commands a new user needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test demo lint format bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

demo: setup
	$(BIN)/rnnlab demo

lint: setup
	$(BIN)/ruff check rnnlab tests benchmarks
	$(BIN)/ruff format --check rnnlab tests benchmarks

format: setup
	$(BIN)/ruff check --fix rnnlab tests benchmarks
	$(BIN)/ruff format rnnlab tests benchmarks

bench: setup
	$(BIN)/rnnlab bench engine

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
