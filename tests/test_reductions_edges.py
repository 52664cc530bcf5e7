"""Reductions at their edges (ops/reduce.py, extremes.py, norms.py, counting.py,
activation.py's softmax, shape.py's cat, matrix_common.py, nn normalisations): PyTorch's
empty ``dim`` (all axes) next to NumPy's ``axis=()`` (none), float16 accumulated in float32,
the NaN max's gradient, reductions over empty dimensions, dtypes of ``logsumexp`` and
``cat``, and empty batches of matrices. Hand-derived values and float64 NumPy first; PyTorch
itself where it is installed."""

import math

import numpy as np
import pytest

import gpugrad
import gpugrad.nn.functional as F

NAN = float("nan")
RNG = np.random.default_rng(23)
GRID = np.arange(6.0).reshape(2, 3)          # sum 15, mean 2.5, squares 55


def leaf(a, dtype="float32"):
    return gpugrad.tensor(np.asarray(a), dtype=dtype, requires_grad=True)


def half(a):
    return gpugrad.tensor(np.asarray(a, dtype=np.float16))


# --- PyTorch's empty dim: all axes; NumPy's axis=(): none -----------------------------------

def test_an_empty_dim_reduces_over_all_axes_as_pytorch():
    x = gpugrad.tensor(GRID)
    for empty in ((), []):
        assert x.sum(empty).item() == 15.0 and x.sum(dim=empty).item() == 15.0
        assert x.mean(dim=empty).item() == 2.5
        assert x.var(empty).item() == pytest.approx(17.5 / 5)        # sum of squared dev / 5
        assert x.std(dim=empty).item() == pytest.approx(math.sqrt(3.5))
        assert x.norm(dim=empty).item() == pytest.approx(math.sqrt(55.0))
        assert gpugrad.linalg.vector_norm(x, 1, dim=empty).item() == 15.0
        assert gpugrad.count_nonzero(x, dim=empty).item() == 5
        assert x.logsumexp(dim=empty).item() == pytest.approx(np.log(np.exp(GRID).sum()),
                                                              rel=1e-6)
    assert x.sum((), keepdim=True).shape == (1, 1)
    assert x.var(False).item() == pytest.approx(17.5 / 6)          # var(input, unbiased)
    y = leaf(GRID)
    y.mean(dim=()).backward()
    np.testing.assert_allclose(y.grad.numpy(), np.full((2, 3), 1 / 6), rtol=1e-6)


def test_numpys_axis_keyword_with_an_empty_tuple_reduces_nothing():
    x = gpugrad.tensor(GRID)
    assert x.sum(axis=()).tolist() == GRID.tolist()
    assert x.mean(axis=()).tolist() == GRID.tolist()
    assert gpugrad.sum(x, axis=(0,)).tolist() == [3.0, 5.0, 7.0]


def test_an_empty_dim_matches_torch():
    torch = pytest.importorskip("torch")
    x, t = gpugrad.tensor(GRID), torch.tensor(GRID)
    for name in ("sum", "mean", "std", "var", "norm", "count_nonzero"):
        got = getattr(x, name)(dim=())
        np.testing.assert_allclose(got.numpy(), getattr(t, name)(dim=()).numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.logsumexp((), keepdim=True).numpy(),
                               t.logsumexp((), keepdim=True).numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.var(False).numpy(), t.var(False).numpy(), rtol=1e-6)


# --- float16: statistics in float32 ---------------------------------------------------------

def test_float16_var_and_std_accumulate_in_float32():
    r = RNG.standard_normal((2, 4096)) * 5
    got = half(r).var(1)
    assert got.dtype == np.float16
    want = r.astype(np.float16).astype(np.float64).var(1, ddof=1)
    np.testing.assert_allclose(got.numpy().astype(np.float64), want, rtol=2e-3)
    assert gpugrad.arange(3000).astype("float16").std().item() == pytest.approx(866.17, rel=1e-3)
    assert (gpugrad.arange(60000) % 7).astype("float16").var().item() == pytest.approx(4.0)
    x = gpugrad.tensor(np.array([0.0, 600.0], np.float16), requires_grad=True)
    x.std().backward()                     # d/dx |x1 - x0| / sqrt(2) = -+1/sqrt(2)
    np.testing.assert_allclose(x.grad.numpy(), [-2 ** -0.5, 2 ** -0.5], rtol=1e-3)


