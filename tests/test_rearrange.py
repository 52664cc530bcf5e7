"""rearrange.py's composites against NumPy float64 (and torch where installed), with
gradcheck/gradgradcheck in float64."""

import numpy as np
import pytest

import gpugrad
from gpugrad.ops import rearrange as R
from gradient_checks import check_grads

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3, 4))


def test_unbind_and_narrow():
    parts = R.unbind(gpugrad.tensor(X), 1)
    assert len(parts) == 3
    for i, p in enumerate(parts):
        np.testing.assert_array_equal(p.numpy(), X[:, i])
    np.testing.assert_array_equal(gpugrad.tensor(X).narrow(2, -3, 2).numpy(), X[:, :, 1:3])
    np.testing.assert_array_equal(R.narrow(gpugrad.tensor(X), 0, gpugrad.tensor(1), 1).numpy(),
                                  X[1:2])
    check_grads(lambda x: R.unbind(x, -1)[2] * R.narrow(x, 2, 1, 1)[..., 0], X)
    with pytest.raises(ValueError, match="exceeds"):
        R.narrow(gpugrad.tensor(X), 2, 3, 2)
    with pytest.raises(IndexError, match="out of range"):
        R.narrow(gpugrad.tensor(X), 2, 5, 0)
    with pytest.raises(IndexError):
        R.unbind(gpugrad.tensor(X), 3)


def test_flip_family_is_a_copy_with_numpy_values():
    x = gpugrad.tensor(X)
    np.testing.assert_array_equal(R.flip(x, (0, -1)).numpy(), np.flip(X, (0, 2)))
    np.testing.assert_array_equal(x.flip(1).numpy(), np.flip(X, 1))
    np.testing.assert_array_equal(x.flip(0, 2).numpy(), np.flip(X, (0, 2)))
    np.testing.assert_array_equal(R.fliplr(x).numpy(), np.flip(X, 1))
    np.testing.assert_array_equal(R.flipud(x).numpy(), np.flip(X, 0))
    y = R.flip(x, 0)
    y[0, 0, 0] = 100.0                  # a copy: the input is untouched
    assert x[1, 0, 0].item() == X[1, 0, 0]
    check_grads(lambda t: R.flip(t, (0, 2)) * t, X)
    with pytest.raises(ValueError, match="twice"):
        R.flip(x, (0, 0))
    with pytest.raises(ValueError):
        R.fliplr(gpugrad.tensor([1.0, 2.0]))


@pytest.mark.parametrize("shifts, dims", [(1, 0), (-2, 2), ((1, 5), (0, 2)), (7, None),
                                          ((2, 1), (1, 1))])
def test_roll_matches_numpy(shifts, dims):
    out = R.roll(gpugrad.tensor(X), shifts, dims)
    np.testing.assert_array_equal(out.numpy(), np.roll(X, shifts, dims))
    check_grads(lambda t: R.roll(t, shifts, dims) * t, X)


def test_roll_errors():
    with pytest.raises(ValueError, match="same length"):
        R.roll(gpugrad.tensor(X), (1, 2), 0)
    with pytest.raises(ValueError):
        R.roll(gpugrad.tensor(X), (1, 2))


@pytest.mark.parametrize("diagonal", [-2, -1, 0, 1, 3])
def test_tril_triu_match_numpy(diagonal):
    x = gpugrad.tensor(X)
    np.testing.assert_array_equal(R.tril(x, diagonal).numpy(), np.tril(X, diagonal))
    np.testing.assert_array_equal(x.triu(diagonal=diagonal).numpy(), np.triu(X, diagonal))
    check_grads(lambda t: R.tril(t, diagonal) + R.triu(t * t, diagonal), X)


def test_tril_keeps_integer_dtype_and_in_place_forms():
    m = gpugrad.tensor([[1, 2], [3, 4]])
    assert R.tril(m).dtype == np.int64 and R.tril(m).tolist() == [[1, 0], [3, 4]]
    y = gpugrad.tensor(X) * 1.0
    assert y.triu_(1) is y
    np.testing.assert_array_equal(y.numpy(), np.triu(X, 1))
    with pytest.raises(ValueError, match="at least 2"):
        R.tril(gpugrad.tensor([1.0]))


