"""InstanceNorm1d/2d/3d and F.instance_norm, BatchNorm3d, nn.Buffer, UninitializedParameter
and LazyLinear: hand-derived float64 references, and PyTorch's where installed."""

import copy
import warnings

import numpy as np
import pytest

import gpugrad
import gpugrad.nn.functional as F
from gpugrad import nn


def _lazy(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # PyTorch 2.13's LazyLinear does not warn
        return nn.LazyLinear(*args, **kwargs)


def _reference_instance_norm(a, eps=1e-5):
    axes = tuple(range(2, a.ndim))
    mean = a.mean(axis=axes, keepdims=True)
    return (a - mean) / np.sqrt(a.var(axis=axes, keepdims=True) + eps)


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 4), (1, 3, 2, 2, 3)])
def test_instance_norm_by_hand_with_running_stats(shape):
    rng = np.random.default_rng(0)
    a = rng.normal(size=shape) * 3 + 1
    rm, rv = gpugrad.zeros(3, dtype="float64"), gpugrad.ones(3, dtype="float64")
    w, b = rng.normal(size=3), rng.normal(size=3)
    out = F.instance_norm(gpugrad.tensor(a), rm, rv, gpugrad.tensor(w), gpugrad.tensor(b),
                          momentum=0.3)
    view = (1, 3) + (1,) * (len(shape) - 2)
    want = _reference_instance_norm(a) * w.reshape(view) + b.reshape(view)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    axes = tuple(range(2, a.ndim))
    mean = a.mean(axis=axes).mean(axis=0)
    unbiased = a.var(axis=axes, ddof=1).mean(axis=0)
    np.testing.assert_allclose(rm.numpy(), 0.3 * mean, rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.7 + 0.3 * unbiased, rtol=1e-12)
    frozen = F.instance_norm(gpugrad.tensor(a), rm, rv, use_input_stats=False)
    np.testing.assert_allclose(frozen.numpy(), (a - rm.numpy().reshape(view)) /
                               np.sqrt(rv.numpy().reshape(view) + 1e-5), rtol=1e-12)


def test_instance_norm_layers_unbatched_affine_eval_and_errors():
    layer = nn.InstanceNorm1d(2, affine=True, track_running_stats=True, dtype="float64")
    a = np.arange(6.0).reshape(2, 3) ** 2
    np.testing.assert_allclose(layer(gpugrad.tensor(a)).detach().numpy(),
                               _reference_instance_norm(a[None])[0], rtol=1e-12)
    layer.eval()
    np.testing.assert_allclose(layer(gpugrad.tensor(a)).detach().numpy(),
                               (a - layer.running_mean.numpy()[:, None]) /
                               np.sqrt(layer.running_var.numpy()[:, None] + 1e-5), rtol=1e-12)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                        "num_batches_tracked"]
    assert list(nn.InstanceNorm2d(3).state_dict()) == []
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(gpugrad.ones(3, 4))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        F.instance_norm(gpugrad.ones(2, 3, 1))
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm1d(4, affine=True)(gpugrad.ones(2, 3, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(4)(gpugrad.ones(2, 3, 5))
    x = gpugrad.randn(2, 2, 3, dtype="float64", requires_grad=True)
    assert gpugrad.autograd.gradcheck(lambda t: F.instance_norm(t), (x,))


def test_batch_norm_3d_by_hand():
    a = np.random.default_rng(1).normal(size=(2, 3, 2, 2, 2))
    out = nn.BatchNorm3d(3, dtype="float64")(gpugrad.tensor(a)).detach().numpy()
    axes = (0, 2, 3, 4)
    want = (a - a.mean(axis=axes, keepdims=True)) / np.sqrt(a.var(axis=axes, keepdims=True)
                                                           + 1e-5)
    np.testing.assert_allclose(out, want, rtol=1e-12)
    with pytest.raises(ValueError, match="5-d"):
        nn.BatchNorm3d(3)(gpugrad.ones(2, 3, 4))


@pytest.mark.parametrize("name,shape", [("InstanceNorm1d", (3, 4, 5)), ("InstanceNorm1d", (4, 5)),
                                        ("InstanceNorm2d", (2, 4, 3, 3)),
                                        ("InstanceNorm3d", (2, 4, 2, 2, 3))])
@pytest.mark.parametrize("kwargs", [{}, {"affine": True},
                                    {"track_running_stats": True, "momentum": 0.3},
                                    {"affine": True, "track_running_stats": True,
                                     "momentum": None}])
def test_instance_norm_against_torch(name, shape, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a = rng.normal(size=shape) * 3 + 1
    ours = getattr(nn, name)(4, dtype="float64", **kwargs)
    theirs = getattr(torch.nn, name)(4, dtype=torch.float64, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for step in range(2):
        x = gpugrad.tensor(a + step, requires_grad=True)
        t = torch.tensor(a + step, requires_grad=True)
        y, ty = ours(x), theirs(t)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-10)
        (y * gpugrad.tensor(a)).sum().backward()
        (ty * torch.tensor(a)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-10)
    if kwargs.get("track_running_stats"):
        np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy())
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy())
        ours.eval()
        theirs.eval()
        np.testing.assert_allclose(ours(gpugrad.tensor(a)).numpy(),
                                   theirs(torch.tensor(a)).detach().numpy(), atol=1e-10)


def test_buffer_assignment_registers_a_buffer():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.kept = nn.Buffer(gpugrad.ones(2))
            self.scratch = nn.Buffer(gpugrad.zeros(3), persistent=False)
            self.weight = nn.Parameter(gpugrad.ones(1))

    model = Model()
    assert [n for n, _ in model.named_buffers()] == ["kept", "scratch"]
    assert list(model.state_dict()) == ["weight", "kept"]
    assert [n for n, _ in model.named_parameters()] == ["weight"]
    model.double()
    assert model.kept.dtype == np.float64 and model.scratch.dtype == np.float64
    model.kept = nn.Buffer(gpugrad.ones(2), persistent=False)     # persistence changed
    assert list(model.state_dict()) == ["weight"]
    model.plain = 3
    with pytest.raises(KeyError):
        model.plain = nn.Buffer(gpugrad.ones(1))
    with pytest.raises(TypeError):
        model.weight = nn.Buffer(gpugrad.ones(1))          # a parameter's slot, as PyTorch's
    assert not nn.Buffer(gpugrad.ones(1)).requires_grad


def test_buffer_against_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Module(), torch.nn.Module()
    ours.a, theirs.a = nn.Buffer(gpugrad.ones(2)), torch.nn.Buffer(torch.ones(2))
    ours.b = nn.Buffer(gpugrad.ones(2), persistent=False)
    theirs.b = torch.nn.Buffer(torch.ones(2), persistent=False)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]