def test_float16_normalisations_take_float32_statistics():
    assert F.batch_norm(half([[0.0], [600.0]]), None, None, training=True).tolist() == [
        [-1.0], [1.0]]
    a = np.array([[0.0, 600.0, 300.0, 1000.0]])
    z = (a - a.mean()) / np.sqrt(a.var() + 1e-5)         # float64 reference
    for got in (F.layer_norm(half(a), (4,)), F.group_norm(half(a).reshape(1, 2, 2), 1),
                F.instance_norm(half(a).reshape(1, 1, 4))):
        assert got.dtype == np.float16
        np.testing.assert_allclose(got.numpy().reshape(-1), z.reshape(-1), atol=2e-3)
    rms = F.rms_norm(half(a), (4,))
    np.testing.assert_allclose(rms.numpy()[0], a[0] / np.sqrt((a * a).mean()), atol=2e-3)
    # eps None is float32's machine epsilon, not float16's 1e-3 (which would dwarf 1e-4)
    small = F.rms_norm(half([[0.01, 0.01]]), (2,))
    np.testing.assert_allclose(small.numpy(), [[1.0, 1.0]], atol=1e-3)
    bn = gpugrad.nn.BatchNorm1d(1).half()
    bn(half([[0.0], [200.0]]))                 # squares 1e4 each: the unbiased var is 2e4
    assert bn.running_var.dtype == np.float16
    assert bn.running_var.item() == pytest.approx(0.9 + 0.1 * 20000.0, rel=1e-3)


def test_float16_normalisations_match_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[0.0, 600.0, 300.0, 1000.0]], np.float16)
    t, x = torch.tensor(a), gpugrad.tensor(a)
    tiny = (a * np.float16(1e-5)).astype(np.float16)      # mean square below float16's eps
    pairs = [(F.layer_norm(x, (4,)), torch.nn.functional.layer_norm(t, (4,))),
             (F.rms_norm(x, (4,)), torch.nn.functional.rms_norm(t, (4,))),
             (F.rms_norm(gpugrad.tensor(tiny), (4,)),
              torch.nn.functional.rms_norm(torch.tensor(tiny), (4,))),
             (F.group_norm(x.reshape(1, 2, 2), 1),
              torch.nn.functional.group_norm(t.reshape(1, 2, 2), 1)),
             (F.batch_norm(x.reshape(4, 1), None, None, training=True),
              torch.nn.functional.batch_norm(t.reshape(4, 1), None, None, training=True)),
             (x.std(), t.std()), (x.std(1), t.std(1)),
             (gpugrad.tensor(a / 4).var(1), torch.tensor(a / 4).var(1))]
    for got, want in pairs:
        assert got.dtype == np.float16
        np.testing.assert_allclose(got.numpy().astype(np.float64),
                                   want.numpy().astype(np.float64), rtol=2e-3, atol=2e-3)


def test_float16_mean_gradient_survives_large_counts():
    n = 70000
    x = gpugrad.ones(n, dtype="float16", requires_grad=True)
    x.mean().backward()
    assert x.grad.numpy()[0] == np.float16(1 / n) != 0
    x = gpugrad.ones(2, n, dtype="float16", requires_grad=True)
    x.mean(1).sum().backward()
    assert x.grad.numpy()[1, 5] == np.float16(1 / n)
    x = gpugrad.ones(3001, dtype="float16", requires_grad=True)     # 3001 is not a float16
    x.mean().backward()
    assert x.grad.numpy()[0] == np.float16(1 / 3001)


