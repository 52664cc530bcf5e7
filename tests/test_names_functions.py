"""PyTorch names part A, the functions: ``equal`` (one bool), ``clamp_min``/``clamp_max`` with a
tensor bound, ``linalg.pinv(A, rcond)`` / ``matrix_rank(A, tol)``, the BLAS-style products,
``cov``/``corrcoef``, ``diff``, ``unfold``, the searching ops and ``histc``. Each against
float64 NumPy or hand values and finite differences; against torch where installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import linalg
from gradient_checks import check_grads

RNG = np.random.default_rng(7)


@pytest.fixture
def torch():
    """PyTorch, or the test is skipped (CI has none)."""
    return pytest.importorskip("torch")


def t64(a):
    return gpugrad.tensor(np.asarray(a, dtype=np.float64))


# F1: equal is torch.equal, one Python bool
def test_equal_is_one_bool_false_for_other_shapes():
    assert gpugrad.equal(gpugrad.ones(2), gpugrad.ones(2)) is True
    assert gpugrad.equal(gpugrad.ones(2), gpugrad.ones(3)) is False      # no broadcast error
    assert gpugrad.equal(gpugrad.ones(1), gpugrad.ones(2)) is False      # no broadcasting
    assert gpugrad.equal(gpugrad.tensor([1.0, float("nan")]),
                         gpugrad.tensor([1.0, float("nan")])) is False
    if gpugrad.equal(gpugrad.tensor([1, 2]), gpugrad.tensor([1, 2])):   # usable in an if
        pass
    assert gpugrad.eq(gpugrad.ones(2), 1).tolist() == [True, True]      # element-wise stays
    with pytest.raises(TypeError, match="gpugrad.eq"):
        gpugrad.equal(gpugrad.ones(2), 1)


def test_equal_as_torch(torch):
    for a, b in (([1, 2], [1, 2]), ([1.0], [1.0, 1.0]), ([1, 2], [1.0, 2.0]), (1.0, [1.0])):
        assert gpugrad.equal(gpugrad.tensor(a), gpugrad.tensor(b)) == \
            torch.equal(torch.tensor(a), torch.tensor(b))


# F2: clamp_min / clamp_max with a tensor bound
def test_clamp_min_max_tensor_bound_by_hand():
    x = gpugrad.tensor([-1.0, 0.5, 2.0, 1.0], dtype="float64", requires_grad=True)
    low = gpugrad.tensor([0.0, 0.0, 3.0, 1.0], dtype="float64", requires_grad=True)
    out = gpugrad.clamp_min(x, low)
    assert out.tolist() == [0.0, 0.5, 3.0, 1.0]
    out.backward(gpugrad.tensor([1.0, 2.0, 3.0, 4.0], dtype="float64"))
    assert x.grad.tolist() == [0.0, 2.0, 0.0, 4.0]         # a tie goes to x, as PyTorch's
    assert low.grad.tolist() == [1.0, 0.0, 3.0, 0.0]
    assert x.detach().clamp_max(low.detach()).tolist() == [-1.0, 0.0, 2.0, 1.0]
    y = gpugrad.tensor([1.0, 5.0])
    y.clamp_max_(gpugrad.tensor([2.5, 2.5]))
    assert y.tolist() == [1.0, 2.5]
    with pytest.raises(TypeError, match="a number or a tensor"):
        gpugrad.clamp_min(y, "0")


def test_clamp_min_max_tensor_bound_as_torch(torch):
    x, b = np.array([-1.0, 0.5, 2.0, np.nan, 1.0]), np.array([0.0, 0.0, 3.0, 0.0, 1.0])
    g = np.arange(1.0, 6.0)
    for name in ("clamp_min", "clamp_max"):
        tx, tb = torch.tensor(x, requires_grad=True), torch.tensor(b, requires_grad=True)
        getattr(torch, name)(tx, tb).backward(torch.tensor(g))
        gx, gb = (gpugrad.tensor(v, requires_grad=True) for v in (x, b))
        out = getattr(gpugrad, name)(gx, gb)
        out.backward(t64(g))
        np.testing.assert_array_equal(out.numpy(), getattr(torch, name)(
            torch.tensor(x), torch.tensor(b)).numpy())
        np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())
        np.testing.assert_array_equal(gb.grad.numpy(), tb.grad.numpy())


# F3: PyTorch's older positional tolerance
def test_pinv_rcond_and_matrix_rank_tol_positional():
    a = t64(np.diag([10.0, 1e-2, 1e-5]))
    np.testing.assert_allclose(linalg.pinv(a, 5e-4).numpy(), np.diag([0.1, 100.0, 0.0]))
    np.testing.assert_allclose(linalg.pinv(a, rcond=5e-4).numpy(),
                               linalg.pinv(a, rtol=5e-4).numpy())
    assert linalg.matrix_rank(a, 5e-3).item() == 2          # tol is absolute: 10, 1e-2 stay
    assert linalg.matrix_rank(a, rtol=5e-3).item() == 1
    assert linalg.matrix_rank(a, 5e-3, True).item() == 2    # hermitian positional too
    assert linalg.matrix_rank(a, tol=gpugrad.tensor(5e-3)).item() == 2
    with pytest.raises(TypeError, match="not both"):
        linalg.pinv(a, 1e-3, rtol=1e-3)


def test_pinv_matrix_rank_positional_as_torch(torch):
    a = np.diag([10.0, 1e-2, 1e-5]) + 1e-7 * RNG.standard_normal((3, 3))
    for args in ((1e-4,), (5e-3,), (5e-4, False)):
        np.testing.assert_allclose(linalg.pinv(t64(a), *args).numpy(),
                                   torch.linalg.pinv(torch.tensor(a), *args).numpy(),
                                   rtol=1e-8, atol=1e-8)
        assert linalg.matrix_rank(t64(a), *args).item() == \
            torch.linalg.matrix_rank(torch.tensor(a), *args).item()


# products
def test_products_against_numpy_and_gradients():
    m, v, w = RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal((4, 2))
    b1, b2 = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 2))
    np.testing.assert_allclose(gpugrad.mv(t64(m), t64(v)).numpy(), m @ v)
    np.testing.assert_allclose(gpugrad.addmm(t64(np.ones(2)), t64(m), t64(w), beta=0.5,
                                             alpha=2).numpy(), 0.5 + 2 * (m @ w))
    np.testing.assert_allclose(gpugrad.addmv(t64(np.ones(3)), t64(m), t64(v)).numpy(),
                               1 + m @ v)
    np.testing.assert_allclose(gpugrad.baddbmm(t64(np.ones((3, 1))), t64(b1), t64(b2),
                                               alpha=-1).numpy(), 1 - b1 @ b2)
    nan = t64(np.full(2, np.nan))          # beta=0: input not read
    assert not np.isnan(gpugrad.addmm(nan, t64(m), t64(w), beta=0).numpy()).any()
    assert t64(m).mm(t64(w)).shape == (3, 2) and t64(b1).bmm(t64(b2)).shape == (2, 3, 2)
    assert t64(m).mv(t64(v)).shape == (3,)
    out = t64(np.zeros((3, 2)))
    assert out.addmm_(t64(m), t64(w)) is out
    np.testing.assert_allclose(out.numpy(), m @ w)
    check_grads(lambda i, a, b: gpugrad.addmm(i, a, b, beta=0.3, alpha=1.5), np.ones(2), m, w)
    check_grads(lambda i, a, b: gpugrad.addmv(i, a, b, beta=2), np.ones(3), m, v)
    check_grads(lambda i, a, b: gpugrad.baddbmm(i, a, b), np.ones(2), b1, b2)
    with pytest.raises(ValueError, match="mv"):
        gpugrad.mv(t64(m), t64(np.ones(3)))
    with pytest.raises(ValueError, match="broadcast"):
        gpugrad.addmm(t64(np.ones((2, 3, 1))), t64(m), t64(w))


def test_products_as_torch(torch):
    i, m, w = RNG.standard_normal(2), RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
    ti, tm, tw = (torch.tensor(a, requires_grad=True) for a in (i, m, w))
    torch.addmm(ti, tm, tw, beta=0.3, alpha=1.5).sum().backward()
    gi, gm, gw = (gpugrad.tensor(a, requires_grad=True) for a in (i, m, w))
    gpugrad.addmm(gi, gm, gw, beta=0.3, alpha=1.5).sum().backward()
    for ours, theirs in ((gi, ti), (gm, tm), (gw, tw)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


# cov, corrcoef
def test_cov_corrcoef_against_numpy():
    x = RNG.standard_normal((3, 7))
    fw, aw = np.array([1, 2, 1, 3, 1, 1, 2]), RNG.random(7)
    np.testing.assert_allclose(gpugrad.cov(t64(x)).numpy(), np.cov(x))
    np.testing.assert_allclose(gpugrad.cov(t64(x), correction=0).numpy(), np.cov(x, ddof=0))
    got = gpugrad.cov(t64(x), correction=2, fweights=gpugrad.tensor(fw), aweights=t64(aw))
    np.testing.assert_allclose(got.numpy(), np.cov(x, ddof=2, fweights=fw, aweights=aw))
    assert gpugrad.cov(t64(x[0])).shape == () and gpugrad.cov(t64(x[:1])).shape == ()
    np.testing.assert_allclose(gpugrad.cov(t64(x[0])).item(), np.var(x[0], ddof=1))
    np.testing.assert_allclose(gpugrad.corrcoef(t64(x)).numpy(), np.corrcoef(x))
    assert gpugrad.cov(gpugrad.tensor([[1, 2, 4]])).dtype == np.float32
    assert t64(x).cov().shape == (3, 3) and t64(x).corrcoef().shape == (3, 3)
    with pytest.warns(UserWarning, match="degrees of freedom"), np.errstate(divide="ignore"):
        assert gpugrad.cov(t64([[1.0, 2.0]]), correction=3).item() == np.inf
    check_grads(lambda a: gpugrad.cov(a), x)
    check_grads(lambda a, w: gpugrad.cov(a, aweights=w), x, aw + 0.5)
    check_grads(gpugrad.corrcoef, x)


def test_cov_as_torch(torch):
    x, fw, aw = RNG.standard_normal((3, 6)), np.array([1, 3, 1, 2, 1, 1]), RNG.random(6)
    kw = dict(correction=1, fweights=torch.tensor(fw), aweights=torch.tensor(aw))
    want = torch.cov(torch.tensor(x), **kw).numpy()
    got = gpugrad.cov(t64(x), correction=1, fweights=gpugrad.tensor(fw), aweights=t64(aw))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(gpugrad.corrcoef(t64(x)).numpy(),
                               torch.corrcoef(torch.tensor(x)).numpy(), rtol=1e-12)


# diff, unfold
def test_diff_against_numpy():
    x = RNG.standard_normal((4, 6))
    np.testing.assert_allclose(gpugrad.diff(t64(x)).numpy(), np.diff(x))
    np.testing.assert_allclose(gpugrad.diff(t64(x), n=2, dim=0).numpy(), np.diff(x, 2, 0))
    pre, app = x[:, :2], x[:, :1]
    np.testing.assert_allclose(
        gpugrad.diff(t64(x), prepend=t64(pre), append=t64(app)).numpy(),
        np.diff(x, prepend=pre, append=app))
    assert gpugrad.diff(gpugrad.tensor([1, 2]), n=3).shape == (0,)
    assert gpugrad.diff(gpugrad.tensor([True, False, False])).tolist() == [True, False]
    assert t64(x).diff().shape == (4, 5)
    check_grads(lambda a: gpugrad.diff(a, n=2), x)
    with pytest.raises(ValueError, match="one-dimensional"):
        gpugrad.diff(gpugrad.tensor(1.0))


def test_unfold_windows_and_overlap_gradient():
    x = RNG.standard_normal((3, 8))
    want = np.lib.stride_tricks.sliding_window_view(x, 3, axis=1)[:, ::2]
    np.testing.assert_allclose(t64(x).unfold(1, 3, 2).numpy(), want)
    np.testing.assert_allclose(t64(x).unfold(0, 2, 1).numpy(),
                               np.lib.stride_tricks.sliding_window_view(x, 2, axis=0))
    assert gpugrad.tensor(3.0).unfold(0, 1, 1).tolist() == [3.0]
    leaf = gpugrad.tensor(np.zeros(5), requires_grad=True)
    leaf.unfold(0, 3, 1).sum().backward()          # windows [0:3], [1:4], [2:5]
    assert leaf.grad.tolist() == [1.0, 2.0, 3.0, 2.0, 1.0]
    check_grads(lambda a: a.unfold(1, 3, 2) ** 2, x)
    with pytest.raises(ValueError, match="maximum size"):
        t64(x).unfold(1, 9, 1)


def test_diff_unfold_as_torch(torch):
    x = RNG.standard_normal((4, 7))
    for dim, size, step in ((1, 3, 2), (0, 2, 1), (1, 7, 1), (1, 0, 3)):
        np.testing.assert_array_equal(t64(x).unfold(dim, size, step).numpy(),
                                      torch.tensor(x).unfold(dim, size, step).numpy())
    np.testing.assert_array_equal(gpugrad.diff(t64(x), n=3, dim=1).numpy(),
                                  torch.diff(torch.tensor(x), n=3, dim=1).numpy())


# searching
def test_searching_against_numpy():
    seq = np.sort(RNG.standard_normal(6))
    q = RNG.standard_normal((2, 4))
    assert gpugrad.searchsorted(t64(seq), t64(q)).tolist() == np.searchsorted(seq, q).tolist()
    for kw in (dict(right=True), dict(side="right")):
        assert gpugrad.searchsorted(t64(seq), t64(q), **kw).tolist() == \
            np.searchsorted(seq, q, side="right").tolist()
    rows = np.sort(RNG.standard_normal((2, 5)), axis=1)
    got = gpugrad.searchsorted(t64(rows), t64(q)).tolist()
    assert got == [np.searchsorted(r, v).tolist() for r, v in zip(rows, q)]
    perm = RNG.permutation(6)
    got = gpugrad.searchsorted(t64(seq[perm]), t64(q), sorter=gpugrad.tensor(np.argsort(
        seq[perm])))
    assert got.tolist() == np.searchsorted(seq, q).tolist()
    assert gpugrad.searchsorted(t64(seq), 0.0).shape == ()
    assert gpugrad.searchsorted(t64(seq), t64(q), out_int32=True).dtype == np.int32
    with pytest.raises(ValueError, match="opposites"):
        gpugrad.searchsorted(t64(seq), t64(q), right=True, side="left")
    assert gpugrad.bucketize(gpugrad.tensor([1, 5, 9]), gpugrad.tensor([1, 3, 5, 7, 9]),
                             right=True).tolist() == [1, 3, 5]
    assert gpugrad.isin(gpugrad.arange(6), gpugrad.tensor([1, 4, 9])).tolist() == \
        np.isin(np.arange(6), [1, 4, 9]).tolist()
    assert gpugrad.isin(gpugrad.arange(3), 1, invert=True).tolist() == [True, False, True]
    flat = np.array([0, 4, 5, 23])
    got = gpugrad.unravel_index(gpugrad.tensor(flat), (2, 3, 4))
    assert [c.tolist() for c in got] == [c.tolist() for c in np.unravel_index(flat, (2, 3, 4))]
    assert gpugrad.tril_indices(4, 3, -1).tolist() == [list(a) for a in np.tril_indices(4, -1, 3)]
    assert gpugrad.triu_indices(3, 5, 2).tolist() == [list(a) for a in np.triu_indices(3, 2, 5)]


def test_histc_against_numpy():
    x = RNG.standard_normal(500)
    want, _ = np.histogram(x, bins=7, range=(-1.0, 1.0))
    assert gpugrad.histc(t64(x), bins=7, min=-1, max=1).tolist() == want.tolist()
    want, _ = np.histogram(x, bins=10)               # min = max = 0: the data's range
    assert gpugrad.histc(t64(x), bins=10).tolist() == want.tolist()
    assert gpugrad.histc(gpugrad.tensor([1.0, 1.0]), bins=4).tolist() == [0.0, 0.0, 2.0, 0.0]
    assert t64(x).histc(5).dtype == np.float64
    with pytest.raises(TypeError, match="floating"):
        gpugrad.histc(gpugrad.tensor([1, 2]))


def test_searching_as_torch(torch):
    rows = np.sort(RNG.standard_normal((3, 6)), axis=1)
    q = np.concatenate([RNG.standard_normal((3, 4)), rows[:, :2]], axis=1)   # with ties
    for right in (False, True):
        assert gpugrad.searchsorted(t64(rows), t64(q), right=right).tolist() == \
            torch.searchsorted(torch.tensor(rows), torch.tensor(q), right=right).tolist()
        assert gpugrad.bucketize(t64(q), t64(rows[0]), right=right).tolist() == \
            torch.bucketize(torch.tensor(q), torch.tensor(rows[0]), right=right).tolist()
    flat = np.array([0, 7, -7, 13])
    for ours, theirs in zip(gpugrad.unravel_index(gpugrad.tensor(flat), (2, 3)),
                            torch.unravel_index(torch.tensor(flat), (2, 3))):
        assert ours.tolist() == theirs.tolist()
    x = RNG.standard_normal(1000).astype(np.float32)
    for kw in (dict(bins=13), dict(bins=7, min=-1, max=1)):
        assert gpugrad.histc(gpugrad.tensor(x), **kw).tolist() == \
            torch.histc(torch.tensor(x), **kw).tolist()
    assert gpugrad.tril_indices(5, 4, 1).tolist() == torch.tril_indices(5, 4, 1).tolist()
    assert gpugrad.triu_indices(4, 4, -1).tolist() == torch.triu_indices(4, 4, -1).tolist()
