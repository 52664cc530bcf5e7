"""Optimizer code written the PyTorch way, run on gpugrad (review s22, F1-F9, F12, F13,
F15): a custom optimizer that starts its state with ``self.state[p]``, step and state-dict
hooks, named parameters, ``Adam(decoupled_weight_decay=True)``, the warning for a
scheduler stepped first, step counts as 0-d float32 tensors in ``state_dict()``,
``_LRScheduler``, no state for SGD without momentum, the optimizer's repr, a torch tensor
as lr. References: values derived by hand or in float64 NumPy; torch 2.x where installed."""

import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, optim
from gpugrad.autograd.compile_mode import CompileError
from gpugrad.optim.optimizer import (register_optimizer_step_post_hook,
                                     register_optimizer_step_pre_hook)


def ours(values, dtype="float64"):
    return gpugrad.tensor(values, dtype=dtype, requires_grad=True)


def _momentum_sgd(base, no_grad):
    """The usual custom optimizer from PyTorch's docs, on ``base`` (an Optimizer class)."""
    class MySGD(base):
        def __init__(self, params, lr=0.1, momentum=0.5):
            super().__init__(params, dict(lr=lr, momentum=momentum))

        @no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        state["buf"] = p.grad.clone()
                    else:
                        state["buf"].mul_(group["momentum"]).add_(p.grad)
                    p.sub_(group["lr"] * state["buf"])
    return MySGD


def _run_custom(lib, base, w):
    opt = _momentum_sgd(base, lib.no_grad)([w])
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    return opt


def test_a_custom_optimizer_written_the_torch_way_trains():
    w = ours([1.0, 2.0])
    opt = _run_custom(gpugrad, optim.Optimizer, w)
    x, buf = np.array([1.0, 2.0]), None                 # by hand: buf = 0.5 buf + 2x
    for _ in range(3):
        buf = 2 * x if buf is None else 0.5 * buf + 2 * x
        x = x - 0.1 * buf
    np.testing.assert_allclose(w.numpy(), x, rtol=1e-15)
    assert list(opt.state[w]) == ["buf"]
    fresh = ours([0.0])
    assert fresh not in opt.state and opt.state[fresh] == {} and fresh in opt.state


def test_a_custom_optimizer_agrees_with_torch():
    torch = pytest.importorskip("torch")
    w, t = ours([1.0, 2.0]), torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    _run_custom(gpugrad, optim.Optimizer, w)
    _run_custom(torch, torch.optim.Optimizer, t)
    np.testing.assert_allclose(w.numpy(), t.detach().numpy(), rtol=1e-15)


def _hooked(lib, opt, events, register_pre, register_post):
    handles = [register_pre(lambda o, a, k: events.append(("global pre", a[0] is o))),
               opt.register_step_pre_hook(lambda o, a, k: events.append(("pre", len(a)))),
               opt.register_step_post_hook(lambda o, a, k: events.append(("post", len(a)))),
               register_post(lambda o, a, k: events.append(("global post", k)))]
    return handles


@pytest.mark.parametrize("lib_name", ["gpugrad", "torch"])
def test_step_hooks_run_in_torchs_order(lib_name):
    lib = gpugrad if lib_name == "gpugrad" else pytest.importorskip("torch")
    if lib is gpugrad:
        pre, post, w = register_optimizer_step_pre_hook, register_optimizer_step_post_hook, \
            ours([1.0])
    else:
        from torch.optim.optimizer import (register_optimizer_step_post_hook as post,
                                           register_optimizer_step_pre_hook as pre)
        w = lib.tensor([1.0], dtype=lib.float64, requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.5)
    events = []
    handles = _hooked(lib, opt, events, pre, post)
    try:
        w.grad = w.detach() * 0 + 2.0
        opt.step()
        assert events == [("global pre", True), ("pre", 1), ("post", 1), ("global post", {})]
        assert float(w.detach()[0]) == 0.0                         # 1 - 0.5 * 2
        for handle in handles:
            handle.remove()
        events.clear()
        opt.step()
        assert events == []
    finally:
        for handle in handles:
            handle.remove()


def test_a_step_pre_hook_may_replace_the_arguments():
    w = ours([3.0])
    opt = optim.SGD([w], lr=0.25)
    calls = []

    def closure():
        calls.append("replaced")
        opt.zero_grad()
        (w * w).sum().backward()                # grad 6
        return 7.0

    opt.register_step_pre_hook(lambda o, args, kwargs: ((o,), {"closure": closure}))
    assert opt.step() == 7.0 and calls == ["replaced"]
    assert w.item() == 1.5                      # 3 - 0.25 * 6
    opt.register_step_pre_hook(lambda o, args, kwargs: "junk")
    with pytest.raises(RuntimeError, match=r"None or a tuple \(new_args, new_kwargs\)"):
        opt.step()


