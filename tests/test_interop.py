"""Hand-offs to the array ecosystem: DLPack both ways, __cuda_array_interface__, NumPy
functions and ufuncs on tensors, and pickling (pickle, deepcopy, multiprocessing).

PyTorch and JAX are not test dependencies: their checks run where they are installed."""

import copy
import multiprocessing
import pickle

import numpy as np
import pytest

import gpugrad
from gpugrad import interop, nn

import interop_worker
from conftest import requires_cuda


def _pointer(array) -> int:
    if isinstance(array, np.ndarray):
        return array.__array_interface__["data"][0]
    return array.data.ptr


# ---------------------------------------------------------------------- DLPack
def test_numpy_reads_a_tensor_through_dlpack_without_a_copy():
    t = gpugrad.arange(6.0).reshape(2, 3)
    a = np.from_dlpack(t)
    assert a.shape == (2, 3) and a.dtype == np.float32
    assert np.shares_memory(a, t.numpy())
    a[1, 2] = -1.0
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, -1.0]]


def test_from_dlpack_shares_numpy_memory_both_ways():
    a = np.arange(4.0)
    t = gpugrad.from_dlpack(a)
    assert t.dtype == np.float64 and not t.requires_grad and t.is_leaf
    t += 1
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0, 4.0])
    a[0] = 10.0
    assert t.tolist()[0] == 10.0


def test_from_dlpack_of_a_strided_view_keeps_its_layout():
    a = np.arange(12.0).reshape(3, 4)[:, ::2]
    t = gpugrad.from_dlpack(a)
    np.testing.assert_array_equal(t.numpy(), a)
    assert np.shares_memory(t.numpy(), a)


def test_from_dlpack_copy_and_device_arguments():
    a = np.ones(3, dtype=np.float32)
    copied = gpugrad.from_dlpack(a, copy=True)
    assert not np.shares_memory(copied.numpy(), a)
    same = gpugrad.from_dlpack(a, device="cpu", copy=False)
    assert np.shares_memory(same.numpy(), a)


def test_from_dlpack_refuses_what_it_cannot_read():
    with pytest.raises(TypeError, match="__dlpack__.*NumPy, CuPy, PyTorch or JAX"):
        gpugrad.from_dlpack([1.0, 2.0])

    class OnOpenCL:
        def __dlpack__(self, stream=None):
            raise AssertionError("must not be called")

        def __dlpack_device__(self):
            return (4, 0)

    with pytest.raises(ValueError, match="OpenCL.*CPU and CUDA"):
        gpugrad.from_dlpack(OnOpenCL())


def test_dlpack_export_of_a_tensor_that_requires_grad_says_detach():
    w = gpugrad.ones(3, requires_grad=True)
    with pytest.raises(BufferError, match="requires grad.*detach"):
        np.from_dlpack(w)
    assert np.from_dlpack(w.detach()).tolist() == [1.0, 1.0, 1.0]


def test_dlpack_device_names_the_cpu(device):
    t = gpugrad.zeros(2, device=device)
    expected = (1, 0) if device == "cpu" else (2, t.device.index)
    assert tuple(t.__dlpack_device__()) == expected


def test_dlpack_round_trip_on_each_device(device):
    t = gpugrad.randn(3, 4, device=device)
    back = gpugrad.from_dlpack(t.__dlpack__() and t)    # a gpugrad consumer
    assert _pointer(back._array) == _pointer(t._array)
    if device == "cuda":
        cupy = pytest.importorskip("cupy")
        c = cupy.from_dlpack(t)
        assert c.data.ptr == t._array.data.ptr
        stream = cupy.cuda.Stream(non_blocking=True)
        with stream:                    # the consumer's stream waits for the producer's
            c2 = cupy.from_dlpack(t)
        assert c2.data.ptr == t._array.data.ptr
        t2 = gpugrad.from_dlpack(cupy.arange(3, dtype=cupy.float32))
        assert t2.device == t.device and t2.tolist() == [0.0, 1.0, 2.0]


