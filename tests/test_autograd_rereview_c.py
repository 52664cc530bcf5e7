"""Re-review C's fixes (engine, node hooks, inference tensors, func aux, anomaly flags,
saved-tensor hooks, optimizer state_dict, gradcheck, custom_bwd): hand-derived values first,
PyTorch where installed."""

import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import autograd, func, nn
from gpugrad.autograd import saved_tensor
from gpugrad.autograd.graph import save_on_cpu, saved_tensors_hooks


def _torch():
    return pytest.importorskip("torch")


# --------------------------------------------------------------------------- R1
def test_backward_inputs_with_an_unused_leaf():
    x = gpugrad.ones(2, requires_grad=True)
    y = gpugrad.ones(2, requires_grad=True)
    (x * 2).sum().backward(inputs=[x, y])       # y: no path from the loss reaches it
    assert x.grad.tolist() == [2.0, 2.0] and y.grad is None


def test_backward_inputs_with_an_unused_leaf_as_pytorch():
    torch = _torch()
    x = torch.ones(2, requires_grad=True)
    y = torch.ones(2, requires_grad=True)
    (x * 2).sum().backward(inputs=[x, y])
    assert x.grad.tolist() == [2.0, 2.0] and y.grad is None


# --------------------------------------------------------------------------- R2
def _prehook_replacing_accumulate_grad(lib):
    x = lib.ones(3, requires_grad=True)
    keep = lib.tensor([10.0, 20.0, 30.0])
    acc = (x * 1).grad_fn.next_functions[0][0]
    acc.register_prehook(lambda go: (keep,))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    return keep.tolist(), x.grad is keep, x.grad.tolist()


def _posthook_replacing_a_rule(lib):
    x = lib.ones(3, requires_grad=True)
    keep = lib.tensor([1.0, 2.0, 3.0])
    y = x * 2
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (keep, *grad_inputs[1:]))
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    return keep.tolist(), x.grad is keep, x.grad.tolist()


def test_a_hook_returned_tensor_is_not_adopted_as_grad():
    # the hook's tensor is added twice into a .grad of its own: 2 * keep; keep unchanged
    assert _prehook_replacing_accumulate_grad(gpugrad) == (
        [10.0, 20.0, 30.0], False, [20.0, 40.0, 60.0])
    assert _posthook_replacing_a_rule(gpugrad) == ([1.0, 2.0, 3.0], False, [2.0, 4.0, 6.0])


def test_a_hook_returned_tensor_as_pytorch():
    torch = _torch()
    assert _prehook_replacing_accumulate_grad(torch) == \
        _prehook_replacing_accumulate_grad(gpugrad)
    assert _posthook_replacing_a_rule(torch) == _posthook_replacing_a_rule(gpugrad)


# --------------------------------------------------------------------------- R3
def _accumulator_hook_run(lib, hook):
    """Linear+ReLU+Linear (fused in gpugrad), three backwards with no zero_grad between, a
    prehook on the first weight's AccumulateGrad."""
    nn_ = nn if lib is gpugrad else lib.nn
    lib.manual_seed(0)
    m = nn_.Sequential(nn_.Linear(3, 4), nn_.ReLU(), nn_.Linear(4, 1))
    with lib.no_grad():
        m[0].weight.copy_(lib.tensor([[0.5, -0.2, 0.1], [0.3, 0.4, -0.5],
                                      [-0.1, 0.2, 0.3], [0.2, 0.2, 0.2]]))
        m[0].bias.fill_(0.1)
        m[2].weight.fill_(1.0)
    w = m[0].weight
    acc = w.expand_as(w).grad_fn.next_functions[0][0]
    acc.register_prehook(hook)
    for _ in range(3):
        m(lib.ones(5, 3)).sum().backward()
    return w.grad.tolist()


def test_accumulate_grad_hooks_see_tensors_and_replace_with_accumulation():
    seen = []
    _accumulator_hook_run(gpugrad, lambda go: seen.append(type(go[0]).__name__))
    assert seen == ["Tensor"] * 3
    # a replacement counts: zeros each time, so .grad stays zero
    assert _accumulator_hook_run(gpugrad, lambda go: (go[0] * 0,)) == [[0.0] * 3] * 4
    # hand-derived: hidden pre-activations are row sums + 0.1, all > 0 but row 2 (0.4 ... )
    doubled = _accumulator_hook_run(gpugrad, lambda go: (go[0] * 2,))
    active = [1.0 if r > 0 else 0.0 for r in (0.5, 0.3, 0.5, 0.7)]
    np.testing.assert_allclose(doubled, [[3 * 2 * 5 * a] * 3 for a in active], rtol=1e-6)


def test_accumulate_grad_hooks_as_pytorch():
    torch = _torch()
    for hook in (lambda go: (go[0] * 2,), lambda go: None):
        np.testing.assert_allclose(_accumulator_hook_run(gpugrad, hook),
                                   _accumulator_hook_run(torch, hook), rtol=1e-6)


# --------------------------------------------------------------------------- R5
def test_saving_after_an_inference_tensor_calls_nothing(monkeypatch):
    with gpugrad.inference_mode():
        made = gpugrad.ones(2)
    calls = []
    monkeypatch.setattr(saved_tensor, "_refuse_inference", lambda *a: calls.append(a))
    a = gpugrad.ones(2, requires_grad=True)
    (a * a).sum().backward()                    # two saved tensors: no call for either
    assert calls == [] and a.grad.tolist() == [2.0, 2.0]
    monkeypatch.undo()
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved"):
        a * made


