"""PyTorch habits of gpugrad.nn's Module and containers: train() calling children's train,
tied weights in state_dict, Sequential slicing/editing keeping PyTorch's names, ModuleList,
ModuleDict, ParameterList, ParameterDict, get_submodule/get_parameter, named_parameters and
state_dict arguments (strict loading and the small layers: test_nn_small_layers.py).

References: hand-derived names and values, float64 NumPy, and (where installed) PyTorch 2.x
with the same structure and weights copied across."""

from collections import OrderedDict

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.autograd.walk import nodes_behind
from gpugrad.nn import functional as F


def _keys(model):
    return list(model.state_dict())


def _torch_copy(torch, model, tmodel):
    """Copy gpugrad ``model``'s state into torch ``tmodel`` (keys must agree)."""
    state = {k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()}
    tmodel.load_state_dict(state)


# ---------------------------------------------------------------------------------- train()
class Frozen(nn.Module):
    """A block that stays in eval mode whatever its parent is set to."""

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)

    def train(self, mode=True):
        return super().train(False)

    def forward(self, x):
        return self.drop(x)


def test_train_calls_each_childs_own_train():
    model = nn.Sequential(nn.Linear(2, 2), Frozen(), nn.Dropout(0.5))
    model.train()
    assert model.training and model[0].training and model[2].training
    assert not model[1].training and not model[1].drop.training
    x = gpugrad.ones(200, 2)
    assert model[1](x) is x                                    # its Dropout stays off
    model.eval()
    assert not any(m.training for m in model.modules())
    assert model.train(True) is model and not model[1].training
    with pytest.raises(ValueError, match="bool"):
        model.train("yes")


def test_train_recursion_matches_torch_order():
    torch = pytest.importorskip("torch")
    calls = []

    def recorder(base):
        class Rec(base.Module):
            def __init__(self, name, *children):
                super().__init__()
                self.name = name
                for i, c in enumerate(children):
                    self.add_module(str(i), c)

            def train(self, mode=True):
                calls.append((self.name, mode))
                return super().train(mode)
        return Rec

    for lib in (nn, torch.nn):
        Rec = recorder(lib)
        Rec("root", Rec("a", Rec("a1")), Rec("b")).eval()
    half = len(calls) // 2
    assert calls[:half] == calls[half:] == [("root", False), ("a", False), ("a1", False),
                                            ("b", False)]


# ---------------------------------------------------------------------------------- tied weights
def _tied():
    e, h = nn.Embedding(5, 3), nn.Linear(3, 5, bias=False)
    h.weight = e.weight
    return nn.Sequential(e, h)


def test_tied_weights_have_every_name_in_state_dict():
    model = _tied()
    assert _keys(model) == ["0.weight", "1.weight"]
    assert [n for n, _ in model.named_parameters()] == ["0.weight"]          # deduplicated
    assert [n for n, _ in model.named_parameters(remove_duplicate=False)] == ["0.weight",
                                                                               "1.weight"]
    assert len(list(model.parameters())) == 1
    state = model.state_dict()
    assert state["0.weight"].numpy() is not None
    np.testing.assert_array_equal(state["0.weight"].numpy(), state["1.weight"].numpy())
    other = _tied()
    assert other.load_state_dict(state) == ([], [])
    np.testing.assert_array_equal(other[1].weight.numpy(), model[0].weight.numpy())
    assert other[0].weight is other[1].weight                  # still tied
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1.weight"'):
        other.load_state_dict({"0.weight": state["0.weight"]})


def test_tied_weights_state_dict_matches_torch_and_loads_both_ways():
    torch = pytest.importorskip("torch")
    model = _tied()
    te, th = torch.nn.Embedding(5, 3), torch.nn.Linear(3, 5, bias=False)
    th.weight = te.weight
    tmodel = torch.nn.Sequential(te, th)
    assert _keys(model) == list(tmodel.state_dict())
    _torch_copy(torch, model, tmodel)                         # gpugrad layout -> torch
    np.testing.assert_array_equal(th.weight.detach().numpy(), model[1].weight.numpy())
    with torch.no_grad():
        te.weight.normal_()
    back = model.load_state_dict({k: gpugrad.tensor(v.numpy())
                                  for k, v in tmodel.state_dict().items()})
    assert back == ([], [])                                   # torch layout -> gpugrad
    np.testing.assert_array_equal(model[1].weight.numpy(), te.weight.detach().numpy())
    idx = [0, 3]
    np.testing.assert_allclose(model(gpugrad.tensor(idx)).numpy(),     # (float32 sums in
                               tmodel(torch.tensor(idx)).detach().numpy(),    # another order)
                               rtol=1e-6, atol=1e-6)