def test_lazy_linear_materialises_in_place_and_an_earlier_optimizer_trains_it():
    gpugrad.manual_seed(0)
    layer = _lazy(2)
    assert isinstance(layer.weight, nn.UninitializedParameter)
    weight, bias = layer.weight, layer.bias
    opt = gpugrad.optim.SGD(layer.parameters(), lr=0.1)
    x = gpugrad.randn(4, 3)
    y = layer(x)
    assert type(layer) is nn.Linear and layer.in_features == 3 and y.shape == (4, 2)
    assert layer.weight is weight and type(weight) is nn.Parameter and weight.shape == (2, 3)
    assert layer.bias is bias and bias.shape == (2,)
    bound = 1 / np.sqrt(3)
    assert np.all(np.abs(weight.detach().numpy()) <= bound)       # Linear's initialisation
    before = weight.detach().numpy().copy()
    y.sum().backward()
    opt.step()
    # d sum(x W^T + b) / dW = column sums of x for every row
    want = before - 0.1 * np.tile(x.numpy().sum(axis=0), (2, 1))
    np.testing.assert_allclose(weight.detach().numpy(), want, rtol=1e-6)
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=True)"


def test_lazy_linear_load_state_dict_deepcopy_and_no_bias():
    source = nn.Linear(5, 2)
    target = _lazy(2)
    target.load_state_dict(source.state_dict())
    assert type(target) is nn.Linear and target.in_features == 5
    np.testing.assert_array_equal(target.weight.detach().numpy(),
                                  source.weight.detach().numpy())
    lazy = _lazy(3, bias=False)
    assert nn.parameter.is_lazy(copy.deepcopy(lazy).weight) and lazy.bias is None
    assert lazy(gpugrad.ones(2, 4)).shape == (2, 3)
    assert nn.parameter.is_lazy(nn.UninitializedParameter())


def test_lazy_linear_against_torch():
    torch = pytest.importorskip("torch")
    ours = _lazy(2)
    theirs = torch.nn.LazyLinear(2)
    opt, topt = (gpugrad.optim.Adam(ours.parameters(), lr=0.1),
                 torch.optim.Adam(theirs.parameters(), lr=0.1))
    x = np.random.default_rng(3).normal(size=(4, 3)).astype(np.float32)
    ours(gpugrad.tensor(x))
    theirs(torch.tensor(x))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    for _ in range(3):
        opt.zero_grad()
        topt.zero_grad()
        (ours(gpugrad.tensor(x)) ** 2).sum().backward()
        (theirs(torch.tensor(x)) ** 2).sum().backward()
        opt.step()
        topt.step()
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert type(theirs).__name__ == type(ours).__name__ == "Linear"