# --------------------------------------------------------------------------- R7
def _f_with_aux(x):
    return (x ** 2).sum(), x.mean()


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "grad_and_value"])
def test_aux_comes_back_cut_from_the_graph(transform):
    out = getattr(func, transform)(_f_with_aux, has_aux=True)(gpugrad.tensor([1.0, 2.0]))
    aux = {"grad": lambda o: o[1], "value_and_grad": lambda o: o[0][1],
           "grad_and_value": lambda o: o[1][1]}[transform](out)
    assert aux.item() == 1.5 and aux.grad_fn is None and not aux.requires_grad


def test_aux_as_torch_func():
    torch = _torch()
    _, (value, aux) = torch.func.grad_and_value(_f_with_aux, has_aux=True)(
        torch.tensor([1.0, 2.0]))
    assert aux.grad_fn is None and aux.item() == 1.5


# --------------------------------------------------------------------------- R8
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_anomaly_mode_without_nan_checks_is_still_on():
    with autograd.set_detect_anomaly(True, check_nan=False):
        assert autograd.is_anomaly_enabled() and not autograd.is_anomaly_check_nan_enabled()
        x = gpugrad.tensor([0.0], requires_grad=True)
        x.sqrt().sum().backward()               # inf gradient: not checked
    assert not autograd.is_anomaly_enabled() and not autograd.is_anomaly_check_nan_enabled()
    with autograd.detect_anomaly(check_nan=False):
        assert autograd.is_anomaly_enabled() and not autograd.is_anomaly_check_nan_enabled()
    with autograd.detect_anomaly():
        assert autograd.is_anomaly_enabled() and autograd.is_anomaly_check_nan_enabled()
    assert not autograd.is_anomaly_enabled()


def test_anomaly_flags_as_pytorch():
    torch = _torch()
    with torch.autograd.set_detect_anomaly(True, check_nan=False):
        assert torch.is_anomaly_enabled() and not torch.is_anomaly_check_nan_enabled()


def _written_after_saving(lib, hooks):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with hooks():
        b = x * 1
        c = (b * b).sum()
    with lib.no_grad():
        b.add_(1)
    c.backward()
    return x.grad.tolist()


def _identity_hooks():
    return saved_tensors_hooks(lambda t: t, lambda t: t)


def test_saved_tensor_hooks_skip_the_version_check():
    # save_on_cpu(pin_memory=True) copied b = x: d(sum b^2)/dx = 2x, whatever b became
    assert _written_after_saving(gpugrad, lambda: save_on_cpu(pin_memory=True)) == [2.0, 4.0]
    # save_on_cpu() and identity hooks keep b itself, now x + 1: 2(x + 1), no version error
    assert _written_after_saving(gpugrad, save_on_cpu) == [4.0, 6.0]
    assert _written_after_saving(gpugrad, _identity_hooks) == [4.0, 6.0]
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    b = x * 1
    c = (b * b).sum()
    with gpugrad.no_grad():
        b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        c.backward()                            # no hooks: still checked


def test_saved_tensor_hooks_after_a_write_as_pytorch():
    torch = _torch()
    for pin in (False, True):
        assert _written_after_saving(torch, lambda: torch.autograd.graph.save_on_cpu(pin)) == \
            _written_after_saving(gpugrad, lambda: save_on_cpu(pin))
    assert _written_after_saving(
        torch, lambda: torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t)) \
        == _written_after_saving(gpugrad, _identity_hooks)


def _counting_optimizer(base):
    class Counting(base):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    self.state[p]["step"] = self.state[p].get("step", 0) + 1
    return Counting


def test_a_user_optimizers_step_state_is_saved_as_it_is():
    w = gpugrad.ones(1, requires_grad=True)
    opt = _counting_optimizer(gpugrad.optim.Optimizer)([w])
    opt.step()
    opt.step()
    saved = opt.state_dict()["state"][0]["step"]
    assert saved == 2 and type(saved) is int
    adam = gpugrad.optim.Adam([w])              # gpugrad's own: a 0-d float32 tensor
    w.grad = gpugrad.ones(1)
    adam.step()
    step = adam.state_dict()["state"][0]["step"]
    assert isinstance(step, gpugrad.Tensor) and step.item() == 1.0


def test_a_user_optimizers_step_state_as_pytorch():
    torch = _torch()
    opt = _counting_optimizer(torch.optim.Optimizer)([torch.ones(1, requires_grad=True)])
    opt.step()
    assert type(opt.state_dict()["state"][0]["step"]) is int


def test_gradcheck_refuses_to_check_nothing():
    x = gpugrad.tensor([1.0], dtype="float64", requires_grad=True)
    with pytest.raises(ValueError, match="at least one of check_forward_ad"):
        autograd.gradcheck(lambda x: x * 2, (x,), check_backward_ad=False)
    assert autograd.gradcheck(lambda x: x * 2, (x,), check_backward_ad=False,
                              check_forward_ad=True)


# --------------------------------------------------------------------------- R9
class _CudaDecorated(autograd.Function):
    @staticmethod
    @gpugrad.amp.custom_fwd(device_type="cuda")
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x @ w

    @staticmethod
    @gpugrad.amp.custom_bwd(device_type="cuda")
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        ctx.backward_autocast = gpugrad.amp.is_autocast_enabled("cuda")
        return g @ w.T, x.T @ g


@pytest.mark.skipif(gpugrad.backend.is_cuda_usable(), reason="the CPU-only case")
def test_custom_bwd_of_cuda_under_a_device_less_autocast_does_not_warn():
    x = gpugrad.ones(2, 2, requires_grad=True)
    w = gpugrad.ones(2, 2, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # "CUDA is not usable" at backward: a failure
        with gpugrad.amp.autocast("float16"):
            y = _CudaDecorated.apply(x, w)
        assert str(y.dtype) == "float16"
        y.float().sum().backward()
    assert y.grad_fn.backward_autocast          # backward ran under autocast, as forward
    assert x.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]] and str(x.grad.dtype) == "float32"