def test_tied_weights_save_load_and_optimizer_resume(tmp_path):
    model = _tied()
    opt = gpugrad.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        model(gpugrad.tensor([1, 2])).sum().backward()
        opt.step()
    path = str(tmp_path / "tied.npz")
    gpugrad.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    state = gpugrad.load(path)
    assert list(state["model"]) == ["0.weight", "1.weight"]
    fresh = _tied()
    fresh_opt = gpugrad.optim.Adam(fresh.parameters(), lr=0.1)
    fresh.load_state_dict(state["model"])
    fresh_opt.load_state_dict(state["opt"])
    for m, o in ((model, opt), (fresh, fresh_opt)):            # one more identical step
        o.zero_grad()
        m(gpugrad.tensor([1, 2])).sum().backward()
        o.step()
    np.testing.assert_array_equal(fresh[0].weight.numpy(), model[0].weight.numpy())
    assert fresh[0].weight is fresh[1].weight


def test_shared_module_appears_under_each_name():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert _keys(model) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(model.named_modules())) == 3               # the shared one once
    assert len(list(model.named_modules(remove_duplicate=False))) == 4


# ---------------------------------------------------------------------------------- Sequential
def _mlp():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_sequential_slice_keeps_the_original_names():
    model = _mlp()
    assert _keys(model[1:]) == ["2.weight", "2.bias"]
    assert _keys(model[:2]) == ["0.weight", "0.bias"]
    assert _keys(model[::2]) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    part = model[1:]
    assert part[0] is model[1] and part[1] is model[2] and len(part) == 2
    x = gpugrad.randn(5, 4)
    np.testing.assert_allclose(part(x).numpy(), model[2](F.relu(x)).numpy(), rtol=1e-6)
    assert model[-1] is model[2]
    with pytest.raises(IndexError, match="out of range"):
        model[3]
    with pytest.raises(TypeError, match="getattr"):
        model["0"]


def test_sequential_slice_keys_match_torch():
    torch = pytest.importorskip("torch")
    model = _mlp()
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    for index in (slice(1, None), slice(None, 2), slice(None, None, 2), slice(-1, None)):
        assert _keys(model[index]) == list(tmodel[index].state_dict()), index


def test_sequential_from_ordered_dict_and_attribute_access():
    fc, act = nn.Linear(2, 3), nn.Tanh()
    model = nn.Sequential(OrderedDict([("fc", fc), ("act", act)]))
    assert model.fc is fc and model[1] is act and model.get_submodule("fc") is fc
    assert _keys(model) == ["fc.weight", "fc.bias"]
    assert _keys(model[1:]) == [] and list(model[:1]._modules) == ["fc"]
    with pytest.raises(TypeError, match="item 0 is a dict|takes Modules"):
        nn.Sequential({"fc": fc})                               # as torch: OrderedDict only
    with pytest.raises(KeyError, match="forward"):
        nn.Sequential(OrderedDict([("forward", fc)]))


def test_sequential_editing_matches_torch_names():
    torch = pytest.importorskip("torch")
    T = torch.nn

    def edit(lib, Lin, Relu):
        model = lib.Sequential(Lin(2, 2), Relu())
        model.append(Lin(2, 3))
        model.insert(1, Relu())
        model.extend([Relu(), Lin(3, 1)])
        model[0] = Lin(2, 2)
        del model[2]
        popped = model.pop(0)
        joined = model + lib.Sequential(Relu())
        return ([type(m).__name__ for m in model], list(model._modules),
                list(model.state_dict()), type(popped).__name__,
                list(joined._modules), [type(m).__name__ for m in joined])

    assert edit(nn, nn.Linear, nn.ReLU) == edit(T, T.Linear, T.ReLU)