def test_torch_shares_memory_with_a_tensor(device):
    torch = pytest.importorskip("torch")
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("this torch build has no CUDA")
    t = gpugrad.arange(4.0, device=device)
    p = torch.from_dlpack(t)
    assert p.data_ptr() == _pointer(t._array)
    p[0] = 9.0
    assert t.tolist()[0] == 9.0
    assert torch.as_tensor(t.detach()).tolist() == [9.0, 1.0, 2.0, 3.0]
    if device == "cpu":
        assert torch.tensor(t).tolist() == [9.0, 1.0, 2.0, 3.0]
    back = gpugrad.from_dlpack(torch.ones(2, 2, device=p.device))
    assert back.device == t.device and back.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_jax_reads_and_writes_through_dlpack(device):
    jax = pytest.importorskip("jax")
    if device == "cuda" and not any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("this jax build has no CUDA")
    t = gpugrad.arange(3.0, device=device)
    j = jax.numpy.from_dlpack(t)
    np.testing.assert_array_equal(np.asarray(j), [0.0, 1.0, 2.0])
    back = gpugrad.from_dlpack(jax.numpy.arange(3.0, dtype=jax.numpy.float32) * 2)
    assert back.tolist() == [0.0, 2.0, 4.0]


# ---------------------------------------------------------------------- CUDA array interface
def test_cuda_array_interface_is_absent_on_the_cpu():
    t = gpugrad.zeros(2)
    assert not hasattr(t, "__cuda_array_interface__")
    with pytest.raises(AttributeError, match="only defined for CUDA tensors"):
        t.__cuda_array_interface__


@pytest.mark.cuda
@requires_cuda
@pytest.mark.usefixtures("cuda_usable")      # under GPUGRAD_REQUIRE_CUDA=1: fails, saying why
def test_cuda_array_interface_shares_cuda_memory():
    cupy = pytest.importorskip("cupy")
    t = gpugrad.arange(5.0, device="cuda")
    interface = t.__cuda_array_interface__
    assert interface["shape"] == (5,) and interface["data"][0] == t._array.data.ptr
    assert cupy.asarray(t).data.ptr == t._array.data.ptr
    w = gpugrad.ones(2, device="cuda", requires_grad=True)
    assert not hasattr(w, "__cuda_array_interface__")


# ---------------------------------------------------------------------- NumPy functions
def test_numpy_reductions_run_gpugrads_ops_with_numpys_defaults():
    values = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    t = gpugrad.tensor(values, dtype="float64", requires_grad=True)
    checks = [(np.sum(t), values.sum()), (np.mean(t, axis=0), values.mean(0)),
              (np.max(t, axis=1), values.max(1)), (np.min(t), values.min()),
              (np.var(t), values.var()), (np.std(t, axis=1, ddof=1), values.std(1, ddof=1)),
              (np.argmax(t), values.argmax()), (np.reshape(t, (3, 2)), values.reshape(3, 2)),
              (np.transpose(t), values.T), (np.clip(t, -1, 2), values.clip(-1, 2)),
              (np.where(t > 0, t, 0.0), np.where(values > 0, values, 0.0))]
    for result, expected in checks:
        assert isinstance(result, gpugrad.Tensor)
        np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12)
    assert np.shape(t) == (2, 3) and np.ndim(t) == 2 and np.size(t) == 6


def test_numpy_sum_of_a_tensor_is_differentiable():
    t = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (np.sum(t * t) + np.mean(t)).backward()
    np.testing.assert_allclose(t.grad.numpy(), 2 * np.array([1.0, 2.0, 3.0]) + 1 / 3,
                               rtol=1e-6)


def test_ufuncs_on_tensors_are_gpugrad_ops():
    t = gpugrad.tensor([0.5, 1.5], requires_grad=True)
    a = np.array([2.0, 4.0], dtype=np.float32)
    for result, expected in [(np.exp(t), np.exp([0.5, 1.5])), (a * t, [1.0, 6.0]),
                             (a - t, [1.5, 2.5]), (np.maximum(t, 1.0), [1.0, 1.5]),
                             (np.float32(3.0) * t, [1.5, 4.5])]:
        assert isinstance(result, gpugrad.Tensor) and result.requires_grad
        np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)
    (a * t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), a)
    assert (np.greater(t, 1.0)).tolist() == [False, True]


def test_numpy_trigonometry_and_rounding_on_tensors_stay_in_the_graph():
    """np.sin(t) is gpugrad's sin: its gradient is cos; np.mod is the remainder with the
    divisor's sign, np.floor a step with zero slope."""
    t = gpugrad.tensor([0.5, 1.5], dtype="float64", requires_grad=True)
    y = np.sin(t) + np.arctan2(t, 2.0) + np.floor(t)
    assert isinstance(y, gpugrad.Tensor) and y.requires_grad
    y.sum().backward()
    v = np.array([0.5, 1.5])
    np.testing.assert_allclose(t.grad.numpy(), np.cos(v) + 2.0 / (v ** 2 + 4.0), rtol=1e-14)
    assert np.mod(gpugrad.tensor([5.0, -5.0]), 3).tolist() == [2.0, 1.0]


