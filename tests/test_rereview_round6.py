"""Re-review round 6 (RR3's findings F1-F11, F13 and leftovers): max/min with a tensor dim,
NumPy float64 leaves, Adafactor's factored state, norms with NumPy/tensor dims and ord,
full with NumPy scalars, shifts of an int by a bool tensor, Muon with a tensor lr, NaN
edges of sign/abs/hardsigmoid, ragged int lists, arange wrapping, the integer negative
power error, and the conjugate transpose of complex tensors. Hand-derived values first;
PyTorch where installed."""

import math

import numpy as np
import pytest

import gpugrad as gg
from gpugrad.nn import functional as F

NAN = float("nan")


def _torch():
    return pytest.importorskip("torch")


# --------------------------------------------------------------------------- F1
def test_max_min_with_a_tensor_dim_by_keyword_reduce():
    x = gg.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    values, indices = x.max(dim=gg.tensor(1))
    assert values.tolist() == [3.0, 5.0] and indices.tolist() == [0, 1]
    values, indices = gg.min(x, dim=gg.tensor(1))
    assert values.tolist() == [1.0, 0.0] and indices.tolist() == [1, 0]
    kept = gg.max(x, dim=gg.tensor(1), keepdim=True)
    assert kept.values.tolist() == [[3.0], [5.0]] and kept.indices.tolist() == [[0], [1]]
    kept = x.max(gg.tensor(1), True)                # positional, with keepdim: a dim too
    assert kept.values.tolist() == [[3.0], [5.0]]
    assert x.max(dim=np.int64(0)).indices.tolist() == [0, 1, 1]


