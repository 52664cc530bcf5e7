"""gpugrad.nn: Module bookkeeping, layers and their initialisation, Dropout, state dicts, and
gradient clipping (nn.utils) against hand-derived values, float64 NumPy and, optionally,
PyTorch."""

import importlib

import numpy as np
import pytest

import gpugrad
from gpugrad import nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.act = nn.Tanh()
        self.second = nn.Linear(4, 2, bias=False)
        self.scale = nn.Parameter(gpugrad.ones(2))

    def forward(self, x):
        return self.second(self.act(self.first(x))) * self.scale


def test_module_registers_parameters_and_children_in_order():
    model = TwoLayer()
    assert [n for n, _ in model.named_parameters()] == [
        "scale", "first.weight", "first.bias", "second.weight"]
    assert [type(m).__name__ for m in model.children()] == ["Linear", "Tanh", "Linear"]
    assert len(list(model.modules())) == 4
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_repr_is_readable():
    assert repr(nn.MLP([3, 5, 2], dropout=0.5)) == (
        "MLP(\n"
        "  (layers): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=5, bias=True)\n"
        "    (1): ReLU()\n"
        "    (2): Dropout(p=0.5, inplace=False)\n"
        "    (3): Linear(in_features=5, out_features=2, bias=True)\n"
        "  )\n"
        ")")


def test_linear_matches_numpy_and_pytorch_initialisation(device):
    gpugrad.manual_seed(0)
    layer = nn.Linear(50, 20, device=device)
    bound = 1 / np.sqrt(50)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (20, 50) and b.shape == (20,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound          # uniform's std
    x = gpugrad.randn(7, 50, device=device)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ w.T + b, rtol=1e-5, atol=1e-5)


def test_linear_gradients(device):
    layer = nn.Linear(3, 2, device=device, dtype="float64")
    x = gpugrad.randn(4, 3, dtype="float64", device=device, requires_grad=True)
    assert gpugrad.gradcheck(lambda x, w, b: nn.functional.linear(x, w, b),
                             (x, layer.weight, layer.bias))


def test_mlp_shapes_and_activations(device):
    model = nn.MLP([6, 8, 8, 3], activation="tanh", device=device)
    assert model(gpugrad.randn(5, 6, device=device)).shape == (5, 3)
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    with pytest.raises(ValueError, match="unknown activation"):
        nn.MLP([2, 2], activation="gelu")
    with pytest.raises(ValueError, match="at least an input and an output"):
        nn.MLP([4])


def test_dropout_masks_scale_and_reproduce(device):
    layer = nn.Dropout(0.25)
    x = gpugrad.ones(20_000, device=device, requires_grad=True)
    gpugrad.manual_seed(3)
    y = layer(x)
    values = y.numpy()
    kept = values != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(values[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, kept)
    gpugrad.manual_seed(3)
    np.testing.assert_array_equal(layer(x).numpy(), values)     # the seed replays the mask
    layer.eval()
    assert layer(x) is x


def test_state_dict_round_trip_and_errors():
    a, b = TwoLayer(), TwoLayer()
    b.load_state_dict(a.state_dict())
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    state = a.state_dict()
    del state["first.bias"]
    state["extra"] = gpugrad.zeros(1)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "first.bias"\. '
                                           r'\n\tUnexpected key\(s\) in state_dict: "extra"'):
        b.load_state_dict(state)
    wrong = a.state_dict()
    wrong["second.weight"] = gpugrad.zeros(3, 3)
    with pytest.raises(ValueError, match=r"size mismatch for second.weight: copying a param "
                                         r"with shape \(3, 3\) .* model is \(2, 4\)\."):
        b.load_state_dict(wrong)