def test_tile_expand_reshape_as():
    a = RNG.standard_normal((2, 3))
    np.testing.assert_array_equal(R.tile(gpugrad.tensor(a), (2,)).numpy(), np.tile(a, (2,)))
    np.testing.assert_array_equal(gpugrad.tensor(a).tile(2, 1, 2).numpy(),
                                  np.tile(a, (2, 1, 2)))
    check_grads(lambda t: R.tile(t, (3, 1, 2)), a)
    assert R.expand_as(gpugrad.tensor([1, 2, 3]), gpugrad.zeros(4, 3)).shape == (4, 3)
    assert gpugrad.arange(6).reshape_as(gpugrad.zeros(3, 2)).shape == (3, 2)


def test_broadcast_shapes_and_tensors():
    assert R.broadcast_shapes((2, 1), (1, 3), 3) == (2, 3)
    assert R.broadcast_shapes() == ()
    with pytest.raises(ValueError, match=r"\(2,\), \(3,\)"):
        R.broadcast_shapes((2,), (3,))
    a, b, c = R.broadcast_tensors(gpugrad.zeros(2, 1), gpugrad.zeros(3), gpugrad.zeros(()))
    assert a.shape == b.shape == c.shape == (2, 3)
    check_grads(lambda u, v: R.broadcast_tensors(u, v)[0] * R.broadcast_tensors(u, v)[1],
                RNG.standard_normal((2, 1)), RNG.standard_normal(3))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_numpy(indexing):
    vs = [RNG.standard_normal(n) for n in (2, 3, 4)]
    out = R.meshgrid(*[gpugrad.tensor(v) for v in vs], indexing=indexing)
    for o, e in zip(out, np.meshgrid(*vs, indexing=indexing)):
        np.testing.assert_array_equal(o.numpy(), e)
    check_grads(lambda a, b: R.meshgrid(a, b, indexing=indexing)[0] *
                R.meshgrid(a, b, indexing=indexing)[1], vs[0], vs[1])
    assert R.meshgrid([gpugrad.tensor(1.0), gpugrad.tensor([1.0, 2.0])])[0].shape == (1, 2)
    with pytest.raises(ValueError, match="indexing"):
        R.meshgrid(gpugrad.zeros(2), indexing="yx")


def test_swapaxes_and_rot90():
    x = gpugrad.tensor(X)
    np.testing.assert_array_equal(R.swapaxes(x, 0, -1).numpy(), np.swapaxes(X, 0, 2))
    np.testing.assert_array_equal(x.swapdims(1, 2).numpy(), np.swapaxes(X, 1, 2))
    for k in range(-5, 6):
        np.testing.assert_array_equal(R.rot90(x, k, (1, 2)).numpy(), np.rot90(X, k, (1, 2)))
        np.testing.assert_array_equal(x.rot90(k, [2, 0]).numpy(), np.rot90(X, k, (2, 0)))
    check_grads(lambda t: R.rot90(t, 1, (0, 2)) * 2.0, X)
    with pytest.raises(ValueError):
        R.rot90(x, 1, (0, 0))


def test_against_torch():
    torch = pytest.importorskip("torch")
    t = torch.tensor(X)
    x = gpugrad.tensor(X)
    np.testing.assert_array_equal(R.roll(x, (1, -1), (0, 1)).numpy(),
                                  torch.roll(t, (1, -1), (0, 1)).numpy())
    np.testing.assert_array_equal(R.rot90(x, 3, (2, 1)).numpy(),
                                  torch.rot90(t, 3, (2, 1)).numpy())
    np.testing.assert_array_equal(R.tile(x, (2,)).numpy(), torch.tile(t, (2,)).numpy())
    for a, b in zip(R.meshgrid(x[0, 0], x[0, :, 0], indexing="xy"),
                    torch.meshgrid(t[0, 0], t[0, :, 0], indexing="xy")):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
