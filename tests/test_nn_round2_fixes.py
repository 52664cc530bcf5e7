"""Re-review B fixes: functional_call through a parametrized name (a class property) and
strict on the untied names; float16 weight_norm; Embedding max_norm / scale_grad_by_freq
shape-static (no unique/bincount) and under vmap; replacing a registry dict; float16
clip_grad_norm_ with a max_norm above 65504; deleting a plain attribute is no structure
change. Each has a torch-free check; torch comparisons skip without torch."""

from collections import OrderedDict

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
import gpugrad.nn.functional as F
from gpugrad.autograd import compile_mode
from gpugrad.func import grad, vmap
from gpugrad.func.functional_call import functional_call
from gpugrad.nn.utils import parametrize
from gpugrad.nn.utils.parametrizations import weight_norm
from gpugrad.nn.utils.weight_norm_hook import weight_norm as old_weight_norm


class _Identity(nn.Module):                 # a parametrization without right_inverse
    def forward(self, x):
        return x


# ------------------------------------------------------------------ functional_call
def test_functional_call_goes_through_a_parametrization():
    layer = weight_norm(nn.Linear(2, 1, bias=False))
    out = functional_call(layer, {"weight": gpugrad.tensor([[1.0, 2.0]])},
                          (gpugrad.ones(1, 2),))
    assert out.tolist() == [[3.0]]          # [1, 2] . [1, 1]: the weight given, not the own
    plain = nn.Linear(2, 1, bias=False)
    parametrize.register_parametrization(plain, "weight", _Identity())
    with pytest.raises(RuntimeError, match="right_inverse"):
        functional_call(plain, {"weight": gpugrad.ones(1, 2)}, (gpugrad.ones(1, 2),))


def test_functional_call_refuses_a_property_without_setter():
    class Doubled(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(gpugrad.ones(2))

        @property
        def w(self):
            return self.a * 2

        def forward(self, x):
            return self.w * x

    with pytest.raises(AttributeError):
        functional_call(Doubled(), {"w": gpugrad.ones(2)}, (gpugrad.ones(2),))


def test_functional_call_parametrized_matches_torch():
    torch = pytest.importorskip("torch")
    tw = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(2, 1, bias=False))
    gw = weight_norm(nn.Linear(2, 1, bias=False))
    w = np.array([[1.5, -2.0]], np.float32)
    x = np.array([[0.5, 3.0], [1.0, 1.0]], np.float32)
    expected = torch.func.functional_call(tw, {"weight": torch.tensor(w)}, (torch.tensor(x),))
    got = functional_call(gw, {"weight": gpugrad.tensor(w)}, (gpugrad.tensor(x),))
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-6)


def _tied():
    emb, head = nn.Embedding(3, 2), nn.Linear(2, 3, bias=False)
    head.weight = emb.weight
    return nn.Sequential(emb, head)


def test_functional_call_strict_checks_the_untied_names():
    out = functional_call(_tied(), {"0.weight": gpugrad.ones(3, 2)}, (gpugrad.tensor([0]),),
                          strict=True)
    assert out.tolist() == [[2.0, 2.0, 2.0]]
    with pytest.raises(RuntimeError, match="Missing key"):
        functional_call(_tied(), {"0.weight": gpugrad.ones(3, 2)}, (gpugrad.tensor([0]),),
                        strict=True, tie_weights=False)


# ------------------------------------------------------------------ float16 norms
@pytest.mark.filterwarnings("ignore:`nn.utils.weight_norm` is deprecated")
@pytest.mark.parametrize("apply", [weight_norm, old_weight_norm])
def test_weight_norm_float16_sums_in_float32(apply):
    layer = nn.Linear(4096, 2, bias=False).half()
    layer.weight.data = gpugrad.tensor(np.full((2, 4096), 4.0, np.float16))  # row norm 256
    apply(layer)
    g = (layer.parametrizations.weight.original0 if apply is weight_norm else layer.weight_g)
    assert g.reshape(-1).tolist() == [256.0, 256.0]
    if apply is old_weight_norm:
        layer(gpugrad.ones(1, 4096, dtype="float16"))   # the hook computes the weight
    assert np.all(layer.weight.numpy() == 4.0)


def test_clip_grad_norm_float16_huge_max_norm_inf_total_gives_zeros():
    p = nn.Parameter(gpugrad.zeros(2, dtype="float16"))
    p.grad = gpugrad.tensor(np.array([6e4, 6e4], np.float16))   # squares overflow: inf
    total = nn.utils.clip_grad_norm_([p], 1e5)
    assert np.isinf(total.item())
    assert p.grad.tolist() == [0.0, 0.0]                        # 1e5 / inf, as torch


