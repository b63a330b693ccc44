# The targets here are exactly what the README and CI call.
# `make run` and `make test` each create .venv on first use (nothing but Python needed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test test-fast lint format type typing-tree bench report clean

# torch==2.13.0 goes in first so pip keeps the CPU build on this machine instead of
# downloading a multi-GB GPU build for the plain `torch` requirement.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,datasets,ray,onnx,causal,validate,blp]"
	touch $(STAMP)

setup: $(STAMP)

# the quickstart experiment (issue 5): fit → train → evaluate → report into runs/quickstart
run: $(STAMP)
	$(BIN)/pricegym run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# CI runs this target (.ci/run): lint, then mypy (see type), then the tests.
test: lint type
	$(BIN)/python -m pytest

# Static checkers do not run the editable install's import hook, so they cannot see
# package-dir's mapping (pricegym.envs -> envs/, ...). typing-tree builds a git-ignored
# mirror of the installed layout out of symlinks, build/typing/pricegym/; mypy
# (settings in pyproject) and pyright/IDEs ([tool.pyright] extraPaths) read it.
# mypy's cache lives beside the tree, in build/mypy-cache, so a rebuilt tree keeps it.
TYPING_DIRS := demand envs agents experiments
typing-tree:
	rm -rf build/typing && mkdir -p build/typing/pricegym
	for f in pricegym/*.py pricegym/py.typed pricegym/cli; do ln -s ../../../$$f build/typing/pricegym/; done
	for d in $(TYPING_DIRS); do ln -s ../../../$$d build/typing/pricegym/$$d; done

type: $(STAMP) typing-tree
	cd build/typing && ../../$(BIN)/mypy --config-file ../../pyproject.toml \
		--cache-dir ../mypy-cache -p pricegym

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_kernels.py
	$(BIN)/python benchmarks/bench_envs.py
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_qlearning.py
	$(BIN)/python benchmarks/bench_calvano_sweep.py
	$(BIN)/python benchmarks/bench_gvr.py
	$(BIN)/python benchmarks/bench_gvr_rl.py
	$(BIN)/python benchmarks/bench_ferreira.py
	$(BIN)/python benchmarks/bench_cross_model.py
	$(BIN)/python benchmarks/bench_multiproduct.py
	$(BIN)/python benchmarks/bench_scaling.py
	$(BIN)/python benchmarks/bench_inference.py
	$(BIN)/python benchmarks/bench_bandit_collusion.py
	$(BIN)/python benchmarks/bench_capacity.py
	$(BIN)/python benchmarks/bench_regret.py
	$(BIN)/python benchmarks/bench_klein.py
	$(BIN)/python benchmarks/report.py

report: $(STAMP)
	$(BIN)/python benchmarks/report.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