def test_hooks_run_once_for_subclass_steps_and_for_lbfgs():
    class Counted(optim.SGD):
        def step(self, closure=None):
            return super().step(closure)            # the base step is hooked too

    w = ours([1.0])
    seen = []
    opt = Counted([w], lr=0.1)
    opt.register_step_post_hook(lambda o, a, k: seen.append("sgd"))
    w.grad = gpugrad.ones(1, dtype="float64")
    opt.step()
    lbfgs = optim.LBFGS([w], max_iter=2)
    lbfgs.register_step_pre_hook(lambda o, a, k: seen.append("lbfgs"))

    def closure():
        lbfgs.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    lbfgs.step(closure)
    assert seen == ["sgd", "lbfgs"]


def test_state_dict_hooks():
    w = ours([1.0])
    opt = optim.Adam([w], lr=0.1)
    events = []
    opt.register_state_dict_pre_hook(lambda o: events.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: dict(sd, extra=1))
    opt.register_state_dict_post_hook(lambda o, sd: events.append(sorted(sd)), prepend=True)
    saved = opt.state_dict()
    assert events == ["pre", ["param_groups", "state"]] and saved["extra"] == 1

    def halve_lr(o, sd):
        sd = dict(sd, param_groups=[dict(g, lr=g["lr"] / 2) for g in sd["param_groups"]])
        return sd

    opt.register_load_state_dict_pre_hook(halve_lr)
    opt.register_load_state_dict_post_hook(lambda o: events.append("loaded"))
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.05 and events[-1] == "loaded"


def test_a_compiled_step_with_step_hooks_is_refused():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)

    @gpugrad.compile
    def train_step(x):
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss

    x = gpugrad.ones(3, 2)
    train_step(x)
    handle = opt.register_step_post_hook(lambda o, a, k: None)
    with pytest.raises(CompileError, match="step hooks"):
        train_step(x)                               # the hook makes the step record again
    handle.remove()
    before = model.weight.detach().clone()
    train_step(x)
    assert not np.array_equal(model.weight.numpy(), before.numpy())


def test_named_parameters_keep_their_names():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.named_parameters(), lr=0.1)
    group = opt.param_groups[0]
    assert group["param_names"] == ["weight", "bias"]
    assert group["params"][0] is model.weight
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    with pytest.raises(ValueError, match="all as tensors"):
        optim.SGD([("a", ours([1.0])), ours([2.0])])
    with pytest.raises(ValueError, match="with names"):
        opt.add_param_group({"params": [ours([1.0])]})
    opt.add_param_group({"params": [("extra", ours([1.0]))], "lr": 0.5})
    assert opt.param_groups[1]["param_names"] == ["extra"]


def test_named_parameters_group_like_torchs():
    torch = pytest.importorskip("torch")
    a, b = ours([1.0]), ours([2.0])
    ta, tb = (torch.tensor([v], requires_grad=True) for v in (1.0, 2.0))
    mine = optim.SGD([("a", a), ("b", b)], lr=0.1).state_dict()["param_groups"][0]
    theirs = torch.optim.SGD([("a", ta), ("b", tb)], lr=0.1).state_dict()["param_groups"][0]
    assert mine["param_names"] == theirs["param_names"] and mine["params"] == theirs["params"]


