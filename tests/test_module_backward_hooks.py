"""Module full backward hooks, backward pre-hooks and always_call forward hooks
(gpugrad/nn/module_hooks.py), against hand-derived gradients and PyTorch where installed."""

import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import nn


def _linear(w, b=None):
    layer = nn.Linear(w.shape[1], w.shape[0], bias=b is not None, dtype="float64")
    with gpugrad.no_grad():
        layer.weight.copy_(gpugrad.tensor(w))
        if b is not None:
            layer.bias.copy_(gpugrad.tensor(b))
    return layer


def test_linear_grad_input_is_grad_output_times_weight():
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(2, 3)), rng.normal(size=2)
    layer, seen = _linear(w, b), []
    handle = layer.register_full_backward_hook(
        lambda m, gi, go: seen.append((m, gi[0].numpy().copy(), go[0].numpy().copy())))
    x = gpugrad.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    g = rng.normal(size=(4, 2))
    layer(x).backward(gpugrad.tensor(g))
    (module, grad_input, grad_output), = seen         # once per backward
    assert module is layer
    np.testing.assert_allclose(grad_output, g, rtol=1e-12)
    np.testing.assert_allclose(grad_input, g @ w, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), g @ w, rtol=1e-12)
    handle.remove()
    layer(x).backward(gpugrad.tensor(g))
    assert len(seen) == 1                               # removed: it runs no more


def test_hook_replaces_grad_input_and_pre_hook_replaces_grad_output():
    w = np.array([[2.0, -1.0]])
    layer = _linear(w)
    x = gpugrad.tensor([[1.0, 1.0]], dtype="float64", requires_grad=True)
    pre = layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * w)     # d/dx = (3 * 1) @ W
    pre.remove()
    x.grad = layer.weight.grad = None
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] + 100,))
    layer.register_full_backward_hook(lambda m, gi, go: seen.append(gi[0].tolist()))
    layer(x).sum().backward()
    assert seen == [[[102.0, 99.0]]]             # the second hook sees the first's result
    np.testing.assert_allclose(x.grad.numpy(), w + 100)
    assert layer.weight.grad.numpy().tolist() == [[1.0, 1.0]]    # x^T g: unchanged


def test_two_inputs_two_outputs_and_non_tensor_argument():
    class Two(nn.Module):
        def forward(self, a, b, scale):
            return a * b * scale, a + b

    m, seen = Two(), []
    m.register_full_backward_pre_hook(lambda mod, go: seen.append(("pre", go)))
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(("full", gi, go)))
    a = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    b = gpugrad.tensor([3.0, 4.0], requires_grad=True)
    y, z = m(a, b, 2.0)
    (y * gpugrad.tensor([1.0, 10.0]) + 5 * z).sum().backward()
    (_, go_pre), (_, gi, go) = seen
    assert go_pre is go or all(p is q for p, q in zip(go_pre, go))
    assert [g.tolist() for g in go] == [[1.0, 10.0], [5.0, 5.0]]
    # d/da = gy * b * 2 + gz, d/db = gy * a * 2 + gz; None for the float argument
    assert gi[0].tolist() == [11.0, 85.0] and gi[1].tolist() == [7.0, 45.0] and gi[2] is None
    assert a.grad.tolist() == [11.0, 85.0] and b.grad.tolist() == [7.0, 45.0]


def test_unused_output_gets_none_and_input_without_grad_gets_zeros_as_pytorch():
    class Two(nn.Module):
        def forward(self, a, b):
            return a * b, a + 1

    m, seen = Two(), []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go)))
    a = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    y, _ = m(a, gpugrad.tensor([3.0, 4.0]))
    y.sum().backward()
    (gi, go), = seen
    assert go[1] is None and go[0].tolist() == [1.0, 1.0]
    assert gi[0].tolist() == [3.0, 4.0] and gi[1].tolist() == [0.0, 0.0]


