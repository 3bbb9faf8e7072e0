# The two commands of the README. Both create .venv and install the project from its own files.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SPACE ?= search_spaces/digits_cnn.yaml
OUT ?= runs/digits-cnn/best

.PHONY: tune test lint venv clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

tune: venv  ## tune the default space, print the leaderboard, export the best model
	$(BIN)/automl tune $(SPACE)
	$(BIN)/automl export $(SPACE) --out $(OUT) --force

test: venv  ## the test suite (slow tests included), then its backend-neutral part on JAX
	$(BIN)/python -m pytest -q -ra
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -ra -m backends

lint: venv  ## ruff (lint + format) on everything, mypy on the core
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy automl

clean:
	rm -rf runs build dist *.egg-info