# --- NaN maxima ---------------------------------------------------------------------------

def test_the_max_of_all_elements_with_nan_sends_its_gradient_to_the_nans():
    for name in ("max", "min"):
        a = leaf([1.0, NAN, 3.0, NAN])
        out = getattr(a, name)()
        assert math.isnan(out.item())
        out.backward()
        assert a.grad.tolist() == [0.0, 0.5, 0.0, 0.5]
    a = leaf([[1.0, NAN], [3.0, 4.0]])
    with np.errstate(invalid="ignore"):             # (0/0: a NaN slice's gradient, as torch)
        a.amax(1).sum().backward()
    assert np.isnan(a.grad.numpy()[0]).all() and a.grad.tolist()[1] == [0.0, 1.0]
    m = leaf([1.0, NAN, 3.0, NAN])                 # median(): NaN, met by the NaNs too
    m.median().backward()
    assert m.grad.tolist() == [0.0, 0.5, 0.0, 0.5]
    b = leaf([1.0, 3.0, 3.0])                      # without NaN: ties share, as before
    b.max().backward()
    assert b.grad.tolist() == [0.0, 0.5, 0.5]


def test_nan_max_gradients_match_torch():
    torch = pytest.importorskip("torch")
    data = [[1.0, NAN, 2.0], [NAN, 0.0, 5.0]]
    for name in ("max", "min"):
        a, t = leaf(data), torch.tensor(data, requires_grad=True)
        getattr(a, name)().backward()
        getattr(t, name)().backward()
        np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


# --- empty dimensions -----------------------------------------------------------------------

def test_reductions_over_a_non_empty_dim_of_an_empty_tensor_are_empty():
    x = leaf(np.zeros((0, 3)))
    y = x.amax(1)
    assert y.shape == (0,) and x.amin(dim=1, keepdim=True).shape == (0, 1)
    y.sum().backward()
    assert x.grad.shape == (0, 3)
    with pytest.raises(ValueError, match="dimension 0 of size 0"):
        x.amax(0)
    with pytest.raises(ValueError, match="empty tensor"):
        x.max()


def test_logsumexp_and_softmax_of_empty_tensors():
    x = leaf(np.zeros((0, 3)))
    assert x.logsumexp(0).tolist() == [-math.inf] * 3      # log(sum of nothing)
    assert x.logsumexp(0, keepdim=True).shape == (1, 3) and x.logsumexp(1).shape == (0,)
    assert gpugrad.zeros(0).logsumexp(0).item() == -math.inf
    x.logsumexp(0).sum().backward()
    assert x.grad.shape == (0, 3)
    for fn in (gpugrad.softmax, gpugrad.log_softmax):
        x = leaf(np.zeros((0, 3)))
        out = fn(x, 0)
        assert out.shape == (0, 3) and out.dtype == np.float32
        out.sum().backward()
        assert x.grad.shape == (0, 3)


def test_empty_reductions_match_torch():
    torch = pytest.importorskip("torch")
    x, t = gpugrad.zeros(0, 3), torch.zeros(0, 3)
    assert x.amax(1).shape == tuple(t.amax(1).shape)
    np.testing.assert_array_equal(x.logsumexp(0).numpy(), t.logsumexp(0).numpy())
    assert tuple(gpugrad.softmax(x, 0).shape) == tuple(torch.softmax(t, 0).shape)


# --- dtypes ---------------------------------------------------------------------------------

def test_logsumexp_of_integers_gives_the_default_float_dtype():
    out = gpugrad.tensor([2, 3]).logsumexp(0)
    assert out.dtype == np.float32
    assert out.item() == pytest.approx(3 + math.log1p(math.exp(-1)), rel=1e-6)
    assert gpugrad.tensor([True, False]).logsumexp(0).dtype == np.float32