def test_adam_with_decoupled_weight_decay_is_adamw():
    a, b = ours([1.0, -2.0]), ours([1.0, -2.0])
    adam = optim.Adam([a], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
    adamw = optim.AdamW([b], lr=0.1, weight_decay=0.5)
    assert adam.param_groups[0]["decoupled_weight_decay"] is True
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True
    assert optim.Adam([ours([1.0])]).param_groups[0]["decoupled_weight_decay"] is False
    for step in range(5):
        for opt, p in ((adam, a), (adamw, b)):
            opt.zero_grad()
            (p ** 2).sum().backward()
            opt.step()
        if step == 0:       # by hand: p (1 - lr wd), then lr against the gradient's sign
            np.testing.assert_allclose(a.numpy(), [0.95 - 0.1, -1.9 + 0.1], rtol=1e-9)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_adam_decoupled_weight_decay_agrees_with_torch():
    torch = pytest.importorskip("torch")
    a = ours([1.0, -2.0, 0.5])
    t = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    opts = [optim.Adam([a], lr=0.1, weight_decay=0.3, decoupled_weight_decay=True),
            torch.optim.Adam([t], lr=0.1, weight_decay=0.3, decoupled_weight_decay=True)]
    for _ in range(10):
        for opt, p in zip(opts, (a, t)):
            opt.zero_grad()
            (p ** 3 * 0.1 + p * p).sum().backward()
            opt.step()
    np.testing.assert_allclose(a.numpy(), t.detach().numpy(), rtol=1e-13)


def _scheduler_warnings(lib, step_optimizer_first: bool):
    w = lib.zeros(1, requires_grad=True)
    opt = lib.optim.SGD([w], lr=1.0)
    sched = lib.optim.lr_scheduler.StepLR(opt, 1, 0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if step_optimizer_first:
            opt.step()
        sched.step()
        opt.step()
        sched.step()
    return [str(c.message) for c in caught if "before `optimizer.step()`" in str(c.message)]


@pytest.mark.parametrize("lib_name", ["gpugrad", "torch"])
def test_a_scheduler_stepped_before_the_optimizer_warns_once(lib_name):
    lib = gpugrad if lib_name == "gpugrad" else pytest.importorskip("torch")
    assert len(_scheduler_warnings(lib, False)) == 1
    assert _scheduler_warnings(lib, True) == []


def test_a_step_skipped_by_the_grad_scaler_leads_to_the_warning():
    w = gpugrad.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    sched = optim.StepLR(opt, 1)
    scaler = gpugrad.amp.GradScaler(init_scale=4.0)
    scaler.scale((w * float("inf")).sum()).backward()
    scaler.step(opt)                                        # skipped: an inf gradient
    scaler.update()
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        sched.step()


def test_state_dict_step_counts_are_0d_float32_tensors_and_load_back():
    w = ours([1.0, 2.0])
    for name, keys in (("Adam", ["step"]), ("NAdam", ["step", "mu_product"]),
                       ("ASGD", ["step", "eta", "mu"]), ("Rprop", ["step"])):
        opt = getattr(optim, name)([w], lr=0.01)
        for _ in range(2):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        live = dict(opt.state[w])
        saved = opt.state_dict()["state"][0]
        for key in keys:
            value = saved[key]
            assert isinstance(value, gpugrad.Tensor) and value.shape == ()
            assert value.dtype == np.float32 and value.item() == pytest.approx(live[key])
        assert saved["step"].item() == 2.0
        again = getattr(optim, name)([w], lr=0.01)
        again.load_state_dict(opt.state_dict())
        assert again.state[w]["step"] == 2 and isinstance(again.state[w]["step"], int)
        for key in keys[1:]:
            assert again.state[w][key] == live[key]


def test_state_dict_step_types_match_torchs():
    torch = pytest.importorskip("torch")
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    opt = torch.optim.NAdam([t])
    (t * t).sum().backward()
    opt.step()
    theirs = opt.state_dict()["state"][0]
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    mine_opt = optim.NAdam([w])
    (w * w).sum().backward()
    mine_opt.step()
    mine = mine_opt.state_dict()["state"][0]
    for key in ("step", "mu_product"):
        assert str(theirs[key].dtype) == f"torch.{mine[key].dtype}" and theirs[key].ndim == 0
        assert mine[key].item() == theirs[key].item()


def test_the_old_lr_scheduler_name_can_be_subclassed():
    class Warmup(optim.lr_scheduler._LRScheduler):
        def get_lr(self):
            return [base * min(1.0, (self.last_epoch + 1) / 2) for base in self.base_lrs]

    opt = optim.SGD([ours([1.0])], lr=1.0)
    sched = Warmup(opt)
    opt.step()
    sched.step()
    assert isinstance(sched, optim.LRScheduler) and sched.get_last_lr() == [1.0]
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_sgd_without_momentum_keeps_no_state():
    w = ours([1.0])
    opt = optim.SGD([w], lr=0.1)
    w.grad = gpugrad.ones(1, dtype="float64")
    opt.step()
    assert opt.state_dict()["state"] == {} and w not in opt.state
    momentum = optim.SGD([w], lr=0.1, momentum=0.9)
    momentum.step()
    assert list(momentum.state_dict()["state"]) == [0]


def test_the_repr_is_torchs():
    opt = optim.SGD([ours([1.0])], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": [ours([2.0])], "lr": 0.01})
    group = ("    dampening: 0\n    differentiable: False\n    foreach: None\n"
             "    fused: None\n    lr: {}\n    maximize: False\n    momentum: 0.9\n"
             "    nesterov: False\n    weight_decay: 0\n")
    assert repr(opt) == ("SGD (\nParameter Group 0\n" + group.format(0.1)
                         + "Parameter Group 1\n" + group.format(0.01) + ")")


def test_the_repr_agrees_with_torchs_line_by_line():
    torch = pytest.importorskip("torch")
    mine = repr(optim.Adam([ours([1.0])], lr=0.1)).splitlines()
    theirs = repr(torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.1)).splitlines()
    assert mine[:2] == theirs[:2] and mine[-1] == theirs[-1]
    assert set(mine[2:-1]) <= set(theirs[2:-1])     # (torch lists its foreach/fused flags too)


def test_a_torch_tensor_lr_is_read_as_its_number():
    torch = pytest.importorskip("torch")
    w, v = ours([1.0]), ours([1.0])
    a = optim.SGD([w], lr=torch.tensor(0.25))
    b = optim.SGD([v], lr=0.25)
    assert a.param_groups[0]["lr"] == 0.25 and isinstance(a.param_groups[0]["lr"], float)
    for opt, p in ((a, w), (b, v)):
        p.grad = gpugrad.tensor([2.0], dtype="float64")
        opt.step()
    assert w.item() == v.item() == 0.5
    a.add_param_group({"params": [ours([0.0])], "lr": torch.tensor([0.5])})
    assert a.param_groups[1]["lr"] == 0.5
    with pytest.raises(TypeError, match="PyTorch tensor of shape"):
        a.add_param_group({"params": [ours([0.0])], "lr": torch.ones(2)})
