"""scatter_ops.py against NumPy float64 / hand values (and torch where installed), with
gradcheck/gradgradcheck in float64 for the differentiable ones."""

import numpy as np
import pytest

import gpugrad
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
    with pytest.raises(NotImplementedError, match="reduce"):
        S.scatter(x, 0, gpugrad.tensor(INDEX), gpugrad.tensor(SRC), reduce="add")
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
    np.testing.assert_array_equal(S.nonzero(t).numpy(), np.argwhere(a))
    assert S.nonzero(t).dtype == np.int64
    for got, want in zip(t.nonzero(as_tuple=True), np.nonzero(a)):
        np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(S.argwhere(t).numpy(), np.argwhere(a))
    assert S.nonzero(gpugrad.tensor(3.0)).shape == (1, 0)
    assert S.nonzero(gpugrad.tensor(0.0)).shape == (0, 0)
    assert [p.tolist() for p in S.nonzero(gpugrad.tensor(3.0), as_tuple=True)] == [[0]]
    assert S.count_nonzero(t).item() == 3
    assert S.count_nonzero(t, dim=0).tolist() == [1, 1, 1]
    assert t.count_nonzero((0, -1)).dtype == np.int64


def test_nonzero_refused_inside_vmap():
    from gpugrad.func import vmap
    with pytest.raises(RuntimeError, match="vmap"):
        vmap(S.nonzero)(gpugrad.ones(2, 3))


def test_bincount():
    values = gpugrad.tensor([0, 1, 1, 3])
    assert S.bincount(values).tolist() == [1, 2, 0, 1]
    assert S.bincount(values).dtype == np.int64
    assert S.bincount(values, minlength=6).tolist() == [1, 2, 0, 1, 0, 0]
    weighted = S.bincount(values, gpugrad.tensor([0.5, 1.0, 2.0, 4.0]))
    assert weighted.dtype == np.float32 and weighted.tolist() == [0.5, 3.0, 0.0, 4.0]
    assert S.bincount(values, gpugrad.tensor([1, 2, 3, 4])).dtype == np.float64
    assert S.bincount(gpugrad.tensor(np.zeros(0, np.int64))).tolist() == []
    with pytest.raises(ValueError, match="1-d integer"):
        S.bincount(gpugrad.tensor([0.0, 1.0]))
    with pytest.raises(IndexError):
        S.bincount(gpugrad.tensor([0, -1]))


def test_unique():
    a = np.array([[3, 1, 2], [1, 3, 3]])
    t = gpugrad.tensor(a)
    assert S.unique(t).tolist() == [1, 2, 3]
    values, inverse, counts = t.unique(return_inverse=True, return_counts=True)
    assert inverse.shape == (2, 3) and inverse.dtype == np.int64
    np.testing.assert_array_equal(values.numpy()[inverse.numpy()], a)
    assert counts.tolist() == [2, 1, 3]
    values, counts = S.unique(gpugrad.tensor([2.5, 2.5]), return_counts=True)
    assert values.tolist() == [2.5] and counts.tolist() == [2]
    with pytest.raises(NotImplementedError):
        S.unique(t, dim=0)


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
    assert S.bincount(gpugrad.tensor([0, 1, 1, 3]), gpugrad.tensor(w.numpy())).tolist() == \
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
