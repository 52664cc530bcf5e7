"""PyTorch's spellings of selection, norms, factories, sorting, running sums, einsum and
prod (ops/selection.py, norms.py, sorting.py, cumulative.py, einsum.py, product.py,
creation_like.py, the Tensor methods of ops/methods.py): values against float64 NumPy
written independently, gradients by finite differences (gradcheck, float64), errors, and
PyTorch itself where it is installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import func
from gpugrad.cuda import CaptureError

RNG = np.random.default_rng(4)


def leaf(a):
    return gpugrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# ------------------------------------------------------------------ selection


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_gather_picks_along_dim_and_adds_gradients_where_indices_repeat(dim):
    x = RNG.standard_normal((3, 4, 5))
    shape = [2, 3, 4]
    shape[dim] = 6
    index = RNG.integers(0, x.shape[dim], shape)
    got = gpugrad.gather(gpugrad.tensor(x), dim, gpugrad.tensor(index)).numpy()
    want = np.empty(index.shape)
    for pos in np.ndindex(*index.shape):
        src = list(pos)
        src[dim] = index[pos]
        want[pos] = x[tuple(src)]
    np.testing.assert_array_equal(got, want)
    assert gpugrad.gradcheck(lambda t: gpugrad.gather(t, dim, gpugrad.tensor(index)),
                             (leaf(x),))


def test_gather_errors_name_the_shapes():
    x = gpugrad.zeros(2, 3)
    with pytest.raises(ValueError, match="as many dimensions"):
        gpugrad.gather(x, 1, gpugrad.tensor([0, 1]))
    with pytest.raises(ValueError, match="larger than the input in dimension 0"):
        gpugrad.gather(x, 1, gpugrad.zeros(3, 1, dtype="int64"))
    with pytest.raises(TypeError, match="integer tensor"):
        gpugrad.gather(x, 1, gpugrad.zeros(2, 1))
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        gpugrad.gather(x, 2, gpugrad.zeros(2, 1, dtype="int64"))


def test_index_select_and_its_gradient():
    x = RNG.standard_normal((3, 4))
    index = np.array([3, 0, 3])
    got = leaf(x).index_select(1, gpugrad.tensor(index))
    np.testing.assert_array_equal(got.numpy(), x[:, index])
    assert gpugrad.gradcheck(lambda t: t.index_select(1, gpugrad.tensor(index)), (leaf(x),))
    with pytest.raises(ValueError, match="must be 1-d"):
        gpugrad.index_select(leaf(x), 0, gpugrad.zeros(2, 2, dtype="int64"))


def test_masked_fill_keeps_the_dtype_and_broadcasts_the_mask():
    x = RNG.standard_normal((2, 3))
    mask = np.array([True, False, True])
    got = leaf(x).masked_fill(gpugrad.tensor(mask), -1)
    np.testing.assert_array_equal(got.numpy(), np.where(mask, -1.0, x))
    assert got.dtype == np.float64
    ints = gpugrad.tensor([1, 2, 3]).masked_fill(gpugrad.tensor([True, False, False]), 2.7)
    assert ints.dtype == np.int64 and ints.tolist() == [2, 2, 3]    # as torch: truncated
    assert gpugrad.gradcheck(lambda t: t.masked_fill(gpugrad.tensor(mask), 0.5), (leaf(x),))
    value = leaf(2.0)                                   # a 0-d tensor value: differentiable
    gpugrad.masked_fill(leaf(x), gpugrad.tensor(mask), value).sum().backward()
    assert value.grad.item() == 4.0


def test_masked_fill_errors():
    x = gpugrad.zeros(2, 3)
    with pytest.raises(TypeError, match="bool tensor"):
        x.masked_fill(gpugrad.ones(2, 3), 0.0)
    with pytest.raises(ValueError, match="does not broadcast"):
        x.masked_fill(gpugrad.ones(3, 2, 3).astype("bool"), 0.0)


def test_split_and_chunk_as_torch():
    x = gpugrad.arange(10.0)
    assert [p.tolist() for p in x.split(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [len(p) for p in x.split([2, 3, 5])] == [2, 3, 5]
    assert [len(c) for c in x.chunk(3)] == [4, 4, 2]
    assert [len(c) for c in gpugrad.arange(5).chunk(6)] == [1, 1, 1, 1, 1]
    m = leaf(RNG.standard_normal((4, 6)))
    first, second = gpugrad.chunk(m, 2, dim=1)
    (first * 2 + second * 3).sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), np.repeat([[2.0, 3.0]], 3, axis=1)
                                  .repeat(4, axis=0).reshape(4, 6))
    with pytest.raises(ValueError, match="sum to the size"):
        x.split([3, 3])
    with pytest.raises(ValueError, match="positive int"):
        x.chunk(0)


def test_repeat_tiles_as_numpy_and_sums_gradients():
    x = RNG.standard_normal((2, 3))
    got = leaf(x).repeat(2, 1, 3)
    np.testing.assert_array_equal(got.numpy(), np.tile(x, (2, 1, 3)))
    assert gpugrad.gradcheck(lambda t: t.repeat(2, 2) * gpugrad.tensor(
        np.arange(24.0).reshape(4, 6)), (leaf(x),))
    with pytest.raises(ValueError, match="one non-negative count per dimension"):
        leaf(x).repeat(2)


def test_mm_and_bmm_check_their_ranks():
    a, b = RNG.standard_normal((5, 2, 3)), RNG.standard_normal((5, 3, 4))
    np.testing.assert_allclose(gpugrad.bmm(leaf(a), leaf(b)).numpy(), a @ b)
    np.testing.assert_allclose(gpugrad.mm(leaf(a[0]), leaf(b[0])).numpy(), a[0] @ b[0])
    with pytest.raises(ValueError, match="2-d matrices"):
        gpugrad.mm(leaf(a), leaf(b))
    with pytest.raises(ValueError, match="same batch size"):
        gpugrad.bmm(leaf(a), leaf(b[:2]))


# ------------------------------------------------------------------ norms


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, np.inf, -np.inf, 0])
@pytest.mark.parametrize("dim", [None, 1, (0, 2)])
def test_norms_against_numpy(p, dim):
    x = RNG.standard_normal((2, 3, 4))
    axis = dim if dim is None or isinstance(dim, tuple) else (dim,)
    a = np.abs(x)
    if p == np.inf:
        want = a.max(axis=axis)
    elif p == -np.inf:
        want = a.min(axis=axis)
    elif p == 0:
        want = (x != 0).sum(axis=axis).astype(float)
    else:
        want = (a ** p).sum(axis=axis) ** (1.0 / p)
    np.testing.assert_allclose(leaf(x).norm(p=p, dim=dim).numpy(), want, rtol=1e-12)
    if p not in (0,):
        assert gpugrad.gradcheck(lambda t: t.norm(p=p, dim=dim), (leaf(x),))


@pytest.mark.parametrize("p", [2, 3, 1])
def test_the_gradient_of_a_zero_vector_norm_is_zero(p):
    x = leaf(np.zeros(3))
    x.norm(p=p).backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_norm_keepdim_fro_and_refusals():
    x = RNG.standard_normal((3, 4))
    assert gpugrad.norm(leaf(x), dim=1, keepdim=True).shape == (3, 1)
    np.testing.assert_allclose(gpugrad.norm(leaf(x)).item(), np.linalg.norm(x))
    with pytest.raises(ValueError, match="matrix norm"):
        gpugrad.norm(leaf(x), p="nuc")
    with pytest.raises(TypeError, match="float tensor"):
        gpugrad.arange(3).norm()


def test_norms_under_vmap_are_per_example():
    x = RNG.standard_normal((4, 3))
    got = func.vmap(lambda v: v.norm())(gpugrad.tensor(x))
    np.testing.assert_allclose(got.numpy(), np.linalg.norm(x, axis=1))


# ------------------------------------------------------------------ methods and factories


def test_small_methods_as_torch():
    x = gpugrad.arange(6.0).reshape(2, 3)
    assert x.view_as(gpugrad.zeros(3, 2)).shape == (3, 2)
    assert x.type_as(gpugrad.zeros(1, dtype="float64")).dtype == np.float64
    assert x.ndimension() == 2 and gpugrad.numel(x) == 6 and gpugrad.is_tensor(x)
    assert not gpugrad.is_tensor(x.numpy())
    assert x.is_contiguous() and not x.T.is_contiguous()
    assert x.contiguous() is x
    c = x.T.contiguous()
    assert c.is_contiguous() and c.tolist() == x.numpy().T.tolist()
    np.testing.assert_array_equal(gpugrad.square(x).numpy(), x.numpy() ** 2)


def test_new_factories_take_the_tensors_dtype_and_device():
    x = gpugrad.zeros(2, dtype="float64")
    for made in (x.new_zeros(2, 3), x.new_ones((2, 3)), x.new_empty(2, 3),
                 x.new_full((2, 3), 1.5)):
        assert made.shape == (2, 3) and made.dtype == np.float64 and made.device == x.device
    assert x.new_full((2,), 1.5).tolist() == [1.5, 1.5]
    assert x.new_tensor([1, 2]).dtype == np.float64
    assert x.new_zeros(2, dtype="int32").dtype == np.int32
    assert x.new_ones(1, requires_grad=True).requires_grad


def test_random_like_factories_and_in_place_fills():
    gpugrad.manual_seed(0)
    x = gpugrad.zeros(1000, dtype="float64")
    assert gpugrad.randn_like(x).dtype == np.float64 and gpugrad.rand_like(x).shape == (1000,)
    u = x.uniform_(-2.0, 3.0)
    assert u is x and -2.0 <= x.numpy().min() and x.numpy().max() < 3.0
    assert abs(x.numpy().mean() - 0.5) < 0.2
    x.normal_(10.0, 0.5)
    assert abs(x.numpy().mean() - 10.0) < 0.1 and abs(x.numpy().std() - 0.5) < 0.1
    w = gpugrad.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.uniform_()
    with gpugrad.no_grad():
        w.uniform_()                                  # as nn.init does
    with pytest.raises(CaptureError, match="random"):
        with gpugrad.autograd.capture_mode.capture_rules(recording=False):
            gpugrad.zeros(2).normal_()


def test_clamp_and_masked_fill_in_place_stay_in_the_graph():
    a = leaf([-2.0, 0.5, 3.0])
    y = a * 1.0
    y.clamp_(-1.0, 1.0)
    y.masked_fill_(y > 0.75, 0.0)
    assert y.tolist() == [-1.0, 0.5, 0.0]
    y.sum().backward()
    assert a.grad.tolist() == [0.0, 1.0, 0.0]


def test_from_numpy_shares_memory_and_keeps_the_dtype():
    a = np.arange(3, dtype=np.int32)
    t = gpugrad.from_numpy(a)
    a[1] = 7
    assert t.dtype == np.int32 and t.tolist() == [0, 7, 2]
    with pytest.raises(TypeError, match="takes a NumPy array"):
        gpugrad.from_numpy([1, 2])
    with pytest.raises(TypeError, match="no tensors of dtype"):
        gpugrad.from_numpy(np.array(["a"]))


def test_allclose_is_a_host_read():
    a = gpugrad.tensor([1.0, np.nan])
    assert not gpugrad.allclose(a, a) and gpugrad.allclose(a, a, equal_nan=True)
    assert gpugrad.allclose(gpugrad.tensor([1.0]), gpugrad.tensor([1.0 + 1e-6]))
    assert not gpugrad.allclose(gpugrad.tensor([1.0]), gpugrad.tensor([1.1]))
    with pytest.raises(CaptureError):
        with gpugrad.autograd.capture_mode.capture_rules(recording=False):
            gpugrad.allclose(a, a)


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((3, 4))
    index = RNG.integers(0, 4, (3, 2))
    tx = torch.tensor(x)
    pairs = [
        (gpugrad.gather(gpugrad.tensor(x), 1, gpugrad.tensor(index)),
         torch.gather(tx, 1, torch.tensor(index))),
        (gpugrad.tensor(x).repeat(2, 1, 2), tx.repeat(2, 1, 2)),
        (gpugrad.tensor(x).norm(p=3, dim=0), tx.norm(p=3, dim=0)),
        (gpugrad.tensor(x).masked_fill(gpugrad.tensor(x > 0), 9.0), tx.masked_fill(tx > 0, 9.0)),
    ]
    for got, want in pairs:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    assert [c.shape for c in gpugrad.tensor(x).chunk(3, dim=1)] == \
        [tuple(c.shape) for c in tx.chunk(3, dim=1)]


# ------------------------------------------------------------------ sorting and running sums


@pytest.mark.parametrize("descending", [False, True])
def test_sort_is_stable_puts_nan_as_the_largest_and_routes_gradients(descending):
    x = np.array([[1.0, 2.0, 1.0, np.nan, 2.0], [3.0, 3.0, 0.0, -1.0, 5.0]])
    values, indices = gpugrad.sort(gpugrad.tensor(x), 1, descending)
    keys = np.where(np.isnan(x), np.inf, x)         # NaN as the largest, ties by position
    want = np.array([sorted(range(5), key=lambda j: (-keys[r, j] if descending
                                                     else keys[r, j], j)) for r in range(2)])
    np.testing.assert_array_equal(indices.numpy(), want)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, want, 1))
    finite = RNG.standard_normal((3, 4))
    weights = gpugrad.tensor(np.arange(12.0).reshape(3, 4))
    assert gpugrad.gradcheck(lambda t: t.sort(0, descending).values * weights,
                             (leaf(finite),))


def test_argsort_and_topk():
    x = RNG.standard_normal((4, 6))
    np.testing.assert_array_equal(gpugrad.tensor(x).argsort(dim=0).numpy(),
                                  np.argsort(x, axis=0, kind="stable"))
    values, indices = gpugrad.topk(leaf(x), 3)
    want = np.argsort(-x, axis=1, kind="stable")[:, :3]
    np.testing.assert_array_equal(indices.numpy(), want)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, want, 1))
    smallest = leaf(x).topk(2, dim=0, largest=False)
    np.testing.assert_array_equal(smallest.indices.numpy(), np.argsort(x, axis=0)[:2])
    assert gpugrad.gradcheck(lambda t: t.topk(3).values ** 2, (leaf(x),))
    with pytest.raises(ValueError, match="k must be an int from 0"):
        leaf(x).topk(7)


def test_sorting_under_vmap_is_per_example():
    x = RNG.standard_normal((3, 5))
    got = func.vmap(lambda v: v.topk(2).values)(gpugrad.tensor(x))
    np.testing.assert_array_equal(got.numpy(), -np.sort(-x, axis=1)[:, :2])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_against_numpy_with_gradients(dim):
    x = RNG.standard_normal((3, 4))
    np.testing.assert_allclose(leaf(x).cumsum(dim).numpy(), np.cumsum(x, dim), rtol=1e-12)
    assert gpugrad.gradcheck(lambda t: gpugrad.cumsum(t, dim) * t, (leaf(x),))
    assert gpugrad.gradgradcheck(lambda t: gpugrad.cumsum(t * t, dim), (leaf(x),))


def test_cumsum_dtypes_as_torch():
    assert gpugrad.tensor([True, True]).cumsum(0).dtype == np.int64
    assert gpugrad.tensor([1, 2], dtype="int32").cumsum(0).dtype == np.int64
    assert gpugrad.zeros(2).cumsum(0).dtype == np.float32
    assert gpugrad.tensor([1, 2]).cumsum(0, dtype="float64").dtype == np.float64
    assert gpugrad.tensor(3.0).cumsum(0).tolist() == 3.0
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        gpugrad.zeros(2, 2).cumsum(2)


def test_sorting_against_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((4, 6))
    tx = torch.tensor(x)
    for got, want in [(gpugrad.tensor(x).sort(dim=0, descending=True),
                       torch.sort(tx, dim=0, descending=True, stable=True)),
                      (gpugrad.tensor(x).topk(4, dim=1), torch.topk(tx, 4, dim=1))]:
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    np.testing.assert_allclose(gpugrad.tensor(x).cumsum(1).numpy(),
                               torch.cumsum(tx, 1).numpy(), rtol=1e-12)


# ------------------------------------------------------------------ einsum


@pytest.mark.parametrize("equation, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("...i,...i", [(5, 3), (1, 3)]),
    ("i,j->ij", [(3,), (4,)]), ("...ij,jk", [(2, 5, 3, 4), (4, 2)]), ("ij,kj", [(2, 3), (4, 3)]),
    ("ab,b->", [(2, 3), (3,)]), ("ij , jk -> ki", [(2, 3), (3, 4)])])
def test_einsum_against_numpy_with_gradients(equation, shapes):
    xs = [RNG.standard_normal(s) for s in shapes]
    got = gpugrad.einsum(equation, *[gpugrad.tensor(x) for x in xs])
    np.testing.assert_allclose(got.numpy(), np.einsum(equation.replace(" ", ""), *xs),
                               rtol=1e-12, atol=1e-12)
    assert gpugrad.gradcheck(lambda *ts: gpugrad.einsum(equation, *ts),
                             tuple(leaf(x) for x in xs))


def test_einsum_second_order_vmap_and_forward_mode():
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))
    assert gpugrad.gradgradcheck(lambda x, y: gpugrad.einsum("ij,jk->ik", x, y) ** 2,
                                 (leaf(a), leaf(b)))
    m, v = RNG.standard_normal((4, 3, 2)), gpugrad.tensor(RNG.standard_normal(2))
    out = func.vmap(lambda x: gpugrad.einsum("ij,j->i", x, v))(gpugrad.tensor(m))
    np.testing.assert_allclose(out.numpy(), m @ v.numpy(), rtol=1e-12)
    jac = func.jacfwd(lambda x: gpugrad.einsum("ij,j->i", x, v))(gpugrad.tensor(m[0]))
    np.testing.assert_allclose(jac.numpy(), np.einsum("ij,k->ijk", np.eye(3), v.numpy()))


def test_einsum_errors():
    x = gpugrad.ones(2, 3)
    with pytest.raises(ValueError, match="names 2 operands"):
        gpugrad.einsum("ij,jk->ik", x)
    with pytest.raises(ValueError, match="has 2 dimensions, not 3"):
        gpugrad.einsum("ijk->i", x)
    with pytest.raises(ValueError, match="a diagonal needs equal sizes"):
        gpugrad.einsum("ii->i", gpugrad.ones(2, 3))
    with pytest.raises(TypeError, match="one dtype"):
        gpugrad.einsum("ij,jk->ik", x, gpugrad.ones(3, 2, dtype="float64"))


def test_einsum_against_torch():
    torch = pytest.importorskip("torch")
    a, b = RNG.standard_normal((2, 5, 3, 4)), RNG.standard_normal((4, 2))
    np.testing.assert_allclose(gpugrad.einsum("...ij,jk", gpugrad.tensor(a),
                                              gpugrad.tensor(b)).numpy(),
                               torch.einsum("...ij,jk", torch.tensor(a),
                                            torch.tensor(b)).numpy(), rtol=1e-12)


# ------------------------------------------------------------------ prod


@pytest.mark.parametrize("values", [[2.0, 0.0, 5.0], [2.0, 3.0, 5.0], [0.0, 0.0, 5.0]])
def test_prod_gradient_is_the_product_of_the_others(values):
    """Worked out by hand: d(prod)/dx_i = prod of the x_j, j != i (zeros included)."""
    x = leaf(values)
    gpugrad.prod(x).backward()
    want = [np.prod(values[:i] + values[i + 1:]) for i in range(3)]
    assert x.grad.tolist() == want


def _hand_hessian_of_prod(values) -> np.ndarray:
    """d2(prod)/dx_i dx_j = the product of the x_k, k != i, j (zeros included); 0 on the
    diagonal (each x_i appears once)."""
    n = len(values)
    return np.array([[0.0 if i == j else
                      np.prod([values[k] for k in range(n) if k not in (i, j)])
                      for j in range(n)] for i in range(n)])


@pytest.mark.parametrize("values", [[1.0, 0.0, 3.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0],
                                    [0.0, 2.0, 0.0, 4.0], [1.5, -2.0, 3.0]])
def test_prod_second_derivatives_are_exact_at_zeros(values):
    """The reverse rule's own derivatives are exact where elements are zero (one, two or
    three zeros): the Hessian by hand, through hessian and through double backward of
    prod over a dim."""
    want = _hand_hessian_of_prod(values)
    got = func.hessian(lambda t: t.prod())(gpugrad.tensor(values, dtype="float64"))
    np.testing.assert_allclose(got.numpy(), want, atol=1e-15)
    x = leaf([values, values[::-1]])
    (g,) = gpugrad.autograd.grad(x.prod(1).sum(), x, create_graph=True)
    rows = [gpugrad.autograd.grad(g[0, i], x, retain_graph=True)[0].numpy()[0]
            for i in range(len(values))]
    np.testing.assert_allclose(np.array(rows), want, atol=1e-15)


def test_prod_over_a_dim_with_gradients_and_dtypes():
    x = RNG.standard_normal((3, 4))
    np.testing.assert_allclose(leaf(x).prod(1).numpy(), x.prod(1), rtol=1e-12)
    assert leaf(x).prod(0, keepdim=True).shape == (1, 4)
    assert gpugrad.gradcheck(lambda t: t.prod(1), (leaf(x),))
    assert gpugrad.gradgradcheck(lambda t: gpugrad.prod(t, 0), (leaf(x),))
    assert gpugrad.tensor([[1, 2], [3, 4]]).prod(1).dtype == np.int64
    assert gpugrad.tensor([2, 3]).prod(dtype="float64").item() == 6.0
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        gpugrad.zeros(2, 2).prod(2)
    got = func.vmap(lambda v: v.prod())(gpugrad.tensor(x))
    np.testing.assert_allclose(got.numpy(), x.prod(1), rtol=1e-12)
