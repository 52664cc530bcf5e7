"""scatter_reduce.py (scatter_reduce, scatter_reduce_, scatter(..., reduce=)) against float64
NumPy loops and hand values, with gradcheck/gradgradcheck, and against torch where it is
installed. The op table (op_specs_arrays.py) checks its record's rules and vmap."""

import numpy as np
import pytest

import gpugrad
from gpugrad.ops import scatter_ops
from gpugrad.ops.scatter_reduce import _reduce_at, scatter_reduce
from gradient_checks import check_grads, leaf64 as leaf
import op_specs  # noqa: F401  (first: it imports op_specs_arrays, which imports it)
from op_specs_arrays import COLUMNS, ROWS, np_scatter_reduce

RNG = np.random.default_rng(7)
REDUCES = ["sum", "prod", "mean", "amax", "amin"]


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim,index,shape", [(0, ROWS, (3, 4)), (1, COLUMNS, (3, 5)),
                                             (-1, COLUMNS, (3, 5))])
def test_values_and_gradients_match_numpy_loops(reduce, include_self, dim, index, shape):
    x = RNG.uniform(0.5, 2.0, shape) * RNG.choice([-1, 1], shape)
    src = RNG.uniform(0.5, 2.0, index.shape) * RNG.choice([-1, 1], index.shape)
    out = scatter_reduce(gpugrad.tensor(x), dim, gpugrad.tensor(index), gpugrad.tensor(src),
                         reduce, include_self=include_self)
    expected = np_scatter_reduce(x, dim % 2, index, src, reduce, include_self)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert out.dtype == np.float64
    check_grads(lambda a, s: scatter_reduce(a, dim, gpugrad.tensor(index), s, reduce,
                                            include_self=include_self), x, src)


def test_hand_values_and_tied_gradients():
    """amax ties split the gradient evenly; amin picks the least; mean counts input."""
    x = leaf([1.0, 5.0, 3.0])
    src = leaf([5.0, 2.0, 5.0])
    index = gpugrad.tensor([1, 0, 1])
    out = scatter_reduce(x, 0, index, src, "amax")
    assert out.tolist() == [2.0, 5.0, 3.0]
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1 / 3, 1.0])      # three 5s at place 1
    np.testing.assert_allclose(src.grad.numpy(), [1 / 3, 1.0, 1 / 3])
    x.grad = src.grad = None
    out = scatter_reduce(x, 0, index, src, "amax", include_self=False)  # two 5s at place 1
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(src.grad.numpy(), [0.5, 1.0, 0.5])
    assert scatter_reduce(x, 0, index, src, "amin").tolist() == [1.0, 5.0, 3.0]
    assert scatter_reduce(x, 0, index, src, "mean").tolist() == [1.5, 5.0, 3.0]
    assert scatter_reduce(x, 0, index, src, "sum", include_self=False).tolist() == \
        [2.0, 10.0, 3.0]


def test_prod_with_zeros():
    """The gradient of a product with a zero in it: the product of the others (no 0/0)."""
    x = leaf([2.0, 0.0, 3.0])
    src = leaf([0.0, 4.0, 5.0, 0.0, 6.0])
    index = gpugrad.tensor([0, 0, 1, 2, 2])
    out = scatter_reduce(x, 0, index, src, "prod")
    assert out.tolist() == [0.0, 0.0, 0.0]
    out.backward(gpugrad.tensor([1.0, 10.0, 100.0], dtype="float64"))
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 50.0, 0.0])
    np.testing.assert_allclose(src.grad.numpy(), [8.0, 0.0, 0.0, 1800.0, 0.0])
    # one zero per place: first and second derivatives match finite differences
    check_grads(lambda a, s: scatter_reduce(a, 0, index, s, "prod"),
                [2.0, 0.0, 3.0], [0.0, 4.0, 5.0, 1.5, 0.0])
    check_grads(lambda a, s: scatter_reduce(a, 0, index, s, "prod", include_self=False),
                [2.0, 0.0, 3.0], [0.0, 4.0, 5.0, 1.5, 0.0])
    # two zeros at one place: every first derivative there is 0
    a, s = leaf([2.0, 1.0, 1.0]), leaf([0.0, 0.0, 3.0, 1.0, 1.0])
    scatter_reduce(a, 0, index, s, "prod").sum().backward()
    assert a.grad.tolist()[0] == 0.0 and s.grad.tolist()[:2] == [0.0, 0.0]


