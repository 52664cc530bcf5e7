"""NumPy functions called on tensors that require grad: gpugrad's op where it has one (a
tensor in the graph, with NumPy's argument meanings), an error where NumPy's result would
silently leave the graph; plus numpy(force=), copy/deepcopy's .grad, __index__'s advice and
bfloat16 imports.

Each check runs without PyTorch (NumPy in float64, central differences); the PyTorch
comparisons skip where it is not installed."""

import copy

import numpy as np
import pytest

import gpugrad
from gpugrad import nn


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 3)) + 3 * np.eye(3)         # well conditioned
B = RNG.standard_normal((3, 3))
V = RNG.standard_normal(4)
T3 = RNG.standard_normal((2, 3, 4))
T3B = RNG.standard_normal((5, 4, 2))

# (id, f(*arrays) called with NumPy arrays or with tensors, inputs)
CASES = [
    ("square", lambda x: np.square(x), [V]),
    ("log1p", lambda x: np.log1p(x), [np.abs(V)]),
    ("expm1", lambda x: np.expm1(x), [V]),
    ("cumsum-flat", lambda x: np.cumsum(x), [B]),
    ("cumsum-axis", lambda x: np.cumsum(x, axis=1), [B]),
    ("cumprod-flat", lambda x: np.cumprod(x), [B]),
    ("prod-axis", lambda x: np.prod(x, axis=0), [B]),
    ("concatenate", lambda x, y: np.concatenate([x, y], axis=1), [A, B]),
    ("concatenate-flat", lambda x, y: np.concatenate([x, y], axis=None), [A, V]),
    ("stack", lambda x, y: np.stack([x, y], axis=-1), [A, B]),
    ("hstack", lambda x, y: np.hstack([x, y]), [A, B]),
    ("vstack", lambda x, y: np.vstack((x, y)), [A, B]),
    ("dot-vectors", lambda x: np.dot(x, x), [V]),
    ("dot-matrices", lambda x, y: np.dot(x, y), [A, B]),
    ("dot-nd", lambda x, y: np.dot(x, y), [T3, T3B]),
    ("dot-scalar", lambda x: np.dot(x, 2.0), [V]),
    ("vdot", lambda x, y: np.vdot(x, y), [A, B]),
    ("inner", lambda x, y: np.inner(x, y), [A, B]),
    ("outer", lambda x, y: np.outer(x, y), [A[0], V]),
    ("tensordot", lambda x, y: np.tensordot(x, y, axes=([2], [1])), [T3, T3B]),
    ("einsum", lambda x, y: np.einsum("ij,jk->ik", x, y), [A, B]),
    ("kron", lambda x, y: np.kron(x, y), [A[:2, :2], B[:2, :2]]),
    ("trace", lambda x: np.trace(x, offset=1), [B]),
    ("diagonal", lambda x: np.diagonal(x, 0, 0, 2), [T3]),
    ("diag", lambda x: np.diag(x, k=1), [V]),
    ("flip", lambda x: np.flip(x), [B]),
    ("roll", lambda x: np.roll(x, 2, axis=1), [B]),
    ("rot90", lambda x: np.rot90(x), [B]),
    ("tile", lambda x: np.tile(x, 2), [V]),
    ("tril", lambda x: np.tril(x, -1), [B]),
    ("swapaxes", lambda x: np.swapaxes(x, 0, 2), [T3]),
    ("expand_dims", lambda x: np.expand_dims(x, (0, -1)), [B]),
    ("sort", lambda x: np.sort(x, axis=0), [B]),
    ("round", lambda x: np.round(x * 3, 1), [B]),
    ("copy", lambda x: np.copy(x), [B]),
    ("ravel", lambda x: np.ravel(x), [B]),
    ("split", lambda x: np.split(x, [1], axis=1), [B]),
    ("nansum", lambda x: np.nansum(x, axis=1), [B]),
    ("norm", lambda x: np.linalg.norm(x), [B]),
    ("norm-axis", lambda x: np.linalg.norm(x, axis=1, keepdims=True), [B]),
    ("norm-ord1", lambda x: np.linalg.norm(x, ord=1), [B]),
    ("det", lambda x: np.linalg.det(x), [A]),
    ("inv", lambda x: np.linalg.inv(x), [A]),
    ("solve", lambda x, y: np.linalg.solve(x, y), [A, V[:3]]),
    ("matrix_power", lambda x: np.linalg.matrix_power(x, 3), [A]),
]


