"""Reductions as PyTorch 2.13 has them: ``max``/``min`` in their three forms (all elements,
``(values, indices)`` along a positional or keyword ``dim``, the other tensor), where their
gradients go (to the returned index along a dim; shared among ties for the full reduction
and ``amax``), ``dtype=`` on the sums, means, products and softmaxes, the legacy implicit
softmax dim of ``F.softmax``, and ``kthvalue``. Hand-derived values first, then torch where
it is installed."""

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import gpugrad
from gpugrad import func
from gpugrad.ops import activation as A, order_statistics as O, statistics as S
from gradient_checks import check_grads, leaf64 as leaf

RNG = np.random.default_rng(21)
OUT = [[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.2, 0.6]]


def grad_of(fn, x):
    """d(sum(fn(x)))/dx for a float64 leaf made from ``x``."""
    t = leaf(x)
    fn(t).sum().backward()
    return t.grad.tolist()


# ------------------------------------------------------------------------- max/min forms

def test_positional_dim_gives_the_named_pair_as_torch():
    out, y = gpugrad.tensor(OUT), gpugrad.tensor([1, 0, 2])
    assert (out.max(1)[1] == y).sum().item() == 3           # PyTorch's tutorial idiom
    _, pred = gpugrad.max(out, 1)
    assert pred.tolist() == [1, 0, 2] and pred.dtype == np.int64
    values, indices = out.max(1)
    assert values.tolist() == pytest.approx([0.9, 0.8, 0.6])
    assert type(out.max(1)).__name__ == "max" and type(out.min(1)).__name__ == "min"
    assert out.max(1).values.tolist() == out.max(dim=1).values.tolist()
    kept = out.max(1, keepdim=True)
    assert kept.indices.shape == (3, 1) and kept[1].tolist() == [[1], [0], [2]]
    low = out.min(-1, True)
    assert low.values.shape == (3, 1) and low.indices.tolist() == [[2], [1], [0]]
    assert out.min(-1).values.tolist() == pytest.approx([0.0, 0.1, 0.2])
    assert gpugrad.min(out, 0).indices.tolist() == [0, 1, 0]
    assert gpugrad.max(out, dim=0, keepdim=False).indices.tolist() == [1, 0, 2]
    assert out.max(np.int64(1)).indices.tolist() == [1, 0, 2]


def test_axis_keyword_and_tuples_give_values_only():
    x = gpugrad.tensor([[1.0, 5.0], [3.0, 2.0]])
    assert x.max(axis=1).tolist() == [5.0, 3.0]
    assert x.min(axis=0, keepdims=True).tolist() == [[1.0, 2.0]]
    assert x.max(axis=(0, 1)).item() == 5.0
    assert x.min(axis=(0, 1), keepdims=True).tolist() == [[1.0]]
    for several in ((0, 1), [0]):                      # PyTorch's max takes one dim
        with pytest.raises(TypeError, match="one int dimension"):
            x.max(several)
    assert x.max().item() == 5.0 and gpugrad.min(x).item() == 1.0
    with pytest.raises(TypeError, match="not both"):
        x.max(1, axis=0)


def test_a_tensor_second_argument_is_maximum_or_minimum():
    x, other = gpugrad.tensor([1.0, 5.0, 3.0]), gpugrad.tensor([2.0, 2.0, 4.0])
    assert gpugrad.max(x, other).tolist() == [2.0, 5.0, 4.0]
    assert x.min(other).tolist() == [1.0, 2.0, 3.0]
    assert gpugrad.max(x, other=other).tolist() == [2.0, 5.0, 4.0]
    assert x.max(gpugrad.tensor(2.5)).tolist() == [2.5, 5.0, 3.0]          # broadcasts
    with pytest.raises(TypeError, match="no dim or keepdim"):
        gpugrad.max(x, other, True)


