"""torch functions gpugrad lacked (ops/combinatorics.py, float_parts.py, scatter_views.py,
frequencies.py, finite_differences.py): hand-derived values and float64 NumPy references,
gradients against finite differences (gradcheck), and torch's results where torch is
installed."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import gradcheck


def f64(a):
    return gpugrad.tensor(np.asarray(a, dtype=np.float64))


def leaf(a):
    return gpugrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


RNG = np.random.RandomState(0)
X34 = RNG.randn(3, 4)


# --- hand values (no torch) -------------------------------------------------------------

def test_pointwise_hand_values():
    assert gpugrad.float_power(gpugrad.tensor([2, 3]), 2).tolist() == [4.0, 9.0]
    assert gpugrad.float_power(gpugrad.tensor([2]), 2).dtype == np.float64
    assert gpugrad.float_power(2, gpugrad.tensor([3.0])).tolist() == [8.0]
    assert gpugrad.gcd(gpugrad.tensor([-4, 0, 3]), gpugrad.tensor([6, 0, -5])).tolist() == \
        [2, 0, 1]
    assert gpugrad.lcm(gpugrad.tensor([-4, 0, 3]), gpugrad.tensor([6, 0, -5])).tolist() == \
        [12, 0, 15]
    with pytest.raises(NotImplementedError):
        gpugrad.gcd(gpugrad.tensor([1.0]), gpugrad.tensor([2.0]))
    h = gpugrad.heaviside(gpugrad.tensor([np.nan, 0.0, -1.0, 2.0]), gpugrad.tensor([0.5]))
    assert h.tolist() == [0.0, 0.5, 0.0, 1.0]
    with pytest.raises(RuntimeError, match="different dtypes"):
        gpugrad.heaviside(gpugrad.tensor([1.0]), gpugrad.tensor([1]))
    assert gpugrad.signbit(gpugrad.tensor([-0.0, 0.0, -1.0])).tolist() == [True, False, True]
    m, e = gpugrad.frexp(f64([0.0, 3.0, -8.0, np.inf, 0.1]))
    assert m.tolist() == [0.0, 0.75, -0.5, np.inf, 0.8] and e.tolist() == [0, 2, 4, 0, -3]
    assert e.dtype == np.int32
    ld = gpugrad.ldexp(gpugrad.tensor([1, 2]), gpugrad.tensor([3, 4]))
    assert ld.tolist() == [8.0, 32.0] and ld.dtype == np.float32
    nxt = gpugrad.nextafter(f64([1.0]), f64([2.0]))
    assert nxt.item() == np.nextafter(1.0, 2.0) and nxt.item() > 1.0
    x = gpugrad.tensor([1.0])
    assert gpugrad.positive(x) is x
    with pytest.raises(RuntimeError, match="bool"):
        gpugrad.positive(gpugrad.tensor([True]))
    assert gpugrad.isreal(gpugrad.tensor([1 + 0j, 1j])).tolist() == [True, False]
    assert gpugrad.isreal(gpugrad.tensor([1.0])).tolist() == [True]


def test_renorm_hand_values_and_gradient():
    x = f64([[3.0, 4.0], [0.3, 0.4]])
    out = gpugrad.renorm(x, 2, 0, 1.0).numpy()
    np.testing.assert_allclose(out, [[3 / (5 + 1e-7), 4 / (5 + 1e-7)], [0.3, 0.4]])
    assert gradcheck(lambda t: gpugrad.renorm(t, 2, 1, 1.0), (leaf(X34),))
    assert gradcheck(lambda t: t.renorm(1, 0, 0.5), (leaf(X34),))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        gpugrad.renorm(f64([1.0]), 2, 0, 1.0)


def test_differentiable_pointwise_gradients():
    a, b = leaf(RNG.rand(5) + 0.5), leaf(RNG.randn(5))
    assert gradcheck(lambda a, b: gpugrad.float_power(a, b), (a, b))
    assert gradcheck(lambda a, b: gpugrad.ldexp(a, b), (a, b))
    assert gradcheck(lambda a: gpugrad.frexp(a * 3).mantissa, (b,))


def test_building_hand_values():
    bd = gpugrad.block_diag(gpugrad.tensor(2), gpugrad.tensor([1.0, 2.0]),
                            gpugrad.ones(2, 1, dtype="int32"))
    assert bd.tolist() == [[2, 0, 0, 0], [0, 1, 2, 0], [0, 0, 0, 1], [0, 0, 0, 1]]
    assert bd.dtype == np.float32 and gpugrad.block_diag().shape == (1, 0)
    assert gpugrad.cartesian_prod(gpugrad.tensor([1, 2]), gpugrad.tensor([3, 4])).tolist() == \
        [[1, 3], [1, 4], [2, 3], [2, 4]]
    c = gpugrad.combinations(gpugrad.tensor([1, 2, 3]), 2, with_replacement=True)
    assert c.tolist() == [[1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 3]]
    assert gpugrad.combinations(gpugrad.arange(3.0), 0).shape == (0,)
    assert gpugrad.combinations(gpugrad.arange(3.0), 4).shape == (0, 4)
    assert gpugrad.diagflat(gpugrad.tensor([[1, 2]]), -1).tolist() == \
        [[0, 0, 0], [1, 0, 0], [0, 2, 0]]
    v = gpugrad.vander(gpugrad.tensor([1, 2, 3], dtype="int32"))
    assert v.tolist() == [[1, 1, 1], [4, 2, 1], [9, 3, 1]] and v.dtype == np.int64
    assert gpugrad.vander(f64([2.0, 3.0]), 3, increasing=True).tolist() == \
        [[1, 2, 4], [1, 3, 9]]
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        cm = gpugrad.chain_matmul(gpugrad.ones(2, 3), gpugrad.ones(3, 4), gpugrad.ones(4, 1))
    assert cm.tolist() == [[12.0], [12.0]]


def test_building_matches_numpy_and_gradients():
    a, b = RNG.randn(3), RNG.randn(4)
    M = RNG.randn(3, 4)
    np.testing.assert_allclose(gpugrad.addr(f64(M), f64(a), f64(b), beta=2, alpha=3).numpy(),
                               2 * M + 3 * np.outer(a, b))
    b1, b2 = RNG.randn(5, 3, 2), RNG.randn(5, 2, 4)
    np.testing.assert_allclose(gpugrad.addbmm(f64(M), f64(b1), f64(b2), alpha=0.5).numpy(),
                               M + 0.5 * np.einsum("bij,bjk->ik", b1, b2))
    x = np.array([0.0, 1.5, -2.0])
    np.testing.assert_allclose(gpugrad.vander(f64(x)).numpy(), np.vander(x))
    assert gradcheck(lambda t: gpugrad.vander(t, 4), (leaf(x),))
    assert gradcheck(lambda t, u: gpugrad.block_diag(t, u), (leaf(M), leaf(a)))
    assert gradcheck(lambda t: gpugrad.combinations(t, 2), (leaf(a),))
    assert gradcheck(lambda t, u, w: gpugrad.addr(t, u, w), (leaf(M), leaf(a), leaf(b)))
    assert gradcheck(lambda t, u: gpugrad.addbmm(t, u, f64(b2)), (leaf(M), leaf(b1)))


def test_scatter_views_hand_values_and_gradients():
    x = gpugrad.zeros(3, 4, dtype="float64")
    s = gpugrad.slice_scatter(x, gpugrad.ones(3, 2, dtype="float64"), 1, 1, None, 2)
    assert s.tolist() == [[0, 1, 0, 1]] * 3
    s = gpugrad.select_scatter(x, f64([1.0, 2.0, 3.0]), 1, -1)
    assert s[:, 3].tolist() == [1, 2, 3] and s[:, :3].abs().sum().item() == 0
    d = gpugrad.diagonal_scatter(x, f64([5.0, 6.0]), 2)
    expected = np.zeros((3, 4))
    expected[0, 2], expected[1, 3] = 5, 6
    np.testing.assert_array_equal(d.numpy(), expected)
    d = gpugrad.diagonal_scatter(x, f64([5.0, 6.0]), -1)
    assert d[1, 0].item() == 5 and d[2, 1].item() == 6
    with pytest.raises(ValueError, match="slice"):
        gpugrad.slice_scatter(x, gpugrad.ones(3, 3, dtype="float64"), 1, 0, 2)
    src = leaf(RNG.randn(3, 2))
    assert gradcheck(lambda t, u: gpugrad.slice_scatter(t, u, 1, 0, 4, 2), (leaf(X34), src))
    assert gradcheck(lambda t, u: gpugrad.select_scatter(t, u, 0, 1), (leaf(X34),
                                                                      leaf(RNG.randn(4))))
    assert gradcheck(lambda t, u: gpugrad.diagonal_scatter(t, u, 1), (leaf(X34),
                                                                     leaf(RNG.randn(3))))


def test_index_reduce_against_numpy_loop():
    src = RNG.randn(3, 5)
    index = [0, 2, 0, 1, 0]
    for reduce, fn in (("prod", np.prod), ("mean", np.mean), ("amax", np.max),
                       ("amin", np.min)):
        for include_self in (True, False):
            out = gpugrad.index_reduce(f64(X34), 1, gpugrad.tensor(index), f64(src), reduce,
                                       include_self=include_self).numpy()
            want = X34.copy()
            for j in range(4):
                cols = [src[:, i] for i in range(5) if index[i] == j]
                if cols:
                    vals = ([X34[:, j]] if include_self else []) + cols
                    want[:, j] = fn(np.stack(vals), axis=0)
            np.testing.assert_allclose(out, want, err_msg=f"{reduce} {include_self}")
    assert gradcheck(lambda t, u: gpugrad.index_reduce(t, 1, gpugrad.tensor(index), u, "prod"),
                     (leaf(X34), leaf(src)))


def test_as_strided_hand_values_gradient_and_refusals():
    x = gpugrad.arange(6.0, dtype="float64")
    assert gpugrad.as_strided(x, (2, 3), (1, 2)).tolist() == [[0, 2, 4], [1, 3, 5]]
    assert gpugrad.as_strided(x, (2,), (2,), 1).tolist() == [1, 3]
    assert x[2:].as_strided((2,), (1,)).tolist() == [2, 3]
    t = leaf(RNG.randn(6))
    y = gpugrad.as_strided(t, (2, 3), (1, 1))        # overlapping: element 1 read twice
    y.sum().backward()
    assert t.grad.tolist() == [1, 2, 2, 1, 0, 0]
    with pytest.raises(RuntimeError, match="need 8 elements"):
        gpugrad.as_strided(x, (2, 3), (3, 2))
    with pytest.raises(RuntimeError, match="contiguous"):
        gpugrad.as_strided(x.reshape(2, 3).t(), (2,), (1,))
    with pytest.raises(RuntimeError, match="clone"):
        gpugrad.as_strided(x[2:], (2,), (1,), 0)


def test_histogram_and_mode_hand_values():
    h, e = gpugrad.histogram(gpugrad.tensor([1.0, 2.0, 1.0]), 4, range=(0.0, 3.0),
                             weight=gpugrad.tensor([1.0, 2.0, 4.0]))
    assert h.tolist() == [0.0, 5.0, 2.0, 0.0] and e.tolist() == [0.0, 0.75, 1.5, 2.25, 3.0]
    h, e = gpugrad.histogram(gpugrad.tensor([1.0, 2.0, 1.0]), gpugrad.tensor([0.0, 1.0, 2.5]),
                             density=True)
    np.testing.assert_allclose(h.numpy(), [0.0, 1 / 1.5])
    with pytest.raises(NotImplementedError):
        gpugrad.histogram(gpugrad.tensor([1, 2]), 3)
    values, indices = gpugrad.mode(gpugrad.tensor([3, 1, 3, 1, 2, 2, 5]))
    assert values.item() == 1 and indices.item() == 3       # smallest tie, last occurrence
    r = gpugrad.mode(gpugrad.tensor([[2.0, 1.0, 2.0, 1.0], [0.0, 0.0, 5.0, 5.0]]), 1, True)
    assert r.values.tolist() == [[1.0], [0.0]] and r.indices.tolist() == [[3], [1]]
    x = leaf([1.0, 2.0, 2.0, 3.0])
    gpugrad.mode(x).values.backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0]


def test_gradient_against_numpy_and_gradcheck():
    f = RNG.randn(5, 6)
    for edge_order in (1, 2):
        got = gpugrad.gradient(f64(f), spacing=[0.5, 2.0], edge_order=edge_order)
        want = np.gradient(f, 0.5, 2.0, edge_order=edge_order)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w)
        xs = np.cumsum(RNG.rand(6) + 0.1)
        (got,) = gpugrad.gradient(f64(f), spacing=[f64(xs)], dim=1, edge_order=edge_order)
        np.testing.assert_allclose(got.numpy(), np.gradient(f, xs, axis=1,
                                                            edge_order=edge_order))
    assert gpugrad.gradient(gpugrad.tensor([1, 4, 9, 16]))[0].tolist() == [3, 4, 6, 7]
    assert gradcheck(lambda t: gpugrad.gradient(t, edge_order=2), (leaf(f),))
    with pytest.raises(RuntimeError, match="edge_order"):
        gpugrad.gradient(f64(f), edge_order=3)


def test_range_includes_its_end_and_warns():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        r = gpugrad.range(1, 4)
    assert r.tolist() == [1.0, 2.0, 3.0, 4.0] and r.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(gpugrad.range(0, 1, 0.3).numpy(), [0, 0.3, 0.6, 0.9],
                                   rtol=1e-6)
        assert gpugrad.range(4, 1, -1, dtype="int64").tolist() == [4, 3, 2, 1]


def test_tensor_methods():
    x = f64(X34)
    np.testing.assert_allclose(x.renorm(2, 0, 1.0).numpy(), gpugrad.renorm(x, 2, 0, 1.0).numpy())
    y = f64(X34)
    y.renorm_(2, 0, 1.0)
    np.testing.assert_allclose(y.numpy(), gpugrad.renorm(x, 2, 0, 1.0).numpy())
    assert x.float_power(2).dtype == np.float64
    with pytest.raises(RuntimeError, match="float_power_"):
        gpugrad.ones(2).float_power_(2)
    i = gpugrad.tensor([12, 8])
    assert i.gcd(gpugrad.tensor([18, 6])).tolist() == [6, 2]
    i.lcm_(gpugrad.tensor([18, 6]))
    assert i.tolist() == [36, 24]
    assert x.slice_scatter(gpugrad.zeros(1, 4, dtype="float64"), 0, 0, 1)[0].sum().item() == 0
    assert x.mode(0).values.shape == (4,) and x.heaviside(x).shape == (3, 4)
    z = gpugrad.ones(3, dtype="float64")
    z.index_reduce_(0, gpugrad.tensor([0, 0]), f64([2.0, 3.0]), "prod")
    assert z.tolist() == [6.0, 1.0, 1.0]


# --- against torch ----------------------------------------------------------------------

def test_against_torch_pointwise_and_building():
    torch = pytest.importorskip("torch")
    T = torch.tensor
    a, b = RNG.rand(4) + 0.5, RNG.randn(4)
    np.testing.assert_allclose(gpugrad.float_power(f64(a), f64(b)).numpy(),
                               torch.float_power(T(a), T(b)).numpy())
    np.testing.assert_allclose(gpugrad.renorm(f64(X34), 3, 1, 0.7).numpy(),
                               torch.renorm(T(X34), 3, 1, 0.7).numpy())
    xt = T(X34, requires_grad=True)
    (torch.renorm(xt, 2, 0, 1.0) ** 3).sum().backward()
    xg = leaf(X34)
    (gpugrad.renorm(xg, 2, 0, 1.0) ** 3).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), atol=1e-10)
    ints = RNG.randint(-20, 20, size=(2, 6))
    for name in ("gcd", "lcm"):
        np.testing.assert_array_equal(getattr(gpugrad, name)(gpugrad.tensor(ints[0]),
                                                             gpugrad.tensor(ints[1])).numpy(),
                                      getattr(torch, name)(T(ints[0]), T(ints[1])).numpy())
    m, e = gpugrad.frexp(f64(b * 100))
    tm, te = torch.frexp(T(b * 100))
    np.testing.assert_array_equal(m.numpy(), tm.numpy())
    np.testing.assert_array_equal(e.numpy(), te.numpy())
    blocks = [RNG.randn(2, 3), RNG.randn(1), RNG.randn(3, 1)]
    np.testing.assert_array_equal(gpugrad.block_diag(*map(f64, blocks)).numpy(),
                                  torch.block_diag(*map(T, blocks)).numpy())
    np.testing.assert_array_equal(gpugrad.combinations(f64(a), 3).numpy(),
                                  torch.combinations(T(a), 3).numpy())
    np.testing.assert_array_equal(gpugrad.vander(f64(a), 5).numpy(), torch.vander(T(a), 5).numpy())
    M = RNG.randn(4, 4)
    np.testing.assert_allclose(gpugrad.addr(f64(M), f64(a), f64(b), beta=0.5, alpha=2).numpy(),
                               torch.addr(T(M), T(a), T(b), beta=0.5, alpha=2).numpy())


def test_against_torch_scatter_views_histogram_mode_gradient():
    torch = pytest.importorskip("torch")
    T = torch.tensor
    tx = T(X34)
    for offset in (-2, 0, 1, 3):
        n = torch.diagonal(tx, offset).shape[0]
        src = RNG.randn(n)
        np.testing.assert_array_equal(
            gpugrad.diagonal_scatter(f64(X34), f64(src), offset).numpy(),
            torch.diagonal_scatter(tx, T(src), offset).numpy())
    x3 = RNG.randn(2, 3, 4)
    n = torch.diagonal(T(x3), 1, 2, 0).shape
    src = RNG.randn(*n)
    np.testing.assert_array_equal(gpugrad.diagonal_scatter(f64(x3), f64(src), 1, 2, 0).numpy(),
                                  torch.diagonal_scatter(T(x3), T(src), 1, 2, 0).numpy())
    np.testing.assert_array_equal(gpugrad.as_strided(f64(X34), (3, 3), (2, 3), 1).numpy(),
                                  torch.as_strided(tx, (3, 3), (2, 3), 1).numpy())
    data = RNG.randn(50)
    for bins in (7, f64(np.sort(RNG.randn(5)))):
        tb = bins if isinstance(bins, int) else T(bins.numpy())
        h, e = gpugrad.histogram(f64(data), bins)
        th, te = torch.histogram(T(data), tb)
        np.testing.assert_allclose(h.numpy(), th.numpy())
        np.testing.assert_allclose(e.numpy(), te.numpy())
    ints = RNG.randint(0, 4, size=(4, 6, 9)).astype(np.float64)
    for dim in (0, 1, -1):
        v, i = gpugrad.mode(f64(ints), dim)
        tv, ti = torch.mode(T(ints), dim)
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
    xs = [T(np.cumsum(RNG.rand(k) + 0.1)) for k in (3, 4)]
    got = gpugrad.gradient(f64(X34), spacing=[f64(c.numpy()) for c in xs], edge_order=2)
    want = torch.gradient(tx, spacing=xs, edge_order=2)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy())