def _flat(result) -> list:
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _weighted(result, weights):
    """sum(w * r) over every output (a scalar tensor)."""
    return sum((r * gpugrad.tensor(w)).sum() for r, w in zip(_flat(result), weights))


@pytest.mark.parametrize("name, f, inputs", CASES, ids=[c[0] for c in CASES])
def test_numpy_functions_gpugrad_has_stay_in_the_graph(name, f, inputs):
    """Each result is a tensor with a grad_fn, equal to NumPy's on the float64 values, and its
    gradient is the central difference of NumPy's own function."""
    expected = _flat(f(*inputs))
    leaves = [gpugrad.tensor(x, dtype="float64", requires_grad=True) for x in inputs]
    got = _flat(f(*leaves))
    for g, e in zip(got, expected):
        assert isinstance(g, gpugrad.Tensor) and g.grad_fn is not None, name
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-12, atol=1e-12)
    weights = [np.random.default_rng(1).standard_normal(np.shape(e)) for e in expected]
    _weighted(f(*leaves), weights).backward()
    for i, x in enumerate(inputs):
        numeric = np.zeros(np.shape(x))
        for j in np.ndindex(numeric.shape):
            steps = []
            for step in (1e-6, -1e-6):
                moved = [np.array(a, dtype=np.float64) for a in inputs]
                moved[i][j] += step
                steps.append(sum(np.sum(w * r) for w, r in zip(weights, _flat(f(*moved)))))
            numeric[j] = (steps[0] - steps[1]) / 2e-6
        np.testing.assert_allclose(leaves[i].grad.numpy(), numeric, rtol=1e-5, atol=1e-6)


def test_a_numpy_array_operand_joins_the_tensor_in_the_graph():
    w = gpugrad.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = np.dot(m, w)                                  # the array first, the tensor second
    assert isinstance(out, gpugrad.Tensor) and out.tolist() == [5.0, 11.0]
    out.sum().backward()
    assert w.grad.tolist() == [4.0, 6.0]
    joined = np.concatenate([w, np.zeros(1)])
    assert isinstance(joined, gpugrad.Tensor) and joined.requires_grad


def test_numpy_calls_gpugrad_lacks_refuse_a_tensor_that_requires_grad():
    w = gpugrad.tensor([1.0, 2.0, 4.0], requires_grad=True)
    for call in (lambda: np.percentile(w, 50), lambda: np.median(w),
                 lambda: np.sum(w, dtype=np.float64), lambda: np.add.reduce(w),
                 lambda: np.cbrt(w), lambda: np.histogram(w)):
        with pytest.raises(RuntimeError, match=r"requires grad.*\.detach\(\)"):
            call()
    with pytest.raises(RuntimeError, match=r"np\.linalg\.pinv\(\)"):
        np.linalg.pinv(w.reshape(1, 3))
    buffer = np.zeros(3)
    for write in (lambda: np.add(buffer, w, out=buffer), lambda: np.copyto(buffer, w),
                  lambda: np.add.at(buffer, [0], w), lambda: buffer.__iadd__(w)):
        with pytest.raises(RuntimeError, match="requires grad"):
            write()
    assert buffer.tolist() == [0.0, 0.0, 0.0]           # refused before NumPy wrote


def test_numpy_calls_without_a_gradient_to_lose_still_get_numpys_answer():
    w = gpugrad.tensor([3.0, 1.0, 2.0], requires_grad=True)
    assert np.percentile(w.detach(), 50) == 2.0
    with gpugrad.no_grad():
        assert np.median(w) == 2.0
    assert np.argsort(w).tolist() == [1, 2, 0]
    assert np.isclose(w, 1.0).tolist() == [False, True, False] and np.allclose(w, w)
    assert np.zeros_like(w).tolist() == [0.0] * 3 and np.full_like(w, 7.0).tolist() == [7.0] * 3
    assert np.shape(w) == (3,) and np.signbit(w).tolist() == [False] * 3


def test_numpy_and_asarray_stay_lenient_and_numpy_takes_force():
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    for values in (w.numpy(), w.numpy(force=True), np.asarray(w)):
        assert isinstance(values, np.ndarray) and values.tolist() == [1.0, 2.0]
    assert np.shares_memory(w.numpy(force=True), w.numpy())     # on the cpu, as PyTorch
    with pytest.raises(TypeError):
        w.numpy(True)                                   # keyword-only, as PyTorch's


