"""manual_seed and the RNG state reproduce random tensors exactly."""

import numpy as np

import gpugrad


def test_manual_seed_reproduces(device):
    gpugrad.manual_seed(7)
    a = gpugrad.randn(5, device=device).numpy()
    b = gpugrad.rand(5, device=device).numpy()
    gpugrad.manual_seed(7)
    np.testing.assert_array_equal(gpugrad.randn(5, device=device).numpy(), a)
    np.testing.assert_array_equal(gpugrad.rand(5, device=device).numpy(), b)
    assert not np.array_equal(gpugrad.randn(5, device=device).numpy(), a)


def test_rng_state_round_trip(device):
    gpugrad.manual_seed(3)
    gpugrad.randn(2, device=device)
    state = gpugrad.get_rng_state()
    first = gpugrad.randn(4, device=device).numpy()
    gpugrad.randn(4, device=device)
    gpugrad.set_rng_state(state)
    np.testing.assert_array_equal(gpugrad.randn(4, device=device).numpy(), first)


def test_different_seeds_differ(device):
    gpugrad.manual_seed(1)
    a = gpugrad.randn(8, device=device).numpy()
    gpugrad.manual_seed(2)
    assert not np.array_equal(gpugrad.randn(8, device=device).numpy(), a)
