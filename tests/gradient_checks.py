"""A helper the op tests share: gradcheck and gradgradcheck (float64 finite differences,
first and second order) of a function at NumPy inputs."""

import numpy as np

import gpugrad


def leaf64(a):
    """``a`` as a float64 tensor that requires grad."""
    return gpugrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def check_grads(fn, *arrays):
    """Assert ``fn``'s first and second derivatives at ``arrays`` match finite differences."""
    inputs = tuple(leaf64(a) for a in arrays)
    assert gpugrad.gradcheck(fn, inputs)
    assert gpugrad.gradgradcheck(fn, inputs)
