"""nn.utils.parametrize (register_parametrization, remove_parametrizations, is_parametrized,
cached), nn.utils.parametrizations (weight_norm, spectral_norm) and the older hook-based
nn.utils.weight_norm / spectral_norm: values and gradients derived by hand or checked by
finite differences in float64, and PyTorch's where installed."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.nn.utils import parametrize, parametrizations

RNG = np.random.default_rng(11)


class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(0, 1)


class Double(nn.Module):
    def forward(self, x):
        return x * 2

    def right_inverse(self, x):
        return x / 2


def linear(w, b=None):
    out, inp = w.shape
    layer = nn.Linear(inp, out, bias=b is not None, dtype="float64")
    with gpugrad.no_grad():
        layer.weight.copy_(gpugrad.tensor(w))
        if b is not None:
            layer.bias.copy_(gpugrad.tensor(b))
    return layer


def test_register_makes_a_property_of_the_stored_original():
    w = RNG.standard_normal((3, 3))
    layer = linear(w, np.zeros(3))
    weight = layer.weight
    assert parametrize.register_parametrization(layer, "weight", Symmetric()) is layer
    assert type(layer).__name__ == "ParametrizedLinear" and isinstance(layer, nn.Linear)
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    assert parametrize.is_parametrized(layer) and parametrize.is_parametrized(layer, "weight")
    assert not parametrize.is_parametrized(layer, "bias")
    assert not parametrize.is_parametrized(nn.Linear(2, 2))
    assert layer.parametrizations.weight.original is weight        # the same Parameter
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [n for n, _ in layer.named_parameters()] == ["bias",
                                                       "parametrizations.weight.original"]
    want = np.triu(w) + np.triu(w, 1).T
    np.testing.assert_array_equal(layer.weight.detach().numpy(), want)
    x = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(layer(gpugrad.tensor(x)).detach().numpy(), x @ want.T)
    layer(gpugrad.tensor(x)).sum().backward()        # dL/dW = ones(3) x sum of rows of x
    grad_w = np.outer(np.ones(3), x.sum(0))
    want_grad = np.triu(grad_w) + np.tril(grad_w, -1).T              # both halves fold up
    np.testing.assert_allclose(weight.grad.numpy(), want_grad, rtol=1e-12)
    assert type(nn.Linear(2, 2)).__name__ == "Linear"                # other instances kept


def test_right_inverse_on_assignment_and_chaining():
    layer = parametrize.register_parametrization(linear(np.ones((2, 2))), "weight", Double())
    np.testing.assert_array_equal(layer.parametrizations.weight.original.numpy(), 0.5)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), 1.0)
    layer.weight = gpugrad.tensor([[4.0, 8.0], [2.0, 6.0]], dtype="float64")
    np.testing.assert_array_equal(layer.parametrizations.weight.original.numpy(),
                                  [[2.0, 4.0], [1.0, 3.0]])
    parametrize.register_parametrization(layer, "weight", Double())   # applied after
    assert len(layer.parametrizations.weight) == 2
    np.testing.assert_array_equal(layer.weight.detach().numpy(), [[8.0, 16.0], [4.0, 12.0]])
    layer.weight = gpugrad.ones(2, 2, dtype="float64")               # both inverses
    np.testing.assert_array_equal(layer.parametrizations.weight.original.numpy(), 0.25)
    symmetric = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Symmetric())
    with pytest.raises(RuntimeError, match="Symmetric does not implement right_inverse"):
        symmetric.weight = gpugrad.ones(2, 2)


def test_registration_errors():
    with pytest.raises(ValueError, match="with name 'nothing'"):
        parametrize.register_parametrization(nn.Linear(2, 2), "nothing", Double())

    class Shrink(nn.Module):
        def forward(self, x):
            return x[0]
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink())
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink(),
                                                 unsafe=True)
    assert layer.weight.shape == (2,)
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        parametrize.remove_parametrizations(layer, "bias")


def test_cached_computes_once_per_block():
    calls = []

    class Counting(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x * 1
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Counting())
    calls.clear()
    with parametrize.cached():
        first = layer.weight
        assert layer.weight is first and len(calls) == 1
        with parametrize.cached():                     # nested: the same cache
            assert layer.weight is first
    assert layer.weight is not first and len(calls) == 2


def test_remove_leaves_the_value_in_the_same_parameter():
    layer = linear(np.ones((2, 2)))
    weight = layer.weight
    parametrize.register_parametrization(layer, "weight", Double())
    parametrize.register_parametrization(layer, "weight", Double())
    layer.weight = gpugrad.tensor([[4.0, 8.0], [2.0, 6.0]], dtype="float64")
    assert parametrize.remove_parametrizations(layer, "weight") is layer
    assert type(layer) is nn.Linear and not hasattr(layer, "parametrizations")
    assert layer.weight is weight                      # an optimizer still holds it
    np.testing.assert_array_equal(layer.weight.numpy(), [[4.0, 8.0], [2.0, 6.0]])
    assert list(layer.state_dict()) == ["weight"]
    kept = parametrize.register_parametrization(linear(np.ones((2, 2))), "weight", Double())
    parametrize.remove_parametrizations(kept, "weight", leave_parametrized=False)
    np.testing.assert_array_equal(kept.weight.numpy(), 0.5)           # the original
    normed = parametrizations.weight_norm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(normed, "weight", leave_parametrized=False)


def test_deepcopy_works_and_pickle_refuses():
    layer = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    twin = copy.deepcopy(layer)
    assert type(twin) is type(layer)
    original, copied = (m.parametrizations.weight.original for m in (layer, twin))
    assert copied is not original
    np.testing.assert_array_equal(copied.numpy(), original.numpy())
    with gpugrad.no_grad():
        copied.add_(1.0)                               # independent
    assert not np.array_equal(twin.weight.detach().numpy(), layer.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(layer)


def test_weight_norm_by_hand_and_by_finite_differences():
    w = RNG.standard_normal((4, 3))
    layer = parametrizations.weight_norm(linear(w, np.zeros(4)))
    g = layer.parametrizations.weight.original0
    v = layer.parametrizations.weight.original1
    assert g.shape == (4, 1) and v.shape == (4, 3)
    np.testing.assert_allclose(g.numpy(), np.linalg.norm(w, axis=1, keepdims=True))
    np.testing.assert_allclose(layer.weight.detach().numpy(), w, rtol=1e-14)
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original0",
                                        "parametrizations.weight.original1"]
    for dim, g_shape in ((1, (1, 3)), (None, ()), (-1, ()), (-2, (4, 1))):
        other = parametrizations.weight_norm(linear(w), dim=dim)
        assert other.parametrizations.weight.original0.shape == g_shape, dim
    fn = parametrizations._weight_norm
    gg = gpugrad.tensor(RNG.random((4, 1)) + 0.5, requires_grad=True)
    vv = gpugrad.tensor(w, requires_grad=True)
    assert gpugrad.gradcheck(lambda a, b: fn(b, a, 0), (gg, vv))
    assert gpugrad.gradcheck(lambda a, b: fn(b, a, 1), (gpugrad.tensor(
        RNG.random((1, 3)) + 0.5, requires_grad=True), vv))
    with gpugrad.no_grad():                            # w = g v / ||v||
        v.mul_(3.0)
    np.testing.assert_allclose(layer.weight.detach().numpy(), w, rtol=1e-14)


def test_spectral_norm_divides_by_the_largest_singular_value():
    w = np.diag([3.0, 1.0, 0.5])
    w[0, 1] = 0.2
    layer = parametrizations.spectral_norm(linear(w))
    sigma = np.linalg.svd(w, compute_uv=False)[0]
    np.testing.assert_allclose(layer.weight.detach().numpy(), w / sigma, rtol=1e-10)
    assert list(layer.state_dict()) == ["parametrizations.weight.original",
                                        "parametrizations.weight.0._u",
                                        "parametrizations.weight.0._v"]
    u = layer.parametrizations.weight[0]._u.numpy().copy()
    layer.eval()                                       # eval: u and v stay
    layer.weight
    np.testing.assert_array_equal(layer.parametrizations.weight[0]._u.numpy(), u)
    spectral = layer.parametrizations.weight[0]
    x = gpugrad.tensor(RNG.standard_normal((3, 3)), requires_grad=True)
    assert gpugrad.gradcheck(spectral, (x,))           # W / (u . W v), u and v fixed
    vector = parametrizations.spectral_norm(linear(w, np.array([3.0, 4.0, 0.0])), "bias")
    np.testing.assert_allclose(vector.bias.detach().numpy(), [0.6, 0.8, 0.0])   # 1-d: w/|w|
    with pytest.raises(ValueError, match="no parameter or buffer with name 'w'"):
        parametrizations.spectral_norm(nn.Linear(2, 2), "w")
    with pytest.raises(ValueError, match="n_power_iterations"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def test_old_hook_weight_norm_and_spectral_norm():
    w = RNG.standard_normal((4, 3))
    with pytest.warns(FutureWarning, match="deprecated"):
        layer = nn.utils.weight_norm(linear(w, np.zeros(4)))
    assert [n for n, _ in layer.named_parameters()] == ["bias", "weight_g", "weight_v"]
    np.testing.assert_allclose(layer.weight_g.numpy(), np.linalg.norm(w, axis=1)[:, None])
    x = RNG.standard_normal((2, 3))
    with gpugrad.no_grad():
        layer.weight_g.mul_(2.0)                       # seen at the next call
    np.testing.assert_allclose(layer(gpugrad.tensor(x)).detach().numpy(), x @ (2 * w).T,
                               rtol=1e-12)
    with pytest.raises(RuntimeError, match="two weight_norm hooks"), \
            pytest.warns(FutureWarning):
        nn.utils.weight_norm(layer)
    nn.utils.remove_weight_norm(layer)
    assert [n for n, _ in layer.named_parameters()] == ["bias", "weight"]
    assert not layer._all_hooks                        # the fast path again
    np.testing.assert_allclose(layer.weight.numpy(), 2 * w, rtol=1e-12)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(layer)
    spectral = nn.utils.spectral_norm(linear(np.diag([2.0, 1.0])))
    assert sorted(spectral.state_dict()) == ["weight_orig", "weight_u", "weight_v"]
    for _ in range(20):
        spectral(gpugrad.ones(1, 2, dtype="float64"))
    np.testing.assert_allclose(spectral.weight.detach().numpy(), np.diag([1.0, 0.5]),
                               rtol=1e-8)
    nn.utils.remove_spectral_norm(spectral)
    assert list(spectral.state_dict()) == ["weight"] and not spectral._all_hooks
    assert isinstance(spectral.weight, nn.Parameter)


def test_lazy_names_of_nn_utils():
    assert callable(nn.utils.weight_norm) and callable(nn.utils.spectral_norm)
    assert nn.utils.parametrize is parametrize
    assert nn.utils.parametrizations is parametrizations
    from gpugrad.nn.utils import remove_spectral_norm, remove_weight_norm
    assert remove_weight_norm.__module__.endswith("weight_norm_hook")
    assert remove_spectral_norm.__module__.endswith("spectral_norm_hook")
    with pytest.raises(AttributeError):
        nn.utils.no_such_name


def test_training_moves_the_parametrized_weight():
    gpugrad.manual_seed(0)
    layer = parametrizations.weight_norm(nn.Linear(3, 2))
    opt = gpugrad.optim.SGD(layer.parameters(), lr=0.1)
    before = layer.weight.detach().numpy().copy()
    layer(gpugrad.ones(4, 3)).sum().backward()
    opt.step()
    assert not np.allclose(layer.weight.detach().numpy(), before)


@pytest.mark.skipif(not hasattr(nn.Module, "_register_load_state_dict_pre_hook"),
                    reason="needs Module's load-state-dict pre-hooks")
def test_old_weight_norm_checkpoint_loads_into_the_parametrization():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = nn.utils.weight_norm(nn.Linear(3, 2))
    new = parametrizations.weight_norm(nn.Linear(3, 2))
    new.load_state_dict(old.state_dict())
    np.testing.assert_allclose(new.weight.detach().numpy(), old.weight.detach().numpy())


def torch_pair(torch, w, b):
    mine = linear(w, b)
    theirs = torch.nn.Linear(w.shape[1], w.shape[0]).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
        theirs.bias.copy_(torch.tensor(b))
    return mine, theirs


def compare_training(torch, mine, theirs, steps: int = 3):
    x = RNG.standard_normal((5, mine.in_features))
    for _ in range(steps):
        got, want = mine(gpugrad.tensor(x)), theirs(torch.tensor(x))
        (got ** 2).sum().backward()
        (want ** 2).sum().backward()
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10)
        assert [n for n, _ in mine.named_parameters()] == \
            [n for n, _ in theirs.named_parameters()]
        for p, q in zip(mine.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert list(mine.state_dict()) == list(theirs.state_dict())


def test_against_torch():
    torch = pytest.importorskip("torch")
    TP = torch.nn.utils.parametrizations
    w, b = RNG.standard_normal((4, 3)), RNG.standard_normal(4)
    for dim in (0, 1, None):
        mine, theirs = torch_pair(torch, w, b)
        parametrizations.weight_norm(mine, dim=dim)
        TP.weight_norm(theirs, dim=dim)
        compare_training(torch, mine, theirs)
        mine.weight = gpugrad.tensor(2 * w)
        theirs.weight = torch.tensor(2 * w)
        np.testing.assert_allclose(mine.parametrizations.weight.original0.numpy(),
                                   theirs.parametrizations.weight.original0.detach().numpy())
    mine, theirs = torch_pair(torch, w, b)
    parametrizations.spectral_norm(mine)
    TP.spectral_norm(theirs)
    for name in ("_u", "_v"):                          # the same random start
        getattr(mine.parametrizations.weight[0], name).copy_(
            gpugrad.tensor(getattr(theirs.parametrizations.weight[0], name).numpy()))
    compare_training(torch, mine, theirs)
    mine.eval()
    theirs.eval()
    np.testing.assert_allclose(mine.weight.detach().numpy(),
                               theirs.weight.detach().numpy(), rtol=1e-12)
    parametrize.remove_parametrizations(mine, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    np.testing.assert_allclose(mine.weight.numpy(), theirs.weight.detach().numpy())


def test_old_hooks_against_torch():
    torch = pytest.importorskip("torch")
    w, b = RNG.standard_normal((4, 3)), RNG.standard_normal(4)
    mine, theirs = torch_pair(torch, w, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(mine)
        torch.nn.utils.weight_norm(theirs)
    compare_training(torch, mine, theirs)
    nn.utils.remove_weight_norm(mine)
    torch.nn.utils.remove_weight_norm(theirs)
    np.testing.assert_allclose(mine.weight.numpy(), theirs.weight.detach().numpy())
    mine, theirs = torch_pair(torch, w, b)
    nn.utils.spectral_norm(mine)
    torch.nn.utils.spectral_norm(theirs)
    mine.weight_u.copy_(gpugrad.tensor(theirs.weight_u.numpy()))
    mine.weight_v.copy_(gpugrad.tensor(theirs.weight_v.numpy()))
    compare_training(torch, mine, theirs)
    nn.utils.remove_spectral_norm(mine)
    torch.nn.utils.remove_spectral_norm(theirs)
    np.testing.assert_allclose(mine.weight.numpy(), theirs.weight.detach().numpy())


def test_assigning_a_parameter_over_a_parametrized_name_raises_as_torch():
    """torch's register_parameter refuses a name the parametrization's property holds (a
    silent assignment would shadow the parametrized weight in _parameters)."""
    m = nn.Linear(3, 3)
    before = m.weight.detach().clone()
    parametrize.register_parametrization(m, "weight", Symmetric())
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.weight = nn.Parameter(gpugrad.ones(3, 3))
    assert "weight" not in m._parameters
    np.testing.assert_allclose(m.weight.numpy(), np.triu(before.numpy())
                               + np.triu(before.numpy(), 1).T, rtol=1e-6)
