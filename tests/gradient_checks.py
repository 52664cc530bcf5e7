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


def away_from_kinks(kinks, shape=(3, 5), low=-5.0, high=6.0, seed=0):
    """float64 values uniform in [low, high], each at least 0.1 from every kink (a point
    where the function's derivative jumps: finite differences are meaningless there)."""
    x = np.random.default_rng(seed).uniform(low, high, size=shape)
    for k in kinks:
        x = np.where(np.abs(x - k) < 0.1, x + 0.3, x)
    return x
