"""Shared fixtures: every device test runs on cpu, and on cuda when a GPU is usable.

With GPUGRAD_REQUIRE_CUDA=1 (a GPU machine's run: benchmarks/gpu_run.sh sets it) the cuda
tests never skip: where CUDA is not usable (CuPy fails to load, no driver) they fail, saying
why, so a broken GPU run cannot pass as a run of skips."""

import os

import numpy as np
import pytest
from hypothesis import settings

import gpugrad
from gpugrad import backend

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=60,
                          print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# fixtures for every test: the GPU kernel tests' (tests/cuda_support.py), ``emulated``, the
# fused optimizers' device side in NumPy (tests/optim_emulation.py), and ``emulated_gpu``,
# graph()'s CUDA path on NumPy (tests/graph_emulation.py)
pytest_plugins = ["cuda_support", "optim_emulation", "graph_emulation"]

REQUIRE_CUDA = os.environ.get("GPUGRAD_REQUIRE_CUDA", "").strip().lower() not in (
    "", "0", "false", "no", "off")
CUDA_RUNS = backend.is_cuda_usable() or REQUIRE_CUDA   # cuda tests run (and fail if unusable)

DEVICES = ["cpu"] + (["cuda"] if CUDA_RUNS else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """The device name a test runs on: "cpu", then "cuda" where a GPU is usable."""
    if request.param == "cuda":
        fail_unless_cuda_is_usable()
    return request.param


def fail_unless_cuda_is_usable():
    """Fail the test, naming the reason, when CUDA is not usable (GPUGRAD_REQUIRE_CUDA=1)."""
    usable, reason = backend.cuda_status()
    if not usable:
        pytest.fail(f"GPUGRAD_REQUIRE_CUDA=1 but CUDA is not usable: {reason}", pytrace=False)


@pytest.fixture(autouse=True)
def _fresh_state():
    """Each test starts on the cpu default device with a fixed seed."""
    previous = backend.get_default_device()
    gpugrad.manual_seed(1234)
    yield
    backend.set_default_device(previous)


def to_numpy(x):
    """A tensor or array as a NumPy array."""
    if isinstance(x, gpugrad.Tensor):
        return x.numpy()
    return x if isinstance(x, np.ndarray) else x.get()


requires_cuda = pytest.mark.skipif(not CUDA_RUNS, reason="needs a usable GPU")