def test_dim_errors_and_edge_cases():
    x = gpugrad.tensor([[1.0, 2.0]])
    with pytest.raises(IndexError, match="out of range"):
        x.max(2)
    with pytest.raises(TypeError, match="one int dimension"):
        x.min(1.0)
    with pytest.raises(IndexError, match="empty"):
        gpugrad.zeros(0, 3).max(0)
    empty = gpugrad.zeros(0, 3).min(1)
    assert empty.values.shape == (0,) and empty.indices.dtype == np.int64
    with pytest.raises(ValueError, match="empty"):
        gpugrad.zeros(0).max()
    scalar = gpugrad.tensor(5.0).max(0)
    assert (scalar.values.item(), scalar.indices.item()) == (5.0, 0)
    assert gpugrad.tensor(5.0).min(-1, keepdim=True).indices.shape == ()
    nan = gpugrad.tensor([1.0, math.nan, 2.0, math.nan])
    for pair in (nan.max(0), nan.min(0)):                   # NaN is the extreme, first one
        assert math.isnan(pair.values.item()) and pair.indices.item() == 1
    flags = gpugrad.tensor([[False, True], [False, False]]).max(1)
    assert flags.values.tolist() == [True, False] and flags.indices.tolist() == [1, 0]
    ints = gpugrad.tensor([[3, 7, 7]]).min(1)
    assert ints.values.dtype == np.int64 and ints.values.tolist() == [3]


# ------------------------------------------------------------------------- gradients

def test_dim_form_sends_the_whole_gradient_to_the_returned_index():
    assert grad_of(lambda t: t.max(0).values, [1.0, 3.0, 3.0, 0.0]) == [0, 1, 0, 0]
    assert grad_of(lambda t: t.min(0)[0], [2.0, 0.0, 0.0, 0.0]) == [0, 1, 0, 0]
    rows = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, 0.0, 5.0]]
    expected = [[0, 1, 0], [1, 0, 0], [1, 0, 0]]
    assert grad_of(lambda t: t.max(1).values, rows) == expected
    assert grad_of(lambda t: t.max(dim=1, keepdim=True).values, rows) == expected
    assert grad_of(lambda t: gpugrad.max(t, -1)[0] * gpugrad.tensor([1.0, 2.0, 3.0]),
                   rows) == [[0, 1, 0], [2, 0, 0], [3, 0, 0]]
    assert grad_of(lambda t: t.min(0).values, rows) == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]


def test_full_reduction_axis_and_amax_still_share_ties_as_torch():
    x = [1.0, 3.0, 3.0, 0.0]
    assert grad_of(lambda t: t.max(), x) == [0, 0.5, 0.5, 0]
    assert grad_of(lambda t: t.max(axis=0), x) == [0, 0.5, 0.5, 0]
    assert grad_of(lambda t: S.amax(t, 0), x) == [0, 0.5, 0.5, 0]
    assert grad_of(lambda t: S.amin(t), [0.0, 1.0, 0.0, 0.0]) == [1 / 3, 0, 1 / 3, 1 / 3]
    assert grad_of(lambda t: t.max(axis=(0,)), x) == [0, 0.5, 0.5, 0]


def test_dim_form_passes_gradcheck_forward_mode_and_vmap():
    a = RNG.permutation(12).reshape(3, 4) * 0.5          # distinct: no ties near a kink
    check_grads(lambda t: t.max(1).values, a)
    check_grads(lambda t: t.min(0, keepdim=True).values, a)
    x = gpugrad.tensor([[1.0, 3.0, 3.0], [4.0, 4.0, 0.0]], dtype="float64")
    v = gpugrad.tensor([[9.0, 1.0, 2.0], [3.0, 6.0, 9.0]], dtype="float64")
    _, tangent = func.jvp(lambda t: t.max(1).values, (x,), (v,))
    assert tangent.tolist() == [1.0, 3.0]                      # the tangent at the index
    per_example = func.vmap(func.grad(lambda row: row.max(0).values))(x)
    assert per_example.tolist() == [[0, 1, 0], [1, 0, 0]]
    indices = func.vmap(lambda row: row.min(0).indices)(x)
    assert indices.tolist() == [0, 2]


