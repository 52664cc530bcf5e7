"""RMSprop, Adagrad, Adadelta, Adamax, NAdam and RAdam against torch.optim (2.13) in float64:
16 steps of a matrix, a vector and a 0-d parameter in two groups with different learning
rates, some steps without some gradients, every documented option; the same signatures
(names, order, defaults), state entries and state-dict layout; a state dict saved halfway
(through gpugrad.save/load, or saved by torch) continuing the same run. The same for Rprop
and ASGD, and CyclicLR's learning rates and momenta against torch's, all modes; with their
torch-free checks (values by hand, errors) at the end of this file. The torch-free checks of
the others are in test_optim_more_by_hand.py."""

import inspect

import numpy as np
import pytest

import gpugrad

from optim_more_cases import (CASE_IDS, CASES, CLASSES, DEFAULT_LR, loss_of,
                              make_optimizer, make_params, train, value)

# (these schedules are stepped without an optimizer step, on purpose)
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)`")

try:
    import torch
except ImportError:             # the torch checks skip; the hand-derived ones still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch (2.13), the reference")

STEPS = 16
TORCH_ONLY = set()   # gpugrad keeps all of torch's group keys


def assert_same_run(ours, theirs, opt, torch_opt):
    """Parameters and every state entry of every parameter equal within float64 rounding."""
    for p, q in zip(ours, theirs):
        assert p.shape == tuple(q.shape) and np.isfinite(p.numpy()).all()
        np.testing.assert_allclose(p.numpy(), value(q), rtol=1e-12, atol=1e-14)
        assert set(opt.state[p]) == set(torch_opt.state[q])
        for key, expected in torch_opt.state[q].items():
            got = opt.state[p][key]
            if key == "step":
                assert isinstance(got, int) and got == expected.item()
            elif key in ("mu_product", "eta", "mu"):
                assert isinstance(got, float) and got == expected.item()   # float32 bits
            else:
                assert isinstance(got, gpugrad.Tensor) and got.shape == p.shape, key
                np.testing.assert_allclose(value(got), value(expected), rtol=1e-12,
                                           atol=1e-14, err_msg=key)


@needs_torch
@pytest.mark.parametrize("name, options", CASES, ids=CASE_IDS)
def test_sixteen_steps_agree_with_pytorch(name, options):
    ours, theirs = make_params(gpugrad), make_params(torch)
    opt = make_optimizer(gpugrad, name, options, ours)
    torch_opt = make_optimizer(torch, name, options, theirs)
    train(gpugrad, opt, ours, STEPS)
    train(torch, torch_opt, theirs, STEPS)
    assert_same_run(ours, theirs, opt, torch_opt)
    assert opt.state[ours[1]]["step"] == STEPS - 3            # b had no gradient 3 times
    assert not np.allclose(ours[0].numpy(), make_params(gpugrad)[0].numpy())    # it moved


@needs_torch
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_signature_defaults_and_state_dict_layout_are_pytorchs(name):
    mine = inspect.signature(CLASSES[name].__init__).parameters
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert [(p.name, p.kind, p.default) for p in mine.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.values()]
    ours, other = make_params(gpugrad), make_params(torch)
    opt, torch_opt = CLASSES[name](ours), getattr(torch.optim, name)(other)
    expected = {k: v for k, v in torch_opt.defaults.items() if k not in TORCH_ONLY}
    assert opt.defaults == expected and opt.defaults["lr"] == DEFAULT_LR[name]
    train(gpugrad, opt, ours, 2)
    train(torch, torch_opt, other, 2)
    mine_sd, their_sd = opt.state_dict(), torch_opt.state_dict()
    assert sorted(mine_sd["state"]) == sorted(their_sd["state"])
    for i, entry in their_sd["state"].items():
        assert set(mine_sd["state"][i]) == set(entry)
    for group, torch_group in zip(mine_sd["param_groups"], their_sd["param_groups"]):
        assert group == {k: v for k, v in torch_group.items() if k not in TORCH_ONLY}


@needs_torch
@pytest.mark.parametrize("name, options", CASES[1::2], ids=CASE_IDS[1::2])
def test_a_state_dict_saved_halfway_continues_the_same_run(tmp_path, name, options):
    straight = make_params(gpugrad)
    opt = make_optimizer(gpugrad, name, options, straight)
    train(gpugrad, opt, straight, STEPS)
    first = make_params(gpugrad)
    opt = make_optimizer(gpugrad, name, options, first)
    train(gpugrad, opt, first, 7)
    gpugrad.save(opt.state_dict(), tmp_path / "opt.npz")
    for saved in (opt.state_dict(), gpugrad.load(tmp_path / "opt.npz")):
        starts = dict(zip("Wbs", (p.numpy() for p in first)))
        second = make_params(gpugrad, starts)
        resumed = make_optimizer(gpugrad, name, dict(options, lr=0.123), second)
        resumed.load_state_dict(saved)                       # the saved lrs come back
        for p in second:
            for key, entry in resumed.state[p].items():
                assert isinstance(entry, {"step": int, "mu_product": float}.get(
                    key, gpugrad.Tensor)), key
        train(gpugrad, resumed, second, STEPS - 7, first=7)
        for p, q in zip(second, straight):
            np.testing.assert_array_equal(p.numpy(), q.numpy())
    theirs = make_params(torch)
    torch_opt = make_optimizer(torch, name, options, theirs)
    train(torch, torch_opt, theirs, STEPS)
    assert_same_run(second, theirs, resumed, torch_opt)


@needs_torch
@pytest.mark.parametrize("name, options", CASES[::3], ids=CASE_IDS[::3])
def test_a_pytorch_state_dict_resumes_in_gpugrad(name, options):
    theirs = make_params(torch)
    torch_opt = make_optimizer(torch, name, options, theirs)
    train(torch, torch_opt, theirs, 6)
    starts = dict(zip("Wbs", (value(p) for p in theirs)))
    ours = make_params(gpugrad, starts)
    opt = make_optimizer(gpugrad, name, options, ours)
    opt.load_state_dict(torch_opt.state_dict())             # int keys, torch tensors
    train(gpugrad, opt, ours, STEPS - 6, first=6)
    train(torch, torch_opt, theirs, STEPS - 6, first=6)
    assert_same_run(ours, theirs, opt, torch_opt)


@needs_torch
def test_adagrad_state_is_made_at_construction_from_the_optimizers_initial_value():
    # torch fills "sum" with the constructor's initial_accumulator_value even for a group
    # that names its own (kept in the group, never read), and for a group added later too
    ours, theirs = make_params(gpugrad), make_params(torch)
    second = {"initial_accumulator_value": 2.0, "lr_decay": 0.5}
    opt = make_optimizer(gpugrad, "Adagrad", dict(lr=0.1, initial_accumulator_value=0.3),
                         ours[:2], second)
    torch_opt = make_optimizer(torch, "Adagrad", dict(lr=0.1, initial_accumulator_value=0.3),
                               theirs[:2], second)
    assert len(opt.state) == len(torch_opt.state) == 2
    assert opt.state_dict()["state"][0]["step"] == 0
    np.testing.assert_array_equal(value(opt.state[ours[1]]["sum"]), [0.3, 0.3, 0.3])
    opt.add_param_group({"params": [ours[2]], "initial_accumulator_value": 5.0})
    torch_opt.add_param_group({"params": [theirs[2]], "initial_accumulator_value": 5.0})
    assert ours[2] not in opt.state and len(torch_opt.state) == 2
    train(gpugrad, opt, ours, STEPS)
    train(torch, torch_opt, theirs, STEPS)
    assert_same_run(ours, theirs, opt, torch_opt)


@needs_torch
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_closure_and_positional_arguments_as_in_pytorch(name):
    # the first positional options after params, in torch's order
    args = {"RMSprop": (0.01, 0.9, 1e-6, 0.1, 0.5, True), "Adagrad": (0.1, 0.01, 0.1, 0.2),
            "Adadelta": (0.5, 0.8, 1e-5, 0.1), "Adamax": (0.05, (0.8, 0.9), 1e-6, 0.1),
            "NAdam": (0.05, (0.8, 0.9), 1e-6, 0.1, 0.01, True),
            "RAdam": (0.05, (0.8, 0.9), 1e-6, 0.1, True)}[name]
    results = []
    for lib in (gpugrad, torch):
        params = make_params(lib)
        cls = CLASSES[name] if lib is gpugrad else getattr(torch.optim, name)
        opt = cls(params, *args)

        def closure():
            opt.zero_grad()
            loss = loss_of(lib, params)
            loss.backward()
            return loss
        losses = [float(opt.step(closure).item()) for _ in range(10)]
        results.append((losses, [value(p).copy() for p in params]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    for p, q in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- Rprop and ASGD
NEW = {"Rprop": gpugrad.optim.Rprop, "ASGD": gpugrad.optim.ASGD}
NEW_CASES = [
    ("Rprop", {}),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.08))),
    ("Rprop", dict(lr=0.05, maximize=True)),
    ("ASGD", {}),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=4)),
    ("ASGD", dict(lr=0.05, weight_decay=0.1, t0=0)),
    ("ASGD", dict(lr=0.02, lambd=0.1, weight_decay=0.1, t0=2, maximize=True)),
]
NEW_IDS = [f"{name}-{'-'.join(options) or 'defaults'}" for name, options in NEW_CASES]
NUMBERS = {"step": int, "eta": float, "mu": float}


def make_new(lib, name, options, params):
    """Two groups, [W, b] and [s] at half the lr, as ``groups_of`` makes them."""
    cls = NEW[name] if lib is gpugrad else getattr(lib.optim, name)
    lr = options.get("lr", 1e-2)
    return cls([{"params": params[:2]}, {"params": params[2:], "lr": 0.5 * lr}], **options)


@needs_torch
@pytest.mark.parametrize("name, options", NEW_CASES, ids=NEW_IDS)
def test_rprop_and_asgd_agree_with_pytorch_step_by_step(name, options):
    ours, theirs = make_params(gpugrad), make_params(torch)
    opt, torch_opt = make_new(gpugrad, name, options, ours), make_new(torch, name, options,
                                                                      theirs)
    for i in range(STEPS):
        train(gpugrad, opt, ours, 1, first=i)
        train(torch, torch_opt, theirs, 1, first=i)
        assert_same_run(ours, theirs, opt, torch_opt)
    assert opt.state[ours[1]]["step"] == STEPS - 3
    assert not np.allclose(ours[0].numpy(), make_params(gpugrad)[0].numpy())


@needs_torch
@pytest.mark.parametrize("name", sorted(NEW))
def test_rprop_and_asgd_signatures_defaults_and_state_dicts_are_pytorchs(name):
    mine = inspect.signature(NEW[name].__init__).parameters
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert [(p.name, p.kind, p.default) for p in mine.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.values()]
    ours, other = make_params(gpugrad), make_params(torch)
    opt, torch_opt = NEW[name](ours), getattr(torch.optim, name)(other)
    assert opt.defaults == {k: v for k, v in torch_opt.defaults.items() if k not in TORCH_ONLY}
    train(gpugrad, opt, ours, 2)
    train(torch, torch_opt, other, 2)
    mine_sd, their_sd = opt.state_dict(), torch_opt.state_dict()
    assert sorted(mine_sd["state"]) == sorted(their_sd["state"])
    for i, entry in their_sd["state"].items():
        assert set(mine_sd["state"][i]) == set(entry)
    for group, torch_group in zip(mine_sd["param_groups"], their_sd["param_groups"]):
        assert group == {k: v for k, v in torch_group.items() if k not in TORCH_ONLY}


@needs_torch
@pytest.mark.parametrize("name, options", NEW_CASES, ids=NEW_IDS)
def test_rprop_and_asgd_resume_from_a_saved_or_a_torch_state_dict(tmp_path, name, options):
    straight = make_params(gpugrad)
    train(gpugrad, make_new(gpugrad, name, options, straight), straight, STEPS)
    first = make_params(gpugrad)
    opt = make_new(gpugrad, name, options, first)
    train(gpugrad, opt, first, 7)
    gpugrad.save(opt.state_dict(), tmp_path / "opt.npz")
    theirs = make_params(torch)
    torch_opt = make_new(torch, name, options, theirs)
    train(torch, torch_opt, theirs, 7)
    for saved in (opt.state_dict(), gpugrad.load(tmp_path / "opt.npz"),
                  torch_opt.state_dict()):
        second = make_params(gpugrad, dict(zip("Wbs", (p.numpy() for p in first))))
        resumed = make_new(gpugrad, name, dict(options, lr=0.123), second)
        resumed.load_state_dict(saved)
        for p in second:
            for key, entry in resumed.state[p].items():
                assert isinstance(entry, NUMBERS.get(key, gpugrad.Tensor)), key
        train(gpugrad, resumed, second, STEPS - 7, first=7)
        for p, q in zip(second, straight):
            np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-14, atol=1e-15)
    train(torch, torch_opt, theirs, STEPS - 7, first=7)
    assert_same_run(second, theirs, resumed, torch_opt)


# ---------------------------------------------------------------- CyclicLR against torch
CYCLIC = [
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3),
    dict(base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=2, step_size_down=5),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2"),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=1, mode="exp_range",
         gamma=0.9),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda x: 1 / (1 + x)),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda x: 0.5 ** (x / 4),
         scale_mode="iterations", base_momentum=[0.7, 0.75], max_momentum=0.95),
    dict(base_lr=0.001, max_lr=0.1, step_size_up=5, cycle_momentum=False),
]


def cyclic_pair(kind, options):
    """gpugrad's and torch's optimizer of ``kind`` (two groups) with a CyclicLR each."""
    pairs = []
    for lib in (gpugrad, torch):
        params = [lib.zeros(2, requires_grad=True), lib.zeros(1, requires_grad=True)]
        groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.5}]
        optim = gpugrad.optim if lib is gpugrad else torch.optim
        opt = (optim.SGD(groups, lr=0.1, momentum=0.9) if kind == "SGD"
               else optim.Adam(groups, lr=0.1, betas=(0.9, 0.99)))
        pairs.append((opt, optim.lr_scheduler.CyclicLR(opt, **options)))
    return pairs


def momenta(opt):
    key = "momentum" if "momentum" in opt.defaults else "betas"
    return [group[key] for group in opt.param_groups]


@needs_torch
@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("options", CYCLIC, ids=range(len(CYCLIC)))
def test_cyclic_lr_is_bit_identical_to_torchs(kind, options):
    (opt, sched), (torch_opt, torch_sched) = cyclic_pair(kind, options)
    for _ in range(25):
        assert sched.get_last_lr() == torch_sched.get_last_lr()
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in torch_opt.param_groups]
        assert momenta(opt) == momenta(torch_opt)
        opt.step()
        torch_opt.step()
        sched.step()
        torch_sched.step()
    assert len(set(sched.get_last_lr())) > 1 or "base_lr" in options
    mine, theirs = sched.state_dict(), torch_sched.state_dict()
    assert set(mine) == set(theirs) and mine["_scale_fn_custom"] is None
    for key in ("last_epoch", "base_lrs", "max_lrs", "total_size", "step_ratio", "mode",
                "scale_mode", "_last_lr"):
        assert mine[key] == theirs[key], key


@needs_torch
def test_cyclic_lr_resumed_from_a_torch_state_dict_goes_on_as_torch():
    (opt, sched), (torch_opt, torch_sched) = cyclic_pair("SGD", CYCLIC[2])
    for _ in range(7):
        torch_opt.step()
        torch_sched.step()
    opt.load_state_dict({"state": {}, "param_groups": [
        {k: v for k, v in g.items() if k != "params"} | {"params": [i]}
        for i, g in enumerate(torch_opt.state_dict()["param_groups"])]})
    sched.load_state_dict(torch_sched.state_dict())
    for _ in range(10):
        torch_opt.step()
        sched.step()
        torch_sched.step()
        assert sched.get_last_lr() == torch_sched.get_last_lr()
        assert momenta(opt) == momenta(torch_opt)


# ---------------------------------------------------------------- by hand (no torch)
def test_rprop_one_step_and_a_sign_flip_by_hand():
    # step 1: prev = 0, so every factor is 1 and each element moves lr against its sign;
    # step 2: grad * prev > 0 grows the step by etaplus (0.5 * 1.2 = 0.6, clipped to 0.55),
    # < 0 shrinks it by etaminus and skips the move (prev becomes 0), = 0 keeps it
    w = gpugrad.tensor([1.0, -2.0, 0.0], dtype="float64", requires_grad=True)
    opt = gpugrad.optim.Rprop([w], lr=0.5, step_sizes=(1e-6, 0.55))
    w.grad = gpugrad.tensor([2.0, -1.0, 3.0], dtype="float64")
    opt.step()
    np.testing.assert_array_equal(w.numpy(), [0.5, -1.5, -0.5])
    w.grad = gpugrad.tensor([1.0, 1.0, 0.0], dtype="float64")
    opt.step()
    np.testing.assert_allclose(w.numpy(), [0.5 - 0.55, -1.5, -0.5], rtol=0, atol=1e-16)
    np.testing.assert_array_equal(opt.state[w]["step_size"].numpy(), [0.55, 0.25, 0.5])
    np.testing.assert_array_equal(opt.state[w]["prev"].numpy(), [1.0, 0.0, 0.0])
    assert opt.state[w]["step"] == 2
    up = gpugrad.tensor([1.0], dtype="float64", requires_grad=True)
    opt = gpugrad.optim.Rprop([up], lr=0.25, maximize=True)
    up.grad = gpugrad.tensor([3.0], dtype="float64")
    opt.step()
    assert up.item() == 1.25                      # up the gradient


def test_asgd_one_step_by_hand():
    # eta starts at lr in float32; the decay scales p by 1 - lambd eta, the step is eta g
    # with g = grad + weight_decay p; ax copies p while mu = 1; then eta and mu are renewed
    w = gpugrad.tensor([1.0, -2.0], dtype="float64", requires_grad=True)
    opt = gpugrad.optim.ASGD([w], lr=0.1, lambd=0.01, alpha=0.75, t0=0, weight_decay=0.5)
    w.grad = gpugrad.tensor([2.0, -4.0], dtype="float64")
    opt.step()
    eta = float(np.float32(0.1))                   # 0.10000000149011612
    expected = np.array([1.0, -2.0]) * (1 - 0.01 * eta) - eta * np.array([2.5, -5.0])
    np.testing.assert_array_equal(w.numpy(), expected)
    state = opt.state[w]
    np.testing.assert_array_equal(state["ax"].numpy(), expected)
    assert state["eta"] == float(np.float32(0.1 / 1.001 ** 0.75)) and state["mu"] == 1.0
    w.grad = gpugrad.tensor([0.0, 0.0], dtype="float64")
    opt.step()                                     # t = 2: mu becomes 1 / (2 - 0)
    assert state["mu"] == 0.5 and state["step"] == 2


def test_rprop_and_asgd_errors():
    w = gpugrad.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="etaminus < 1 < etaplus"):
        gpugrad.optim.Rprop([w], etas=(1.5, 2.0))
    with pytest.raises(ValueError, match="pairs"):
        gpugrad.optim.Rprop([w], step_sizes=1e-6)
    with pytest.raises(ValueError, match="lr"):
        gpugrad.optim.ASGD([w], lr=-0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        gpugrad.optim.ASGD([w], weight_decay=-1.0)
    with pytest.raises(ValueError, match="differentiable"):
        gpugrad.optim.ASGD([w], differentiable=True)


def test_cyclic_lr_by_hand():
    # triangular: up 2 steps, down 4: 0.1 -> 0.5 in steps of 0.2, down in steps of 0.1
    opt = gpugrad.optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=9.0, momentum=0.0)
    sched = gpugrad.optim.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2,
                                   step_size_down=4, base_momentum=0.8, max_momentum=0.9)
    lrs, moms = [], []
    for _ in range(8):
        lrs.append(sched.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
        sched.step()
    np.testing.assert_allclose(lrs, [0.1, 0.3, 0.5, 0.4, 0.3, 0.2, 0.1, 0.3], rtol=1e-14)
    np.testing.assert_allclose(moms, [0.9, 0.85, 0.8, 0.825, 0.85, 0.875, 0.9, 0.85],
                               rtol=1e-14)
    # exp_range: the height scaled by gamma ** step; Adam's beta1 cycles
    opt = gpugrad.optim.Adam([gpugrad.zeros(1, requires_grad=True)], betas=(0.5, 0.99))
    sched = gpugrad.optim.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=1,
                                   mode="exp_range", gamma=0.5)
    assert opt.param_groups[0]["betas"] == (0.9, 0.99)
    sched.step()                                   # step 1: the peak, 1 * 0.5 ** 1
    assert sched.get_last_lr() == [0.5]
    assert opt.param_groups[0]["betas"] == (pytest.approx(0.85, rel=1e-15), 0.99)
    # a custom scale of the cycle number; a callable object's attributes are saved
    class Scale:
        def __init__(self):
            self.k = 3.0

        def __call__(self, cycle):
            return 1 / (self.k * cycle)
    opt = gpugrad.optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=1.0)
    sched = gpugrad.optim.CyclicLR(opt, 0.0, 0.6, step_size_up=1, scale_fn=Scale(),
                                   cycle_momentum=False)
    sched.step()
    assert sched.get_last_lr() == [pytest.approx(0.2, rel=1e-15)]      # 0.6 / (3 * 1)
    saved = sched.state_dict()
    assert saved["_scale_fn_custom"] == {"k": 3.0}
    other = gpugrad.optim.CyclicLR(opt, 0.0, 0.6, step_size_up=1, scale_fn=Scale(),
                                   cycle_momentum=False)
    saved["_scale_fn_custom"]["k"] = 6.0
    other.load_state_dict(saved)
    assert other._scale_fn_custom.k == 6.0 and other.last_epoch == 1


def test_cyclic_lr_errors():
    opt = gpugrad.optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="mode must be"):
        gpugrad.optim.CyclicLR(opt, 0.1, 1.0, mode="sawtooth")
    with pytest.raises(ValueError, match="scale_mode"):
        gpugrad.optim.CyclicLR(opt, 0.1, 1.0, scale_fn=abs, scale_mode="epochs")
    with pytest.raises(ValueError, match="step_size_up"):
        gpugrad.optim.CyclicLR(opt, 0.1, 1.0, step_size_up=0)
    with pytest.raises(ValueError, match="2 values but the optimizer has 1"):
        gpugrad.optim.CyclicLR(opt, [0.1, 0.2], 1.0)
    adagrad = gpugrad.optim.Adagrad([gpugrad.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        gpugrad.optim.CyclicLR(adagrad, 0.1, 1.0)
