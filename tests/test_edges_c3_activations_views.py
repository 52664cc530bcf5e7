"""Edges of activations, NaN statistics, dtype views, pinv and instance_norm, as PyTorch's:
hardtanh / relu6 pass the gradient at NaN, sigmoid of a complex tensor, nanmedian of an empty
tensor, x.view(dtype) under vmap, fmax/fmin refusing numbers, pinv refusing tolerances that
require grad, instance_norm refusing one running statistic. Hand-derived values (float64
NumPy, finite differences), and PyTorch's where installed."""

import numpy as np
import pytest

import gpugrad
import gpugrad.nn.functional as F
from gpugrad import nn
from gpugrad.func import vmap

NAN = float("nan")


HARDTANH_IN = [NAN, 0.5, 1.0, -1.0, 2.0, 6.0, -3.0]
HARDTANH_GRAD = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]      # 1 strictly inside (-1, 1) and at NaN
RELU6_GRAD = [1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]         # 1 strictly inside (0, 6) and at NaN


@pytest.mark.parametrize("fn, want", [(F.hardtanh, HARDTANH_GRAD), (nn.Hardtanh(), HARDTANH_GRAD),
                                      (F.relu6, RELU6_GRAD), (nn.ReLU6(), RELU6_GRAD)])
def test_hardtanh_gradient_passes_through_nan(fn, want):
    x = gpugrad.tensor(HARDTANH_IN, requires_grad=True)
    fn(x).sum().backward()
    assert x.grad.tolist() == want


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_sigmoid_of_a_complex_tensor_by_hand():
    z = np.array([1 + 2j, -0.5 + 0.3j, 0.2 - 4j])
    x = gpugrad.tensor(z, dtype="complex128", requires_grad=True)
    s = gpugrad.sigmoid(x)
    assert s.dtype == np.complex128
    np.testing.assert_allclose(s.detach().numpy(), _sigmoid(z), rtol=1e-12)
    assert gpugrad.sigmoid(gpugrad.tensor([1 + 2j], dtype="complex64")).dtype == np.complex64
    s.real.sum().backward()
    # PyTorch's convention: the gradient of real L is dL/dRe + i dL/dIm (central differences)
    h = 1e-6
    want = (_sigmoid(z + h) - _sigmoid(z - h)).real / (2 * h) + \
        1j * (_sigmoid(z + 1j * h) - _sigmoid(z - 1j * h)).real / (2 * h)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(F.silu(x.detach()).numpy(), z * _sigmoid(z), rtol=1e-12)
    with pytest.raises(RuntimeError, match="silu does not support automatic differentiation"):
        F.silu(x)
    assert gpugrad.sigmoid(gpugrad.tensor([0.0, 2.0])).tolist() == pytest.approx(
        [0.5, _sigmoid(2.0)])


def test_nanmedian_of_an_empty_tensor_is_nan():
    for dtype in ("float16", "float32", "float64"):
        m = gpugrad.tensor([], dtype=dtype).nanmedian()
        assert m.shape == () and m.dtype == np.dtype(dtype) and np.isnan(m.item())
    e = gpugrad.tensor([], requires_grad=True)
    m = gpugrad.nanmedian(e)
    m.backward()
    assert e.grad.shape == (0,)
    assert np.isnan(gpugrad.zeros(0, 3).nanmedian().item())


def test_view_dtype_under_vmap():
    x = gpugrad.arange(8.0).reshape(2, 4)
    out = vmap(lambda r: r.view(gpugrad.int32))(x)
    np.testing.assert_array_equal(out.numpy(), np.arange(8.0, dtype=np.float32)
                                  .reshape(2, 4).view(np.int32))
    assert vmap(lambda r: r.view(gpugrad.int16))(x).shape == (2, 8)
    assert vmap(lambda r: r.view(gpugrad.float64))(x).shape == (2, 2)
    nested = vmap(vmap(lambda q: q.view(gpugrad.int16)))(gpugrad.ones(2, 3, 4))
    assert nested.shape == (2, 3, 8)
    with pytest.raises(RuntimeError, match="cannot be 0"):
        vmap(lambda r: r.view(gpugrad.int16))(gpugrad.ones(3))
    with pytest.raises(RuntimeError, match="divisible by 2"):
        vmap(lambda r: r.view(gpugrad.float64))(gpugrad.ones(2, 3))


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_refuse_numbers(name):
    fn = getattr(gpugrad, name)
    with pytest.raises(TypeError, match=f"{name}\\(\\): argument 'other' \\(position 2\\) "
                                        f"must be Tensor, not float"):
        fn(gpugrad.tensor([1.0, NAN]), 0.5)
    with pytest.raises(TypeError, match="argument 'input' \\(position 1\\)"):
        fn(0.5, gpugrad.tensor([1.0]))
    want = [1.0, 0.5] if name == "fmax" else [0.5, 0.5]
    assert fn(gpugrad.tensor([1.0, NAN]), gpugrad.tensor(0.5)).tolist() == want