def test_zero_grad_and_to_dtype():
    model = TwoLayer()
    model(gpugrad.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(float(abs(p.grad).sum()) == 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    params = list(model.parameters())
    model.to(dtype="float64")
    assert [p is q for p, q in zip(params, model.parameters())] == [True] * 4
    assert all(p.dtype == np.float64 for p in model.parameters())


def test_to_moves_and_casts_gradients_with_their_parameters(device):
    # as PyTorch's Module._apply: each grad is converted like its parameter, not dropped
    model = TwoLayer()
    model(gpugrad.ones(2, 3)).sum().backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    values = {name: g.numpy().astype(np.float64) for name, g in grads.items()}
    model.second.weight.grad = None                         # one without a gradient
    assert model.to(device, "float64") is model
    assert model.second.weight.grad is None
    for name, p in model.named_parameters():
        if name == "second.weight":
            continue
        assert p.grad is grads[name], name                  # the same tensor, changed in place
        assert p.grad.dtype == np.float64 and str(p.grad.device).startswith(device), name
        np.testing.assert_array_equal(p.grad.numpy(), values[name], err_msg=name)
    # a step after the cast uses the kept gradient: w - lr * grad, float64 NumPy reference
    before = model.first.weight.numpy().copy()
    gpugrad.optim.SGD(model.parameters(), lr=0.5).step()
    np.testing.assert_allclose(model.first.weight.numpy(),
                               before - 0.5 * values["first.weight"], rtol=1e-15)


def test_to_reads_a_device_as_tensor_to_does():
    for module in ("gpugrad.tensor", "gpugrad.nn.conversion", "gpugrad.ops.methods"):
        assert not any("names_a_device" in name for name in vars(importlib.import_module(module)))
    for first in ("cpu", " CPU ", gpugrad.Device("cpu"), "float64", gpugrad.float64):
        cast = gpugrad.zeros(1).to(first).dtype
        assert nn.Linear(1, 1).to(first).weight.dtype == cast, first


def test_dtype_and_device_shorthands_go_through_to(device):
    model = TwoLayer()
    model.register_buffer("steps", gpugrad.zeros((), dtype="int64"))
    model(gpugrad.ones(2, 3)).sum().backward()
    for method, dtype in (("double", np.float64), ("half", np.float16),
                          ("float", np.float32)):
        assert getattr(model, method)() is model
        assert all(p.dtype == dtype and p.grad.dtype == dtype for p in model.parameters())
        assert model.steps.dtype == np.int64                # integer buffers keep theirs
    if device == "cuda":
        assert model.cuda() is model and str(model.first.weight.device).startswith("cuda")
        assert str(model.first.weight.grad.device).startswith("cuda")
        assert model.cuda(0).first.weight.device == gpugrad.Device("cuda:0")
    assert model.cpu() is model and model.first.weight.device == "cpu"
    assert model.steps.device == "cpu" and model.first.weight.grad.device == "cpu"


def test_dtype_shorthands_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = TwoLayer(), torch.nn.Linear(3, 4)
    for method in ("double", "half", "float"):
        getattr(ours, method)()
        getattr(theirs, method)()
        assert str(ours.first.weight.dtype) == str(theirs.weight.dtype).replace("torch.", "")


def test_register_parameter_checks_names_as_register_buffer_does():
    layer = nn.Linear(2, 2)
    with pytest.raises(KeyError, match="already has an attribute 'forward'"):
        layer.register_parameter("forward", nn.Parameter(gpugrad.zeros(2)))
    assert layer(gpugrad.ones(1, 2)).shape == (1, 2)        # forward is still the method
    layer.register_buffer("mask", gpugrad.ones(2))
    with pytest.raises(KeyError, match="already has an attribute 'mask'"):
        layer.register_parameter("mask", None)              # a buffer is not a parameter
    with pytest.raises(KeyError, match="already has an attribute 'weight'"):
        layer.register_buffer("weight", gpugrad.ones(2))
    for bad in ("a.b", ""):
        with pytest.raises(KeyError, match="non-empty and contain no '.'"):
            layer.register_parameter(bad, nn.Parameter(gpugrad.zeros(1)))
    with pytest.raises(TypeError, match="parameter name must be a string, got int"):
        layer.register_parameter(3, None)
    assert list(layer.state_dict()) == ["weight", "bias", "mask"]
    layer.register_parameter("bias", nn.Parameter(gpugrad.zeros(2)))   # replacing is fine
    assert layer.bias.numpy().tolist() == [0.0, 0.0]
    no_bias = nn.Linear(2, 2, bias=False)              # an empty slot, as in PyTorch
    assert "bias" in no_bias._parameters and no_bias.bias is None

    class Early(nn.Module):
        def __init__(self):
            self.register_parameter("w", None)
            super().__init__()
    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) before "
                                             r"register_parameter"):
        Early()


