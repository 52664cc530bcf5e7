"""The Jacobians built on vmap (one batched pass each): jacrev, jacfwd and hessian checked
in float64 against hand-derived values and central differences, differentiated again
(gradcheck through the batched passes), with several arguments and outputs, chunked, and
per example (vmap over hessian)."""

import numpy as np
import pytest

import gpugrad
from gpugrad import gradcheck
from gpugrad.func import hessian, jacfwd, jacrev, vmap

RNG = np.random.default_rng(11)
A = RNG.normal(size=(5, 4)) / 2
X = RNG.normal(size=4)


def t(a, **kwargs):
    return gpugrad.tensor(a, **kwargs)


def f(x):
    """tanh(A x): R^4 -> R^5."""
    return gpugrad.tanh(t(A) @ x)


def jacobian_of_f(x):
    return (1 - np.tanh(A @ x) ** 2)[:, None] * A


def energy(x):
    """sum(tanh(A x)^2), the benchmark's function."""
    return (gpugrad.tanh(t(A) @ x) ** 2).sum()


def hessian_of_energy(x):
    s = np.tanh(A @ x)
    d = 2 * (1 - s ** 2) ** 2 - 4 * s ** 2 * (1 - s ** 2)
    return A.T @ (d[:, None] * A)


@pytest.mark.parametrize("jac", [jacrev, jacfwd], ids=["jacrev", "jacfwd"])
@pytest.mark.parametrize("chunk_size", [None, 2])
def test_jacobians_match_the_hand_derived_one(jac, chunk_size):
    got = jac(f, chunk_size=chunk_size)(t(X))
    np.testing.assert_allclose(got.numpy(), jacobian_of_f(X), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("chunk_size", [None, 3])
def test_hessian_matches_the_hand_derived_one(chunk_size):
    got = hessian(energy, chunk_size=chunk_size)(t(X))
    np.testing.assert_allclose(got.numpy(), hessian_of_energy(X), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("jac", [jacrev, jacfwd], ids=["jacrev", "jacfwd"])
def test_batched_jacobians_are_differentiable(jac):
    gradcheck(lambda x: jac(f)(x), (t(X, requires_grad=True),))


def test_batched_hessian_is_differentiable():
    gradcheck(lambda x: hessian(energy)(x), (t(X, requires_grad=True),))


def test_several_arguments_and_outputs():
    w = RNG.normal(size=(3, 2))
    x = RNG.normal(size=3)

    def two(xv, wm):
        return xv @ wm, (xv ** 2).sum()
    for jac in (jacrev, jacfwd):
        (dy_dx, dy_dw), (ds_dx, ds_dw) = jac(two, argnums=(0, 1))(t(x), t(w))
        np.testing.assert_allclose(dy_dx.numpy(), w.T, rtol=1e-12)
        expected = np.zeros((2, 3, 2))
        for j in range(2):
            expected[j, :, j] = x
        np.testing.assert_allclose(dy_dw.numpy(), expected, rtol=1e-12)
        np.testing.assert_allclose(ds_dx.numpy(), 2 * x, rtol=1e-12)
        np.testing.assert_allclose(ds_dw.numpy(), np.zeros((3, 2)))


def test_per_example_hessians():
    xs = RNG.normal(size=(3, 4))
    got = vmap(hessian(energy))(t(xs))
    for b in range(3):
        np.testing.assert_allclose(got.numpy()[b], hessian_of_energy(xs[b]), rtol=1e-12,
                                   atol=1e-14)


@pytest.mark.parametrize("jac", [jacrev, jacfwd], ids=["jacrev", "jacfwd"])
def test_jacobians_of_float32_stay_float32(jac):
    a32 = t(A.astype(np.float32))
    got = jac(lambda x: gpugrad.tanh(a32 @ x))(t(X.astype(np.float32)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), jacobian_of_f(X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("jac", [jacrev, jacfwd], ids=["jacrev", "jacfwd"])
def test_jacobian_of_indexing_with_arrays_apart(jac):
    """t[0, :, [0, 1]]: PyTorch selects with the int first (the array's dimension stays
    last); the batched passes keep the batch in front (the Jacobian of a selection is 0/1)."""
    x = RNG.normal(size=(2, 3, 4))
    got = jac(lambda t: t[0, :, [0, 1]])(t(x))
    positions = np.arange(x.size).reshape(x.shape)[0][:, [0, 1]]
    expected = np.eye(x.size)[positions.reshape(-1)].reshape(positions.shape + x.shape)
    np.testing.assert_array_equal(got.numpy(), expected)