# ------------------------------------------------------------------ Embedding
def test_embedding_options_use_no_value_shaped_calls(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a value-shaped call (unique/bincount) syncs a CUDA step")

    monkeypatch.setattr(np, "unique", refuse)
    monkeypatch.setattr(np, "bincount", refuse)
    weight = nn.Parameter(gpugrad.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]]))
    index = gpugrad.tensor([[0, 0], [2, 1]])
    out = F.embedding(index, weight, max_norm=1.0, scale_grad_by_freq=True)
    expected = [[[0.6, 0.8], [0.6, 0.8]], [[0.6, 0.8], [0.3, 0.4]]]   # rows over 1 scaled
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(weight.numpy(), [[0.6, 0.8], [0.3, 0.4], [0.6, 0.8]],
                               rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(weight.grad.numpy(), np.ones((3, 2)))  # 2 * 1/2, 1, 1


def test_embedding_scale_grad_by_freq_per_example_under_vmap():
    e = nn.Embedding(6, 3, scale_grad_by_freq=True)
    params = {k: v.detach() for k, v in e.named_parameters()}
    index = gpugrad.tensor([[0, 1, 1], [2, 1, 5]])
    grads = vmap(grad(lambda p, i: functional_call(e, p, (i,)).sum()),
                 in_dims=(None, 0))(params, index)
    assert grads["weight"][:, :, 0].tolist() == [[1, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 1]]


def test_embedding_max_norm_under_vmap_equals_a_loop():
    w = np.random.default_rng(0).normal(size=(2, 6, 3)).astype(np.float32) * 2
    index = gpugrad.tensor([0, 2, 0])
    batched = gpugrad.tensor(w.copy())
    out = vmap(lambda t: F.embedding(index, t, max_norm=1.0))(batched)
    looped = [gpugrad.tensor(w[k].copy()) for k in range(2)]
    expected = np.stack([F.embedding(index, t, max_norm=1.0).numpy() for t in looped])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(batched.numpy(), np.stack([t.numpy() for t in looped]),
                               rtol=1e-6)                  # renormalised in place, as torch


def test_embedding_max_norm_shared_weight_batched_index_refused_clearly():
    e = nn.Embedding(6, 3, max_norm=1.0)
    params = {k: v.detach() for k, v in e.named_parameters()}
    with pytest.raises(RuntimeError, match="max_norm.*before vmap"):
        vmap(lambda i: functional_call(e, params, (i,)))(gpugrad.tensor([[0, 1], [1, 5]]))


def test_embedding_options_under_vmap_match_torch():
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(1).normal(size=(2, 6, 3)).astype(np.float32) * 2
    gw, tw = gpugrad.tensor(w.copy()), torch.tensor(w.copy())
    got = vmap(lambda t: F.embedding(gpugrad.tensor([0, 2, 0]), t, max_norm=1.0))(gw)
    with pytest.warns(UserWarning):     # torch's fallback warning
        expected = torch.func.vmap(lambda t: torch.nn.functional.embedding(
            torch.tensor([0, 2, 0]), t, max_norm=1.0))(tw)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gw.numpy(), tw.numpy(), rtol=1e-6)


# ------------------------------------------------------------------ Module registries
def test_replacing_a_registry_dict_keeps_the_module_working():
    m = nn.Linear(2, 2)
    m._parameters = OrderedDict()
    assert not hasattr(m, "weight") and list(m.parameters()) == []   # as torch
    m.weight = nn.Parameter(gpugrad.ones(2, 2))
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    m = nn.Linear(2, 2)
    m._buffers = {}
    m.register_buffer("x", gpugrad.ones(1))
    assert [n for n, _ in m.named_buffers()] == ["x"]
    s = nn.Sequential(nn.Linear(2, 2))
    s._modules = OrderedDict(s._modules)
    s.append(nn.ReLU())
    assert len(s) == 2 and s(gpugrad.ones(1, 2)).shape == (1, 2)
    s._modules["0"] = nn.Identity()             # the new registry mirrors attributes
    assert isinstance(s[0], nn.Identity) and isinstance(getattr(s, "0"), nn.Identity)


def test_deleting_a_plain_attribute_is_no_structure_change():
    m = nn.Linear(2, 2)
    for value in (3, gpugrad.ones(1)):      # (a plain tensor: replays check its holders)
        m.cache = value
        before = compile_mode.structure.epoch
        del m.cache
        assert compile_mode.structure.epoch == before
    before = compile_mode.structure.epoch
    del m.bias                              # a registered name still counts
    assert compile_mode.structure.epoch > before


def test_compiled_step_sees_a_deleted_plain_tensor_attribute():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.factor = gpugrad.tensor(2.0)

        def forward(self, x):
            return x * self.factor

    m = Scaled()
    step = gpugrad.compile(lambda x: m(x))
    x = gpugrad.ones(2)
    assert step(x).tolist() == [2.0, 2.0] and step(x).tolist() == [2.0, 2.0]
    del m.factor
    with pytest.raises(AttributeError):
        step(x)
    m.factor = gpugrad.tensor(3.0)
    assert step(x).tolist() == [3.0, 3.0]
