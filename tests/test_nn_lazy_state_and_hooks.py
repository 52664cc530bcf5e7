"""Lazy modules as PyTorch's: a state dict saved before the first call loads into another lazy
module (also through gpugrad.save), an UninitializedParameter refuses use, materialising runs
as a forward pre-hook registered first, and nn.Buffer shares its source's version counter.
Hand-derived checks, and PyTorch's behaviour where installed."""

import copy
import io
import pickle

import numpy as np
import pytest

import gpugrad
from gpugrad import nn


def test_state_dict_saved_before_the_first_call_loads_into_a_lazy_module():
    source, target = nn.LazyLinear(3), nn.LazyLinear(3)
    state = source.state_dict()
    assert nn.parameter.is_lazy(state["weight"]) and nn.parameter.is_lazy(state["bias"])
    assert repr(target.load_state_dict(state)) == "<All keys matched successfully>"
    assert type(target) is nn.LazyLinear                 # still lazy, as PyTorch's
    gpugrad.manual_seed(0)
    assert target(gpugrad.ones(2, 5)).shape == (2, 3)
    assert type(target) is nn.Linear and target.weight.shape == (3, 5)
    assert np.all(np.abs(target.weight.numpy()) <= 1 / np.sqrt(5))     # Linear's init


def test_gpugrad_save_before_the_first_call_round_trips():
    buffer = io.BytesIO()
    gpugrad.save(nn.LazyLinear(3).state_dict(), buffer)
    buffer.seek(0)
    target = nn.LazyLinear(3)
    assert not target.load_state_dict(gpugrad.load(buffer)).missing_keys
    assert type(target) is nn.LazyLinear
    assert target(gpugrad.ones(4, 2)).shape == (4, 3) and target.in_features == 2


def test_a_full_checkpoint_still_materialises_and_an_uninitialized_one_is_refused():
    source = nn.Linear(5, 3)
    target = nn.LazyLinear(3)
    target.load_state_dict(source.state_dict())
    assert type(target) is nn.Linear and target.weight.shape == (3, 5)
    assert not target._forward_pre_hooks and not target._all_hooks     # the fast path
    np.testing.assert_array_equal(target.weight.numpy(), source.weight.numpy())
    with pytest.raises(RuntimeError, match="uninitialized parameter"):
        nn.Linear(5, 3).load_state_dict(nn.LazyLinear(3).state_dict())


def test_an_uninitialized_parameter_refuses_use():
    p = nn.UninitializedParameter(dtype="float64")
    assert p.dtype == np.float64 and p.requires_grad and p.grad is None and p.ndim == 1
    for use in (p.numel, lambda: p + 1, p.detach, p.sum, p.tolist, lambda: p.zero_()):
        with pytest.raises(ValueError, match="uninitialized parameter"):
            use()
    with pytest.raises(RuntimeError, match="Can't access the shape"):
        p.shape
    with pytest.raises((ValueError, RuntimeError), match="uninitialized"):
        nn.init.kaiming_uniform_(p)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        sum(q.numel() for q in nn.LazyLinear(3).parameters())
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and p.shape == (2, 3) and p.numel() == 6


def test_conversion_copies_and_pickles_before_the_first_call():
    layer = nn.LazyLinear(2).double()
    assert layer.weight.dtype == np.float64 and nn.parameter.is_lazy(layer.weight)
    for other in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert other(gpugrad.ones(1, 3, dtype="float64")).shape == (1, 2)
        assert type(other) is nn.Linear and not other._all_hooks
    assert type(layer) is nn.LazyLinear and nn.parameter.is_lazy(layer.weight)
    opt = gpugrad.optim.Adam(layer.parameters(), lr=0.1)     # built before: trains them
    layer(gpugrad.ones(2, 3, dtype="float64")).sum().backward()
    before = layer.weight.numpy().copy()
    opt.step()
    np.testing.assert_allclose(layer.weight.numpy(), before - 0.1, rtol=1e-6)  # Adam's 1st


def test_materialising_is_a_forward_pre_hook_registered_first():
    layer = nn.LazyLinear(3)
    seen = []
    layer.register_forward_pre_hook(lambda m, args: seen.append(tuple(m.weight.shape)))
    layer(gpugrad.ones(2, 5))
    layer(gpugrad.ones(2, 5))
    assert seen == [(3, 5), (3, 5)] and len(layer._forward_pre_hooks) == 1
    first = nn.LazyLinear(3)
    seen.clear()
    first.register_forward_pre_hook(lambda m, args: seen.append(nn.parameter.is_lazy(m.weight)),
                                    prepend=True)
    first(gpugrad.ones(2, 5))
    assert seen == [True]                       # prepended: before the materialising hook
    direct = nn.LazyLinear(2)
    assert direct.forward(gpugrad.ones(1, 4)).shape == (1, 2)     # forward called directly
    assert type(direct) is nn.Linear and not direct._all_hooks


def test_buffer_shares_the_version_counter():
    t = gpugrad.ones(2)
    b = nn.Buffer(t)
    before = b._version_value
    t.add_(1.0)
    assert b._version_value == before + 1 and b.tolist() == [2.0, 2.0]


def test_lazy_state_and_hooks_against_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.LazyLinear(3)
    theirs_target = torch.nn.LazyLinear(3)
    ours, ours_target = nn.LazyLinear(3), nn.LazyLinear(3)
    assert repr(ours_target.load_state_dict(ours.state_dict())) == \
        repr(theirs_target.load_state_dict(theirs.state_dict()))
    assert type(ours_target).__name__ == type(theirs_target).__name__ == "LazyLinear"
    seen = {}
    for name, layer, x in (("torch", theirs_target, torch.ones(2, 5)),
                           ("gpugrad", ours_target, gpugrad.ones(2, 5))):
        layer.register_forward_pre_hook(
            lambda m, args, name=name: seen.__setitem__(name, tuple(m.weight.shape)))
        layer(x)
    assert seen["torch"] == seen["gpugrad"] == (3, 5)
    for library, p in (("torch", torch.nn.UninitializedParameter()),
                       ("gpugrad", nn.UninitializedParameter())):
        with pytest.raises(ValueError, match="uninitialized parameter"):
            p.numel()
        with pytest.raises(RuntimeError, match="Can't access the shape"):
            p.shape
    t, g = torch.ones(2), gpugrad.ones(2)
    tb, gb = torch.nn.Buffer(t), nn.Buffer(g)
    t.add_(1)
    g.add_(1.0)
    assert gb._version_value == tb._version == 1 and gb.tolist() == tb.tolist()
