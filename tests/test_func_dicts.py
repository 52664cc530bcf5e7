"""Dicts keep their key order through every transform (as torch.func's), so zipping a
model's parameters with the gradients pairs each with its own; checked by hand and against
torch.func."""

from collections import OrderedDict

import numpy as np
import pytest

import gpugrad
from gpugrad import func, nn


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def linear_params():
    gpugrad.manual_seed(3)
    m = nn.Linear(3, 3)
    return dict(m.named_parameters())


def loss(p, x):
    return (x @ p["weight"].T + p["bias"]).sum()


def test_grad_of_a_parameter_dict_keeps_its_order_and_pairs_by_position():
    params, x = linear_params(), gpugrad.tensor([1.0, 2.0, 3.0])
    grads = func.grad(loss)(params, x)
    assert list(grads) == ["weight", "bias"]
    for p, g in zip(params.values(), grads.values()):        # the torch habit
        assert p.shape == g.shape
    # by hand: d/dW sum(W x + b) = ones x^T, d/db = ones
    np.testing.assert_allclose(grads["weight"].numpy(), np.outer(np.ones(3), [1, 2, 3]))
    np.testing.assert_allclose(grads["bias"].numpy(), np.ones(3))


def test_grad_of_a_parameter_dict_as_torch_func(torch):
    params, x = linear_params(), gpugrad.tensor([1.0, 2.0, 3.0])
    tparams = {k: torch.tensor(v.numpy()) for k, v in params.items()}
    tgrads = torch.func.grad(lambda p, x: (x @ p["weight"].T + p["bias"]).sum())(
        tparams, torch.tensor([1.0, 2.0, 3.0]))
    grads = func.grad(loss)(params, x)
    assert list(grads) == list(tgrads)
    for g, t in zip(grads.values(), tgrads.values()):
        np.testing.assert_allclose(g.numpy(), t.numpy())


def test_every_transform_keeps_dict_order():
    x = gpugrad.tensor([1.0, 2.0])
    p = {"z": x, "a": 2 * x}
    assert list(func.value_and_grad(lambda p: (p["z"] * p["a"]).sum())(p)[1]) == ["z", "a"]
    out = func.jacrev(lambda p: {"y": p["z"] * 2, "b": p["a"]})(p)
    assert list(out) == ["y", "b"] and list(out["y"]) == ["z", "a"]
    out = func.jacfwd(lambda p: {"y": p["z"] * 2, "b": p["a"]})(p)
    assert list(out) == ["y", "b"] and list(out["b"]) == ["z", "a"]
    np.testing.assert_allclose(out["y"]["z"].numpy(), 2 * np.eye(2))
    h = func.hessian(lambda p: (p["z"] ** 2 * p["a"]).sum())(p)
    assert list(h) == ["z", "a"] and list(h["a"]) == ["z", "a"]
    np.testing.assert_allclose(h["z"]["a"].numpy(), np.diag(2 * x.numpy()))    # 2z
    out = func.vmap(lambda r: {"z": r * 2, "a": r})(gpugrad.ones(3, 2))
    assert list(out) == ["z", "a"]
    _, aux = func.grad(lambda x: ((x ** 2).sum(), {"q": x, "c": x}), has_aux=True)(x)
    assert list(aux) == ["q", "c"]
    primal, tangent = func.jvp(lambda p: {"y": p["z"], "b": p["a"]}, (p,), (p,))
    assert list(primal) == list(tangent) == ["y", "b"]


def test_ordered_dict_comes_back_an_ordered_dict(torch):
    x = gpugrad.tensor([1.0, 2.0])
    grads = func.grad(lambda p: (p["z"] * p["a"]).sum())(OrderedDict(z=x, a=x * 3))
    assert isinstance(grads, OrderedDict) and list(grads) == ["z", "a"]
    np.testing.assert_allclose(grads["z"].numpy(), [3.0, 6.0])       # d/dz (z a) = a
    t = torch.tensor([1.0, 2.0])
    tg = torch.func.grad(lambda p: (p["z"] * p["a"]).sum())(OrderedDict(z=t, a=t * 3))
    assert type(tg) is type(grads) and list(tg) == list(grads)


def test_vjp_fn_matches_dict_cotangents_by_key():
    x = gpugrad.tensor([1.0, 2.0])
    out, vjp_fn = func.vjp(lambda x: {"b": x * 2, "a": x * 3}, x)
    assert list(out) == ["b", "a"]
    (g,) = vjp_fn({"a": gpugrad.ones(2), "b": gpugrad.zeros(2)})    # other order: by key
    np.testing.assert_allclose(g.numpy(), [3.0, 3.0])
    with pytest.raises(ValueError, match=r"f returned a dict with keys \['b', 'a'\]; pass "
                                         r"cotangents of that structure.*got a tuple of 2"):
        vjp_fn((gpugrad.ones(2), gpugrad.ones(2)))


def test_jvp_matches_dict_tangents_by_key():
    x = gpugrad.tensor([1.0, 2.0])
    _, t = func.jvp(lambda p: p["a"] * p["b"], ({"a": x, "b": 2 * x},),
                    ({"b": gpugrad.ones(2), "a": gpugrad.zeros(2)},))
    np.testing.assert_allclose(t.numpy(), x.numpy())        # d(ab) = a db + b da = a
    with pytest.raises(ValueError, match="differ in structure"):
        func.jvp(lambda p: p["a"], ({"a": x},), ({"c": x},))


def test_vmap_in_dims_dict_matched_by_key_in_any_order():
    params = {"b": gpugrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
              "a": gpugrad.tensor([10.0, 20.0])}
    out = func.vmap(lambda p: p["a"] + p["b"], in_dims=({"a": None, "b": 0},))(params)
    np.testing.assert_allclose(out.numpy(), params["b"].numpy() + [10.0, 20.0])