def test_max_min_with_a_lone_positional_tensor_stay_element_wise():
    x = gg.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    assert gg.max(x, gg.tensor(1.0)).tolist() == [[3.0, 1.0, 2.0], [1.0, 5.0, 4.0]]
    assert x.min(gg.tensor(1.0)).tolist() == [[1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
    assert x.max(other=gg.tensor(1.0)).tolist() == [[3.0, 1.0, 2.0], [1.0, 5.0, 4.0]]
    with pytest.raises(TypeError):
        x.max(1, True, 2)


def test_max_min_tensor_dim_as_pytorch():
    torch = _torch()
    data = [[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]
    x, t = gg.tensor(data), torch.tensor(data)
    for f in (lambda lib, a: a.max(dim=lib.tensor(1)),
              lambda lib, a: lib.min(a, dim=lib.tensor(0)),
              lambda lib, a: lib.max(a, dim=lib.tensor(1), keepdim=True),
              lambda lib, a: a.min(lib.tensor(1), True)):
        ours, theirs = f(gg, x), f(torch, t)
        assert ours.values.tolist() == theirs.values.tolist()
        assert ours.indices.tolist() == theirs.indices.tolist()
    assert gg.max(x, gg.tensor(1.0)).tolist() == torch.max(t, torch.tensor(1.0)).tolist()


# --------------------------------------------------------------------------- F2
@pytest.mark.parametrize("data, dtype", [
    ([np.float64(1.1), 1], "float64"), ([[np.float64(1.0)], [2.0]], "float64"),
    ([1.5, np.float64(1.1)], "float64"), ([np.float64(1.0), np.float32(2.0)], "float64"),
    ([np.array([1.1, 2.0]), [3.0, 4.0]], "float64"), ([np.float64(1.0), 1j], "complex128"),
    ([1.1, 2.0], "float32"), ([np.float32(1.0), 2.5], "float32"), ([np.int64(1), 2.5], "float32"),
    ([1j, 2.0], "complex64"), ([[1.0], [2.0]], "float32"),
])
def test_numpy_float64_leaves_keep_float64(data, dtype):
    t = gg.tensor(data)
    assert t.dtype == np.dtype(dtype)
    flat = np.asarray([np.asarray(v, dtype=dtype) for v in np.ravel(np.asarray(data, object))])
    np.testing.assert_array_equal(t.numpy().ravel(), flat.ravel())   # (1.1 not rounded)


def test_numpy_float64_leaves_as_pytorch():
    torch = _torch()
    for data in ([np.float64(1.5), 1], [[np.float64(1)], [2.0]], [1.5, np.float64(1)],
                 [np.float32(1), 2.5], [np.float64(1), np.int32(2)], [1.0, 2.0]):
        assert str(gg.tensor(data).dtype) == str(torch.tensor(data).dtype).split(".")[1]


# --------------------------------------------------------------------------- F3 / F13
def _adafactor_run(load_at=None, steps=4):
    w = gg.tensor([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]], dtype="float64", requires_grad=True)
    v = gg.tensor([1.0, -0.5], dtype="float64", requires_grad=True)
    opt = gg.optim.Adafactor([w, v], lr=0.1)
    for i in range(steps):
        if i == load_at:
            fresh = gg.optim.Adafactor([w, v], lr=0.1)
            fresh.load_state_dict(opt.state_dict())
            opt = fresh
        opt.zero_grad()
        ((w ** 2).sum() + (v ** 3).sum()).backward()
        opt.step()
    return w.detach().numpy(), v.detach().numpy(), opt


def test_adafactor_state_dict_round_trip_for_matrices():
    w0, v0, _ = _adafactor_run()
    w1, v1, opt = _adafactor_run(load_at=2)
    np.testing.assert_array_equal(w0, w1)
    np.testing.assert_array_equal(v0, v1)
    state = opt.state[opt.param_groups[0]["params"][0]]
    assert tuple(state["row_var"].shape) == (2, 1) and tuple(state["col_var"].shape) == (1, 3)


def test_adafactor_state_dict_still_refuses_a_wrong_shape():
    w = gg.ones(4, 3, requires_grad=True)
    opt = gg.optim.Adafactor([w])
    w.grad = gg.ones(4, 3)
    opt.step()
    saved = opt.state_dict()
    saved["state"][0]["row_var"] = gg.ones(4, 2)
    with pytest.raises(ValueError, match="row_var"):
        gg.optim.Adafactor([w]).load_state_dict(saved)


def test_adafactor_groups_hold_foreach():
    w = gg.ones(2, 2, requires_grad=True)
    assert gg.optim.Adafactor([w]).param_groups[0]["foreach"] is None
    assert gg.optim.Adafactor([w], foreach=True).state_dict()["param_groups"][0]["foreach"]


def test_adafactor_loads_pytorch_matrix_state_and_matches():
    torch = _torch()
    data = [[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]]
    t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.Adafactor([t], lr=0.1)
    for _ in range(2):
        topt.zero_grad()
        (t ** 2).sum().backward()
        topt.step()
    w = gg.tensor(t.detach().numpy(), requires_grad=True)
    opt = gg.optim.Adafactor([w], lr=0.1)
    opt.load_state_dict(topt.state_dict())
    assert set(opt.param_groups[0]) == set(topt.param_groups[0])
    for _ in range(2):
        topt.zero_grad()
        (t ** 2).sum().backward()
        topt.step()
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
    np.testing.assert_allclose(w.detach().numpy(), t.detach().numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- F4 / F11
@pytest.mark.parametrize("dim", [np.int64(1), np.int32(1), gg.tensor(1), [gg.tensor(-1)]])
def test_norms_take_numpy_and_tensor_dims(dim):
    x = gg.tensor([[3.0, 4.0], [1.0, 2.0]])
    want = [5.0, math.sqrt(5.0)]
    np.testing.assert_allclose(gg.linalg.vector_norm(x, dim=dim).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(gg.linalg.norm(x, dim=dim).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(F.normalize(x, dim=dim).numpy(),
                               [[0.6, 0.8], [1 / math.sqrt(5), 2 / math.sqrt(5)]], rtol=1e-6)
    cos = F.cosine_similarity(x, gg.tensor([[4.0, 3.0], [2.0, 1.0]]), dim=dim)
    np.testing.assert_allclose(cos.numpy(), [24 / 25, 4 / 5], rtol=1e-6)


def test_linalg_norm_with_a_pair_of_numpy_and_tensor_dims_is_a_matrix_norm():
    x = gg.tensor([[3.0, 4.0], [1.0, 2.0]])
    assert gg.linalg.norm(x, dim=(np.int64(0), gg.tensor(1))).item() == pytest.approx(
        math.sqrt(30.0))


@pytest.mark.parametrize("ord", [gg.tensor(2), gg.tensor(1.0), np.float64(3.0)])
def test_norms_take_a_0d_tensor_ord(ord):
    x = gg.tensor([[3.0, -4.0], [1.0, 2.0]])
    p = float(ord.item())
    want = (np.abs(x.numpy()) ** p).sum(-1) ** (1 / p)
    np.testing.assert_allclose(gg.linalg.vector_norm(x, ord=ord, dim=-1).numpy(), want,
                               rtol=1e-6)
    np.testing.assert_allclose(x.norm(p=ord, dim=1).numpy(), want, rtol=1e-6)
    y = gg.zeros(2, 2)
    got = F.pairwise_distance(x, y, p=ord, eps=0.0).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)


def _norms(lib, a):
    return (lib.linalg.vector_norm(a, dim=np.int64(1)).tolist()
            + lib.linalg.norm(a, dim=lib.tensor(1)).tolist()
            + lib.nn.functional.cosine_similarity(a, a + 1, dim=lib.tensor(1)).tolist()
            + lib.linalg.vector_norm(a, ord=lib.tensor(3), dim=-1).tolist()
            + [a.norm(p=lib.tensor(1)).item()])


def test_norm_dims_and_ord_as_pytorch():
    torch = _torch()
    data = [[3.0, 4.0], [1.0, 2.0]]
    np.testing.assert_allclose(_norms(gg, gg.tensor(data)), _norms(torch, torch.tensor(data)),
                               rtol=1e-6)


# --------------------------------------------------------------------------- F5
@pytest.mark.parametrize("fill, dtype, value", [
    (np.float64(1.5), "float32", 1.5), (np.int64(3), "int64", 3), (np.int8(-1), "int64", -1),
    (np.uint8(3), "int64", 3), (np.float32(3.0), "float32", 3.0), (np.float16(2), "float32", 2),
    (np.bool_(True), "float32", 1.0), (np.complex128(1j), "complex64", 1j),
])
def test_full_with_numpy_scalars(fill, dtype, value):
    t = gg.full((2,), fill)
    assert t.dtype == np.dtype(dtype) and t.tolist() == [value, value]


def test_full_with_numpy_scalars_as_pytorch():
    torch = _torch()
    for fill in (np.float64(1.5), np.int64(3), np.bool_(True), np.float32(3), np.int32(-2)):
        ours, theirs = gg.full((2,), fill), torch.full((2,), fill)
        assert str(ours.dtype) == str(theirs.dtype).split(".")[1]
        assert ours.tolist() == theirs.tolist()


# --------------------------------------------------------------------------- F6
def test_int_shifted_by_a_bool_tensor():
    b = gg.tensor([True, False, True])
    for out, want in ((3 << b, [6, 3, 6]), (np.int64(3) << b, [6, 3, 6]), (3 >> b, [1, 3, 1]),
                      (gg.bitwise_left_shift(3, b), [6, 3, 6]), (-5 >> b, [-3, -5, -3])):
        assert out.dtype == np.int64 and out.tolist() == want
    small = 3 << gg.tensor([1, 2], dtype=gg.int8)       # an int count keeps its dtype
    assert small.dtype == np.int8 and small.tolist() == [6, 12]


def test_int_shifted_by_a_bool_tensor_as_pytorch():
    torch = _torch()
    for f in (lambda b: 3 << b, lambda b: 300 >> b, lambda b: -5 >> b):
        ours = f(gg.tensor([True, False])).tolist()
        assert ours == f(torch.tensor([True, False])).tolist()


# --------------------------------------------------------------------------- F7
def _muon(lr, lib=gg):
    w = lib.tensor([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]], requires_grad=True)
    opt = lib.optim.Muon([w], lr=lr)
    for _ in range(3):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
    return w.detach().numpy()


def test_muon_with_a_tensor_lr_steps_as_with_a_float():
    np.testing.assert_array_equal(_muon(gg.tensor(0.02)), _muon(0.02))


def test_muon_with_a_tensor_lr_as_pytorch():
    torch = _torch()
    np.testing.assert_allclose(_muon(gg.tensor(0.02)), _muon(torch.tensor(0.02), torch),
                               atol=1e-6)


# --------------------------------------------------------------------------- F8
def test_sign_of_nan_is_zero_and_abs_gradient_there_too():
    assert gg.sign(gg.tensor([NAN, -2.0, 0.0, 3.0])).tolist() == [0.0, -1.0, 0.0, 1.0]
    assert gg.sign(gg.tensor(NAN, dtype="float64")).item() == 0.0
    assert gg.sgn(gg.tensor([NAN])).tolist() == [0.0]
    assert gg.sign(gg.tensor([-3, 0, 2])).tolist() == [-1, 0, 1]
    x = gg.tensor([NAN, 1.0, -1.0, 0.0], requires_grad=True)
    x.abs().sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, -1.0, 0.0]
    x.grad = None
    F.l1_loss(x, gg.zeros(4)).backward()
    assert x.grad.tolist() == [0.0, 0.25, -0.25, 0.0]
    x.grad = None
    x.norm(p=1).backward()
    assert x.grad.tolist() == [0.0, 1.0, -1.0, 0.0]


def test_hardsigmoid_at_nan():
    x = gg.tensor([NAN, -4.0, -3.0, 0.0, 3.0, 4.0], requires_grad=True)
    y = F.hardsigmoid(x)
    assert math.isnan(y.tolist()[0]) and y.tolist()[1:] == [0.0, 0.0, 0.5, 1.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, pytest.approx(1 / 6), 0.0, 0.0]


def test_nan_edges_as_pytorch():
    torch = _torch()
    data = [NAN, 1.0, -1.0, 0.0, -3.0, 2.5]
    out = {}
    for lib, fn in ((gg, F), (torch, torch.nn.functional)):
        x = lib.tensor(data, requires_grad=True)
        (x.abs().sum() + fn.hardsigmoid(x).sum() + x.sign().sum()).backward()
        out[lib] = (lib.sign(lib.tensor(data)).tolist(), x.grad.tolist())
    assert out[gg] == out[torch]


# --------------------------------------------------------------------------- F9
@pytest.mark.parametrize("dtype", ["int64", "uint8", "int32"])
def test_ragged_int_list_with_a_dtype_is_a_value_error(dtype):
    with pytest.raises(ValueError):
        gg.tensor([[1, 2], [3]], dtype=dtype)


# --------------------------------------------------------------------------- F10
def test_arange_wraps_into_small_integer_dtypes():
    assert gg.arange(-3, 3, dtype=gg.uint8).tolist() == [253, 254, 255, 0, 1, 2]
    assert gg.arange(250, 260, 3, dtype=gg.uint8).tolist() == [250, 253, 0, 3]
    out = gg.arange(126, 130, dtype=gg.int8)
    assert out.dtype == np.int8 and out.tolist() == [126, 127, -128, -127]
    assert gg.arange(0, 256, 64, dtype=gg.uint8).tolist() == [0, 64, 128, 192]


def test_arange_wraps_as_pytorch():
    torch = _torch()
    for args, name in (((-3, 3), "uint8"), ((120, 130, 3), "int8"), ((-2, 2), "int16")):
        ours = gg.arange(*args, dtype=name).tolist()
        assert ours == torch.arange(*args, dtype=getattr(torch, name)).tolist()


# --------------------------------------------------------------------------- leftovers
def test_negative_int_power_of_an_int_tensor_is_a_runtime_and_value_error():
    for error in (RuntimeError, ValueError):
        with pytest.raises(error, match="negative integer powers"):
            gg.tensor([2, 3]) ** -1


def test_negative_int_power_error_class_as_pytorch():
    torch = _torch()
    with pytest.raises(RuntimeError):
        torch.tensor([2, 3]) ** -1


_A = np.array([[1 + 2j, 3 - 1j], [0.5j, 2.0]], dtype=np.complex128)


def test_mh_and_h_conjugate_complex_tensors():
    a = gg.tensor(_A, requires_grad=True)
    np.testing.assert_array_equal((a @ a.mH).detach().numpy(), _A @ _A.conj().T)
    np.testing.assert_array_equal(a.H.detach().numpy(), _A.conj().T)
    np.testing.assert_array_equal(a.adjoint().detach().numpy(), _A.conj().T)
    assert gg.tensor(1 + 2j).mH.item() == 1 - 2j
    batch = gg.tensor(np.stack([_A, 2 * _A]))
    np.testing.assert_array_equal(batch.mH.numpy(), np.stack([_A, 2 * _A]).conj().swapaxes(1, 2))
    real = gg.tensor([[1.0, 2.0]])
    assert real.mH.tolist() == [[1.0], [2.0]] and real.H.tolist() == [[1.0], [2.0]]
    # d/dA of sum(Re(A A^H)) = sum_ij Re(sum_k A_ik conj(A_jk)): PyTorch's conjugate
    # Wirtinger gradient is 2 * (column sums of A over rows i) for each (j, k) entry
    (a @ a.mH).real.sum().backward()
    want = 2 * np.broadcast_to(_A.sum(axis=0), _A.shape)
    np.testing.assert_allclose(a.grad.numpy(), want, rtol=1e-12)


def test_mh_of_complex_as_pytorch():
    torch = _torch()
    a, t = gg.tensor(_A, requires_grad=True), torch.tensor(_A, requires_grad=True)
    (a @ a.mH).abs().sum().backward()
    (t @ t.mH).abs().sum().backward()
    np.testing.assert_allclose((a @ a.mH).detach().numpy(), (t @ t.mH).detach().numpy())
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_maximum_and_minimum_keep_their_import_path():
    from gpugrad.ops import elementwise, extremes
    assert elementwise.maximum is extremes.maximum is gg.maximum
    assert elementwise.minimum is extremes.minimum is gg.minimum


def test_cdist_takes_a_0d_tensor_p():
    """As torch.cdist: a 0-d tensor p is its number (here the Manhattan distance)."""
    a = gg.tensor([[0.0, 0.0], [1.0, 2.0]])
    b = gg.tensor([[3.0, 4.0]])
    assert gg.cdist(a, b, p=gg.tensor(1.0)).tolist() == [[7.0], [4.0]]
