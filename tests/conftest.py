"""Shared fixtures: every device test runs on cpu, and on cuda when a GPU is usable."""

import os

import numpy as np
import pytest
from hypothesis import settings

import gpugrad
from gpugrad import backend

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=60,
                          print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

pytest_plugins = ["cuda_support"]      # the GPU kernel tests' fixtures (tests/cuda_support.py)

DEVICES = ["cpu"] + (["cuda"] if backend.is_cuda_usable() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """The device name a test runs on: "cpu", then "cuda" where a GPU is usable."""
    return request.param


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


requires_cuda = pytest.mark.skipif(not backend.is_cuda_usable(), reason="needs a usable GPU")