def test_integer_inputs():
    x = gpugrad.tensor([1, 2, 3])
    index = gpugrad.tensor([0, 0, 2])
    src = gpugrad.tensor([-5, 2, 4])
    assert scatter_reduce(x, 0, index, src, "mean").tolist() == [-1, 2, 3]    # -2/3 down
    assert scatter_reduce(x, 0, index, src, "mean", include_self=False).tolist() == \
        [-2, 2, 4]                                                              # -3/2 down
    assert scatter_reduce(x, 0, index, src, "amax").tolist() == [2, 2, 4]
    assert scatter_reduce(x, 0, index, src, "amin", include_self=False).tolist() == \
        [-5, 2, 4]
    assert scatter_reduce(x, 0, index, src, "prod").tolist() == [-10, 2, 12]
    assert scatter_reduce(x, 0, index, src, "sum").dtype == np.int64


def test_integer_mean_is_exact_above_two_to_the_53():
    """total // count in integers (it went through float64, one off at 2^62)."""
    big = 2 ** 62
    cases = [("int64", [big, 0], [0], [big - 1], True, [big - 1, 0]),     # (2^63 - 1) // 2
             ("int64", [-big, 0], [0], [1 - big], True, [-big, 0]),       # rounds down
             ("int64", [5, 7], [0, 0], [-3, big + 1], False, [big // 2 - 1, 7]),
             ("int8", [-7, 0], [0, 0], [-100, -100], True, [16, 0]),      # -207 wraps to 49
             ("uint8", [7, 0], [0, 0], [200, 200], True, [50, 0])]        # 407 wraps to 151
    for dtype, x, index, src, include_self, expected in cases:
        out = scatter_reduce(gpugrad.tensor(x, dtype=dtype), 0, gpugrad.tensor(index),
                             gpugrad.tensor(src, dtype=dtype), "mean",
                             include_self=include_self)
        assert out.tolist() == expected and out.dtype == np.dtype(dtype)
    torch = pytest.importorskip("torch")
    for dtype, x, index, src, include_self, expected in cases:
        tdtype = getattr(torch, dtype)
        assert torch.tensor(x, dtype=tdtype).scatter_reduce(
            0, torch.tensor(index), torch.tensor(src, dtype=tdtype), "mean",
            include_self=include_self).tolist() == expected


def test_tie_left_out_by_include_self_false_is_not_counted():
    """The difference from torch the docstrings state: gpugrad's gradients sum to the
    output's (1/2 each); torch 2.13 also counts the left-out x[0] (1/3 each)."""
    x, src = leaf([1.0, 0.0]), leaf([1.0, 1.0])
    scatter_reduce(x, 0, gpugrad.tensor([0, 0]), src, "amax", include_self=False).sum() \
        .backward()
    assert x.grad.tolist() == [0.0, 1.0] and src.grad.tolist() == [0.5, 0.5]
    torch = pytest.importorskip("torch")
    tx = torch.tensor([1.0, 0.0], dtype=torch.float64, requires_grad=True)
    ts = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    torch.scatter_reduce(tx, 0, torch.tensor([0, 0]), ts, "amax", include_self=False).sum() \
        .backward()
    np.testing.assert_allclose(ts.grad.numpy(), [1 / 3, 1 / 3])   # (if this changes, say so)


def test_rounds_path_equals_ufunc_at():
    """The path for array modules without ``ufunc.at`` (each place once per round)."""
    index = (np.array([[0, 2, 0, 0], [1, 0, 0, 2]]), np.array([[0, 1, 2, 3], [0, 1, 2, 3]]))
    values = RNG.standard_normal((2, 4))
    for name in ("multiply", "maximum", "minimum", "add"):
        start = RNG.standard_normal((3, 4))
        expected, got = start.copy(), start.copy()
        _reduce_at(np, name, expected, index, values)
        _reduce_at(np, name, got, index, values, rounds=True)
        np.testing.assert_array_equal(got, expected)
        _reduce_at(np, name, got, (np.zeros((0,), np.int64),) * 2, np.zeros(0))   # no-op
        np.testing.assert_array_equal(got, expected)


_EXTREMES = {"float64": [0.0, 1.5, -1.5, np.inf, -np.inf, np.nan, -np.nan, 1e-300, -1e-300,
                         3.0000000000000004, 3.0],
             "float32": [0.0, 1.5, -1.5, np.inf, -np.inf, np.nan, 2.0, -7.25],
             "float16": [0.0, 1.5, -1.5, np.inf, -np.inf, np.nan, 2.0, -7.25],
             "bool": [True, False]}


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "int32", "int8",
                                   "uint8", "uint32", "uint64", "bool"])
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_scatter_extreme_keys_equal_ufunc_at(dtype, name):
    """backend.scatter_extreme (the CuPy path: cupyx.scatter_max/min on order-keeping keys)
    with NumPy's ufunc.at standing for cupyx's: NaN wins, float64 stays exact (CuPy's own
    float64 scatter_max rounds through float32), the integer extremes survive."""
    from gpugrad import backend
    rng = np.random.default_rng(3)
    if dtype in _EXTREMES:
        pool = np.array(_EXTREMES[dtype], dtype=dtype)
    else:
        info = np.iinfo(dtype)
        pool = np.array([info.min, info.max, 0, 1, info.min + 1, info.max - 1], dtype=dtype)
    for _ in range(10):
        out, values = rng.choice(pool, 6), rng.choice(pool, (3, 4))
        index = (rng.integers(0, 6, (3, 4)),)
        expected = out.copy()
        getattr(np, name).at(expected, index, values)
        assert backend.scatter_extreme(np, name, out, index, values,
                                       scatter=getattr(np, name).at)
        assert out.dtype == expected.dtype
        np.testing.assert_array_equal(out, expected)
    assert not backend.scatter_extreme(np, name, np.zeros(2, complex), (np.array([0]),),
                                       np.ones(1, complex))               # no key: fall back


