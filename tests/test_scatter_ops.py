"""scatter_ops.py and counting.py against NumPy float64 / hand values (and torch where
installed), with gradcheck/gradgradcheck in float64 for the differentiable ones.
(scatter_reduce and scatter's reduce=: test_scatter_reduce.py.)"""

import numpy as np
import pytest

import gpugrad
from gpugrad.ops import counting as C
from gpugrad.ops import scatter_ops as S
from gradient_checks import check_grads, leaf64 as leaf

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
SRC = RNG.standard_normal((4, 5))
INDEX = np.array([[0, 1, 2, 0], [2, 0, 1, 1]])          # distinct places per column


def np_scatter(x, dim, index, src, add=False):
    out = x.copy()
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[dim] = index[pos]
        value = src[pos] if np.ndim(src) else src
        out[tuple(target)] = out[tuple(target)] + value if add else value
    return out


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_src_and_value(dim):
    index = INDEX if dim == 0 else np.array([[3, 0], [1, 2], [0, 3]])
    out = S.scatter(gpugrad.tensor(X), dim, gpugrad.tensor(index), gpugrad.tensor(SRC))
    np.testing.assert_array_equal(out.numpy(), np_scatter(X, dim % 2, index, SRC))
    out = gpugrad.tensor(X).scatter(dim, gpugrad.tensor(index), value=2.5)
    np.testing.assert_array_equal(out.numpy(), np_scatter(X, dim % 2, index, 2.5))
    check_grads(lambda x, s: S.scatter(x, dim, gpugrad.tensor(index), s) * x, X, SRC)


def test_scatter_errors():
    x = gpugrad.tensor(X)
    with pytest.raises(ValueError, match="reduce"):
        S.scatter(x, 0, gpugrad.tensor(INDEX), gpugrad.tensor(SRC), reduce="max")
    with pytest.raises(TypeError, match="dtype"):
        S.scatter(x, 0, gpugrad.tensor(INDEX), gpugrad.tensor(SRC).float())
    with pytest.raises(IndexError, match="indices must be in"):
        S.scatter(x, 0, gpugrad.tensor(INDEX + 2), 1.0)
    with pytest.raises(TypeError, match="integer"):
        S.scatter(x, 0, gpugrad.tensor(INDEX * 1.0), 1.0)
    with pytest.raises(ValueError, match="larger than src"):
        S.scatter(x, 0, gpugrad.tensor(INDEX), gpugrad.tensor(SRC[:1]))


def test_scatter_add_adds_repeats():
    index = np.array([[0, 0, 2, 0], [0, 1, 2, 2], [1, 1, 1, 1]])
    out = S.scatter_add(gpugrad.tensor(X), 0, gpugrad.tensor(index), gpugrad.tensor(SRC))
    np.testing.assert_allclose(out.numpy(), np_scatter(X, 0, index, SRC, add=True))
    check_grads(lambda x, s: S.scatter_add(x, 0, gpugrad.tensor(index), s) ** 2, X, SRC)


def test_index_add_and_copy():
    index = np.array([3, 0, 3])
    source = RNG.standard_normal((3, 3))
    out = S.index_add(gpugrad.tensor(X), 1, gpugrad.tensor(index), gpugrad.tensor(source),
                      alpha=-2.0)
    expected = X.copy()
    np.add.at(expected, (slice(None), index), -2.0 * source)
    np.testing.assert_allclose(out.numpy(), expected)
    check_grads(lambda x, s: S.index_add(x, 1, gpugrad.tensor(index), s, alpha=3) ** 2,
                X, source)
    rows = RNG.standard_normal((2, 4))
    out = gpugrad.tensor(X).index_copy(0, gpugrad.tensor([2, 0]), gpugrad.tensor(rows))
    expected = X.copy()
    expected[[2, 0]] = rows
    np.testing.assert_array_equal(out.numpy(), expected)
    check_grads(lambda x, s: S.index_copy(x, 0, gpugrad.tensor([2, 0]), s) * x, X, rows)
    with pytest.raises(ValueError, match="source of shape"):
        S.index_add(gpugrad.tensor(X), 1, gpugrad.tensor(index), gpugrad.tensor(rows))