# ------------------------------------------------------------------------- dtype=

def test_sum_and_mean_cast_to_dtype_first_and_grad_comes_back_in_the_input_dtype():
    x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.5]], requires_grad=True)
    total = x.sum(dtype=gpugrad.float64)
    assert total.dtype == np.float64 and total.item() == 10.5
    total.backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [[1, 1], [1, 1]]
    assert x.sum(1, dtype="float64").dtype == np.float64
    x.grad = None
    m = gpugrad.mean(x, dim=0, dtype="float64")
    assert m.dtype == np.float64 and m.tolist() == [2.0, 3.25]
    m.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [[0.5, 0.5], [0.5, 0.5]]
    ints = gpugrad.tensor([1, 2])
    assert ints.mean(dtype="float32").item() == 1.5
    assert ints.mean(dtype="float32").dtype == np.float32
    assert ints.sum(dtype="float32").dtype == np.float32
    with pytest.raises(TypeError, match="dtype="):
        ints.mean()


def test_integer_sums_are_int64_as_torch():
    assert gpugrad.tensor([200, 100], dtype="uint8").sum().item() == 300
    for dtype in ("uint8", "int8", "int16", "int32", "bool"):
        assert gpugrad.ones(3, dtype=dtype).sum().dtype == np.int64
    assert gpugrad.ones(3, dtype="uint8").sum(dtype="int32").dtype == np.int32


def test_prod_cumsum_cumprod_nansum_take_dtype():
    x = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for fn, value in ((lambda t: t.prod(dtype="float64"), 6.0),
                      (lambda t: t.cumsum(0, dtype="float64")[-1], 6.0),
                      (lambda t: t.cumprod(0, dtype="float64")[-1], 6.0),
                      (lambda t: t.nansum(dtype="float64"), 6.0)):
        x.grad = None
        out = fn(x)
        assert out.dtype == np.float64 and out.item() == value
        out.backward()
        assert x.grad.dtype == np.float32
    assert gpugrad.tensor([1, 2]).cumsum(0, dtype="float32").dtype == np.float32


def test_softmax_dtype_in_every_spelling():
    logits = gpugrad.tensor([[0.0, 2.0], [1.0, 1.0]], dtype="float16", requires_grad=True)
    expected = [[1 / (1 + math.e ** 2), 1 / (1 + math.e ** -2)], [0.5, 0.5]]
    for out in (logits.softmax(-1, "float32"), logits.softmax(dim=-1, dtype="float32"),
                gpugrad.softmax(logits, 1, gpugrad.float32),
                A.functional_softmax(logits, -1, dtype="float32")):
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    for out in (logits.log_softmax(-1, "float64"),
                A.functional_log_softmax(logits, 1, dtype="float64")):
        assert out.dtype == np.float64
        np.testing.assert_allclose(out.numpy(), np.log(expected), rtol=1e-12)
    logits.log_softmax(1, "float32")[0, 0].backward()
    assert logits.grad.dtype == np.float16
    np.testing.assert_allclose(logits.grad.numpy(), [[1 - expected[0][0], -expected[0][1]],
                                                     [0, 0]], rtol=1e-3)


# ------------------------------------------------------------------------- implicit dim

@pytest.mark.parametrize("shape, dim", [((), 0), ((4,), 0), ((2, 3), 1), ((2, 3, 4), 0),
                                        ((2, 3, 4, 5), 1)])
def test_f_softmax_without_dim_uses_torchs_legacy_choice_and_warns(shape, dim):
    x = gpugrad.tensor(RNG.standard_normal(shape))
    for fn, explicit, name in ((A.functional_softmax, A.softmax, "softmax"),
                               (A.functional_log_softmax, A.log_softmax, "log_softmax")):
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been "
                                             f"deprecated") as record:
            got = fn(x)
        assert record[0].filename == __file__                  # points at the caller
        np.testing.assert_allclose(got.numpy(), explicit(x, dim).numpy(), rtol=1e-12)