def test_cat_and_stack_promote_as_pytorch():
    real = leaf([1.0, 2.0], "float64")
    joined = gpugrad.cat([real, gpugrad.tensor([1 + 2j], dtype="complex128")])
    assert joined.dtype == np.complex128 and joined.tolist() == [1, 2, 1 + 2j]
    joined.real.sum().backward()
    assert real.grad.tolist() == [1.0, 1.0]
    mixed = gpugrad.cat([gpugrad.tensor([1.0], dtype="float64"),
                         gpugrad.tensor([2j], dtype="complex64")])
    assert mixed.dtype == np.complex128                     # float64 keeps its width
    assert gpugrad.stack([gpugrad.tensor([1, 2]), half([1.5, 2.0])]).dtype == np.float16
    assert gpugrad.cat([gpugrad.tensor([1], dtype="uint8"),
                        gpugrad.tensor([-1], dtype="int8")]).dtype == np.int16
    assert gpugrad.cat([gpugrad.tensor([True]), gpugrad.tensor([3], dtype="uint8")]).dtype \
        == np.uint8


def test_cat_dtypes_match_torch():
    torch = pytest.importorskip("torch")
    kinds = ["bool", "uint8", "int8", "int64", "float16", "float32", "float64", "complex64",
             "complex128"]
    for a in kinds:
        for b in kinds:
            got = gpugrad.cat([gpugrad.zeros(1, dtype=a), gpugrad.zeros(1, dtype=b)]).dtype
            want = torch.cat([torch.zeros(1, dtype=getattr(torch, a)),
                              torch.zeros(1, dtype=getattr(torch, b))]).dtype
            assert str(got) == str(want).replace("torch.", ""), (a, b)


# --- empty batches of matrices --------------------------------------------------------------

def test_decompositions_of_an_empty_batch_of_matrices():
    for batch in ((0,), (2, 0)):
        a = gpugrad.zeros(*batch, 3, 3, dtype="float64")
        values, vectors = gpugrad.linalg.eigh(a)
        assert values.shape == batch + (3,) and vectors.shape == batch + (3, 3)
        u, s, vh = gpugrad.linalg.svd(a)
        assert u.shape == batch + (3, 3) and s.shape == batch + (3,)
        assert gpugrad.linalg.eigvalsh(a).shape == batch + (3,)


def test_squares_of_bools_nanmeans_of_float16_and_empty_medians_and_lus():
    assert gpugrad.square(gpugrad.tensor([True, False])).tolist() == [1, 0]
    assert gpugrad.square(gpugrad.tensor([True])).dtype == np.int64
    x = gpugrad.ones(70000, dtype="float16", requires_grad=True)
    x.nanmean().backward()                   # 1 / 70000 is a float16 subnormal, not 0
    assert x.grad[0].item() == pytest.approx(np.float16(1 / 70000), rel=1e-3)
    assert np.isnan(gpugrad.zeros(0).median().item())
    with pytest.raises(ValueError, match="empty integer tensor"):
        gpugrad.zeros(0, dtype="int64").median()
    lu, pivots = gpugrad.linalg.lu_factor(gpugrad.zeros(0, 3, 3))
    assert lu.shape == (0, 3, 3) and pivots.shape == (0, 3)


# --- amax/amin over all dims with NaN: NaN gradient everywhere, as torch.amax ---------------

@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")   # (0 / 0: NaN)
def test_amax_over_all_dims_with_nan_gives_a_nan_gradient_everywhere(name):
    for call in (lambda x: getattr(x, name)(), lambda x: getattr(gpugrad, name)(x, dim=()),
                 lambda x: getattr(gpugrad, name)(x, (0,))):
        a = leaf([1.0, NAN, 3.0, NAN])
        call(a).backward()
        assert np.isnan(a.grad.numpy()).all()
    z = leaf(NAN)                                   # a 0-d NaN
    getattr(z, name)().backward()
    assert np.isnan(z.grad.item())
    b = leaf([1.0, 3.0, 3.0] if name == "amax" else [3.0, 1.0, 1.0])   # ties still share
    getattr(b, name)().backward()
    assert b.grad.tolist() == [0.0, 0.5, 0.5]
    rows = gpugrad.func.vmap(gpugrad.func.grad(getattr(gpugrad, name)))(
        gpugrad.tensor([[1.0, NAN], [1.0, 2.0]]))
    expected = [[NAN, NAN], [0.0, 1.0] if name == "amax" else [1.0, 0.0]]
    np.testing.assert_array_equal(rows.numpy(), expected)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")   # (0 / 0: NaN)