def test_take_and_take_along_dim():
    index = np.array([[0, 11], [-1, 5]])
    out = S.take(gpugrad.tensor(X), gpugrad.tensor(index))
    np.testing.assert_array_equal(out.numpy(), np.take(X, index))
    check_grads(lambda x: S.take(x, gpugrad.tensor(index)), X)
    with pytest.raises(IndexError):
        S.take(gpugrad.tensor(X), gpugrad.tensor([12]))
    order = np.argsort(X, axis=1)
    out = S.take_along_dim(gpugrad.tensor(X), gpugrad.tensor(order), dim=1)
    np.testing.assert_array_equal(out.numpy(), np.take_along_axis(X, order, 1))
    one_row = order[:1]                                     # broadcasts over the rows
    out = gpugrad.tensor(X).take_along_dim(gpugrad.tensor(one_row), 1)
    np.testing.assert_array_equal(out.numpy(), np.take_along_axis(X, np.repeat(one_row, 3, 0),
                                                                  1))
    out = S.take_along_dim(gpugrad.tensor(X), gpugrad.tensor([[1, 5]]))
    np.testing.assert_array_equal(out.numpy(), X.ravel()[[1, 5]])
    check_grads(lambda x: S.take_along_dim(x, gpugrad.tensor(order), -1), X)


def test_nonzero_argwhere_count():
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    t = gpugrad.tensor(a)
    np.testing.assert_array_equal(C.nonzero(t).numpy(), np.argwhere(a))
    assert C.nonzero(t).dtype == np.int64
    for got, want in zip(t.nonzero(as_tuple=True), np.nonzero(a)):
        np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(C.argwhere(t).numpy(), np.argwhere(a))
    assert C.nonzero(gpugrad.tensor(3.0)).shape == (1, 0)
    assert C.nonzero(gpugrad.tensor(0.0)).shape == (0, 0)
    assert [p.tolist() for p in C.nonzero(gpugrad.tensor(3.0), as_tuple=True)] == [[0]]
    assert C.count_nonzero(t).item() == 3
    assert C.count_nonzero(t, dim=0).tolist() == [1, 1, 1]
    assert t.count_nonzero((0, -1)).dtype == np.int64


def test_nonzero_refused_inside_vmap():
    from gpugrad.func import vmap
    with pytest.raises(RuntimeError, match="vmap"):
        vmap(gpugrad.ops.counting.nonzero)(gpugrad.ones(2, 3))


def test_bincount():
    values = gpugrad.tensor([0, 1, 1, 3])
    assert C.bincount(values).tolist() == [1, 2, 0, 1]
    assert C.bincount(values).dtype == np.int64
    assert C.bincount(values, minlength=6).tolist() == [1, 2, 0, 1, 0, 0]
    weighted = C.bincount(values, gpugrad.tensor([0.5, 1.0, 2.0, 4.0]))
    assert weighted.dtype == np.float32 and weighted.tolist() == [0.5, 3.0, 0.0, 4.0]
    assert C.bincount(values, gpugrad.tensor([1, 2, 3, 4])).dtype == np.float64
    assert C.bincount(gpugrad.tensor(np.zeros(0, np.int64))).tolist() == []
    with pytest.raises(ValueError, match="1-d integer"):
        C.bincount(gpugrad.tensor([0.0, 1.0]))
    with pytest.raises(IndexError):
        C.bincount(gpugrad.tensor([0, -1]))


def test_unique():
    a = np.array([[3, 1, 2], [1, 3, 3]])
    t = gpugrad.tensor(a)
    assert C.unique(t).tolist() == [1, 2, 3]
    values, inverse, counts = t.unique(return_inverse=True, return_counts=True)
    assert inverse.shape == (2, 3) and inverse.dtype == np.int64
    np.testing.assert_array_equal(values.numpy()[inverse.numpy()], a)
    assert counts.tolist() == [2, 1, 3] and counts.dtype == np.int64
    values, counts = C.unique(gpugrad.tensor([2.5, 2.5]), return_counts=True)
    assert values.tolist() == [2.5] and counts.tolist() == [2]
    values, counts = C.unique(gpugrad.tensor([np.nan, 1.0, np.nan]), return_counts=True)
    assert values.numpy()[0] == 1.0 and counts.tolist() == [1, 1, 1]   # NaNs distinct


