"""The activations of gpugrad/nn/activation_functions.py and their modules, and the erf,
log1p and expm1 records they use (ops/special.py; erf against math.erf on a dense grid):
forward against float64 NumPy written from the definitions, gradients by finite
differences (first and second order), PyTorch's gradients at the kinks, extreme inputs,
float32 kept, errors, and PyTorch 2.13 itself where it is installed."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.func import vmap
from gpugrad.nn import activation_layers as layers
from gpugrad.nn.activation_functions import (elu, gelu, hardtanh, leaky_relu, relu6, silu,
                                             softplus)
from gradient_checks import away_from_kinks

_erf = np.vectorize(math.erf, otypes=[np.float64])


def ref_gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    return x * 0.5 * (1 + _erf(x / np.sqrt(2.0)))


def ref_softplus(x, beta=1.0, threshold=20.0):
    with np.errstate(over="ignore"):
        return np.where(x * beta > threshold, x, np.log1p(np.exp(x * beta)) / beta)


# (id, function, reference, keyword arguments, kinks to keep finite differences away from)
CASES = [
    ("gelu", gelu, ref_gelu, {}, ()),
    ("gelu_tanh", gelu, ref_gelu, {"approximate": "tanh"}, ()),
    ("silu", silu, lambda x: x / (1 + np.exp(-x)), {}, ()),
    ("softplus", softplus, ref_softplus, {}, ()),
    ("softplus_beta_threshold", softplus, ref_softplus, {"beta": 2.0, "threshold": 3.0},
     (1.5,)),
    ("leaky_relu", leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), {}, (0.0,)),
    ("leaky_relu_slope", leaky_relu, lambda x, negative_slope: np.where(
        x > 0, x, negative_slope * x), {"negative_slope": 0.2}, (0.0,)),
    ("elu", elu, lambda x: np.where(x > 0, x, np.expm1(x)), {}, (0.0,)),
    ("elu_alpha", elu, lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)),
     {"alpha": 1.7}, (0.0,)),
    ("hardtanh", hardtanh, lambda x: np.clip(x, -1.0, 1.0), {}, (-1.0, 1.0)),
    ("hardtanh_bounds", hardtanh, lambda x, min_val, max_val: np.clip(x, min_val, max_val),
     {"min_val": -0.5, "max_val": 2.0}, (-0.5, 2.0)),
    ("relu6", relu6, lambda x: np.clip(x, 0.0, 6.0), {}, (0.0, 6.0)),
]
PARAMS = [pytest.param(*c, id=c[0]) for c in CASES]


def sample(kinks, shape=(3, 5), seed=0):
    return away_from_kinks(kinks, shape, -4.0, 8.0, seed)


@pytest.mark.parametrize("name, fn, ref, kwargs, kinks", PARAMS)
def test_forward_matches_numpy_float64(name, fn, ref, kwargs, kinks, device):
    x = sample(kinks)
    out = fn(gpugrad.tensor(x, device=device), **kwargs)
    assert out.dtype == np.float64 and tuple(out.shape) == x.shape
    np.testing.assert_allclose(out.numpy(), ref(x, **kwargs), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name, fn, ref, kwargs, kinks", PARAMS)
def test_gradients_match_finite_differences(name, fn, ref, kwargs, kinks, device):
    x = gpugrad.tensor(sample(kinks, (2, 4), seed=1), device=device, requires_grad=True)
    assert gpugrad.gradcheck(lambda x: fn(x, **kwargs), (x,))
    assert gpugrad.gradgradcheck(lambda x: fn(x, **kwargs), (x,))


@pytest.mark.parametrize("name, fn, ref, kwargs, kinks", PARAMS)
def test_float32_stays_float32(name, fn, ref, kwargs, kinks, device):
    x32 = sample(kinks).astype(np.float32)
    x = gpugrad.tensor(x32, device=device, requires_grad=True)
    out = fn(x, **kwargs)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), ref(x32.astype(np.float64), **kwargs),
                               rtol=2e-6, atol=1e-6)
    out.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name, fn, ref, kwargs, kinks", PARAMS)
def test_vmap_is_the_function_on_each_example(name, fn, ref, kwargs, kinks):
    x = sample(kinks, (3, 4), seed=2)
    out = vmap(lambda row: fn(row, **kwargs))(gpugrad.tensor(x))
    np.testing.assert_allclose(out.numpy(), ref(x, **kwargs), rtol=1e-13, atol=1e-15)


def grad_at(fn, values, **kwargs):
    x = gpugrad.tensor(values, dtype="float64", requires_grad=True)
    fn(x, **kwargs).sum().backward()
    return x.grad.tolist()


def test_gradients_at_the_kinks_are_pytorchs():
    assert grad_at(leaky_relu, [0.0, -1.0, 1.0], negative_slope=0.1) == [0.1, 0.1, 1.0]
    assert grad_at(elu, [0.0, 1.0], alpha=2.0) == [2.0, 1.0]
    assert grad_at(hardtanh, [-1.0, 1.0, 0.5, -2.0, 2.0]) == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert grad_at(relu6, [0.0, 6.0, 3.0, -1.0, 7.0]) == [0.0, 0.0, 1.0, 0.0, 0.0]
    # softplus is linear only strictly above the threshold: at it, the smooth branch
    assert grad_at(softplus, [5.0, 6.0], beta=2.0, threshold=10.0) == pytest.approx(
        [1 / (1 + math.exp(-10.0)), 1.0], rel=1e-15)
    assert grad_at(gelu, [0.0]) == [0.5] and grad_at(gelu, [0.0], approximate="tanh") == [0.5]
    assert grad_at(silu, [0.0]) == [0.5]


def test_extreme_inputs_give_finite_values_and_gradients(device):
    big = [-1e4, -100.0, -30.0, 30.0, 100.0, 1e4]
    for dtype in ("float32", "float64"):
        for fn, kwargs in [(gelu, {}), (gelu, {"approximate": "tanh"}), (silu, {}),
                           (softplus, {}), (softplus, {"beta": 0.5, "threshold": 1e4}),
                           (elu, {}), (leaky_relu, {})]:
            x = gpugrad.tensor(big, dtype=dtype, device=device, requires_grad=True)
            out = fn(x, **kwargs)
            out.sum().backward()
            assert np.isfinite(out.numpy()).all(), (fn.__name__, kwargs, out)
            assert np.isfinite(x.grad.numpy()).all(), (fn.__name__, kwargs, x.grad)
    x = gpugrad.tensor(big, dtype="float64")
    np.testing.assert_array_equal(gelu(x).numpy(), [0, 0, 0, 30, 100, 1e4])
    np.testing.assert_allclose(softplus(x).numpy(), [0, np.exp(-100), np.log1p(np.exp(-30)),
                                                     30, 100, 1e4], rtol=1e-15, atol=0)
    # a threshold beyond float64's exp: still finite (PyTorch's gives inf), and exact
    wide = softplus(gpugrad.tensor([800.0, -800.0], dtype="float64"), threshold=1e4)
    assert wide.tolist() == [800.0, 0.0]


def test_nan_stays_nan():
    x = gpugrad.tensor([np.nan], dtype="float64")
    for fn in (gelu, silu, softplus, leaky_relu, elu, hardtanh, relu6):
        assert np.isnan(fn(x).item()), fn.__name__


def test_integer_input_becomes_the_default_float():
    assert gelu(gpugrad.tensor([1, 2])).dtype == np.float32
    assert hardtanh(gpugrad.tensor([-3, 0, 3])).tolist() == [-1.0, 0.0, 1.0]


def test_bad_arguments_raise_errors_that_say_what_to_do():
    x = gpugrad.ones(2)
    with pytest.raises(ValueError, match=r"gelu: approximate must be one of \('none', "
                                         r"'tanh'\), got 'exact'"):
        gelu(x, approximate="exact")
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(2\.0\) cannot be greater than "
                                         r"max_val \(1\.0\)"):
        hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="GELU: approximate must be one of"):
        layers.GELU("exact")
    with pytest.raises(ValueError, match="Hardtanh: min_val"):
        layers.Hardtanh(1.0, -1.0)


MODULES = [
    (layers.GELU(), gelu, {}, "GELU(approximate='none')"),
    (layers.GELU(approximate="tanh"), gelu, {"approximate": "tanh"},
     "GELU(approximate='tanh')"),
    (layers.SiLU(), silu, {}, "SiLU()"),
    (layers.Softplus(2.0, 5.0), softplus, {"beta": 2.0, "threshold": 5.0},
     "Softplus(beta=2.0, threshold=5.0)"),
    (layers.LeakyReLU(0.2), leaky_relu, {"negative_slope": 0.2},
     "LeakyReLU(negative_slope=0.2)"),
    (layers.ELU(alpha=0.5), elu, {"alpha": 0.5}, "ELU(alpha=0.5)"),
    (layers.Hardtanh(-2.0, 3.0), hardtanh, {"min_val": -2.0, "max_val": 3.0},
     "Hardtanh(min_val=-2.0, max_val=3.0)"),
    (layers.ReLU6(), relu6, {}, "ReLU6()"),
]


@pytest.mark.parametrize("module, fn, kwargs, text", MODULES, ids=[m[3] for m in MODULES])
def test_modules_match_the_functions_and_print_as_pytorchs(module, fn, kwargs, text):
    x = gpugrad.tensor(sample((), (4, 3), seed=3))
    np.testing.assert_array_equal(module(x).numpy(), fn(x, **kwargs).numpy())
    assert repr(module) == text
    assert list(module.parameters()) == []
    assert repr(layers.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"


# ------------------------------------------------------------------ PyTorch 2.13 itself
TORCH_CASES = [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 3.0}), ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.3}), ("elu", {}), ("elu", {"alpha": 0.7}),
    ("hardtanh", {}), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}), ("relu6", {}),
]


@pytest.mark.parametrize("name, kwargs", TORCH_CASES,
                         ids=[f"{n}-{k}" for n, k in TORCH_CASES])
def test_values_and_gradients_match_pytorch(name, kwargs):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    from gpugrad.nn import activation_functions as A
    kinks = [0.0, 6.0, -1.0, 1.0, -0.5, 2.0, 1.5]        # each function's, exactly
    values = np.concatenate([np.linspace(-8, 8, 97), kinks, [-1e4, -50.0, 50.0, 1e4]])
    for dtype in ("float64", "float32"):
        x = gpugrad.tensor(values, dtype=dtype, requires_grad=True)
        out = getattr(A, name)(x, **kwargs)
        out.backward(gpugrad.ones_like(out))
        tx = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
        tout = getattr(TF, name)(tx, **kwargs)
        tout.backward(torch.ones_like(tout))
        tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=3e-6, atol=1e-6)
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **tol)
        if dtype == "float32":      # (1 - tanh^2 near tanh = -1 rounds differently)
            tol = dict(rtol=3e-6, atol=3e-6)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **tol)


@pytest.mark.parametrize("name", ["GELU", "SiLU", "Softplus", "LeakyReLU", "ELU", "Hardtanh",
                                  "ReLU6"])
def test_module_reprs_match_pytorch(name):
    torch = pytest.importorskip("torch")
    assert repr(getattr(layers, name)()) == repr(getattr(torch.nn, name)())


# ------------------------------------------------------------------ the special functions
def test_erf_matches_math_erf_to_float64_rounding_on_a_dense_grid():
    from gpugrad.ops.special import _erfc_positive, erf
    tails = np.geomspace(1e-300, 30.0, 4001)
    x = np.concatenate([np.linspace(-7.0, 7.0, 20001), tails, -tails,
                        [0.0, 0.46875, np.nextafter(0.46875, 1), 4.0, np.nextafter(4.0, 5)]])
    expected = _erf(x)
    got = erf(gpugrad.tensor(x, dtype="float64")).numpy()
    assert (np.abs(got - expected) <= 1e-15 * np.abs(expected)).all()
    y = np.linspace(0.46875, 26.5, 20001)                 # erfc itself, tail included
    np.testing.assert_allclose(_erfc_positive(np, y), np.vectorize(math.erfc)(y), rtol=2e-15)
    got32 = erf(gpugrad.tensor(x.astype(np.float32))).numpy()
    assert got32.dtype == np.float32
    expected32 = _erf(x.astype(np.float32).astype(np.float64))
    assert (np.abs(got32 - expected32) <= 3e-7 * np.abs(expected32) + 1e-45).all()
    edges = erf(gpugrad.tensor([np.nan, np.inf, -np.inf, -0.0], dtype="float64")).tolist()
    assert np.isnan(edges[0]) and edges[1:] == [1.0, -1.0, 0.0]
    assert erf(gpugrad.tensor([0.5], dtype="float16")).dtype == np.float16
    assert erf(gpugrad.tensor([1, 2])).dtype == np.float32       # integers: default float


def test_log1p_and_expm1_are_exact_near_zero_and_keep_the_dtype():
    from gpugrad.ops.special import expm1, log1p
    x = np.array([1e-300, 1e-12, -1e-9, 0.5, 30.0])
    np.testing.assert_allclose(log1p(gpugrad.tensor(x)).numpy(), np.log1p(x), rtol=1e-15)
    np.testing.assert_allclose(expm1(gpugrad.tensor(x)).numpy(), np.expm1(x), rtol=1e-15)
    for fn in (log1p, expm1):
        assert fn(gpugrad.tensor(x.astype(np.float32))).dtype == np.float32
