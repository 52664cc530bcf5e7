"""The element-wise math of ops/trigonometric.py, pointwise.py, pointwise_binary.py and
nonfinite.py beyond the op table (tests/op_specs_pointwise.py): dtypes as PyTorch's, Python
numbers as operands, values and gradients at the kinks (by hand and against torch where it is
installed), the composites (gradcheck, gradgradcheck), in-place methods and errors."""

import math
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad.autograd import grad as autograd_grad
from gpugrad.autograd import gradcheck, gradgradcheck
from gpugrad.func import vmap
from gpugrad.ops import nonfinite as NF
from gpugrad.ops import pointwise as P
from gpugrad.ops import trigonometric as T

INF, NAN = math.inf, math.nan


def t64(values, requires_grad=False):
    return gpugrad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def value_and_grads(fn, *arrays):
    """fn's output and the gradients of sum(out * weights) for float64 inputs (quietly: NaN
    and inf are expected at the kinks)."""
    inputs = [t64(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = fn(*inputs)
        weights = gpugrad.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)))
        grads = autograd_grad((out * weights).sum(), inputs, allow_unused=True)
    return out.numpy(), [None if g is None else g.numpy() for g in grads]


# ---------------------------------------------------------------------------------------------
# dtypes and Python-number operands
# ---------------------------------------------------------------------------------------------

FLOAT_RESULTS = [T.sin, T.cos, T.tan, T.atan, T.asinh, T.sinh, T.deg2rad, T.rad2deg, P.exp2,
                 P.reciprocal, P.rsqrt, P.log2, P.log10, P.sinc, P.logit]


