"""PyTorch habits of gpugrad.nn's strict loading errors, Dropout (p=1, inplace), Flatten,
Unflatten, Softmax, LogSoftmax and nn.utils.parameters_to_vector / vector_to_parameters.

References: hand-derived values, float64 NumPy, and (where installed) PyTorch 2.x."""

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.nn import functional as F


# ---------------------------------------------------------------------------------- strict loading
def test_strict_load_error_is_runtime_error_with_torchs_message():
    model = nn.Sequential(nn.Linear(2, 1))
    state = {"0.weight": gpugrad.zeros(1, 2), "extra": gpugrad.zeros(1)}
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    assert isinstance(info.value, KeyError)                   # old callers still catch it
    assert str(info.value) == ('Error(s) in loading state_dict for Sequential:\n\t'
                               'Missing key(s) in state_dict: "0.bias". \n\t'
                               'Unexpected key(s) in state_dict: "extra". ')
    assert model.load_state_dict(state, strict=False) == (["0.bias"], ["extra"])


def test_strict_load_message_equals_torchs():
    torch = pytest.importorskip("torch")
    model, tmodel = nn.Sequential(nn.Linear(2, 1)), torch.nn.Sequential(torch.nn.Linear(2, 1))
    for state in ({"0.weight": np.zeros((1, 2), np.float32), "x": np.zeros(1, np.float32),
                   "y": np.zeros(1, np.float32)},
                  {"0.weight": np.zeros((1, 2), np.float32)}):
        with pytest.raises(RuntimeError) as ours:
            model.load_state_dict({k: gpugrad.tensor(v) for k, v in state.items()})
        with pytest.raises(RuntimeError) as theirs:
            tmodel.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
        assert str(ours.value) == str(theirs.value)


# ---------------------------------------------------------------------------------- Dropout
def test_dropout_p_one_gives_zeros_and_zero_gradient():
    a = gpugrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    for out in (F.dropout(a * 2, 1.0), nn.Dropout(1.0)(a * 2)):
        np.testing.assert_array_equal(out.numpy(), [0.0, 0.0, 0.0])
        a.grad = None
        out.sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0, 0.0])
    state = gpugrad.get_rng_state()
    F.dropout(a, 1.0)
    assert gpugrad.get_rng_state() == state                   # no mask drawn, as torch
    assert nn.Dropout(1.0).eval()(a) is a
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(p)
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(a, p)


def test_dropout_p_one_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([1.0, np.inf, -3.0], np.float32)
    with np.errstate(invalid="ignore"):
        ours = F.dropout(gpugrad.tensor(x), 1.0).numpy()
    theirs = torch.nn.functional.dropout(torch.tensor(x), 1.0).numpy()
    np.testing.assert_array_equal(ours, theirs)               # inf * 0 is NaN in both


def test_dropout_inplace_writes_into_its_input():
    a = gpugrad.ones(200, requires_grad=True)
    b = a * 1.0
    gpugrad.manual_seed(4)
    out = nn.Dropout(0.5, inplace=True)(b)
    assert out is b
    kept = out.numpy() != 0
    assert set(np.unique(out.numpy())) == {0.0, 2.0} and 50 < kept.sum() < 150
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.where(kept, 2.0, 0.0))
    gpugrad.manual_seed(4)
    np.testing.assert_array_equal(nn.Dropout(0.5)(gpugrad.ones(200)).numpy(), out.numpy())
    leaf = gpugrad.ones(3, requires_grad=True)                 # as torch: refused on a leaf
    with pytest.raises(RuntimeError, match="leaf"):
        F.dropout(leaf, 0.5, inplace=True)
    assert repr(nn.Dropout(0.2, inplace=True)) == "Dropout(p=0.2, inplace=True)"


# ---------------------------------------------------------------------------------- small layers
def test_flatten_unflatten_by_hand():
    x = gpugrad.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    np.testing.assert_array_equal(nn.Flatten()(x).numpy(), np.arange(24.0).reshape(2, 12))
    y = nn.Unflatten(1, (2, -1))(nn.Flatten()(x))
    assert y.shape == (2, 2, 6)
    np.testing.assert_array_equal(y.numpy(), np.arange(24.0).reshape(2, 2, 6))
    assert nn.Unflatten(-1, (2, 2))(x).shape == (2, 3, 2, 2)


def test_softmax_layers_by_hand_and_implicit_dim():
    x = gpugrad.tensor([[0.0, np.log(3.0)], [0.0, 0.0]], dtype="float64")
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).numpy(), [[0.25, 0.75], [0.5, 0.5]])
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(x).numpy(),
                               np.log([[0.25, 0.75], [0.5, 0.5]]))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(x)                                  # 2-d: dim 1, as torch
    np.testing.assert_allclose(out.numpy().sum(axis=1), [1.0, 1.0])
    with pytest.warns(UserWarning):
        out = nn.LogSoftmax()(gpugrad.zeros(2, 3, 4))          # 3-d: dim 0, as torch
    np.testing.assert_allclose(out.numpy(), np.full((2, 3, 4), np.log(0.5)), rtol=1e-6)