def test_sequential_edits_keep_the_fused_pair_and_its_values():
    model = nn.Sequential(nn.Linear(3, 4))
    model.append(nn.ReLU())
    model.append(nn.Linear(4, 2))
    x = gpugrad.randn(6, 3, dtype="float64")
    model.double()
    w1, b1, w2, b2 = (p.numpy() for p in model.parameters())
    expected = np.maximum(x.numpy() @ w1.T + b1, 0) @ w2.T + b2
    out = model(x)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert sorted(_op_names(out)) == ["LinearBackward", "LinearReluBackward"]   # one record
    tail = nn.Sequential(OrderedDict([("a", model[0]), ("b", model[1])]))
    assert _op_names(tail(x)) == ["LinearReluBackward"]
    assert _op_names(model[:2](x)) == ["LinearReluBackward"]
    np.testing.assert_allclose(model[:2](x).numpy(), np.maximum(x.numpy() @ w1.T + b1, 0),
                               rtol=1e-12)


def _op_names(out):
    """The names of the graph's nodes behind ``out``."""
    return [node.name() for node in nodes_behind([out.grad_fn])
            if node.name() != "AccumulateGrad"]


def test_mlp_still_fuses_and_slices():
    model = nn.MLP([3, 5, 2])
    assert _keys(model) == ["layers.0.weight", "layers.0.bias", "layers.2.weight",
                            "layers.2.bias"]
    assert _keys(model.layers[2:]) == ["2.weight", "2.bias"]
    x = gpugrad.randn(4, 3)
    np.testing.assert_allclose(model(x).numpy(), model.layers[2:](model.layers[:2](x)).numpy(),
                               rtol=1e-6)
    from gpugrad.checkpoint import checkpoint_sequential
    np.testing.assert_allclose(checkpoint_sequential(model.layers, 2, x).numpy(),
                               model(x).numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------------- ModuleList/Dict
def test_module_list_api():
    a, b, c = nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)
    layers = nn.ModuleList([a, b])
    layers.append(c)
    assert list(layers) == [a, b, c] and len(layers) == 3 and layers[-1] is c
    assert _keys(layers) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert isinstance(layers[1:], nn.ModuleList) and list(layers[1:]) == [b, c]
    assert _keys(layers[1:]) == ["1.weight", "1.bias"]         # renumbered, as torch
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "ReLU", "Linear"]
    del layers[0]
    assert list(layers) == [a, b, c] and list(layers._modules) == ["0", "1", "2"]
    layers[1] = nn.Tanh()
    assert type(layers[1]).__name__ == "Tanh"
    assert layers.pop(1).__class__.__name__ == "Tanh" and list(layers) == [a, c]
    layers += [b]
    assert list(layers) == [a, c, b] and list(layers + nn.ModuleList([a])) == [a, c, b, a]
    with pytest.raises(TypeError, match="Modules"):
        layers.append(3)
    with pytest.raises(NotImplementedError):
        layers(gpugrad.ones(1))


def test_module_dict_api():
    x, y = nn.Linear(2, 3), nn.Linear(2, 4)
    heads = nn.ModuleDict({"x": x})
    heads["y"] = y
    assert list(heads) == ["x", "y"] and list(heads.keys()) == ["x", "y"]
    assert list(heads.values()) == [x, y] and dict(heads.items()) == {"x": x, "y": y}
    assert "x" in heads and "z" not in heads and len(heads) == 2 and heads.x is x
    assert _keys(heads) == ["x.weight", "x.bias", "y.weight", "y.bias"]
    heads.update([("z", nn.ReLU())])
    assert heads.pop("x") is x and list(heads) == ["y", "z"]
    del heads["z"]
    assert list(heads) == ["y"]
    with pytest.raises(KeyError):
        heads["x"]
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []
    with pytest.raises(ValueError, match="pair"):
        heads.update([("a", nn.ReLU(), 3)])


