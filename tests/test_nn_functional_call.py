"""functional_call and stack_module_state as torch.func's: the docs' recipes (per-sample
gradients, model ensembling) against a Python loop, and against torch where installed."""

import copy

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.func import grad, vmap
from gpugrad.func.functional_call import functional_call, stack_module_state
import gpugrad.nn.functional as F


def _model():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def _compute_loss(model):
    def compute_loss(params, buffers, sample, target):
        batch, targets = sample.unsqueeze(0), target.unsqueeze(0)
        predictions = functional_call(model, (params, buffers), (batch,))
        return F.cross_entropy(predictions, targets)
    return compute_loss


def _per_sample(model, data, targets):
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    return vmap(grad(_compute_loss(model)), in_dims=(None, None, 0, 0))(params, buffers, data,
                                                                         targets)


def test_per_sample_gradients_equal_a_loop_of_backward_calls():
    gpugrad.manual_seed(0)
    model = _model()
    data, targets = gpugrad.randn(6, 4), gpugrad.tensor([0, 1, 2, 1, 0, 2])
    grads = _per_sample(model, data, targets)
    assert {k: v.shape for k, v in grads.items()} == {
        "0.weight": (6, 8, 4), "0.bias": (6, 8), "2.weight": (6, 3, 8), "2.bias": (6, 3)}
    for i in range(6):
        model.zero_grad()
        F.cross_entropy(model(data[i:i + 1]), targets[i:i + 1]).backward()
        for name, p in model.named_parameters():
            np.testing.assert_allclose(grads[name].numpy()[i], p.grad.numpy(), atol=1e-6,
                                       err_msg=name)
    assert all(p.grad is not None for p in model.parameters())     # the model is untouched
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())


def test_per_sample_gradients_match_torch_func():
    torch = pytest.importorskip("torch")
    from torch.func import functional_call as t_call, grad as t_grad, vmap as t_vmap
    gpugrad.manual_seed(1)
    model = _model()
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    tmodel.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    data, targets = gpugrad.randn(5, 4), gpugrad.tensor([2, 0, 1, 1, 0])
    tparams = {k: v.detach() for k, v in tmodel.named_parameters()}

    def t_loss(params, buffers, sample, target):
        out = t_call(tmodel, (params, buffers), (sample.unsqueeze(0),))
        return torch.nn.functional.cross_entropy(out, target.unsqueeze(0))

    want = t_vmap(t_grad(t_loss), in_dims=(None, None, 0, 0))(
        tparams, {}, torch.tensor(data.numpy()), torch.tensor(targets.numpy()))
    got = _per_sample(model, data, targets)
    for name in want:
        np.testing.assert_allclose(got[name].numpy(), want[name].numpy(), atol=1e-6)


def test_model_ensembling_with_stack_module_state():
    gpugrad.manual_seed(2)
    models = [_model() for _ in range(3)]
    params, buffers = stack_module_state(models)
    assert params["0.weight"].shape == (3, 8, 4) and params["0.weight"].requires_grad
    assert params["0.weight"].is_leaf and buffers == {}
    base = copy.deepcopy(models[0])

    def fmodel(params, buffers, x):
        return functional_call(base, (params, buffers), (x,))

    minibatch = gpugrad.randn(5, 4)
    same = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)
    minibatches = gpugrad.randn(3, 5, 4)
    different = vmap(fmodel)(params, buffers, minibatches)
    for i, m in enumerate(models):
        np.testing.assert_allclose(same.numpy()[i], m(minibatch).numpy(), atol=1e-6)
        np.testing.assert_allclose(different.numpy()[i], m(minibatches[i]).numpy(), atol=1e-6)
    with pytest.raises(RuntimeError, match="same class"):
        stack_module_state([nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2))])
    with pytest.raises(RuntimeError, match="training/eval"):
        stack_module_state([nn.Linear(2, 2), nn.Linear(2, 2).eval()])
    with pytest.raises(RuntimeError, match="at least one"):
        stack_module_state([])


def test_ensembling_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.func import functional_call as t_call, stack_module_state as t_stack, \
        vmap as t_vmap
    gpugrad.manual_seed(3)
    models = [_model() for _ in range(2)]
    tmodels = [torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                   torch.nn.Linear(8, 3)) for _ in range(2)]
    for m, t in zip(models, tmodels):
        t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    x = gpugrad.randn(5, 4)
    tp, tb = t_stack(tmodels)
    want = t_vmap(lambda p, b, x: t_call(tmodels[0], (p, b), (x,)), in_dims=(0, 0, None))(
        tp, tb, torch.tensor(x.numpy()))
    p, b = stack_module_state(models)
    got = vmap(lambda p, b, x: functional_call(models[0], (p, b), (x,)),
               in_dims=(0, 0, None))(p, b, x)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), atol=1e-6)


def test_functional_call_swaps_and_restores_tied_and_strict():
    layer = nn.Linear(2, 1)
    weight = layer.weight
    out = functional_call(layer, {"weight": gpugrad.ones(1, 2), "bias": gpugrad.zeros(1)},
                          gpugrad.tensor([[1.0, 2.0]]))
    assert out.tolist() == [[3.0]] and layer.weight is weight
    assert layer._parameters["weight"] is weight
    out = functional_call(layer, {"bias": gpugrad.tensor([10.0])}, (gpugrad.zeros(1, 2),))
    assert out.tolist() == [[10.0]]                         # weight: the module's own
    with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'bias'"):
        functional_call(layer, {"weight": gpugrad.ones(1, 2)}, (gpugrad.ones(1, 2),),
                        strict=True)
    with pytest.raises(ValueError, match="multiple dictionaries"):
        functional_call(layer, ({"bias": gpugrad.ones(1)}, {"bias": gpugrad.ones(1)}),
                        (gpugrad.ones(1, 2),))
    emb, head = nn.Embedding(3, 2), nn.Linear(2, 3, bias=False)
    head.weight = emb.weight
    tied = nn.Sequential(emb, head)
    new = gpugrad.ones(3, 2)
    both = functional_call(tied, {"0.weight": new}, (gpugrad.tensor([0]),))
    assert both.tolist() == [[2.0, 2.0, 2.0]]               # head used the new weight too
    untied = functional_call(tied, {"0.weight": new}, (gpugrad.tensor([0]),),
                             tie_weights=False)
    np.testing.assert_allclose(untied.numpy(), gpugrad.ones(1, 2).numpy() @ emb.weight.numpy().T,
                               rtol=1e-6)
    assert tied[1].weight is tied[0].weight is emb.weight
    with pytest.raises(ValueError, match="tied"):
        functional_call(tied, {"0.weight": new, "1.weight": gpugrad.zeros(3, 2)},
                        (gpugrad.tensor([0]),))


def test_functional_call_with_buffers_runs_batch_norm_statistics_on_the_given_ones():
    bn = nn.BatchNorm1d(2).eval()
    buffers = {"running_mean": gpugrad.tensor([1.0, 1.0]), "running_var": gpugrad.ones(2)}
    out = functional_call(bn, buffers, (gpugrad.tensor([[3.0, 1.0]]),))
    np.testing.assert_allclose(out.numpy(), [[2 / np.sqrt(1 + 1e-5), 0.0]], rtol=1e-6)
    assert bn.running_mean.tolist() == [0.0, 0.0]
