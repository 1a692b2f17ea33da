# The two commands a new user needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

.PHONY: setup test demo demo-models lint format bench docs check-dist clean

setup: $(STAMP)

# the demo needs the package and its tasks' libraries; tests, lint and benchmarks add the dev
# tools (pytest, playwright, ruff, hypothesis) and the export/TensorBoard extras on top
$(RUN_STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e ".[tasks]"
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

demo: $(RUN_STAMP)
	$(BIN)/rnnlab demo

# rebuild every shipped demo model from ../shared/data (about an hour on 2 cores; see
# rnnlab/tasks/demo/recipes.py), then commit rnnlab/tasks/demo/models/ if they changed
demo-models: $(RUN_STAMP)
	$(BIN)/rnnlab demo --build --no-serve

lint: setup
	$(BIN)/ruff check rnnlab tests benchmarks
	$(BIN)/ruff format --check rnnlab tests benchmarks

format: setup
	$(BIN)/ruff check --fix rnnlab tests benchmarks
	$(BIN)/ruff format rnnlab tests benchmarks

bench: setup
	$(BIN)/rnnlab bench engine

# the documentation site, offline, into site/ (warnings are errors: broken links fail)
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# build the sdist and the wheel, install the wheel into a fresh venv outside the tree and
# run `rnnlab --version`, a tiny `lm train` and `rnnlab demo` from it (.ci/check_dist.py)
check-dist: setup
	$(BIN)/python .ci/check_dist.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache site dist
