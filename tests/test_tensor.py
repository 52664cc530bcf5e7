"""Tensors: creation, dtypes (no accidental upcast), conversion and Python protocols."""

import numpy as np
import pytest

import gpugrad


def test_tensor_dtypes_from_python_and_numpy(device):
    assert gpugrad.tensor(1.5, device=device).dtype == np.float32
    assert gpugrad.tensor([[1.0, 2.0]], device=device).dtype == np.float32
    assert gpugrad.tensor([1, 2], device=device).dtype == np.int64
    assert gpugrad.tensor([True], device=device).dtype == np.bool_
    assert gpugrad.tensor(np.zeros(2), device=device).dtype == np.float64
    assert gpugrad.tensor([1, 2], dtype="float64", device=device).dtype == np.float64


def test_tensor_copies_its_data(device):
    source = np.array([1.0, 2.0])
    t = gpugrad.tensor(source, device=device)
    source[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    assert gpugrad.tensor(t).tolist() == [1.0, 2.0]


def test_as_tensor_shares_memory_on_cpu():
    source = np.array([1.0, 2.0])
    t = gpugrad.as_tensor(source)
    source[0] = 9.0
    assert t.tolist() == [9.0, 2.0]


def test_creation_functions(device):
    gpugrad.set_default_device(device)
    assert gpugrad.zeros(2, 3).shape == (2, 3) and gpugrad.zeros((2, 3)).dtype == np.float32
    np.testing.assert_array_equal(gpugrad.ones(2).numpy(), [1.0, 1.0])
    full = gpugrad.full((2,), 7)
    assert full.dtype == np.int64 and full.tolist() == [7, 7]
    x = gpugrad.randn(3, 2, dtype="float64")
    assert gpugrad.zeros_like(x).dtype == np.float64 and gpugrad.ones_like(x).shape == (3, 2)
    assert gpugrad.full_like(x, 2.5).tolist() == [[2.5, 2.5]] * 3
    assert gpugrad.arange(4).tolist() == [0, 1, 2, 3]
    assert gpugrad.arange(0, 1, 0.5).dtype == np.float32
    np.testing.assert_array_equal(gpugrad.eye(2, 3).numpy(), np.eye(2, 3))
    np.testing.assert_allclose(gpugrad.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert gpugrad.empty(4).shape == (4,)
    assert str(gpugrad.zeros(1).device) == ("cpu" if device == "cpu" else "cuda:0")
    with pytest.raises(ValueError, match="non-negative"):
        gpugrad.zeros(-1)


def test_random_tensors(device):
    u = gpugrad.rand(10_000, device=device).numpy()
    assert u.dtype == np.float32 and u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.02
    n = gpugrad.randn(10_000, dtype="float64", device=device).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    with pytest.raises(TypeError, match="float32 or float64"):
        gpugrad.randn(2, dtype="int64")


def test_properties_and_conversion(device):
    x = gpugrad.tensor([[1.0, 2.0, 3.0]], device=device)
    assert (x.shape, x.ndim, x.size, x.numel(), x.dim()) == ((1, 3), 2, 3, 3, 2)
    assert x.dtype == gpugrad.float32 and x.device == device
    assert isinstance(x.numpy(), np.ndarray) and x.tolist() == [[1.0, 2.0, 3.0]]
    assert x.T.shape == (3, 1) and x.T.tolist() == [[1.0], [2.0], [3.0]]
    assert x.to("float64").dtype == np.float64 and x.astype(np.int32).dtype == np.int32
    assert x.cpu().device == "cpu"
    assert x[0, 1].item() == 2.0 and isinstance(x[0, 1].item(), float)
    with pytest.raises(ValueError, match="exactly one element"):
        x.item()


def test_repr_shows_device_dtype_and_grad_fn(device):
    x = gpugrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    assert repr(x) == (f"tensor([1., 2.], device='{x.device}', dtype=float32, "
                       f"requires_grad=True)")
    assert repr(x * 2).endswith("dtype=float32, grad_fn=<MulScalarBackward>)")
    assert f"{gpugrad.tensor(2.0):.2f}" == "2.00"


@pytest.mark.parametrize("expression", [
    lambda x, i: x * 2.0, lambda x, i: 2.0 * x, lambda x, i: x / 3, lambda x, i: 1 / x,
    lambda x, i: x**2, lambda x, i: 2.0**x, lambda x, i: x - 1.5, lambda x, i: x + np.float64(1),
    lambda x, i: x * i, lambda x, i: i + x, lambda x, i: gpugrad.maximum(x, 0.5),
    lambda x, i: gpugrad.where(x > 1, x, 0.0), lambda x, i: x.mean(), lambda x, i: x.sigmoid(),
    lambda x, i: gpugrad.softmax(x, axis=0), lambda x, i: x @ x,
], ids=["x*2.0", "2.0*x", "x/3", "1/x", "x**2", "2.0**x", "x-1.5", "x+np.float64",
        "x*int", "int+x", "maximum", "where", "mean", "sigmoid", "softmax", "matmul"])
def test_float32_stays_float32(device, expression):
    x = gpugrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    i = gpugrad.tensor([1, 2], device=device)
    y = expression(x, i)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_integer_tensors_meeting_floats_become_float32(device):
    i = gpugrad.tensor([1, 2], device=device)
    assert (i * 2.5).dtype == np.float32 and (i / 2).dtype == np.float32
    assert (i + 1).dtype == np.int64 and (i.exp()).dtype == np.float32


def test_mixed_precision_gradient_comes_back_in_input_dtype(device):
    x32 = gpugrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    x64 = gpugrad.tensor([3.0, 4.0], dtype="float64", device=device, requires_grad=True)
    y = x32 * x64
    assert y.dtype == np.float64
    y.sum().backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64
    np.testing.assert_allclose(x32.grad.numpy(), [3.0, 4.0])


def test_python_protocols(device):
    x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert len(x) == 2 and [row.tolist() for row in x] == [[1.0, 2.0], [3.0, 4.0]]
    assert bool(gpugrad.tensor([1.0], device=device)) and float(x[1, 1]) == 4.0
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="0-d"):
        len(gpugrad.tensor(1.0, device=device))
    assert len({x, x * 1}) == 2             # hashable by identity


def test_numpy_arrays_interoperate_on_cpu():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, gpugrad.Tensor) and y.requires_grad
    np.testing.assert_array_equal(np.asarray(x.detach()), [1.0, 2.0])


def test_indexing_forms(device):
    x = gpugrad.arange(12, device=device).reshape(3, 4)
    assert x[1].tolist() == [4, 5, 6, 7]
    assert x[:, -1].tolist() == [3, 7, 11]
    assert x[..., None].shape == (3, 4, 1)
    assert x[[0, 2], [1, 3]].tolist() == [1, 11]
    assert x[x > 9].tolist() == [10, 11]
    assert x[gpugrad.tensor([2, 0], device=device)].tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]
    with pytest.raises(IndexError, match="integer or bool"):
        x[np.array([0.5])]


def test_zero_dim_float64_does_not_widen_float32(device):
    x = gpugrad.tensor([1.0, 2.0], device=device)
    assert (x * gpugrad.tensor(2.0, dtype="float64", device=device)).dtype == np.float32
    if device == "cpu":
        assert (x * np.array(2.0)).dtype == np.float32


def test_power_gradient_at_zero_to_the_zero(device):
    a = gpugrad.tensor([0.0, 2.0], dtype="float64", device=device, requires_grad=True)
    b = gpugrad.tensor([0.0, 3.0], dtype="float64", device=device, requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 12.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 8.0 * np.log(2.0)])