def test_containers_match_torch_keys_and_values():
    torch = pytest.importorskip("torch")
    T = torch.nn

    def build(lib, Lin):
        return lib.ModuleDict({"enc": lib.ModuleList([Lin(2, 3), Lin(3, 3)]),
                               "head": lib.Sequential(OrderedDict(out=Lin(3, 1)))})

    model, tmodel = build(nn, nn.Linear), build(T, T.Linear)
    assert _keys(model) == list(tmodel.state_dict())
    _torch_copy(torch, model, tmodel)
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)

    def run(m, v):
        for layer in m["enc"]:
            v = layer(v)
        return m["head"](v)

    np.testing.assert_allclose(run(model, gpugrad.tensor(x)).numpy(),
                               run(tmodel, torch.tensor(x)).detach().numpy(), rtol=1e-5)


def test_parameter_list_and_dict():
    params = nn.ParameterList([gpugrad.ones(2), nn.Parameter(gpugrad.zeros(3))])
    params.append(gpugrad.full((1,), 2.0))
    assert len(params) == 3 and all(isinstance(p, nn.Parameter) for p in params)
    assert all(p.requires_grad for p in params) and _keys(params) == ["0", "1", "2"]
    assert params[-1].item() == 2.0
    table = nn.ParameterDict({"a": gpugrad.ones(2)})
    table["b"] = gpugrad.zeros(1)
    assert list(table) == ["a", "b"] and "a" in table and isinstance(table["b"], nn.Parameter)
    owner = nn.Module()
    owner.table, owner.params = table, params
    assert [n for n, _ in owner.named_parameters()] == ["table.a", "table.b", "params.0",
                                                          "params.1", "params.2"]
    assert table.pop("a").shape == (2,) and list(table.keys()) == ["b"]


# ---------------------------------------------------------------------------------- Module lookups
def test_get_submodule_get_parameter_and_register_module():
    model = nn.Sequential(OrderedDict(block=nn.Sequential(nn.Linear(2, 2))))
    model.block[0].register_buffer("mask", gpugrad.ones(2))
    assert model.get_submodule("") is model
    assert model.get_submodule("block.0") is model.block[0]
    assert model.get_parameter("block.0.weight") is model.block[0].weight
    assert model.get_buffer("block.0.mask") is model.block[0].mask
    with pytest.raises(AttributeError, match="`nope`"):
        model.get_submodule("block.nope")
    with pytest.raises(AttributeError, match="`mask` is not a nn.Parameter"):
        model.get_parameter("block.0.mask")
    with pytest.raises(AttributeError, match="has no attribute `bias2`"):
        model.get_parameter("block.0.bias2")
    extra = nn.Linear(1, 1)
    model.register_module("extra", extra)
    assert model.extra is extra and _keys(model)[-2:] == ["extra.weight", "extra.bias"]
    with pytest.raises(TypeError, match="Module"):
        model.add_module("bad", gpugrad.ones(1))
    with pytest.raises(KeyError, match="no '.'"):
        model.add_module("a.b", nn.ReLU())
    with pytest.raises(KeyError, match="already has an attribute 'forward'"):
        model.add_module("forward", nn.ReLU())


def test_named_parameters_prefix_recurse_and_state_dict_prefix():
    model = nn.Sequential(nn.Linear(2, 2))
    assert [n for n, _ in model.named_parameters(prefix="net")] == ["net.0.weight",
                                                                    "net.0.bias"]
    assert list(model.named_parameters(recurse=False)) == []
    assert list(model.state_dict(prefix="m.")) == ["m.0.weight", "m.0.bias"]
    dest = OrderedDict(first=gpugrad.zeros(1))
    assert model.state_dict(destination=dest) is dest and list(dest)[0] == "first"
    assert model.state_dict(keep_vars=True)["0.weight"] is model[0].weight


def test_named_parameters_and_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    T = torch.nn
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 3)))
    tmodel = T.Sequential(T.Linear(2, 2), T.Sequential(T.Linear(2, 3)))
    for kwargs in ({"prefix": "p"}, {"recurse": False}, {}):
        assert [n for n, _ in model.named_parameters(**kwargs)] == \
            [n for n, _ in tmodel.named_parameters(**kwargs)]
    assert list(model.state_dict(prefix="x.")) == list(tmodel.state_dict(prefix="x."))
    assert [n for n, _ in model.named_modules()] == [n for n, _ in tmodel.named_modules()]
