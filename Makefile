# The two commands that do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# On a machine with an NVIDIA driver, also install the CuPy build matching its CUDA version.
CUDA_MAJOR := $(shell nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9]*\).*/\1/p' | head -n 1)
CUDA_EXTRA := $(if $(filter 12,$(CUDA_MAJOR)),cuda12,$(if $(filter 13 14 15,$(CUDA_MAJOR)),cuda13,))

.PHONY: demo walkthrough test fuzz mutate long-run bench clean

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

# The random-program differential tester at depth: 10,000 programs instead of CI's 1,000
# (about 4 minutes on 2 cores). A failure prints the shrunk program as gpugrad code; the run
# prints GPUGRAD_FUZZ_SEED=... to repeat it.
fuzz: $(VENV)/.test-installed
	GPUGRAD_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q -p no:cacheprovider -s \
		tests/test_random_programs.py::test_random_programs

# Plant small bugs in the core one at a time (in a scratch copy of the tree) and run the tests
# that should catch each; writes benchmarks/results/mutation.txt. About 3 minutes.
mutate: $(VENV)/.test-installed
	$(BIN)/python benchmarks/mutate.py

# 20,000 Adam steps of an MLP with memory sampled every 1,000 (RSS, tracked bytes, live
# objects; the CuPy pool on a GPU): benchmarks/results/long_run_cpu.txt. About 4 minutes.
long-run: $(VENV)/.test-installed
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/long_run.py

# CPU speed and memory against the NumPy floor, and PyTorch and JAX where the venv has them
# (.venv/bin/pip install torch==2.13.0 jax); about 15 minutes. Then each op family's eager
# overhead above NumPy's own call (benchmarks/op_overhead.py, under a minute), printed and
# written to benchmarks/results/cpu_op_overhead.md.
bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/suite.py --out benchmarks/results/cpu_suite.json
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/op_overhead.py > benchmarks/results/cpu_op_overhead.md
	cat benchmarks/results/cpu_op_overhead.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis runs