def test_amax_nan_gradients_match_torch():
    torch = pytest.importorskip("torch")
    for data in ([1.0, NAN, 3.0, NAN], [[1.0, NAN, 2.0], [4.0, 0.0, 5.0]], NAN):
        for name in ("amax", "amin"):
            a, t = leaf(data), torch.tensor(data, requires_grad=True)
            getattr(a, name)().backward()
            getattr(t, name)().backward()
            np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


# --- errors of empty reductions: torch's exception types ------------------------------------

def test_empty_max_errors_are_torchs_types():
    x = gpugrad.zeros(0, 3)
    for call in (lambda: x.max(), lambda: x.amax(), lambda: gpugrad.amin(x)):
        with pytest.raises(RuntimeError, match="empty tensor"):       # (a ValueError too)
            call()
    for call in (lambda: x.amax(0), lambda: x.min(axis=0), lambda: x.max(0)):
        with pytest.raises(IndexError, match="dimension 0"):
            call()
    with pytest.raises(ValueError):
        x.amax((0, 1))


def test_empty_max_error_types_match_torch():
    torch = pytest.importorskip("torch")
    x, t = gpugrad.zeros(0, 3), torch.zeros(0, 3)
    for call, error in ((lambda m: m.amax(), RuntimeError), (lambda m: m.max(), RuntimeError),
                        (lambda m: m.amax(0), IndexError), (lambda m: m.amin((0, 1)), IndexError)):
        for m in (x, t):
            with pytest.raises(error):
                call(m)


def test_empty_reductions_values_match_torch():
    torch = pytest.importorskip("torch")
    data = np.zeros((0, 3))
    for name, args in (("sum", (0,)), ("mean", (1,)), ("amax", (1,)), ("logsumexp", (0,)),
                       ("prod", (0,)), ("nansum", (0,)), ("amin", (1, True))):
        ours = getattr(gpugrad.tensor(data), name)(*args)
        theirs = getattr(torch.tensor(data), name)(*args)
        assert tuple(ours.shape) == tuple(theirs.shape), name
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# --- cat with PyTorch's legacy empty 1-d tensor ---------------------------------------------

def test_cat_skips_a_legacy_empty_1d_tensor():
    x = leaf(GRID)
    e = gpugrad.tensor([], requires_grad=True)
    out = gpugrad.cat([e, x, gpugrad.tensor([])])
    assert out.tolist() == GRID.tolist() and out.dtype == np.float32
    out.sum().backward()
    assert x.grad.tolist() == np.ones((2, 3)).tolist()
    assert gpugrad.cat([gpugrad.tensor([]), x], 1).shape == (2, 3)
    # its dtype still counts, as torch's (float64 empty: a float64 result)
    assert gpugrad.cat([x, gpugrad.tensor([], dtype="float64")]).dtype == np.float64
    assert gpugrad.cat([gpugrad.ones(2, 3, dtype="int32"), gpugrad.tensor([])]).dtype == \
        np.float32
    # the accumulation pattern
    acc = gpugrad.tensor([])
    for _ in range(3):
        acc = gpugrad.cat([acc, gpugrad.ones(1, 2)])
    assert acc.shape == (3, 2)
    # 1-d tensors concatenate as before; other shape mismatches still refuse
    assert gpugrad.cat([gpugrad.tensor([]), gpugrad.tensor([1.0, 2.0])]).tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="differ outside that axis"):
        gpugrad.cat([gpugrad.ones(2, 3), gpugrad.ones(2, 2)])


