"""nn.Module machinery as PyTorch's: registries that write through to attributes, shared
children visited once, Sequential fusion honouring instance forwards, attribute rules,
load_state_dict(assign=), to() keywords, containers' dict methods and reprs. Each test checks
hand-derived values; those comparing with torch skip without it."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import gpugrad
from gpugrad import nn


def _filled(layer, value):
    with gpugrad.no_grad():
        for p in layer.parameters():
            p.fill_(value)
    return layer


def test_sequential_fusion_calls_a_forward_set_on_the_instance():
    s = nn.Sequential(_filled(nn.Linear(2, 2), 1.0), nn.ReLU())
    with gpugrad.no_grad():
        s[0].bias.zero_()
    orig = s[0].forward
    s[0].forward = lambda x: orig(x) * 10                  # (1 + 1) * 10
    assert s(gpugrad.ones(1, 2)).tolist() == [[20.0, 20.0]]
    s2 = nn.Sequential(_filled(nn.Linear(2, 2), -1.0), nn.ReLU())
    with gpugrad.no_grad():
        s2[0].bias.zero_()
    s2[1].forward = lambda x: x                             # ReLU patched out: -2 kept
    assert s2(gpugrad.ones(1, 2)).tolist() == [[-2.0, -2.0]]
    del s2[1].forward                                       # fused again: relu(-2) = 0
    assert s2(gpugrad.ones(1, 2)).tolist() == [[0.0, 0.0]]


def test_registry_writes_and_deletes_reach_the_attribute():
    m = nn.Linear(2, 2, bias=False)
    newp = nn.Parameter(gpugrad.ones(2, 2))
    m._parameters["weight"] = newp
    assert m.weight is newp and next(m.parameters()) is newp
    assert m(gpugrad.ones(1, 2)).tolist() == [[2.0, 2.0]]
    t = gpugrad.zeros(3)
    m._buffers["b"] = t
    assert m.b is t and [n for n, _ in m.named_buffers()] == ["b"]
    del m._buffers["b"]
    assert not hasattr(m, "b")
    lin = nn.Linear(2, 2)
    del lin._parameters["bias"]
    assert not hasattr(lin, "bias") and [n for n, _ in lin.named_parameters()] == ["weight"]
    seq, r = nn.Sequential(nn.Linear(2, 2)), nn.ReLU()
    seq._modules["0"] = r
    assert getattr(seq, "0") is r and seq[0] is r
    assert seq._modules.pop("0") is r and not hasattr(seq, "0")
    m._parameters.update({"extra": nn.Parameter(gpugrad.zeros(1))})
    assert isinstance(m.extra, nn.Parameter)
    m._parameters.clear()
    assert not hasattr(m, "weight") and not hasattr(m, "extra")


def test_registries_stay_tied_after_deepcopy_and_pickle():
    for clone in (copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))):
        m = clone(nn.Linear(2, 2, bias=False))
        newp = nn.Parameter(gpugrad.ones(2, 2))
        m._parameters["weight"] = newp
        assert m.weight is newp and m(gpugrad.ones(1, 2)).tolist() == [[2.0, 2.0]]
    a = nn.Linear(2, 2)
    b = copy.copy(a)                                        # its own registries
    b._parameters["weight"] = nn.Parameter(gpugrad.zeros(2, 2))
    assert b.weight is not a.weight and a._parameters["weight"] is a.weight


def test_registry_matches_torch():
    torch = pytest.importorskip("torch")
    tm, gm = torch.nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
    tm._parameters["weight"] = torch.nn.Parameter(torch.ones(2, 2))
    gm._parameters["weight"] = nn.Parameter(gpugrad.ones(2, 2))
    np.testing.assert_array_equal(gm(gpugrad.ones(1, 2)).numpy(),
                                  tm(torch.ones(1, 2)).detach().numpy())


class _Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = _filled(nn.Linear(2, 2, bias=False), 1.0)
        self.dec = self.enc


def test_shared_child_is_visited_once_by_apply_children_and_train():
    n, calls = _Shared(), []

    def halve(m):
        calls.append(type(m).__name__)
        if isinstance(m, nn.Linear):
            with gpugrad.no_grad():
                m.weight.mul_(0.5)

    n.apply(halve)
    assert n.enc.weight.tolist() == [[0.5, 0.5], [0.5, 0.5]]       # once, not 0.25
    assert calls == ["Linear", "_Shared"] and len(list(n.children())) == 1
    layer = nn.Linear(2, 2)
    assert [name for name, _ in nn.ModuleList([layer, layer]).named_children()] == ["0"]
    assert n.eval().enc.training is False


def test_shared_child_matches_torch():
    torch = pytest.importorskip("torch")
    tl = torch.nn.Linear(2, 2)
    tlist, glayer = torch.nn.ModuleList([tl, tl]), nn.Linear(2, 2)
    glist = nn.ModuleList([glayer, glayer])
    assert [n for n, _ in glist.named_children()] == [n for n, _ in tlist.named_children()]
    assert len(list(glist.children())) == len(list(tlist.children()))


def test_plain_attributes_before_super_init():
    class M(nn.Module):
        def __init__(self, n):
            self.n = n
            super().__init__()
            self.fc = nn.Linear(n, n)

    m = M(3)
    assert m.n == 3 and [name for name, _ in m.named_children()] == ["fc"]

    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)
            super().__init__()

    for caught in (AttributeError, RuntimeError):
        with pytest.raises(caught, match="cannot assign module before Module.__init__"):
            Bad()


def test_load_state_dict_assign_puts_the_tensors_in_place():
    source = nn.Linear(2, 3)
    target = nn.Linear(2, 3)
    target.weight.requires_grad_(False)
    result = target.load_state_dict(source.state_dict(), assign=True)
    assert repr(result) == "<All keys matched successfully>"
    assert isinstance(target.weight, nn.Parameter) and not target.weight.requires_grad
    assert target.bias.requires_grad
    with gpugrad.no_grad():
        source.weight.fill_(7.0)                        # assigned: shares the memory
    assert target.weight.tolist() == [[7.0, 7.0]] * 3
    bn = nn.BatchNorm1d(2)
    running = gpugrad.tensor([1.0, 2.0])
    bn.load_state_dict({**bn.state_dict(), "running_mean": running}, assign=True)
    assert bn.running_mean is running and bn._buffers["running_mean"] is running


def test_to_accepts_torch_keywords_and_type_casts():
    m = nn.Linear(2, 2)
    assert m.to("cpu", non_blocking=True) is m
    assert m.to(device="cpu", non_blocking=True, memory_format=None, copy=False) is m
    assert m.to(gpugrad.float64, True).weight.dtype == np.float64
    assert m.type(np.float32).weight.dtype == np.float32
    with pytest.raises(TypeError, match="bfloat16"):
        m.bfloat16()


def test_batch_norm_loads_a_state_dict_without_num_batches_tracked():
    bn = nn.BatchNorm1d(3)
    state = {"weight": gpugrad.ones(3) * 2, "bias": gpugrad.zeros(3),
             "running_mean": gpugrad.ones(3), "running_var": gpugrad.ones(3) * 4}
    assert bn.load_state_dict(state) == ([], [])
    assert bn.num_batches_tracked.item() == 0 and bn.running_var.tolist() == [4.0] * 3
    bn.eval()
    assert bn(gpugrad.full((2, 3), 3.0)).numpy() == pytest.approx(2 * (3 - 1) / np.sqrt(4 + 1e-5))
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias"'):
        nn.BatchNorm1d(3).load_state_dict({k: v for k, v in state.items() if k != "bias"})
    saved = nn.BatchNorm1d(3).state_dict()              # a version 2 state dict: required
    del saved["num_batches_tracked"]
    with pytest.raises(RuntimeError, match="num_batches_tracked"):
        nn.BatchNorm1d(3).load_state_dict(saved)


def test_batch_norm_bias_false_and_repr():
    bn = nn.BatchNorm1d(3, bias=False)
    assert bn.bias is None and list(bn.state_dict())[:2] == ["weight", "running_mean"]
    x = gpugrad.tensor([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]])
    assert np.allclose(bn(x).numpy(), [[-1.0] * 3, [1.0] * 3], atol=1e-4)
    assert "affine=True, bias=False, track_running_stats=True" in repr(bn)
    assert nn.BatchNorm2d(2, bias=False).bias is None


def test_batch_norm_matches_torch_repr_and_state():
    torch = pytest.importorskip("torch")
    for kwargs in ({}, {"bias": False}, {"affine": False}):
        t, g = torch.nn.BatchNorm1d(3, **kwargs), nn.BatchNorm1d(3, **kwargs)
        assert repr(g) == repr(t) and list(g.state_dict()) == list(t.state_dict())
    tb = torch.nn.BatchNorm1d(3)
    state = {k: v for k, v in tb.state_dict().items() if k != "num_batches_tracked"}
    tb.load_state_dict(state)
    nn.BatchNorm1d(3).load_state_dict({k: gpugrad.tensor(v.numpy()) for k, v in state.items()})


def test_identity_takes_any_arguments():
    assert nn.Identity(54, unused_argument1=0.1)(gpugrad.ones(2)).tolist() == [1.0, 1.0]


def test_add_module_none_and_non_module_over_a_submodule():
    m = nn.Module()
    m.add_module("downsample", None)
    assert m.downsample is None and list(m._modules) == ["downsample"]
    m.sub = nn.ReLU()
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'sub'"):
        m.sub = 3
    with pytest.raises(TypeError, match="child module 'sub'"):
        m.sub = gpugrad.ones(1)
    m.sub = None
    assert list(m._modules) == ["downsample", "sub"] and m.sub is None
    assert list(m.children()) == []
    m.sub = nn.Tanh()
    assert [name for name, _ in m.named_modules()] == ["", "sub"]


def test_parameter_dict_dict_methods():
    a, b = nn.Parameter(gpugrad.ones(2)), nn.Parameter(gpugrad.zeros(2))
    d = nn.ParameterDict({"a": a})
    assert d.get("a") is a and d.get("zz") is None and d.get("zz", 5) == 5
    assert d.setdefault("b", b) is b and d.setdefault("b", a) is b
    c = d.copy()
    assert list(c) == ["a", "b"] and c["a"] is a and c is not d
    assert list(d.fromkeys(["x", "y"], gpugrad.ones(1))) == ["x", "y"]
    merged = d | {"c": gpugrad.ones(3)}
    assert list(merged) == ["a", "b", "c"] and isinstance(merged["c"], nn.Parameter)
    d |= {"e": gpugrad.ones(1)}
    assert list(d) == ["a", "b", "e"] and list(reversed(d)) == ["e", "b", "a"]
    assert d.popitem()[0] == "e"
    d.clear()
    assert len(d) == 0 and list(d.parameters()) == []


def test_reprs_match_pytorch_layout():
    class E(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(1, 1)

        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(E()) == ("E(\n  a=1\n  b=2\n  (l): Linear(in_features=1, out_features=1, "
                         "bias=True)\n)")
    layers = nn.ModuleList([nn.Linear(2, 2)] * 3 + [nn.ReLU()])
    assert repr(layers) == ("ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, "
                            "bias=True)\n  (3): ReLU()\n)")
    assert repr(nn.ModuleList()) == "ModuleList()"
    plist = nn.ParameterList([gpugrad.ones(2, 3), gpugrad.ones(2)])
    assert repr(plist) == ("ParameterList(\n    (0): Parameter containing: [float32 of size "
                           "2x3]\n    (1): Parameter containing: [float32 of size 2]\n)")
    assert repr(nn.ParameterList()) == "ParameterList()"
    assert "(w): Parameter containing: [float32 of size 2]" in repr(
        nn.ParameterDict({"w": gpugrad.ones(2)}))
    assert repr(nn.Dropout(0.1)) == "Dropout(p=0.1, inplace=False)"
    assert repr(nn.Linear(2, 1).load_state_dict(nn.Linear(2, 1).state_dict())) == \
        "<All keys matched successfully>"


def test_reprs_equal_torchs():
    torch = pytest.importorskip("torch")
    pairs = [(nn.ModuleList([nn.Linear(2, 2)] * 3 + [nn.ReLU()]),
              torch.nn.ModuleList([torch.nn.Linear(2, 2)] * 3 + [torch.nn.ReLU()])),
             (nn.Dropout(0.1), torch.nn.Dropout(0.1)),
             (nn.Sequential(nn.Linear(2, 2), nn.Dropout()),
              torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout()))]
    for g, t in pairs:
        assert repr(g) == repr(t)
    assert repr(nn.ParameterList([gpugrad.ones(2)])) == repr(
        torch.nn.ParameterList([torch.ones(2)])).replace("torch.", "")
    assert repr(nn.Linear(2, 1).load_state_dict(nn.Linear(2, 1).state_dict())) == repr(
        torch.nn.Linear(2, 1).load_state_dict(torch.nn.Linear(2, 1).state_dict()))


def test_sequential_subclass_slices_keep_the_class_and_set_submodule():
    class Stack(nn.Sequential):
        pass

    s = Stack(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    assert type(s[1:]) is Stack and list(s[1:]._modules) == ["1", "2"]
    outer = nn.Sequential(OrderedDict(block=nn.Sequential(nn.Linear(2, 2))))
    tanh = nn.Tanh()
    outer.set_submodule("block.0", tanh)
    assert outer.block[0] is tanh
    with pytest.raises(AttributeError, match="strict"):
        outer.set_submodule("block.new", nn.ReLU(), strict=True)
    assert outer.share_memory() is outer