@pytest.mark.parametrize("fn", FLOAT_RESULTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_integer_and_bool_inputs_give_float32(fn, dtype):
    x = gpugrad.tensor(np.array([1, 2, 1]).astype(dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # logit(1) = inf
        out = fn(x)
        expected = fn(x.astype("float32")).numpy()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), expected)


@pytest.mark.parametrize("fn", FLOAT_RESULTS + [P.floor, P.round, P.frac, P.trunc],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_float_dtypes_are_kept(fn, dtype):
    x = gpugrad.tensor(np.array([0.25, 0.5, 0.75], dtype=dtype))
    assert fn(x).dtype == np.dtype(dtype)


@pytest.mark.parametrize("fn", [P.floor, P.ceil, P.round, P.trunc, P.fix, NF.nan_to_num])
def test_integer_inputs_keep_their_dtype_and_values(fn):
    x = gpugrad.tensor(np.array([-3, 0, 7], dtype=np.int32))
    out = fn(x)
    assert out.dtype == np.int32 and out.tolist() == [-3, 0, 7]


@pytest.mark.parametrize("fn,name", [(P.floor, "floor"), (P.ceil, "ceil"), (P.round, "round"),
                                     (P.trunc, "trunc"), (P.frac, "frac")])
def test_rounding_refuses_bool_and_frac_refuses_integers(fn, name):
    with pytest.raises(TypeError, match=f"{name}.*bool"):
        fn(gpugrad.tensor([True, False]))
    if name == "frac":
        with pytest.raises(TypeError, match="frac.*int64.*float"):
            fn(gpugrad.tensor([1, 2]))
    with pytest.raises(TypeError, match="round.*decimals=1.*int64"):
        P.round(gpugrad.tensor([1, 2]), decimals=1)


def test_two_input_dtypes_follow_torch():
    i, f16 = gpugrad.tensor([5, -5]), gpugrad.tensor([1.5, 2.5], dtype="float16")
    assert T.atan2(i, i).dtype == np.float32
    assert P.copysign(i, i).dtype == np.float32 and P.xlogy(i, i.abs()).dtype == np.float32
    assert P.fmod(i, 3).dtype == np.int64 and P.fmod(i, 3).tolist() == [2, -2]
    assert P.remainder(i, 3).dtype == np.int64 and P.remainder(i, 3).tolist() == [2, 1]
    assert P.fmod(i, 3.0).dtype == np.float32 and P.remainder(i, 3.0).tolist() == [2.0, 1.0]
    assert P.fmod(f16, 1).dtype == np.float16 and T.atan2(f16, 2.0).dtype == np.float16
    assert T.hypot(f16, gpugrad.tensor(4.0, dtype="float64")).dtype == np.float16   # 0-d
    with pytest.raises(TypeError, match="fmod.*bool"):
        P.fmod(gpugrad.tensor([True]), gpugrad.tensor([True]))


def test_python_numbers_as_operands():
    x = gpugrad.tensor([1.0, -3.0], dtype="float64")
    np.testing.assert_allclose(T.atan2(x, 2.0).numpy(), np.arctan2([1.0, -3.0], 2.0))
    np.testing.assert_allclose(T.hypot(x, 4).numpy(), np.hypot([1.0, -3.0], 4.0))
    assert P.fmod(x, 3).tolist() == [1.0, 0.0]
    assert P.remainder(x, 2).tolist() == [1.0, 1.0]
    assert P.remainder(7, gpugrad.tensor([3.0, -3.0])).tolist() == [1.0, -2.0]
    np.testing.assert_allclose(P.logaddexp(x, 0.0).numpy(), np.logaddexp([1.0, -3.0], 0.0))
    np.testing.assert_allclose(P.xlogy(x, 3.0).numpy(), np.array([1.0, -3.0]) * np.log(3.0))
    assert P.copysign(x, -0.0).tolist() == [-1.0, -3.0]
    with pytest.raises(TypeError, match="atan2: expected at least one tensor"):
        T.atan2(1.0, 2.0)


def test_broadcast_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"Atan2.*\(2, 3\).*\(4,\)"):
        T.atan2(gpugrad.ones(2, 3), gpugrad.ones(4))


# ---------------------------------------------------------------------------------------------
# values and gradients at the kinks, by hand
# ---------------------------------------------------------------------------------------------

def test_rounding_has_zero_gradient_and_frac_gradient_one():
    values = [-2.0, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5]
    for fn in (P.floor, P.ceil, P.trunc, P.round):
        _, (g,) = value_and_grads(fn, values)
        np.testing.assert_array_equal(g, 0.0)
    out, (g,) = value_and_grads(P.frac, values)
    np.testing.assert_array_equal(out, [-0.0, -0.5, -0.5, 0.0, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(g, np.arange(1.0, 8.0))


def test_round_halves_to_even_and_decimals_as_torch():
    assert P.round(t64([0.5, 1.5, 2.5, -0.5, -2.5])).tolist() == [0.0, 2.0, 2.0, -0.0, -2.0]
    np.testing.assert_allclose(P.round(t64([1.234, -5.678, 0.05]), decimals=2).numpy(),
                               [1.23, -5.68, 0.05])
    assert P.round(t64([1250.0, 1350.0, -149.0]), decimals=-2).tolist() == [1200.0, 1400.0,
                                                                             -100.0]


def test_fmod_and_remainder_signs_and_gradients():
    a, b = [-3.0, 3.0, 5.5, -5.5], [2.0, -2.0, 2.0, 2.0]
    out, (ga, gb) = value_and_grads(P.fmod, a, b)
    np.testing.assert_array_equal(out, [-1.0, 1.0, 1.5, -1.5])
    np.testing.assert_array_equal(ga, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(gb, -np.trunc(np.divide(a, b)) * [1.0, 2.0, 3.0, 4.0])
    out, (ga, gb) = value_and_grads(P.remainder, a, b)
    np.testing.assert_array_equal(out, [1.0, -1.0, 1.5, 0.5])
    np.testing.assert_array_equal(gb, -np.floor(np.divide(a, b)) * [1.0, 2.0, 3.0, 4.0])


def test_xlogy_is_zero_where_x_is_zero():
    out, (gx, gy) = value_and_grads(P.xlogy, [0.0, 0.0, 0.0, 2.0], [0.0, NAN, 1.0, 0.0])
    np.testing.assert_array_equal(out, [0.0, NAN, 0.0, -INF])
    np.testing.assert_array_equal(gx, [0.0, NAN, 0.0, -INF])     # xlogy(x != 0, y)
    np.testing.assert_array_equal(gy, [NAN, NAN, 0.0, INF])       # x / y


def test_logit_gradients_inside_and_outside():
    x = [-0.1, 0.0, 0.1, 0.2, 0.5, 0.8, 1.0, 1.5]
    out, (g,) = value_and_grads(lambda t: P.logit(t, eps=0.2), x)
    np.testing.assert_allclose(out, np.log(np.clip(x, 0.2, 0.8) / (1 - np.clip(x, 0.2, 0.8))))
    inside = np.array([0, 0, 0, 1, 1, 1, 0, 0], dtype=bool)
    slope = np.where(inside, 1.0 / np.where(inside, np.multiply(x, np.subtract(1.0, x)), 1.0), 0)
    np.testing.assert_allclose(g, slope * np.arange(1.0, 9.0))
    _, (g,) = value_and_grads(P.logit, x)
    assert np.isnan(g[0]) and np.isnan(g[-1]) and g[1] == INF and g[6] == INF


def test_sinc_copysign_hypot_atan2_at_zero():
    out, (g,) = value_and_grads(P.sinc, [0.0, 1.0])
    np.testing.assert_allclose(out, [1.0, 0.0], atol=1e-16)
    np.testing.assert_allclose(g, [0.0, -2.0])                  # d sinc(1) = -1
    out, (ga, gb) = value_and_grads(P.copysign, [0.0, -0.0, 2.0], [-1.0, 1.0, -0.0])
    assert np.signbit(out).tolist() == [True, False, True]
    np.testing.assert_array_equal(ga, [0.0, 0.0, -3.0])
    np.testing.assert_array_equal(gb, 0.0)
    _, (ga, gb) = value_and_grads(T.hypot, [0.0], [0.0])
    assert np.isnan(ga).all() and np.isnan(gb).all()            # a / out, as torch's


def test_nan_to_num_defaults_per_dtype_and_gradient():
    for dtype in ("float16", "float32", "float64"):
        x = gpugrad.tensor(np.array([NAN, INF, -INF, 1.5], dtype=dtype))
        info = np.finfo(dtype)
        assert NF.nan_to_num(x).tolist() == [0.0, float(info.max), float(info.min), 1.5]
        assert NF.nan_to_num(x).dtype == np.dtype(dtype)
    out, (g,) = value_and_grads(lambda t: t.nan_to_num(nan=1.0, posinf=2.0, neginf=-2.0),
                                [NAN, INF, -INF, 1.5])
    np.testing.assert_array_equal(out, [1.0, 2.0, -2.0, 1.5])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 4.0])


def test_isinf_family_is_not_differentiable_and_works_in_vmap():
    x = gpugrad.tensor([INF, -INF, NAN, 1.0], requires_grad=True)
    for fn, expected in ((NF.isinf, [True, True, False, False]),
                         (NF.isposinf, [True, False, False, False]),
                         (NF.isneginf, [False, True, False, False])):
        out = fn(x)
        assert out.dtype == np.bool_ and out.tolist() == expected and not out.requires_grad
    assert NF.isinf(gpugrad.tensor([1, 2])).tolist() == [False, False]
    batch = gpugrad.tensor([[INF, 1.0], [2.0, -INF]])
    assert vmap(NF.isposinf)(batch).tolist() == [[True, False], [False, False]]
    assert vmap(lambda r: r.isneginf())(batch).tolist() == [[False, False], [False, True]]


def test_sgn_is_sign_for_real_tensors():
    assert P.sgn(gpugrad.tensor([-2.0, -0.0, 0.0, 3.0])).tolist() == [-1.0, 0.0, 0.0, 1.0]
    assert gpugrad.tensor([-2, 5]).sgn().tolist() == [-1, 1]


# ---------------------------------------------------------------------------------------------
# composites: deg2rad, rad2deg, lerp, clamp_min, clamp_max
# ---------------------------------------------------------------------------------------------

def test_deg2rad_and_rad2deg():
    np.testing.assert_allclose(T.deg2rad(t64([180.0, -45.0])).numpy(), [math.pi, -math.pi / 4])
    np.testing.assert_allclose(T.rad2deg(T.deg2rad(t64([12.5]))).numpy(), [12.5])
    assert T.deg2rad(gpugrad.tensor([90])).dtype == np.float32
    x = t64([1.0, -2.0], requires_grad=True)
    assert gradcheck(T.deg2rad, (x,)) and gradcheck(T.rad2deg, (x,))


@pytest.mark.parametrize("weight", [0.0, 0.25, 0.5, 1.0, 2.0, -1.0])
def test_lerp_scalar_weight_values_and_gradients(weight):
    a, b = t64([1.0, -2.0, 3.0], True), t64([4.0, 0.5, -1.0], True)
    np.testing.assert_allclose(P.lerp(a, b, weight).numpy(),
                               a.numpy() + weight * (b.numpy() - a.numpy()))
    assert P.lerp(a, b, 1.0).tolist() == b.tolist()             # exact at the far end
    assert gradcheck(lambda a, b: P.lerp(a, b, weight), (a, b))
    _, (ga, gb) = value_and_grads(lambda a, b: a.lerp(b, weight), a.numpy(), b.numpy())
    np.testing.assert_allclose(ga, (1 - weight) * np.arange(1.0, 4.0))
    np.testing.assert_allclose(gb, weight * np.arange(1.0, 4.0))


def test_lerp_tensor_weight_broadcasts_and_differentiates_twice():
    a, b = t64([[1.0], [-2.0]], True), t64([4.0, 0.5, -1.0], True)
    w = t64([[0.1, 0.7, -0.3], [1.2, 0.45, 0.9]], True)
    expected = a.numpy() + w.numpy() * (b.numpy() - a.numpy())
    np.testing.assert_allclose(P.lerp(a, b, w).numpy(), expected)
    assert gradcheck(P.lerp, (a, b, w)) and gradgradcheck(P.lerp, (a, b, w))


def test_lerp_refuses_mixed_dtypes_and_integers():
    a = gpugrad.ones(2)
    with pytest.raises(TypeError, match="lerp: expected dtype float32 for `end`"):
        P.lerp(a, gpugrad.ones(2, dtype="float64"), 0.5)
    with pytest.raises(TypeError, match="lerp: expected dtype float32 for `weight`"):
        P.lerp(a, a, gpugrad.tensor(0.5, dtype="float64"))
    with pytest.raises(TypeError, match="lerp is defined for float tensors"):
        P.lerp(gpugrad.tensor([1, 2]), gpugrad.tensor([3, 4]), 0.5)


def test_clamp_min_and_clamp_max():
    x = t64([-1.0, 0.5, 2.0], True)
    assert P.clamp_min(x, 0.5).tolist() == [0.5, 0.5, 2.0]
    assert x.clamp_max(0.5).tolist() == [-1.0, 0.5, 0.5]
    _, (g,) = value_and_grads(lambda t: P.clamp_min(t, 0.5), x.numpy())
    np.testing.assert_array_equal(g, [0.0, 2.0, 3.0])            # boundary included
    assert P.clamp_min(gpugrad.tensor([0, 2]), 0.5).dtype == np.float32     # as torch's
    assert P.clamp_max(gpugrad.tensor([0, 2]), 1).tolist() == [0, 1]
    with pytest.raises(TypeError, match="clamp_min: the bound must be a number or a tensor"):
        P.clamp_min(x, "0")


@pytest.mark.parametrize("fn,low,high", [
    (T.tan, -1.0, 1.0), (T.asin, -0.7, 0.7), (T.acosh, 1.3, 3.0), (T.atanh, -0.7, 0.7),
    (P.sinc, 0.2, 2.3), (P.rsqrt, 0.3, 2.0), (P.logit, 0.2, 0.8), (P.exp2, -2.0, 2.0)])
def test_second_order(fn, low, high):
    x = t64(np.linspace(low, high, 4), True)
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("fn", [P.xlogy, P.copysign, T.atan2, T.hypot, P.logaddexp2])
def test_two_input_second_order(fn):
    a, b = t64([0.3, -1.2, 2.0], True), t64([[0.7], [1.9]], True)
    assert gradgradcheck(fn, (a, b.abs().detach().requires_grad_()))


# ---------------------------------------------------------------------------------------------
# Tensor methods and in-place variants
# ---------------------------------------------------------------------------------------------

def test_tensor_methods_exist():
    for name in T.__all__ + P.__all__:
        assert callable(getattr(gpugrad.Tensor, name)), name
    x = gpugrad.tensor([0.5])
    assert x.arcsin().tolist() == T.asin(x).tolist()
    assert x.fix().tolist() == [0.0] and x.exp2().item() == np.float32(2 ** 0.5)


def test_in_place_variants():
    x = gpugrad.tensor([1.5, -1.5])
    assert x.floor_() is x and x.tolist() == [1.0, -2.0]
    x.clamp_min_(0.0)
    assert x.tolist() == [1.0, 0.0]
    y = gpugrad.tensor([NAN, 2.0])
    assert y.nan_to_num_(nan=-1.0).tolist() == [-1.0, 2.0]
    assert y.arcsin_ is not None and gpugrad.Tensor.fix_.__name__ == "fix_"
    w = gpugrad.tensor([0.0, np.pi / 2], dtype="float64")
    assert w.sin_() is w and w.tolist() == [0.0, 1.0]
    with pytest.raises(TypeError):                  # float results do not fit an int tensor
        gpugrad.tensor([1, 2]).sin_()
    leaf = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    z = leaf * 1.0
    z.round_(decimals=0)
    z.sum().backward()
    assert leaf.grad.tolist() == [0.0, 0.0]


# ---------------------------------------------------------------------------------------------
# against torch, where installed: values and gradients at kinks, infinities and NaN
# ---------------------------------------------------------------------------------------------

STEPS = [-2.0, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.5, 3.0, 0.7, -2.3]
TORCH_UNARY = [
    ("sin", STEPS), ("cos", STEPS), ("tan", STEPS), ("asin", [-1.0, -0.5, 0.0, 1.0, 1.5]),
    ("acos", [-1.0, 0.0, 0.5, 1.0]), ("atan", STEPS), ("sinh", STEPS), ("cosh", STEPS),
    ("asinh", STEPS), ("acosh", [1.0, 1.5, 3.0, 0.5]), ("atanh", [-1.0, 0.0, 0.5, 1.0, 2.0]),
    ("deg2rad", STEPS), ("rad2deg", STEPS), ("floor", STEPS), ("ceil", STEPS),
    ("round", STEPS), ("trunc", STEPS), ("frac", STEPS), ("fix", STEPS),
    ("reciprocal", [0.0, -0.0, 2.0, -0.5]), ("rsqrt", [0.0, 0.25, 4.0, -1.0]),
    ("log2", [0.0, 0.5, 8.0, -1.0]), ("log10", [0.0, 0.5, 100.0, -1.0]), ("exp2", STEPS),
    ("sinc", [0.0, 0.5, -1.0, 2.5, 1e-3]), ("logit", [0.0, 1.0, -0.1, 0.3, 1.2]),
    ("nan_to_num", [NAN, INF, -INF, 2.0]),
]
TORCH_KWARGS = [
    ("round", dict(decimals=1), [0.25, 0.35, -0.15, 1.05, 2.675]),
    ("round", dict(decimals=-1), [15.0, 25.0, -35.0, 4.0]),
    ("logit", dict(eps=0.2), [0.1, 0.2, 0.5, 0.8, 0.9, -1.0]),
    ("nan_to_num", dict(nan=1.0, posinf=5.0), [NAN, INF, -INF, 2.0]),
    ("clamp_min", dict(min=0.5), [0.0, 0.5, 1.0]), ("clamp_max", dict(max=0.5), [0.0, 0.5, 1.0]),
]
TORCH_BINARY = [
    ("atan2", [0.0, 1.0, -1.0, 0.0, -0.0], [0.0, -1.0, -1.0, 1.0, -1.0]),
    ("hypot", [0.0, 3.0, -1e200], [0.0, 4.0, 1e200]),
    ("logaddexp", [-INF, 0.0, 1000.0, -5.0], [-INF, 0.0, 1000.0, 3.0]),
    ("logaddexp2", [-INF, 0.0, 1000.0, -5.0], [-INF, 0.0, 1000.0, 3.0]),
    ("fmod", [-3.0, 3.0, 5.5, -5.5, 4.0, 1.0], [2.0, -2.0, 2.0, 2.0, 2.0, 0.0]),
    ("remainder", [-3.0, 3.0, 5.5, -5.5, 4.0, 1.0], [2.0, -2.0, 2.0, -2.0, 2.0, 0.0]),
    ("xlogy", [0.0, 0.0, 0.0, 2.0, 1.5], [0.0, NAN, 1.0, 0.0, 3.0]),
    ("copysign", [0.0, -0.0, 2.0, -3.0], [-1.0, 1.0, -0.0, 0.0]),
    ("lerp", [1.0, -2.0, 3.0], [4.0, 0.5, -1.0]),
]


def _gpugrad_function(name):
    for module in (T, P):
        if name in module.__all__:
            return getattr(module, name)
    raise KeyError(name)


def _torch_results(torch, fn, *arrays):
    inputs = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
              for a in arrays]
    out = fn(*inputs)
    weights = torch.arange(1.0, out.numel() + 1, dtype=torch.float64).reshape(out.shape)
    grads = torch.autograd.grad((out * weights).sum(), inputs, allow_unused=True)
    return out.detach().numpy(), [None if g is None else g.numpy() for g in grads]


def _assert_same(name, ours, theirs):
    """Equal values and gradients, NaN where torch's are; near-equal where both cancel
    (sinc near 0: the two derivative formulas round differently)."""
    (out, grads), (t_out, t_grads) = ours, theirs
    rtol = 1e-9 if name == "sinc" else 1e-12
    np.testing.assert_allclose(out, t_out, rtol=rtol, atol=1e-300, err_msg=f"{name} value")
    for i, (g, tg) in enumerate(zip(grads, t_grads)):
        tg = np.zeros_like(out) if tg is None else tg
        g = np.zeros_like(tg) if g is None else g
        np.testing.assert_allclose(g, tg, rtol=rtol, atol=1e-300,
                                   err_msg=f"{name} gradient of input {i}")


@pytest.mark.parametrize("name,values", TORCH_UNARY, ids=[c[0] for c in TORCH_UNARY])
def test_unary_against_torch(name, values):
    torch = pytest.importorskip("torch")
    ours = value_and_grads(_gpugrad_function(name), values)
    _assert_same(name, ours, _torch_results(torch, getattr(torch, name), values))


@pytest.mark.parametrize("name,kwargs,values", TORCH_KWARGS,
                         ids=[f"{c[0]}-{c[1]}" for c in TORCH_KWARGS])
def test_keyword_forms_against_torch(name, kwargs, values):
    torch = pytest.importorskip("torch")
    ours = value_and_grads(lambda x: _gpugrad_function(name)(x, **kwargs), values)
    theirs = _torch_results(torch, lambda x: getattr(torch, name)(x, **kwargs), values)
    _assert_same(name, ours, theirs)


@pytest.mark.parametrize("name,a,b", TORCH_BINARY, ids=[c[0] for c in TORCH_BINARY])
def test_binary_against_torch(name, a, b):
    torch = pytest.importorskip("torch")
    extra = (0.3,) if name == "lerp" else ()
    ours = value_and_grads(lambda x, y: _gpugrad_function(name)(x, y, *extra), a, b)
    theirs = _torch_results(torch, lambda x, y: getattr(torch, name)(x, y, *extra), a, b)
    _assert_same(name, ours, theirs)


@pytest.mark.parametrize("dtype", ["float16", "float32", "int64", "int32"])
@pytest.mark.parametrize("name", ["sin", "atanh", "floor", "round", "reciprocal", "exp2",
                                  "nan_to_num", "deg2rad", "sinc"])
def test_result_dtypes_against_torch(name, dtype):
    torch = pytest.importorskip("torch")
    values = np.array([0, 1, 0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours = _gpugrad_function(name)(gpugrad.tensor(values))
    theirs = getattr(torch, name)(torch.from_numpy(values))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy().astype(np.float64),
                               theirs.numpy().astype(np.float64), rtol=1e-3)


def test_xlogy_rules_are_pytorchs():
    """d/dx applied to g is g log(y) (also where x == 0), 0 where x == 0 and y <= 0 and
    where g is 0 (no 0 * log(-1) = NaN); d/dy = x / y. By hand."""
    from gpugrad.ops.pointwise import xlogy
    x = gpugrad.tensor([0.0, 0.5], dtype="float64", requires_grad=True)
    y = gpugrad.tensor([0.2, 0.8], dtype="float64", requires_grad=True)
    xlogy(x, y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.log([0.2, 0.8]), rtol=1e-15)
    np.testing.assert_allclose(y.grad.numpy(), [0.0, 0.625], rtol=1e-15)
    x = gpugrad.tensor([1.0, 2.0, 0.0], dtype="float64", requires_grad=True)
    y = gpugrad.tensor([2.0, -1.0, -3.0], dtype="float64")
    with np.errstate(invalid="ignore"):             # (2 log(-1): NaN, as NumPy warns)
        xlogy(x, y)[0].backward()
        _, tangent = gpugrad.func.jvp(lambda t: xlogy(t, y), (x.detach(),),
                                      (gpugrad.ones(3, dtype="float64"),))
    np.testing.assert_allclose(x.grad.numpy(), [np.log(2.0), 0.0, 0.0], rtol=1e-15)
    assert tangent.numpy()[0] == np.log(2.0) and tangent.numpy()[2] == 0.0