class _NotNumpy:
    """NumPy under another name: the path of an array module other than NumPy (CuPy)."""

    def __getattr__(self, name):
        return getattr(np, name)


def test_amax_off_numpy_takes_the_scatter_helper_and_no_host_read(monkeypatch):
    """Off NumPy, amax/amin go through backend.scatter_extreme, so they are allowed inside
    a capture; prod still takes the rounds (refused there by name)."""
    from gpugrad import backend
    from gpugrad.autograd.capture_mode import capture_rules
    from gpugrad.cuda import CaptureError
    monkeypatch.setattr(backend, "_cupyx_scatter", lambda name: getattr(np, name).at)
    index = (np.array([0, 2, 0, 0]),)
    values = np.array([3.0, -1.0, np.nan, 7.0])
    with capture_rules(recording=False):
        for name in ("maximum", "minimum"):
            expected, got = np.zeros(3), np.zeros(3)
            with np.errstate(invalid="ignore"):
                getattr(np, name).at(expected, index, values)
            _reduce_at(_NotNumpy(), name, got, index, values)
            np.testing.assert_array_equal(got, expected)
        with pytest.raises(CaptureError, match="scatter_reduce's multiply"):
            _reduce_at(_NotNumpy(), "multiply", np.ones(3), index, values)


def test_zero_dim_input_and_in_place_method():
    assert scatter_reduce(gpugrad.tensor(2.0), 0, gpugrad.tensor([0, 0]),
                          gpugrad.tensor([3.0, 4.0]), "prod").tolist() == 24.0
    x = gpugrad.zeros(2, 3)
    same = x.scatter_reduce_(1, gpugrad.tensor([[0, 0], [2, 1]]), gpugrad.ones(2, 2), "sum",
                             include_self=False)
    assert same is x and x.tolist() == [[2.0, 0.0, 0.0], [0.0, 1.0, 1.0]]


