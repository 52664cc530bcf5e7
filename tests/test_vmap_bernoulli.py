"""gpugrad.bernoulli with probabilities batched by vmap (as torch.func.vmap allows): it checks
them without a host read of a batched value, and says what randomness="error" asks first."""

import numpy as np
import pytest

import gpugrad
from gpugrad import func


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def test_batched_probabilities_different_per_example(device):
    p = gpugrad.tensor([[0.0, 1.0, 0.5]] * 200, device=device)
    out = func.vmap(lambda a: gpugrad.bernoulli(a), randomness="different")(p).numpy()
    assert out.shape == (200, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 0], 0.0)          # p = 0: never
    np.testing.assert_array_equal(out[:, 1], 1.0)          # p = 1: always
    assert set(out[:, 2]) == {0.0, 1.0} and 60 < out[:, 2].sum() < 140   # p = 1/2


def test_batched_probabilities_same_draw_for_every_example():
    p = gpugrad.full((5, 64), 0.5)
    out = func.vmap(lambda a: gpugrad.bernoulli(a), randomness="same")(p).numpy()
    assert (out == out[0]).all() and 0 < out[0].sum() < 64
    out = func.vmap(lambda a: gpugrad.bernoulli(a * 0.5), randomness="different")(
        gpugrad.ones(4, 3))                                # the reviewer's case
    assert out.shape == (4, 3)


def test_the_randomness_error_comes_before_the_check():
    with pytest.raises(RuntimeError, match="randomness='error'"):
        func.vmap(lambda a: gpugrad.bernoulli(a * 0.5))(gpugrad.ones(4, 3))


def test_batched_probabilities_outside_0_1_raise(device):
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        func.vmap(lambda a: gpugrad.bernoulli(a * 2), randomness="different")(
            gpugrad.ones(4, 3, device=device))


def test_as_torch_func(torch):
    t = torch.func.vmap(lambda a: torch.bernoulli(a * 0.5), randomness="different")(
        torch.ones(4, 3))
    g = func.vmap(lambda a: gpugrad.bernoulli(a * 0.5), randomness="different")(
        gpugrad.ones(4, 3))
    assert tuple(t.shape) == g.shape and set(g.numpy().ravel()) <= {0.0, 1.0}
