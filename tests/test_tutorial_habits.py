"""Habits from PyTorch's tutorials that a review ran through gpugrad: old names
(Variable, nn.utils.stateless), the functorch batch-norm patch, map_location functions,
torch's ``input`` keyword on layers, and the errors that name the way out. Values are
checked by hand (each against what PyTorch 2.13 does)."""

import pytest

import gpugrad
from gpugrad import func, nn
from gpugrad.autograd import Variable


def test_variable_is_a_detached_tensor_sharing_the_values():
    """As torch.autograd.Variable: a leaf (no grad_fn) over the same values, with
    requires_grad as given; every tensor is a Variable."""
    base = gpugrad.ones(2, requires_grad=True) * 2
    v = Variable(base, requires_grad=True)
    assert v.is_leaf and v.requires_grad and v.grad_fn is None
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0] and base.tolist() == [2.0, 2.0]
    w = Variable(base)
    assert not w.requires_grad and isinstance(base, Variable)
    with gpugrad.no_grad():
        w[0] = 5.0                                  # shares the values, as detach()
    assert base.tolist() == [5.0, 2.0]
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got float"):
        Variable(2.0)


def test_stateless_functional_call_is_func_functional_call():
    from gpugrad.nn.utils import stateless
    model = nn.Linear(2, 1, bias=False)
    out = stateless.functional_call(model, {"weight": gpugrad.tensor([[2.0, 3.0]])},
                                    (gpugrad.ones(2),))
    assert out.tolist() == [5.0]                    # 2 + 3


def test_replace_all_batch_norm_modules_lets_vmap_run_a_batch_norm_in_training():
    """The per-sample-gradient tutorial's patch: running statistics gone, so each example's
    statistics are its own batch's (here: one vmapped row of 4 values per feature)."""
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = gpugrad.randn(2, 4, 3, dtype="float64")
    with pytest.raises(RuntimeError, match="replace_all_batch_norm_modules_"):
        func.vmap(lambda row: func.functional_call(
            model, (params, dict(model.named_buffers())), (row,)))(x)
    assert func.replace_all_batch_norm_modules_(model) is model
    bn = model[1]
    assert bn.running_mean is None and bn.running_var is None and not bn.track_running_stats
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    out = func.vmap(lambda row: func.functional_call(model, params, (row,)))(x)
    for b in range(2):                              # each example normalised on its own
        h = x[b].numpy() @ params["0.weight"].numpy().T.astype("float64") + \
            params["0.bias"].numpy()
        want = (h - h.mean(0)) / (h.var(0) + 1e-5) ** 0.5
        assert abs(out[b].numpy() - want).max() < 1e-5


def test_layers_take_torchs_input_keyword():
    """functional_call(m, params, kwargs={'input': x}) and m(input=x), as in torch."""
    x = gpugrad.ones(1, 2)
    for module in (nn.Linear(2, 2), nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Identity(),
                   nn.Flatten(), nn.Softmax(dim=1), nn.LayerNorm(2), nn.Dropout(0.0),
                   nn.Sequential(nn.Linear(2, 2), nn.ReLU())):
        assert module(input=x).tolist() == module(x).tolist()
    bn = nn.BatchNorm1d(2).eval()
    assert bn(input=x).shape == (1, 2)


def test_dot_of_matrices_points_to_matmul():
    with pytest.raises(ValueError, match="use matmul or @"):
        gpugrad.dot(gpugrad.ones(4, 3), gpugrad.ones(3))


def test_hvp_with_bare_tensors_says_how_to_write_it():
    x = gpugrad.ones(2)
    with pytest.raises(TypeError, match=r"hvp\(f, \(x,\), \(v,\)\)"):
        func.hvp(lambda a: (a ** 3).sum(), x, x)
    assert func.hvp(lambda a: (a ** 3).sum(), (x,), (x,)).tolist() == [6.0, 6.0]  # 6 x v


def test_version_counts_in_place_writes_as_an_int_shared_with_views():
    """As PyTorch's t._version (autograd mechanics notes): 0 for a new tensor, one more per
    in-place write, through a view or its base alike (one counter)."""
    a = gpugrad.tensor([1.0, 2.0])
    assert a._version == 0 and isinstance(a._version, int)
    a.add_(1)
    assert a._version == 1
    view = a[:1]
    view.mul_(2)
    a[1] = 3.0
    assert a._version == view._version == 3 and a.tolist() == [4.0, 3.0]
    assert gpugrad.tensor([1.0])._version == 0         # a new tensor, a new counter