def _np_unique_slices(a, axis):
    values, inverse, counts = np.unique(a, axis=axis, return_inverse=True, return_counts=True)
    return values, inverse.reshape(-1), counts


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_unique_dim_matches_numpy(axis):
    a = RNG.integers(0, 2, size=(4, 3, 2)).astype(np.float64)
    a = np.concatenate([a, np.take(a, [1, 0], axis=axis)], axis=axis)     # some repeats
    values, inverse, counts = C.unique(gpugrad.tensor(a), dim=axis, return_inverse=True,
                                       return_counts=True)
    expected = _np_unique_slices(a, axis)
    for got, want in zip((values, inverse, counts), expected):
        np.testing.assert_array_equal(got.numpy(), want)
    assert inverse.shape == (a.shape[axis],) and values.dtype == np.float64
    np.testing.assert_array_equal(np.take(values.numpy(), inverse.numpy(), axis=axis), a)
    assert gpugrad.tensor(a).unique(dim=axis).shape == expected[0].shape


def test_unique_dim_edge_cases():
    rows = C.unique(gpugrad.zeros(0, 3), dim=0, return_inverse=True, return_counts=True)
    assert [tuple(r.shape) for r in rows] == [(0, 3), (0,), (0,)]
    with pytest.raises(ValueError, match="zero-sized"):
        C.unique(gpugrad.zeros(2, 0), dim=0)
    with pytest.raises(IndexError, match="0-d"):
        C.unique(gpugrad.tensor(5), dim=0)
    with pytest.raises(IndexError):
        C.unique(gpugrad.zeros(2, 3), dim=2)
    assert C.unique(gpugrad.tensor([[True, False], [True, False]]), dim=0).tolist() == \
        [[True, False]]


def _np_unique_consecutive(a, axis=None):
    """Runs of equal consecutive elements (slices along ``axis``) by a loop."""
    slices = list(a.reshape(-1)) if axis is None else list(np.moveaxis(a, axis, 0))
    values, inverse, counts = [], [], []
    for s in slices:
        if not values or not np.array_equal(values[-1], s):
            values.append(s)
            counts.append(0)
        counts[-1] += 1
        inverse.append(len(values) - 1)
    values = np.array(values) if axis is None else np.moveaxis(np.array(values), 0, axis)
    inverse = np.array(inverse).reshape(a.shape if axis is None else -1)
    return values, inverse, np.array(counts)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_unique_consecutive_matches_a_loop(axis):
    a = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 1, 1, 2], [1, 1, 2, 2]])
    got = C.unique_consecutive(gpugrad.tensor(a), return_inverse=True, return_counts=True,
                               dim=axis)
    for g, want in zip(got, _np_unique_consecutive(a, axis)):
        np.testing.assert_array_equal(g.numpy(), want)
        assert g.dtype == want.dtype or g.dtype == np.int64
    assert gpugrad.tensor([1, 1, 2, 1]).unique_consecutive().tolist() == [1, 2, 1]
    assert C.unique_consecutive(gpugrad.tensor(5), return_inverse=True)[1].shape == ()


def test_unique_refused_inside_vmap():
    from gpugrad.func import vmap
    with pytest.raises(RuntimeError, match="vmap"):
        vmap(lambda t: C.unique(t, dim=0))(gpugrad.ones(2, 3, 2))


def test_unique_against_torch():
    torch = pytest.importorskip("torch")
    a = RNG.integers(0, 3, size=(6, 2, 3))
    for dim in (None, 0, 1, 2):
        want = torch.unique(torch.tensor(a), dim=dim, return_inverse=True, return_counts=True)
        got = C.unique(gpugrad.tensor(a), dim=dim, return_inverse=True, return_counts=True)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
        want = torch.unique_consecutive(torch.tensor(a), return_inverse=True,
                                        return_counts=True, dim=dim)
        got = C.unique_consecutive(gpugrad.tensor(a), return_inverse=True, return_counts=True,
                                   dim=dim)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_against_torch():
    torch = pytest.importorskip("torch")
    index = np.array([[0, 0, 2, 0], [0, 1, 2, 2]])
    src = SRC[:2, :4].copy()                # (torch's gradient needs src of the index's shape)
    x, s = torch.tensor(X, requires_grad=True), torch.tensor(src, requires_grad=True)
    torch.scatter_add(x, 0, torch.tensor(index), s).pow(2).sum().backward()
    gx, gs = leaf(X), leaf(src)
    (S.scatter_add(gx, 0, gpugrad.tensor(index), gs) ** 2).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), x.grad.numpy())
    np.testing.assert_allclose(gs.grad.numpy(), s.grad.numpy())
    x.grad = s.grad = None
    torch.scatter(x, 0, torch.tensor(INDEX), s).pow(2).sum().backward()
    gx.grad = gs.grad = None
    (S.scatter(gx, 0, gpugrad.tensor(INDEX), gs) ** 2).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), x.grad.numpy())
    np.testing.assert_allclose(gs.grad.numpy(), s.grad.numpy())
    w = torch.tensor([1, 2, 3, 4], dtype=torch.float32)
    assert C.bincount(gpugrad.tensor([0, 1, 1, 3]), gpugrad.tensor(w.numpy())).tolist() == \
        torch.bincount(torch.tensor([0, 1, 1, 3]), w).tolist()