def test_numpy_functions_gpugrad_lacks_run_on_the_values_of_cpu_tensors():
    t = gpugrad.tensor([1.0, 2.0, 3.0])
    result = np.percentile(t, [0, 50])
    assert isinstance(result, np.ndarray) and result.tolist() == [1.0, 2.0]
    assert np.allclose(t, [1.0, 2.0, 3.0])
    assert np.sum(t, dtype=np.float64).dtype == np.float64     # an argument gpugrad lacks
    total = np.zeros(3)
    total += t                                                  # NumPy writes into its own
    assert total.tolist() == [1.0, 2.0, 3.0]


def test_numpy_idioms_that_gpugrad_ops_refuse_still_get_numpys_answer():
    logits = gpugrad.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    labels = np.array([1, 0, 0])
    assert np.mean(np.argmax(logits, 1) == labels) == pytest.approx(2 / 3)   # accuracy
    np.testing.assert_array_equal(np.where(logits > 0.5, 1, 0), [[0, 1], [1, 0], [0, 1]])
    assert np.var(gpugrad.arange(4)) == 1.25 and np.mean(gpugrad.arange(4)) == 1.5
    np.testing.assert_array_equal(np.clip(gpugrad.arange(3.0), np.full(3, 0.5), 1.0),
                                  [0.5, 1.0, 1.0])
    assert ["a", "b", "c", "d", "e", "f"][np.argmax(logits)] == "b"          # __index__


def test_np_where_stays_in_the_graph_whichever_argument_is_the_tensor():
    w = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = np.where(np.array([False, True, False]), 0.0, w)
    assert isinstance(out, gpugrad.Tensor)
    out.sum().backward()
    assert w.grad.tolist() == [1.0, 0.0, 1.0]


def test_a_0d_integer_tensor_is_an_index_and_others_are_not():
    assert list(range(gpugrad.tensor(3))) == [0, 1, 2]
    with pytest.raises(TypeError, match="only 0-d integer tensors"):
        [1, 2][gpugrad.tensor(1.0)]
    a = np.arange(6.0).reshape(3, 2)
    assert a[gpugrad.tensor([1])].shape == (1, 2)      # still an array of indices


def test_np_array_copies_and_np_asarray_shares():
    t = gpugrad.tensor([1.0, 2.0])
    copied = np.array(t)
    copied[0] = 5.0
    assert t.tolist() == [1.0, 2.0]
    shared = np.asarray(t)
    shared[0] = 7.0
    assert t.tolist() == [7.0, 2.0]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="a copy is needed"):
        np.asarray(t, dtype=np.float64, copy=False)


def test_numpy_cannot_write_into_a_tensor():
    t = gpugrad.zeros(2)
    with pytest.raises(TypeError, match="cannot write into a gpugrad tensor"):
        np.add(t, 1.0, out=t)


@requires_cuda
@pytest.mark.usefixtures("cuda_usable")
def test_numpy_functions_on_a_cuda_tensor_say_to_call_numpy():
    t = gpugrad.ones(3, device="cuda")
    assert isinstance(np.sum(t), gpugrad.Tensor) and np.sum(t).device == t.device
    with pytest.raises(TypeError, match=r"np.percentile\(\).*\.numpy\(\)"):
        np.percentile(t, 50)
    assert np.cumsum(t).device == t.device          # gpugrad's op: on the GPU


# ---------------------------------------------------------------------- pickling
def _round_trip(obj):
    return pickle.loads(pickle.dumps(obj))


@pytest.mark.parametrize("make", [
    lambda: gpugrad.tensor([[1.5, -2.0], [3.0, 4.0]]),
    lambda: gpugrad.tensor(2.5, dtype="float64"),
    lambda: gpugrad.tensor([1, 2, 3]),
    lambda: gpugrad.tensor([True, False]),
    lambda: gpugrad.arange(12.0).reshape(3, 4).T,          # a strided view
    lambda: gpugrad.zeros(0, 3),
], ids=["float32", "0-d float64", "int64", "bool", "view", "empty"])
def test_pickle_keeps_values_dtype_and_shape(make):
    t = make()
    back = _round_trip(t)
    assert type(back) is gpugrad.Tensor
    assert back.dtype == t.dtype and back.shape == t.shape and back.device == t.device
    np.testing.assert_array_equal(back.numpy(), t.numpy())


