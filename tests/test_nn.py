"""gpugrad.nn: Module bookkeeping, layers and their initialisation, Dropout, state dicts."""

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
        "    (2): Dropout(p=0.5)\n"
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
    with pytest.raises(KeyError, match=r"missing keys \['first.bias'\].*unexpected keys "
                                       r"\['extra'\]"):
        b.load_state_dict(state)
    wrong = a.state_dict()
    wrong["second.weight"] = gpugrad.zeros(3, 3)
    with pytest.raises(ValueError, match=r"'second.weight'.*\(3, 3\).*\(2, 4\)"):
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


def test_sequential_indexing():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Identity())
    assert len(seq) == 3 and isinstance(seq[0], nn.Linear)
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    with pytest.raises(TypeError, match="item 0"):
        nn.Sequential("not a module")