def test_small_layers_match_torch():
    torch = pytest.importorskip("torch")
    T = torch.nn
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    pairs = [(nn.Flatten(), T.Flatten()), (nn.Flatten(1, 2), T.Flatten(1, 2)),
             (nn.Unflatten(2, (2, 2)), T.Unflatten(2, (2, 2))),
             (nn.Softmax(dim=2), T.Softmax(dim=2)), (nn.LogSoftmax(dim=-1), T.LogSoftmax(-1)),
             (nn.Identity(), T.Identity())]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(gpugrad.tensor(x)).numpy(),
                                   theirs(torch.tensor(x)).numpy(), rtol=1e-12)
        assert repr(ours) == repr(theirs)
    for n in (1, 3):
        with pytest.warns(UserWarning):
            ours = nn.Softmax()(gpugrad.tensor(x[(0,) * (4 - n)])).numpy()
        with pytest.warns(UserWarning):
            theirs = T.Softmax()(torch.tensor(x[(0,) * (4 - n)])).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


# ---------------------------------------------------------------------------------- utils
def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    params = list(model.parameters())
    vec = nn.utils.parameters_to_vector(model.parameters())
    expected = np.concatenate([p.numpy().ravel() for p in params])
    np.testing.assert_array_equal(vec.numpy(), expected)
    (vec * gpugrad.tensor(np.arange(13.0, dtype=np.float32))).sum().backward()
    np.testing.assert_array_equal(np.concatenate([p.grad.numpy().ravel() for p in params]),
                                  np.arange(13.0))              # differentiable
    new = gpugrad.tensor(np.arange(13.0, dtype=np.float32) / 10)
    assert nn.utils.vector_to_parameters(new, model.parameters()) is None
    np.testing.assert_array_equal(model[0].weight.numpy(),
                                  (np.arange(6.0) / 10).reshape(3, 2).astype(np.float32))
    np.testing.assert_array_equal(model[1].bias.numpy(), np.float32([1.2]))
    assert all(p.is_leaf for p in model.parameters())
    with pytest.raises(TypeError, match="Tensor"):
        nn.utils.vector_to_parameters(np.zeros(13), model.parameters())
    with pytest.raises(ValueError, match="13 values"):
        nn.utils.vector_to_parameters(gpugrad.zeros(12), model.parameters())


def test_parameters_to_vector_matches_torch():
    torch = pytest.importorskip("torch")
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    tmodel.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    np.testing.assert_array_equal(
        nn.utils.parameters_to_vector(model.parameters()).numpy(),
        torch.nn.utils.parameters_to_vector(tmodel.parameters()).detach().numpy())


def test_reset_parameters_draws_again_in_place():
    """Linear: the same distribution (bounds 1/sqrt(in)), the same Parameter objects; the
    norm layers: ones and zeros; BatchNorm also its running statistics; Embedding: its
    padding row zero."""
    layer = nn.Linear(4, 3)
    weight = layer.weight
    with gpugrad.no_grad():
        layer.weight.fill_(7.0)
        layer.bias.fill_(7.0)
    layer.reset_parameters()
    assert layer.weight is weight and np.abs(layer.weight.numpy()).max() <= 0.5
    assert np.abs(layer.bias.numpy()).max() <= 0.5 and layer.weight.numpy().std() > 0
    for norm in (nn.LayerNorm(3), nn.RMSNorm(3), nn.GroupNorm(1, 3), nn.BatchNorm1d(3)):
        with gpugrad.no_grad():
            for p in norm.parameters():
                p.fill_(5.0)
        if isinstance(norm, nn.BatchNorm1d):
            norm(gpugrad.randn(4, 3))
        norm.reset_parameters()
        assert norm.weight.tolist() == [1.0, 1.0, 1.0]
        if getattr(norm, "bias", None) is not None:
            assert norm.bias.tolist() == [0.0, 0.0, 0.0]
        if isinstance(norm, nn.BatchNorm1d):
            assert norm.running_mean.tolist() == [0.0] * 3
            assert norm.num_batches_tracked.item() == 0
    emb = nn.Embedding(5, 2, padding_idx=1)
    emb.reset_parameters()
    assert emb.weight[1].tolist() == [0.0, 0.0] and emb.weight.numpy().std() > 0


def test_a_shape_mismatch_on_loading_is_a_runtime_error_as_pytorchs():
    wrong = {"weight": gpugrad.zeros(3, 3), "bias": gpugrad.zeros(2)}
    for caught in (RuntimeError, ValueError):
        with pytest.raises(caught, match=r"size mismatch for weight: copying a param with "
                                         r"shape \(3, 3\) from checkpoint, the shape in "
                                         r"current model is \(2, 2\)\."):
            nn.Linear(2, 2).load_state_dict(wrong)
