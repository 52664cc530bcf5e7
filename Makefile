# The two commands that do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# On a machine with an NVIDIA driver, also install the CuPy build matching its CUDA version.
CUDA_MAJOR := $(shell nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9]*\).*/\1/p' | head -n 1)
CUDA_EXTRA := $(if $(filter 12,$(CUDA_MAJOR)),cuda12,$(if $(filter 13 14 15,$(CUDA_MAJOR)),cuda13,))

.PHONY: demo walkthrough test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[train$(if $(CUDA_EXTRA),$(comma)$(CUDA_EXTRA),)]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test$(if $(CUDA_EXTRA),$(comma)$(CUDA_EXTRA),)]"
	touch $@

comma := ,

demo: $(VENV)/.demo-installed
	$(BIN)/gpugrad train --data digits --out runs/digits

walkthrough: $(VENV)/.demo-installed
	$(BIN)/python examples/seed_walkthrough.py

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -q

# CPU speed and memory against the NumPy floor, and PyTorch and JAX where the venv has them
# (.venv/bin/pip install torch==2.13.0 jax); about 15 minutes.
bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/suite.py --out benchmarks/results/cpu_suite.json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis runs