def test_module_methods_document_themselves_with_examples():
    for name in ("buffers", "named_buffers", "requires_grad_", "double", "register_parameter",
                 "register_buffer"):
        assert ">>>" in (getattr(nn.Module, name).__doc__ or ""), name


def test_sequential_indexing():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Identity())
    assert len(seq) == 3 and isinstance(seq[0], nn.Linear)
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    with pytest.raises(TypeError, match="item 0"):
        nn.Sequential("not a module")


# ------------------------------------------------------------------ gradient clipping
def with_grads(grads, device="cpu", dtype="float32"):
    """Parameters (zeros) whose .grad are the given arrays (None: no gradient)."""
    params = []
    for g in grads:
        shape = (1,) if g is None else np.shape(g)
        p = gpugrad.zeros(*shape, dtype=dtype, device=device, requires_grad=True)
        p.grad = None if g is None else gpugrad.tensor(np.asarray(g), dtype=dtype,
                                                       device=device)
        params.append(p)
    return params


# ---------------------------------------------------------------------------------- clipping
def test_clip_grad_norm_by_hand(device):
    # grads [3, 4] and [12]: total 2-norm sqrt(9 + 16 + 144) = 13, scaled by 1 / (13 + 1e-6)
    a, b, none = with_grads([[3.0, 4.0], [12.0], None], device, "float64")
    total = nn.utils.clip_grad_norm_([a, b, none], max_norm=1.0)
    assert isinstance(total, gpugrad.Tensor) and total.shape == () and total.item() == 13.0
    assert total.device == a.device and none.grad is None
    coef = 1.0 / (13.0 + 1e-6)
    np.testing.assert_allclose(a.grad.numpy(), [3 * coef, 4 * coef], rtol=1e-15)
    np.testing.assert_allclose(b.grad.numpy(), [12 * coef], rtol=1e-15)
    # below max_norm the coefficient clamps to 1: nothing changes
    c, = with_grads([[0.3, -0.4]], device, "float64")
    assert nn.utils.clip_grad_norm_(c, max_norm=1.0).item() == pytest.approx(0.5)
    assert c.grad.numpy().tolist() == [0.3, -0.4]


def test_clip_grad_norm_inf_norm_and_iterables(device):
    a, b = with_grads([[1.0, -7.0], [[2.0], [5.0]]], device)
    total = nn.utils.clip_grad_norm_(iter([a, b]), max_norm=3.5, norm_type="inf")
    assert total.item() == 7.0                                  # the largest |g|
    coef = np.float32(3.5) / (np.float32(7.0) + np.float32(1e-6))
    np.testing.assert_allclose(a.grad.numpy(), np.float32([1.0, -7.0]) * coef, rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), np.float32([[2.0], [5.0]]) * coef, rtol=1e-6)
    empty = nn.utils.clip_grad_norm_([gpugrad.zeros(2, requires_grad=True)], 1.0)
    assert empty.item() == 0.0                                  # no gradients: norm 0


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, float("inf")])
def test_clip_grad_norm_matches_float64_numpy(device, norm_type):
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal(s) for s in ((4, 3), (3,), (2, 2, 2))]
    params = with_grads(grads, device, "float64")
    flat = np.concatenate([g.ravel() for g in grads])
    expected = np.linalg.norm(flat, ord=norm_type)
    max_norm = expected / 3
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    np.testing.assert_allclose(total.numpy(), expected, rtol=1e-13)
    coef = min(max_norm / (expected + 1e-6), 1.0)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.numpy(), g * coef, rtol=1e-13)