def test_cat_legacy_empty_matches_torch():
    torch = pytest.importorskip("torch")
    cases = [([(2, 3), (0,)], 0, ["float32", "float64"]), ([(0,), (2, 3)], 1, ["int64", "float32"]),
             ([(0,), (4,), (0,)], 0, ["float32"] * 3), ([(0,), (1, 2), (0,)], 0, ["int32"] * 3)]
    for shapes, dim, names in cases:
        arrays = [np.ones(s, dtype=n) for s, n in zip(shapes, names)]
        ours = gpugrad.cat([gpugrad.tensor(a) for a in arrays], dim)
        theirs = torch.cat([torch.tensor(a) for a in arrays], dim)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")


# --- matrix norms of complex matrices -------------------------------------------------------

CM = np.array([[1 + 1j, 2, 0.5j], [0, 1j, 3 - 2j]])


def _fd_complex_grad(f, a, eps=1e-6):
    """dL/dRe + i dL/dIm (torch's convention) by central differences, float64."""
    grad = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        for unit in (1, 1j):
            up, down = a.copy(), a.copy()
            up[idx] += eps * unit
            down[idx] -= eps * unit
            grad[idx] += unit * (f(up) - f(down)) / (2 * eps)
    return grad


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
def test_complex_matrix_norms_against_numpy_and_finite_differences(ord):
    def value(a):
        return gpugrad.linalg.matrix_norm(gpugrad.tensor(a), ord).item()
    A = gpugrad.tensor(CM, requires_grad=True)
    out = gpugrad.linalg.matrix_norm(A, ord)
    assert out.dtype == np.float64 and out.shape == ()
    np.testing.assert_allclose(out.item(), np.linalg.norm(CM, ord), rtol=1e-12)
    out.backward()
    np.testing.assert_allclose(A.grad.numpy(), _fd_complex_grad(value, CM), atol=1e-7)


def test_complex_matrix_norms_by_hand():
    D = gpugrad.tensor([[3 + 4j, 0], [0, 1j]], requires_grad=True)   # singular values 5, 1
    assert gpugrad.linalg.matrix_norm(D, "nuc").item() == pytest.approx(6.0)
    gpugrad.linalg.matrix_norm(D, 2).backward()                       # d|z|: z / |z|
    np.testing.assert_allclose(D.grad.numpy(), [[0.6 + 0.8j, 0], [0, 0]], atol=1e-6)
    D.grad = None
    gpugrad.linalg.norm(D, -2).backward()
    np.testing.assert_allclose(D.grad.numpy(), [[0, 0], [0, 1j]], atol=1e-6)
    fro = gpugrad.linalg.norm(gpugrad.tensor(CM, dtype="complex64"), "fro")
    assert fro.dtype == np.float32 and fro.item() == pytest.approx(4.5)    # sqrt(20.25)
    batch = gpugrad.tensor(np.stack([CM, 2 * CM]))
    np.testing.assert_allclose(gpugrad.linalg.matrix_norm(batch, "nuc", keepdim=True).numpy(),
                               np.linalg.norm(np.stack([CM, 2 * CM]), "nuc", (-2, -1),
                                              keepdims=True), rtol=1e-12)
    with pytest.raises(TypeError, match="float or complex"):
        gpugrad.linalg.matrix_norm(gpugrad.ones(2, 2, dtype="int64"))


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
def test_complex_matrix_norms_match_torch(ord):
    torch = pytest.importorskip("torch")
    A = gpugrad.tensor(CM, requires_grad=True)
    t = torch.tensor(CM, requires_grad=True)
    ours, theirs = gpugrad.linalg.matrix_norm(A, ord), torch.linalg.matrix_norm(t, ord)
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    np.testing.assert_allclose(A.grad.numpy(), t.grad.numpy(), atol=1e-12)