def test_no_input_requires_grad_fires_at_the_outputs_with_a_warning():
    layer, seen = nn.Linear(2, 3), []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go[0].shape)))
    out = layer(gpugrad.ones(4, 2))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        out.sum().backward()
    assert seen == [((None,), (4, 3))]
    assert layer.weight.grad.numpy().tolist() == [[4.0, 4.0]] * 3


def test_fires_once_per_call_and_per_backward_with_retain_graph():
    layer, count = nn.Linear(2, 2), []
    layer.register_full_backward_hook(lambda m, gi, go: count.append(1))
    x = gpugrad.ones(1, 2, requires_grad=True)
    loss = (layer(x) + layer(x * 2)).sum()             # two calls: two firings
    loss.backward(retain_graph=True)
    assert len(count) == 2
    loss.backward()
    assert len(count) == 4


def test_hook_returning_the_wrong_number_of_gradients_is_refused():
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but "
                                           "expected 1"):
        layer(gpugrad.ones(1, 2, requires_grad=True)).sum().backward()


def test_hooks_inside_a_relu_sequential_run():
    # nn.Sequential's Linear + ReLU fusion must skip modules with backward hooks
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    seen = []
    model[0].register_full_backward_hook(lambda m, gi, go: seen.append(go[0].shape))
    model(gpugrad.randn(5, 3, requires_grad=True)).sum().backward()
    assert seen == [(5, 4)]


def test_always_call_forward_hook_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x, flag=0):
            raise ValueError("boom")

    m, calls = Boom(), []
    m.register_forward_hook(lambda mod, args, out: calls.append(("plain", out)))
    m.register_forward_hook(lambda mod, args, kw, out: calls.append(("always", kw, out)),
                            with_kwargs=True, always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(gpugrad.ones(1), flag=1)
    assert calls == [("always", {"flag": 1}, None)]
    m.register_forward_hook(lambda mod, args, out: 1 / 0, always_call=True)
    with warnings.catch_warnings(record=True) as caught, pytest.raises(ValueError):
        warnings.simplefilter("always")
        m(gpugrad.ones(1))
    assert any("always_call=True" in str(w.message) for w in caught)

    ok, runs = nn.Identity(), []
    handle = ok.register_forward_hook(lambda mod, args, out: runs.append(1), always_call=True)
    ok(gpugrad.ones(1))
    assert runs == [1]                                  # runs once when nothing raises
    handle.remove()
    assert not ok._forward_hooks and not ok._forward_hooks_always_called


def test_per_example_gradients_through_a_hooked_module():
    from gpugrad import func
    layer, seen = nn.Linear(3, 2), []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append(tuple(gi[0].shape)))
    xs = gpugrad.randn(4, 3)
    per_example = func.vmap(func.grad(lambda x: layer(x).sum()))(xs)
    expected = layer.weight.numpy().sum(axis=0)                     # d sum(Wx + b)/dx
    np.testing.assert_allclose(per_example.numpy(), np.tile(expected, (4, 1)), rtol=1e-6)
    assert seen == [(3,)]                               # one example's shape, once


# ------------------------------------------------------------------------------- PyTorch
def _both_mlps(torch):
    gpugrad.manual_seed(0)
    ours = nn.MLP([3, 5, 4, 2], activation="tanh", dtype="float64")
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(),
                                 torch.nn.Linear(5, 4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 2)).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.tensor(p.numpy()))
    return ours, theirs