def test_clip_grad_norm_mixed_dtypes_and_nonfinite():
    a, = with_grads([[3.0]], dtype="float32")
    b, = with_grads([[4.0]], dtype="float64")
    total = nn.utils.clip_grad_norm_([a, b], 1.0)
    assert total.item() == pytest.approx(5.0) and a.grad.dtype == np.float32
    np.testing.assert_allclose(b.grad.numpy(), [0.8], rtol=1e-6)
    bad, = with_grads([[1.0, np.nan]])
    with pytest.raises(RuntimeError, match="non|NaN.*error_if_nonfinite=False"):
        nn.utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    assert np.isnan(nn.utils.clip_grad_norm_(bad, 1.0).item())     # as PyTorch: scaled by NaN
    with pytest.raises(TypeError, match="tensor or an iterable of tensors"):
        nn.utils.clip_grad_norm_(3.0, 1.0)


def test_clipping_reads_nothing_back_to_the_host():
    # every host read reports to the sync debug mode (on every device), so on CPU "error"
    # mode proves that a GPU run would not wait: the scale factor stays a device array
    params = with_grads([[3.0, 4.0], [1.0]])
    gpugrad.cuda.set_sync_debug_mode("error")
    try:
        nn.utils.clip_grad_norm_(params, 1.0)
        nn.utils.clip_grad_norm_(params, 1.0, norm_type=float("inf"))
        nn.utils.clip_grad_value_(params, 0.1)
        with pytest.raises(RuntimeError, match="synchronises"):     # it must read the norm
            nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    finally:
        gpugrad.cuda.set_sync_debug_mode("default")


def test_clip_grad_value_by_hand(device):
    a, b, none = with_grads([[-2.0, 0.25, 3.0], [[0.5, -0.5]], None], device)
    before = a.grad._version_value
    assert nn.utils.clip_grad_value_([a, b, none], clip_value=0.3) is None
    assert a.grad.numpy().tolist() == pytest.approx([-0.3, 0.25, 0.3])
    np.testing.assert_allclose(b.grad.numpy(), [[0.3, -0.3]], rtol=1e-6)
    assert none.grad is None and a.grad._version_value > before
    nn.utils.clip_grad_value_(a, 0.1)                           # a single tensor
    assert a.grad.numpy().tolist() == pytest.approx([-0.1, 0.1, 0.1])


def test_clip_grad_value_refuses_a_negative_clip_value(device):
    a, = with_grads([[0.1, -5.0, 5.0]], device)
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match=r"clip_value is (-1.0|nan).*pass a number >= 0"):
            nn.utils.clip_grad_value_([a], bad)
        assert a.grad.numpy().tolist() == pytest.approx([0.1, -5.0, 5.0])   # untouched
    nn.utils.clip_grad_value_([a], 0)                   # 0 is allowed: every element 0
    assert a.grad.numpy().tolist() == [0.0, 0.0, 0.0]


def test_clipping_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(s) for s in ((5, 4), (4,), (3, 3))]
    for norm_type in (2.0, 1.0, float("inf")):
        ours = with_grads(grads, dtype="float64")
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for t, g in zip(theirs, grads):
            t.grad = torch.tensor(g)
        total = nn.utils.clip_grad_norm_(ours, 0.7, norm_type=norm_type)
        expected = torch.nn.utils.clip_grad_norm_(theirs, 0.7, norm_type=norm_type)
        np.testing.assert_allclose(total.numpy(), expected.numpy(), rtol=1e-12)
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-12)
        nn.utils.clip_grad_value_(ours, 0.05)
        torch.nn.utils.clip_grad_value_(theirs, 0.05)
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-12)