def test_pinv_refuses_tolerances_that_require_grad():
    A = gpugrad.tensor([[[1.0, 0.0], [0.0, 0.1]]] * 2, dtype="float64")
    tol = gpugrad.tensor([0.05, 0.5], dtype="float64", requires_grad=True)
    for kwargs, name in ((dict(atol=tol), "atol"), (dict(rtol=tol), "rtol")):
        with pytest.raises(RuntimeError, match=f"not differentiable with respect to "
                                               f"argument '{name}'"):
            gpugrad.linalg.pinv(A, **kwargs)
    with gpugrad.no_grad():                     # no gradient asked: allowed, as PyTorch's
        assert gpugrad.linalg.pinv(A, atol=tol)[:, 1, 1].tolist() == [10.0, 0.0]
    assert gpugrad.linalg.pinv(A, atol=tol.detach())[:, 1, 1].tolist() == [10.0, 0.0]


def test_instance_norm_refuses_one_running_statistic():
    x = gpugrad.randn(2, 3, 4)
    with pytest.raises(ValueError, match="either both be None or neither be None"):
        F.instance_norm(x, running_mean=gpugrad.zeros(3))
    with pytest.raises(ValueError, match="either both be None or neither be None"):
        F.instance_norm(x, running_var=gpugrad.ones(3))
    with pytest.raises(RuntimeError, match="Expected running_mean and running_var"):
        F.instance_norm(x, running_mean=gpugrad.zeros(3), use_input_stats=False)


def test_edges_against_torch():
    torch = pytest.importorskip("torch")
    values = HARDTANH_IN
    for ours, theirs in ((F.hardtanh, torch.nn.functional.hardtanh),
                         (F.relu6, torch.nn.functional.relu6)):
        x, t = gpugrad.tensor(values, requires_grad=True), torch.tensor(values,
                                                                         requires_grad=True)
        ours(x).sum().backward()
        theirs(t).sum().backward()
        assert x.grad.tolist() == t.grad.tolist()
    z = [1 + 2j, -0.5 + 0.3j, 0.2 - 4j]
    x, t = gpugrad.tensor(z, dtype="complex128", requires_grad=True), \
        torch.tensor(z, dtype=torch.complex128, requires_grad=True)
    s, ts = gpugrad.sigmoid(x), torch.sigmoid(t)
    np.testing.assert_allclose(s.detach().numpy(), ts.detach().numpy(), rtol=1e-12)
    (s.real * 2 + s.imag).sum().backward()
    (ts.real * 2 + ts.imag).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10)
    with pytest.raises(RuntimeError, match="silu does not support"):
        torch.nn.functional.silu(t)
    assert np.isnan(torch.tensor([]).nanmedian().item())
    a = torch.arange(8.0).reshape(2, 4)
    np.testing.assert_array_equal(
        torch.func.vmap(lambda r: r.view(torch.int32))(a).numpy(),
        vmap(lambda r: r.view(gpugrad.int32))(gpugrad.arange(8.0).reshape(2, 4)).numpy())
    with pytest.raises(TypeError, match="argument 'other' \\(position 2\\) must be Tensor"):
        torch.fmax(torch.tensor([1.0]), 0.5)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'atol'"):
        torch.linalg.pinv(torch.eye(2, dtype=torch.float64),
                          atol=torch.tensor(0.1, dtype=torch.float64, requires_grad=True))
    with pytest.raises(ValueError, match="either both be None or neither be None"):
        torch.nn.functional.instance_norm(torch.randn(2, 3, 4), running_mean=torch.zeros(3))