def test_in_place_scatters_and_cumprod_write_into_the_tensor():
    """scatter_, scatter_add_, index_add_, index_copy_ and cumprod_ return the tensor itself,
    holding what the out-of-place function gives (worked out by hand)."""
    x = gpugrad.zeros(3, 4)
    assert x.scatter_(0, gpugrad.tensor([[0, 1, 2, 0]]), gpugrad.ones(1, 4)) is x
    assert x.tolist() == [[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]
    y = gpugrad.zeros(3, 2).scatter_add_(0, gpugrad.tensor([[0, 0], [0, 1]]), gpugrad.ones(2, 2))
    assert y.tolist() == [[2.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    z = gpugrad.zeros(3, 2).index_add_(0, gpugrad.tensor([0, 2]), gpugrad.ones(2, 2))
    assert z.tolist() == [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    w = gpugrad.zeros(3, 2).index_copy_(0, gpugrad.tensor([1]), gpugrad.ones(1, 2))
    assert w.tolist() == [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    assert gpugrad.tensor([1.0, 2.0, 3.0]).cumprod_(0).tolist() == [1.0, 2.0, 6.0]


@pytest.mark.parametrize("op", ["scatter", "scatter_value", "scatter_", "scatter_add",
                                "index_add"])
@pytest.mark.parametrize("index,src", [(0, 5.0), ([0], 5.0), (0, [5.0]), ([0], [5.0])])
def test_zero_dim_input_index_or_src_count_as_one_element(op, index, src):
    """A 0-d input, index or src reads as 1-d of one element, as in PyTorch (the result
    keeps the input's shape); scatter with a 0-d input used to raise IndexError."""
    def run(lib, x):
        i, s = lib.tensor(index), lib.tensor(src)
        if op == "scatter":
            return lib.scatter(x, 0, i, s)
        if op == "scatter_value":
            return lib.scatter(x, 0, i, 5.0)
        if op == "scatter_":
            return x.clone().scatter_(0, i, s)
        return getattr(lib, op)(x, 0, i, s)
    added = op in ("scatter_add", "index_add")
    out = run(gpugrad, gpugrad.tensor(1.0))
    assert out.shape == () and out.item() == (6.0 if added else 5.0)
    assert run(gpugrad, gpugrad.zeros(3)).tolist() == [5.0, 0.0, 0.0]   # into a vector too
    torch = pytest.importorskip("torch")
    for x in (torch.tensor(1.0), torch.zeros(3)):
        if op != "index_add" or np.ndim(src) == x.ndim:   # (torch's index_add wants these)
            assert run(torch, x).tolist() == run(gpugrad, gpugrad.tensor(x.numpy())).tolist()


def test_zero_dim_scatter_gradients_and_errors():
    x, s = leaf(2.0), leaf(5.0)
    (S.scatter(x * 1.0, 0, gpugrad.tensor(0), s) * 3.0).backward()
    assert (x.grad.item(), s.grad.item()) == (0.0, 3.0)          # x overwritten: no gradient
    check_grads(lambda a, b: S.scatter_add(a, 0, gpugrad.tensor([0]), b) ** 2, 2.0, 5.0)
    with pytest.raises(ValueError, match="larger than src"):
        S.scatter(gpugrad.tensor(1.0), 0, gpugrad.tensor([0, 0]), gpugrad.tensor(5.0))
    with pytest.raises(ValueError, match="as many dimensions as src"):
        S.scatter(gpugrad.zeros(2, 2), 0, gpugrad.tensor([[1]]), gpugrad.tensor([5.0]))
    with pytest.raises(IndexError, match="indices must be in"):
        S.scatter(gpugrad.tensor(1.0), 0, gpugrad.tensor(1), 5.0)