def test_an_explicit_dim_and_the_top_level_softmax_do_not_warn():
    x = gpugrad.tensor(RNG.standard_normal((2, 3, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A.functional_softmax(x, 0)
        A.functional_log_softmax(x, axis=-1)
        last = gpugrad.softmax(x)                 # gpugrad's own default: the last axis
    np.testing.assert_allclose(last.numpy(), gpugrad.softmax(x, -1).numpy())
    with pytest.raises(TypeError, match="not both"):
        gpugrad.softmax(x, 0, axis=1)


# ------------------------------------------------------------------------- kthvalue

def test_kthvalue_values_indices_and_keepdim():
    x = gpugrad.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    first = O.kthvalue(x, 1)
    assert first.values.tolist() == [1.0, 0.0] and first.indices.tolist() == [1, 0]
    assert type(first).__name__ == "kthvalue"
    third = x.kthvalue(3, dim=1, keepdim=True)
    assert third.values.tolist() == [[3.0], [5.0]] and third.indices.tolist() == [[0], [1]]
    down = x.kthvalue(2, 0)
    assert down.values.tolist() == [3.0, 5.0, 4.0] and down.indices.tolist() == [0, 1, 1]
    nan = gpugrad.tensor([2.0, math.nan, 1.0]).kthvalue(3)      # NaN is the largest
    assert math.isnan(nan.values.item()) and nan.indices.item() == 1
    scalar = gpugrad.tensor(7.0).kthvalue(1)
    assert (scalar.values.item(), scalar.indices.item()) == (7.0, 0)
    assert gpugrad.tensor([4, 9, 1]).kthvalue(2).values.item() == 4


def test_kthvalue_errors():
    x = gpugrad.tensor([1.0, 2.0])
    for k in (0, 3, 1.0, True):
        with pytest.raises(ValueError, match="k must be an int from 1"):
            x.kthvalue(k)
    with pytest.raises(IndexError, match="out of range"):
        x.kthvalue(1, 1)


def test_kthvalue_gradient_goes_to_the_index():
    assert grad_of(lambda t: t.kthvalue(2).values, [4.0, 1.0, 3.0, 2.0]) == [0, 0, 0, 1]
    assert grad_of(lambda t: t.kthvalue(1, 0).values,
                   [[2.0, 0.0], [1.0, 5.0]]) == [[0, 1], [1, 0]]
    a = RNG.permutation(12).reshape(3, 4) * 0.25
    check_grads(lambda t: O.kthvalue(t, 2, 1).values, a)
    check_grads(lambda t: O.kthvalue(t, 3, 0, keepdim=True).values, a)


# ------------------------------------------------------------------------- against torch

def _torch_cases(T, F):
    return {
        "max(1)": lambda x: x.max(1),
        "max(-1, True)": lambda x: x.max(-1, True),
        "T.max(x, 0)": lambda x: T.max(x, 0),
        "min(dim=1, keepdim=True)": lambda x: x.min(dim=1, keepdim=True),
        "T.min(x, 2)": lambda x: T.min(x, 2),
        "max()": lambda x: x.max(),
        "T.max(x, other)": lambda x: T.max(x, x.flip(0)),
        "amax((0, 2))": lambda x: x.amax((0, 2)),
        "kthvalue(2)": lambda x: x.kthvalue(2),
        "kthvalue(3, 1, True)": lambda x: x.kthvalue(3, 1, True),
        "sum(dtype)": lambda x: x.sum(1, dtype=T.float64),
        "mean(dtype)": lambda x: x.mean((0, 1), dtype=T.float64),
        "prod(dtype)": lambda x: x.prod(2, dtype=T.float64),
        "cumsum(dtype)": lambda x: x.cumsum(1, dtype=T.float64),
        "softmax(dtype)": lambda x: x.softmax(1, T.float64),
        "log_softmax(dtype)": lambda x: x.log_softmax(-1, dtype=T.float64),
        "F.softmax(dtype)": lambda x: F.softmax(x, 0, dtype=T.float64),
    }


def _as_lists(result):
    if isinstance(result, tuple):
        return [_as_lists(r) for r in result]
    return (str(result.dtype).replace("torch.", ""), np.asarray(result.detach().numpy()))


@pytest.mark.parametrize("name", sorted(_torch_cases(None, None)))
def test_values_indices_and_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    a = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    if "kthvalue" not in name:           # (which of tied values kthvalue picks: unspecified)
        a[0, 1, :2] = a[0, 1, 3] = a[0, 0, 0] = 2.5         # ties along every dim
    results, weights = [], None
    for lib in (torch, gpugrad):
        F = torch.nn.functional if lib is torch else SimpleNamespace(
            softmax=A.functional_softmax)
        x = lib.tensor(a, requires_grad=True)
        out = _torch_cases(lib, F)[name](x)
        values = out[0] if isinstance(out, tuple) else out
        if weights is None:
            weights = RNG.standard_normal(tuple(values.shape))
        (values * lib.tensor(weights, dtype=values.dtype)).sum().backward()
        results.append((_as_lists(out), _as_lists(x.grad)))
    (t_out, t_grad), (g_out, g_grad) = results
    for t_part, g_part in zip(t_out if isinstance(t_out, list) else [t_out],
                              g_out if isinstance(g_out, list) else [g_out]):
        assert t_part[0] == g_part[0]
        np.testing.assert_allclose(g_part[1], t_part[1], rtol=1e-5, atol=1e-6)
    assert t_grad[0] == g_grad[0]
    np.testing.assert_allclose(g_grad[1], t_grad[1], rtol=1e-5, atol=1e-6)


def test_implicit_dim_matches_torch():
    torch = pytest.importorskip("torch")
    for shape in ((), (3,), (2, 3), (2, 3, 4), (2, 3, 4, 2)):
        a = RNG.standard_normal(shape)
        for t_fn, g_fn in ((torch.nn.functional.softmax, A.functional_softmax),
                           (torch.nn.functional.log_softmax, A.functional_log_softmax)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = t_fn(torch.tensor(a)).numpy()
                got = g_fn(gpugrad.tensor(a)).numpy()
            np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["int64", "float32", "float64", "bool"])
@pytest.mark.parametrize("call", [lambda x: x.max(0), lambda x: x.min(0),
                                  lambda x: x.kthvalue(1), lambda x: x.median(0),
                                  lambda x: gpugrad.max(x, 0, True)])
def test_zero_d_values_are_a_copy_of_the_input(dtype, call):
    """As torch's: the values of a 0-d tensor's (values, indices) are a new tensor, so
    writing into them leaves the input alone (they were the input object itself for
    integer tensors)."""
    x = gpugrad.tensor(1, dtype=dtype)
    values, indices = call(x)
    assert values is not x and values.shape == () and values.dtype == x.dtype
    assert indices.tolist() == 0
    values.copy_(gpugrad.tensor(0, dtype=dtype))
    assert x.item() == 1 and values.item() == 0


def test_zero_d_values_pass_the_gradient_through():
    x = leaf(np.array(2.5))
    for values in (x.max(0).values, x.kthvalue(1).values, x.median(0).values):
        (grad,) = gpugrad.autograd.grad(values * 3.0, x)
        assert grad.tolist() == 3.0


def test_zero_d_values_copy_matches_torch():
    torch = pytest.importorskip("torch")
    for name in ("max", "min", "median"):
        for T in (torch, gpugrad):
            x = T.tensor(3)
            values = getattr(x, name)(0).values
            values.add_(1)
            assert (x.item(), values.item()) == (3, 4), (T.__name__, name)