def test_gradients_through_numpy_calls_match_pytorchs(torch):
    values = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    w = gpugrad.tensor(values, dtype="float64", requires_grad=True)
    tw = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (np.linalg.norm(w) + np.cumsum(np.square(w), axis=1).sum()
     + np.dot(w, w.T).sum() + np.log1p(np.abs(w)).sum()).backward()
    (torch.linalg.norm(tw) + torch.cumsum(torch.square(tw), 1).sum()
     + (tw @ tw.T).sum() + torch.log1p(tw.abs()).sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    for call in (lambda t: np.percentile(t, 50), lambda t: np.copyto(np.zeros(3), t)):
        with pytest.raises(RuntimeError):
            call(torch.ones(3, requires_grad=True))     # PyTorch refuses these too
        with pytest.raises(RuntimeError):
            call(gpugrad.ones(3, requires_grad=True))


# ---------------------------------------------------------------------- copies and .grad
def test_copy_has_no_grad_and_a_parameters_deepcopy_drops_it():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    shallow = copy.copy(x)
    assert shallow.grad is None and shallow.requires_grad
    assert np.shares_memory(shallow.numpy(), x.numpy())
    assert copy.deepcopy(x).grad.tolist() == [2.0, 4.0]     # a plain tensor's is copied
    model = nn.Linear(2, 1)
    model(gpugrad.ones(1, 2)).sum().backward()
    clone = copy.deepcopy(model)
    for p, q in zip(model.parameters(), clone.parameters()):
        assert type(q) is nn.Parameter and q.requires_grad and q.grad is None
        assert p.grad is not None and q.tolist() == p.tolist()
        assert not np.shares_memory(p.numpy(), q.numpy())
    frozen = nn.Parameter(gpugrad.ones(2), requires_grad=False)
    pair = copy.deepcopy([frozen, frozen])
    assert pair[0] is pair[1] and not pair[0].requires_grad


def test_copy_and_deepcopy_grads_match_pytorchs(torch):
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    (tx * tx).sum().backward()
    tp = torch.nn.Parameter(torch.ones(2))
    tp.sum().backward()
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    p = nn.Parameter(gpugrad.ones(2))
    p.sum().backward()
    assert (copy.copy(x).grad is None) == (copy.copy(tx).grad is None)
    assert (copy.deepcopy(x).grad is None) == (copy.deepcopy(tx).grad is None)
    assert (copy.deepcopy(p).grad is None) == (copy.deepcopy(tp).grad is None)


# ---------------------------------------------------------------------- messages
def test_a_one_element_index_tensor_points_to_item():
    names = ["a", "b", "c"]
    with pytest.raises(TypeError, match=r"t\.item\(\)"):
        names[gpugrad.tensor([1])]
    assert names[int(gpugrad.tensor([1]).item())] == "b"


class _Bfloat16Array:
    """An array of another library that NumPy cannot import (as PyTorch's bfloat16)."""
    dtype = "torch.bfloat16"

    def __dlpack__(self, **kwargs):
        raise RuntimeError("Unsupported dtype in DLTensor.")

    def __dlpack_device__(self):
        return (1, 0)


def test_from_dlpack_of_bfloat16_says_to_convert():
    with pytest.raises(TypeError, match=r"bfloat16.*float32.*t\.float\(\)"):
        gpugrad.from_dlpack(_Bfloat16Array())


def test_from_dlpack_of_pytorch_bfloat16_says_to_convert(torch):
    with pytest.raises(TypeError, match=r"no bfloat16 tensors.*t\.float\(\)"):
        gpugrad.from_dlpack(torch.ones(2, dtype=torch.bfloat16))
    assert gpugrad.from_dlpack(torch.ones(2, dtype=torch.bfloat16).float()).tolist() == [1, 1]


def test_comparing_with_a_string_is_false_as_torch():
    """``if value == "auto"`` on a config value that may be a tensor (torch returns False)."""
    t = gpugrad.ones(2)
    assert (t == "x") is False and (t != "x") is True
    assert (t == b"x") is False
    assert t in ["auto", t] and "auto" not in [t]