def test_mlp_hooks_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = _both_mlps(torch)
    x = np.random.default_rng(1).normal(size=(6, 3))
    results = []
    for model, layers, make in ((ours, ours.layers, gpugrad.tensor),
                                (theirs, theirs, torch.tensor)):
        seen = []
        for i in (0, 1, 2):
            layers[i].register_full_backward_pre_hook(
                lambda m, go, i=i: seen.append(("pre", i, go[0].detach().numpy().copy())))
            layers[i].register_full_backward_hook(
                lambda m, gi, go, i=i: seen.append(("full", i, gi[0].detach().numpy().copy(),
                                                    go[0].detach().numpy().copy())))
        layers[2].register_full_backward_hook(lambda m, gi, go: (gi[0] * 0.5,))
        inp = make(x, requires_grad=True)
        model(inp).pow(2).sum().backward()
        results.append((seen, inp.grad.numpy().copy(),
                        [p.grad.numpy().copy() for p in model.parameters()]))
    (seen_a, gx_a, gp_a), (seen_b, gx_b, gp_b) = results
    assert [s[:2] for s in seen_a] == [s[:2] for s in seen_b]       # same order
    for a, b in zip(seen_a, seen_b):
        for u, v in zip(a[2:], b[2:]):
            np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx_a, gx_b, rtol=1e-10, atol=1e-12)
    for u, v in zip(gp_a, gp_b):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


def test_two_input_module_hooks_agree_with_pytorch():
    torch = pytest.importorskip("torch")

    def make(base, lib):
        class Two(base):
            def forward(self, a, b):
                return (a * b).sum(axis=1) if lib is gpugrad else (a * b).sum(dim=1), a - b
        return Two()

    a0, b0 = np.arange(6.0).reshape(2, 3), np.linspace(-1, 1, 6).reshape(2, 3)
    got = []
    for lib, base in ((gpugrad, nn.Module), (torch, torch.nn.Module)):
        m, seen = make(base, lib), []
        m.register_full_backward_hook(
            lambda mod, gi, go: seen.append([g.detach().numpy().copy() for g in gi + go]))
        a = lib.tensor(a0, requires_grad=True)
        b = lib.tensor(b0, requires_grad=True)
        y, z = m(a, b)
        (y * 3).sum().add((z ** 2).sum()).backward()
        got.append(seen)
    (ours,), (theirs,) = got
    for u, v in zip(ours, theirs):
        np.testing.assert_allclose(u, v, rtol=1e-12)


def test_a_module_whose_hooks_were_all_removed_calls_forward_directly(monkeypatch):
    """``Module.__call__`` tests one registry of every hook (``_all_hooks``): each kind
    registered sends calls through the hooked path, and removing them all leaves it."""
    from gpugrad.nn import module as module_file
    layer, seen = nn.Linear(2, 2), []
    handles = [layer.register_forward_pre_hook(lambda m, a: seen.append("pre")),
               layer.register_forward_hook(lambda m, a, o: seen.append("fwd"), with_kwargs=False),
               layer.register_forward_hook(lambda m, a, k, o: seen.append("kw"),
                                           with_kwargs=True, always_call=True),
               layer.register_full_backward_hook(lambda m, gi, go: seen.append("bwd")),
               layer.register_full_backward_pre_hook(lambda m, go: seen.append("bpre"))]
    layer(gpugrad.ones(1, 2, requires_grad=True)).sum().backward()
    assert seen == ["pre", "fwd", "kw", "bpre", "bwd"]
    for handle in handles:
        handle.remove()
    assert not layer._all_hooks

    def refuse(*args):
        raise AssertionError("the hooked path ran for a module without hooks")
    monkeypatch.setattr(module_file, "call_with_hooks", refuse)
    monkeypatch.setattr(module_file, "call_with_all_hooks", refuse)
    assert layer(gpugrad.ones(1, 2)).shape == (1, 2)


def test_a_module_pickled_before_the_hook_registry_still_runs_its_hooks():
    import pickle
    layer = nn.Identity()
    layer.register_forward_hook(_double_output)
    state = pickle.loads(pickle.dumps(layer)).__dict__
    del state["_all_hooks"]                         # as pickled before it existed
    old = nn.Identity.__new__(nn.Identity)
    old.__setstate__(state)
    assert old(gpugrad.tensor([1.0])).tolist() == [2.0]


def _double_output(module, args, output):
    return output * 2