def test_legacy_scatter_reduce_argument():
    x = gpugrad.tensor([1.0, 2.0, 3.0])
    index = gpugrad.tensor([1, 1, 0])
    src = gpugrad.tensor([4.0, 5.0, 6.0])
    assert scatter_ops.scatter(x, 0, index, src, reduce="add").tolist() == [7.0, 11.0, 3.0]
    assert scatter_ops.scatter(x, 0, index, src, reduce="multiply").tolist() == \
        [6.0, 40.0, 3.0]
    assert x.scatter(0, index, value=2.0, reduce="multiply").tolist() == [2.0, 8.0, 3.0]
    check_grads(lambda a, s: scatter_ops.scatter(a, 0, index, s, reduce="multiply"),
                [1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    with pytest.raises(ValueError, match="'add' or 'multiply'.*scatter_reduce"):
        scatter_ops.scatter(x, 0, index, src, reduce="mean")


def test_errors_name_the_op_and_the_fix():
    x, index = gpugrad.zeros(3), gpugrad.tensor([0, 1])
    with pytest.raises(ValueError, match="reduce must be one of"):
        scatter_reduce(x, 0, index, gpugrad.ones(2), "max")
    with pytest.raises(TypeError, match="dtype"):
        scatter_reduce(x, 0, index, gpugrad.ones(2, dtype="float64"), "sum")
    with pytest.raises(TypeError, match="src must be a tensor"):
        scatter_reduce(x, 0, index, 1.0, "sum")
    with pytest.raises(IndexError, match="indices must be in"):
        scatter_reduce(x, 0, gpugrad.tensor([3]), gpugrad.ones(1), "amax")
    with pytest.raises(ValueError, match="larger than src"):
        scatter_reduce(x, 0, index, gpugrad.ones(1), "amax")


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
def test_against_torch(reduce, include_self):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((3, 4))
    src = RNG.standard_normal((3, 4))
    if reduce == "prod":
        src[0, 1] = x[0, 1] = 0.0                   # zeros: one per place
    tx, ts = torch.tensor(x, requires_grad=True), torch.tensor(src, requires_grad=True)
    expected = torch.scatter_reduce(tx, 0, torch.tensor(ROWS), ts, reduce,
                                    include_self=include_self)
    weights = RNG.standard_normal((3, 4))
    (expected * torch.tensor(weights)).sum().backward()
    gx, gs = leaf(x), leaf(src)
    out = scatter_reduce(gx, 0, gpugrad.tensor(ROWS), gs, reduce, include_self=include_self)
    (out * gpugrad.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gs.grad.numpy(), ts.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_tied_gradients_against_torch():
    """Ties with include_self=True as torch's. (With include_self=False torch 2.13 still
    counts an input equal to the maximum among the ties, though left out: its gradients
    there sum to less than the output's; gpugrad's count only what was reduced.)"""
    torch = pytest.importorskip("torch")
    x, src = np.array([1.0, 5.0, 3.0]), np.array([5.0, 2.0, 5.0, 3.0])
    index = np.array([1, 0, 1, 2])
    for reduce in ("amax", "amin"):
        tx, ts = torch.tensor(x, requires_grad=True), torch.tensor(src, requires_grad=True)
        torch.scatter_reduce(tx, 0, torch.tensor(index), ts, reduce).sum().backward()
        gx, gs = leaf(x), leaf(src)
        scatter_reduce(gx, 0, gpugrad.tensor(index), gs, reduce).sum().backward()
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy())
        np.testing.assert_allclose(gs.grad.numpy(), ts.grad.numpy())