def test_pickle_of_a_computed_tensor_keeps_requires_grad_but_not_the_graph():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.sum().backward()
    for back in (_round_trip(x), _round_trip(y)):
        assert back.requires_grad and back.is_leaf and back.grad_fn is None
        assert back.grad is None             # as PyTorch: pickling drops .grad
    back = _round_trip(y)
    (back * back).sum().backward()
    np.testing.assert_array_equal(back.grad.numpy(), [6.0, 12.0])


def test_deepcopy_copies_values_and_grad_and_keeps_sharing():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    pair = copy.deepcopy({"a": x, "b": x})
    assert pair["a"] is pair["b"]                       # shared stays shared
    c = pair["a"]
    assert c.requires_grad and c.is_leaf and not np.shares_memory(c.numpy(), x.numpy())
    np.testing.assert_array_equal(c.grad.numpy(), [2.0, 4.0])
    c.grad.add_(1.0)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_size_pickles_and_copies_as_a_plain_count():
    size = gpugrad.zeros(2, 3).size
    for back in (pickle.loads(pickle.dumps(size)), copy.copy(size), copy.deepcopy(size)):
        assert back == 6 and type(back) is int


def test_shallow_copy_shares_memory():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    y = copy.copy(x * 1)
    assert y.is_leaf and y.requires_grad
    z = copy.copy(x)
    with gpugrad.no_grad():
        z += 1
    assert x.tolist() == [2.0, 3.0]


def _trained_model_and_optimizer():
    gpugrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = gpugrad.optim.Adam(model.parameters(), lr=0.01)
    x, target = gpugrad.randn(5, 3), gpugrad.randn(5, 2)
    for _ in range(2):
        optimizer.zero_grad()
        ((model(x) - target) ** 2).mean().backward()
        optimizer.step()
    return model, optimizer, x, target


def _step(model, optimizer, x, target):
    optimizer.zero_grad()
    ((model(x) - target) ** 2).mean().backward()
    optimizer.step()
    return [p.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_trained_model_and_its_optimizer_survive_copying(how):
    model, optimizer, x, target = _trained_model_and_optimizer()
    copied_model, copied_optimizer = (_round_trip if how == "pickle" else copy.deepcopy)(
        (model, optimizer))
    params = list(copied_model.parameters())
    assert all(type(p) is nn.Parameter and p.requires_grad for p in params)
    assert copied_optimizer.param_groups[0]["params"][0] is params[0]   # still the model's
    np.testing.assert_array_equal(copied_model(x).numpy(), model(x).numpy())
    expected = _step(model, optimizer, x, target)       # Adam's moments travelled too
    for got, want in zip(_step(copied_model, copied_optimizer, x, target), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_tensors_and_models_cross_process_boundaries():
    model, _, x, _ = _trained_model_and_optimizer()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        out, grad_x = pool.apply(interop_worker.forward_and_grad, (model, x))
    np.testing.assert_allclose(out.numpy(), model(x).numpy(), rtol=1e-6)
    x_req = x.detach().requires_grad_()
    model(x_req).sum().backward()
    np.testing.assert_allclose(grad_x.numpy(), x_req.grad.numpy(), rtol=1e-6)


def test_unpickling_a_cuda_tensor_without_cuda_says_what_to_do():
    if gpugrad.backend.is_cuda_usable():
        pytest.skip("CUDA is usable here")
    with pytest.raises(gpugrad.CudaUnavailableError, match=r"cuda:0.*t\.cpu\(\)"):
        interop.rebuild_tensor(gpugrad.Tensor, np.zeros(2), "cuda:0", False)


def test_pickle_on_cuda_comes_back_on_cuda(device):
    t = gpugrad.randn(3, device=device, requires_grad=True)
    back = _round_trip(t)
    assert back.device == t.device and back.requires_grad
    np.testing.assert_array_equal(back.numpy(), t.numpy())


def test_a_batched_tensor_cannot_be_pickled():
    def f(x):
        pickle.dumps(x)
        return x
    with pytest.raises(RuntimeError, match="vmap"):
        gpugrad.vmap(f)(gpugrad.ones(2, 3))


def test_save_of_a_model_points_to_state_dict(tmp_path):
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"model\.state_dict\(\)"):
        gpugrad.save(model, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def test_writing_into_a_read_only_import_says_clone():
    a = np.arange(3.0)
    a.flags.writeable = False
    t = gpugrad.from_dlpack(a)
    with pytest.raises(ValueError, match=r"read-only.*clone\(\)"):
        t += 1
    assert (t.clone() + 1).tolist() == [1.0, 2.0, 3.0]
