"""torch's legacy linear-algebra names (ops/legacy_linalg.py) and more of torch.linalg
(ops/linalg_more.py, combinatorics.linalg_vander): float64 NumPy references, hand values,
gradients against finite differences, and torch's results where torch is installed."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import gradcheck
from gpugrad.ops import linalg_more
from gpugrad.ops.combinatorics import linalg_vander
from gpugrad.ops.matrix_common import LinAlgError

RNG = np.random.RandomState(1)
SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
GOOD = np.array([[2.0, 1.0], [1.0, 3.0]])


def f64(a):
    return gpugrad.tensor(np.asarray(a, dtype=np.float64))


def leaf(a):
    return gpugrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def test_legacy_svd_returns_v_and_reconstructs():
    M = RNG.randn(2, 4, 3)
    U, S, V = gpugrad.svd(f64(M))
    assert (U.shape, S.shape, V.shape) == ((2, 4, 3), (2, 3), (2, 3, 3))
    np.testing.assert_allclose((U.numpy() * S.numpy()[..., None, :]) @
                               np.swapaxes(V.numpy(), -1, -2), M, atol=1e-12)
    np.testing.assert_allclose(S.numpy(), np.linalg.svd(M, compute_uv=False))
    U, S, V = gpugrad.svd(f64(M), some=False)
    assert U.shape == (2, 4, 4) and V.shape == (2, 3, 3)
    U, S, V = gpugrad.svd(f64(M), compute_uv=False)
    assert U.shape == (2, 4, 4) and V.shape == (2, 3, 3) and U.abs().sum().item() == 0
    assert gradcheck(lambda a: gpugrad.svd(a).S, (leaf(M[0]),))


def test_legacy_triangular_solve_lu_qr():
    b, A = RNG.randn(3, 2), RNG.randn(3, 3) + 3 * np.eye(3)
    for upper in (True, False):
        for transpose in (True, False):
            tri = np.triu(A) if upper else np.tril(A)
            want = np.linalg.solve(tri.T if transpose else tri, b)
            X, copy = gpugrad.triangular_solve(f64(b), f64(A), upper, transpose)
            np.testing.assert_allclose(X.numpy(), want)
            np.testing.assert_array_equal(copy.numpy(), A)
    with pytest.warns(UserWarning, match="triangular_solve is deprecated"):
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            gpugrad.triangular_solve(f64(b), f64(A))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        gpugrad.triangular_solve(f64(b[:, 0]), f64(A))
    assert gradcheck(lambda u, a: gpugrad.triangular_solve(u, a).solution, (leaf(b), leaf(A)))
    LU, piv = gpugrad.lu(f64(A))
    np.testing.assert_allclose(gpugrad.lu_solve(f64(b), LU, piv).numpy(),
                               np.linalg.solve(A, b))
    LU, piv, info = gpugrad.lu(f64(SINGULAR), get_infos=True)
    assert info.item() == 2 and piv.tolist() == [2, 2]
    Q, R = gpugrad.qr(f64(RNG.randn(4, 2)), some=False)
    assert Q.shape == (4, 4) and R.shape == (4, 2)
    Q, R = gpugrad.qr(f64(b))
    np.testing.assert_allclose((Q @ R).numpy(), b)


def test_ex_functions_report_info_instead_of_raising():
    batch = f64(np.stack([GOOD, SINGULAR]))
    inverse, info = linalg_more.inv_ex(batch)
    assert info.tolist() == [0, 2] and info.dtype == np.int32
    np.testing.assert_allclose(inverse[0].numpy(), np.linalg.inv(GOOD))
    assert np.isnan(inverse[1].numpy()).all()
    result, info = linalg_more.solve_ex(batch, f64(np.ones((2, 2))))
    np.testing.assert_allclose(result[0].numpy(), np.linalg.solve(GOOD, np.ones(2)))
    assert info.tolist() == [0, 2] and np.isnan(result[1].numpy()).all()
    assert linalg_more.lu_factor_ex(gpugrad.zeros(2, 2)).info.item() == 1
    assert linalg_more.cholesky_ex(f64([[4.0, 2, 0], [2, 1, 0], [0, 0, 1]])).info.item() == 2
    assert linalg_more.cholesky_ex(f64([[-4.0, 2], [2, 1]])).info.item() == 1
    L, info = linalg_more.cholesky_ex(f64(GOOD), upper=True)
    np.testing.assert_allclose(L.numpy(), np.linalg.cholesky(GOOD).T)
    assert info.item() == 0
    for fn, args in ((linalg_more.inv_ex, ()), (linalg_more.cholesky_ex, ()),
                     (linalg_more.solve_ex, (f64([1.0, 1.0]),)),
                     (linalg_more.lu_factor_ex, ())):
        with pytest.raises(LinAlgError):
            fn(f64(SINGULAR), *args, check_errors=True)
    A = leaf(GOOD)
    assert gradcheck(lambda a: linalg_more.inv_ex(a).inverse, (A,))
    assert gradcheck(lambda a: linalg_more.solve_ex(a, f64([1.0, 2.0])).result, (A,))


def test_cond_matches_its_definition():
    A = RNG.randn(3, 4, 4)
    s = np.linalg.svd(A, compute_uv=False)
    np.testing.assert_allclose(linalg_more.cond(f64(A)).numpy(), s[:, 0] / s[:, -1])
    np.testing.assert_allclose(linalg_more.cond(f64(A), -2).numpy(), s[:, -1] / s[:, 0])
    for p in ("fro", 1, -1, math.inf, -math.inf):
        want = [np.linalg.norm(a, p) * np.linalg.norm(np.linalg.inv(a), p) for a in A]
        np.testing.assert_allclose(linalg_more.cond(f64(A), p).numpy(), want)
    np.testing.assert_allclose(linalg_more.cond(f64(A), "nuc").numpy(),
                               s.sum(-1) * (1 / s).sum(-1))
    assert linalg_more.cond(f64(SINGULAR), 1).item() == math.inf
    with pytest.raises(ValueError, match="square"):
        linalg_more.cond(f64(RNG.randn(3, 2)), 1)
    assert gradcheck(lambda a: linalg_more.cond(a), (leaf(A[0]),))
    assert gradcheck(lambda a: linalg_more.cond(a, "fro"), (leaf(A[0]),))


def test_tensorinv_tensorsolve_householder_vander():
    T = RNG.randn(4, 2, 2)
    np.testing.assert_allclose(linalg_more.tensorinv(f64(T), 1).numpy(),
                               np.linalg.tensorinv(T, 1))
    A, B = RNG.randn(2, 3, 6), RNG.randn(2, 3)
    np.testing.assert_allclose(linalg_more.tensorsolve(f64(A), f64(B)).numpy(),
                               np.linalg.tensorsolve(A, B))
    A2 = np.moveaxis(A, 2, 0)
    np.testing.assert_allclose(linalg_more.tensorsolve(f64(A2), f64(B), dims=(0,)).numpy(),
                               np.linalg.tensorsolve(A2, B, axes=(0,)))
    with pytest.raises(ValueError, match="prod"):
        linalg_more.tensorinv(f64(np.ones((2, 3))), 1)
    # Q of numpy's QR rebuilt from reflectors: H = I - tau v v^T, v = [1, a]
    a = np.array([[1.0], [1.0]])
    np.testing.assert_allclose(linalg_more.householder_product(f64(a), f64([1.0])).numpy(),
                               [[0.0], [-1.0]])
    M, tau = RNG.randn(5, 3), RNG.rand(3)
    Q = np.eye(5)
    for i in range(3):
        v = np.concatenate([np.zeros(i), [1.0], M[i + 1:, i]])
        Q = Q @ (np.eye(5) - tau[i] * np.outer(v, v))
    np.testing.assert_allclose(linalg_more.householder_product(f64(M), f64(tau)).numpy(),
                               Q[:, :3])
    assert gradcheck(linalg_more.householder_product, (leaf(M), leaf(tau)))
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(linalg_vander(f64(x)).numpy(), np.vander(x, increasing=True))
    assert linalg_vander(gpugrad.tensor([[1, 2]], dtype="int32"), N=3).tolist() == \
        [[[1, 1, 1], [1, 2, 4]]]
    assert gradcheck(lambda t: linalg_vander(t, N=4), (leaf(x),))


def test_against_torch():
    torch = pytest.importorskip("torch")
    T = torch.tensor
    A = RNG.randn(3, 4, 4)
    for p in (None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf):
        np.testing.assert_allclose(linalg_more.cond(f64(A), p).numpy(),
                                   torch.linalg.cond(T(A), p).numpy())
    batch = np.stack([GOOD, SINGULAR, np.zeros((2, 2))])
    for ours, theirs in ((linalg_more.inv_ex, torch.linalg.inv_ex),
                         (linalg_more.lu_factor_ex, torch.linalg.lu_factor_ex)):
        np.testing.assert_array_equal(ours(f64(batch)).info.numpy(),
                                      theirs(T(batch)).info.numpy())
    pd = np.stack([GOOD, [[4.0, 2.0], [2.0, 1.0]], [[-1.0, 0.0], [0.0, 1.0]]])
    np.testing.assert_array_equal(linalg_more.cholesky_ex(f64(pd)).info.numpy(),
                                  torch.linalg.cholesky_ex(T(pd)).info.numpy())
    geqrf, tau = torch.geqrf(T(RNG.randn(2, 5, 3) + 1j * RNG.randn(2, 5, 3)))
    np.testing.assert_allclose(
        linalg_more.householder_product(gpugrad.tensor(geqrf.numpy()),
                                        gpugrad.tensor(tau.numpy())).numpy(),
        torch.linalg.householder_product(geqrf, tau).numpy())
    b, Am = RNG.randn(3, 2), RNG.randn(3, 3)
    for upper in (True, False):
        for transpose in (True, False):
            for unit in (True, False):
                np.testing.assert_allclose(
                    gpugrad.triangular_solve(f64(b), f64(Am), upper, transpose, unit)[0].numpy(),
                    torch.triangular_solve(T(b), T(Am), upper, transpose, unit)[0].numpy())
    M = RNG.randn(4, 3)
    _, S, V = gpugrad.svd(f64(M))
    _, tS, tV = torch.svd(T(M))
    np.testing.assert_allclose(S.numpy(), tS.numpy())
    np.testing.assert_allclose(np.abs(V.numpy()), np.abs(tV.numpy()))
    x = RNG.randn(2, 3)
    np.testing.assert_allclose(linalg_vander(f64(x), N=4).numpy(),
                               torch.linalg.vander(T(x), N=4).numpy())
