"""Learning-rate schedulers: against hand-derived values (no torch needed), then against
torch.optim.lr_scheduler (2.13) step by step where torch is installed: every scheduler under
several settings with two param groups, chaining, an lr set by hand, a group added later,
state_dict round trips mid-run, ReduceLROnPlateau on a scripted metric, OneCycleLR's
momentum, and the errors for bad arguments."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import optim
from gpugrad.optim import lr_scheduler as gg_sched

# (these schedules are stepped without an optimizer step, on purpose)
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)`")


def _sgd(lrs=(1.0,), momentum=0.0):
    groups = [{"params": [gpugrad.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0], momentum=momentum)


def _lrs(sched, opt, steps):
    """The lr of each group before each of ``steps`` steps."""
    out = []
    for _ in range(steps):
        out.append([g["lr"] for g in opt.param_groups])
        sched.step()
    return out


# ---------------------------------------------------------------- hand-derived (no torch)

def test_step_multistep_exponential_follow_their_closed_forms():
    opt = _sgd([1.0, 0.5])
    got = _lrs(optim.StepLR(opt, step_size=3, gamma=0.5), opt, 10)
    assert got == [[0.5 ** (t // 3), 0.5 * 0.5 ** (t // 3)] for t in range(10)]
    opt = _sgd([1.0])
    got = _lrs(optim.MultiStepLR(opt, milestones=[5, 2, 5], gamma=0.5), opt, 8)
    # a milestone listed twice decays twice
    assert [g[0] for g in got] == [1, 1, 0.5, 0.5, 0.5, 0.125, 0.125, 0.125]
    opt = _sgd([1.0])
    got = _lrs(optim.ExponentialLR(opt, gamma=0.5), opt, 8)
    assert [g[0] for g in got] == [0.5 ** t for t in range(8)]


def test_cosine_annealing_passes_its_known_points_and_rises_after_t_max():
    opt = _sgd([1.0])
    got = [g[0] for g in _lrs(optim.CosineAnnealingLR(opt, T_max=4, eta_min=0.2), opt, 9)]
    half = math.sqrt(0.5)
    expected = [1.0, 0.2 + 0.8 * (1 + half) / 2, 0.6, 0.2 + 0.8 * (1 - half) / 2, 0.2,
                0.2 + 0.8 * (1 - half) / 2, 0.6, 0.2 + 0.8 * (1 + half) / 2, 1.0]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_linear_constant_polynomial_closed_forms():
    opt = _sgd([2.0])
    got = [g[0] for g in _lrs(optim.LinearLR(opt, start_factor=0.25, end_factor=0.75,
                                             total_iters=4), opt, 7)]
    np.testing.assert_allclose(got, [0.5, 0.75, 1.0, 1.25, 1.5, 1.5, 1.5], rtol=1e-14)
    opt = _sgd([2.0])
    got = [g[0] for g in _lrs(optim.ConstantLR(opt, factor=0.25, total_iters=3), opt, 5)]
    np.testing.assert_allclose(got, [0.5, 0.5, 0.5, 2.0, 2.0], rtol=1e-14)
    opt = _sgd([1.0])
    got = [g[0] for g in _lrs(optim.PolynomialLR(opt, total_iters=4, power=2.0), opt, 6)]
    np.testing.assert_allclose(got, [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0], atol=1e-15)


def test_lambda_and_multiplicative():
    opt = _sgd([1.0, 2.0])
    sched = optim.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.5 ** e])
    got = _lrs(sched, opt, 4)
    np.testing.assert_allclose(got, [[1 / (t + 1), 2 * 0.5 ** t] for t in range(4)])
    opt = _sgd([1.0])
    got = _lrs(optim.MultiplicativeLR(opt, lambda e: 0.1 * e), opt, 4)
    # lr_t = prod_{k=1..t} 0.1 k
    np.testing.assert_allclose([g[0] for g in got], [1.0, 0.1, 0.02, 0.006], rtol=1e-14)


def test_warm_restarts_periods_grow_by_t_mult():
    opt = _sgd([1.0])
    sched = optim.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    got = [g[0] for g in _lrs(sched, opt, 8)]
    # periods of 2 and 4 epochs, a restart (lr 1) at epochs 2 and 6
    expected = [1.0, 0.5, 1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5,
                (1 + math.cos(3 * math.pi / 4)) / 2, 1.0, (1 + math.cos(math.pi / 8)) / 2]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    sched.step(1.5)                             # a fractional epoch, in the first period
    assert sched.last_epoch == 1
    assert sched.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi * 0.75)) / 2)


def test_one_cycle_rises_then_falls_and_cycles_momentum():
    opt = _sgd([0.1], momentum=0.9)
    sched = optim.OneCycleLR(opt, max_lr=1.0, total_steps=11, pct_start=0.5,
                             anneal_strategy="linear", div_factor=10.0, final_div_factor=10.0)
    lrs, moms = [], []
    for _ in range(11):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        sched.step()
    # rise 0.1 -> 1.0 over steps 0..4.5 (end_step = 0.5 * 11 - 1), fall to 0.01 at step 10
    assert lrs[0] == pytest.approx(0.1) and moms[0] == pytest.approx(0.95)
    assert lrs[4] == pytest.approx(0.1 + 0.9 * 4 / 4.5)
    assert lrs[10] == pytest.approx(0.01) and moms[10] == pytest.approx(0.95)
    peak = 0.85 + 0.1 * 0.5 / 5.5               # step 5 is half a step past the peak
    assert moms[5] == pytest.approx(peak)
    with pytest.raises(ValueError, match="total_steps=11"):
        sched.step()                            # the 12th step: past the cycle


def test_one_cycle_cycles_adams_beta1_only():
    opt = optim.Adam([gpugrad.zeros(1, requires_grad=True)], lr=0.1, betas=(0.9, 0.99))
    sched = optim.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)
    sched.step(); sched.step()
    assert opt.param_groups[0]["betas"][1] == 0.99
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.85)     # the peak at step 2


def test_plateau_on_a_scripted_metric():
    opt = _sgd([1.0, 0.1])
    sched = optim.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=[0.3, 0.0])
    metrics = [5, 4, 4, 4, 4, 4, 4, 3, 3, 3]
    got = []
    for m in metrics:
        sched.step(m)
        got.append(sched.get_last_lr())
    # epochs 3, 4 are bad (the second is more than patience: halve, then epoch 5 is the
    # cooldown's); 6, 7 bad: halve (the first group stops at its min_lr 0.3); 8 better;
    # 9, 10 bad: only the second group changes
    assert got == [[1.0, 0.1]] * 3 + [[0.5, 0.05]] * 3 + [[0.3, 0.025]] * 3 + [[0.3, 0.0125]]
    sched2 = optim.ReduceLROnPlateau(opt, mode="max", threshold=0.1, threshold_mode="abs",
                                     patience=0, factor=0.5)
    for m in [1.0, 1.05, 1.2]:                  # 1.05 is not 0.1 better than 1.0
        sched2.step(gpugrad.tensor(m))
    assert sched2.best == pytest.approx(1.2) and sched2.get_last_lr() == [0.15, 0.00625]


def test_chained_schedulers_multiply():
    opt = _sgd([1.0])
    step, cosine = optim.StepLR(opt, 1, 0.5), optim.CosineAnnealingLR(opt, 10)
    got = []
    for _ in range(10):
        got.append(opt.param_groups[0]["lr"])
        step.step()
        cosine.step()
    expected = [0.5 ** t * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(10)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_a_hand_set_lr_is_kept_and_a_later_group_is_scheduled():
    opt = _sgd([1.0])
    sched = optim.StepLR(opt, 1, 0.5)
    sched.step()
    opt.param_groups[0]["lr"] = 0.1
    sched.step()
    assert sched.get_last_lr() == [0.05]
    opt = _sgd([1.0])
    sched = optim.StepLR(opt, 1, 0.5)
    opt.add_param_group({"params": [gpugrad.zeros(1, requires_grad=True)], "lr": 1.0})
    sched.step()
    assert sched.get_last_lr() == [0.5, 0.5]
    opt = _sgd([1.0])
    sched = optim.LambdaLR(opt, lambda e: 1.0)
    opt.add_param_group({"params": [gpugrad.zeros(1, requires_grad=True)], "lr": 1.0})
    with pytest.raises(ValueError, match="add param groups before making the scheduler"):
        sched.step()


def test_sequential_restarts_each_part_at_its_milestone():
    opt = _sgd([1.0])
    sched = optim.SequentialLR(opt, [optim.ConstantLR(opt, factor=0.5, total_iters=10),
                                     optim.ExponentialLR(opt, gamma=0.5)], milestones=[3])
    assert [g[0] for g in _lrs(sched, opt, 6)] == [0.5, 0.5, 0.5, 1.0, 0.5, 0.25]


def test_state_dict_round_trip_continues_identically():
    opt = _sgd([1.0, 0.5])
    sched = optim.CosineAnnealingLR(opt, T_max=7, eta_min=0.01)
    _lrs(sched, opt, 5)
    saved_opt, saved = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    assert "optimizer" not in saved and saved["last_epoch"] == 5
    rest = _lrs(sched, opt, 10)
    opt2 = _sgd([1.0, 0.5])
    sched2 = optim.CosineAnnealingLR(opt2, T_max=7, eta_min=0.01)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert _lrs(sched2, opt2, 10) == rest


def test_last_epoch_resumes_and_needs_initial_lr():
    with pytest.raises(KeyError, match=r"param_groups\[0\] has no 'initial_lr'"):
        optim.StepLR(_sgd([1.0]), 2, last_epoch=3)
    opt = _sgd([0.25])
    opt.param_groups[0]["initial_lr"] = 1.0
    sched = optim.ExponentialLR(opt, gamma=0.5, last_epoch=2)
    assert sched.last_epoch == 3 and sched.base_lrs == [1.0]
    sched.step()
    assert sched.get_last_lr() == [0.125]


@pytest.mark.parametrize("make, match", [
    (lambda o: optim.StepLR(o, step_size=0), "step_size must be >= 1"),
    (lambda o: optim.StepLR(o, step_size=-2), "step_size=-2"),
    (lambda o: optim.CosineAnnealingLR(o, T_max=0), "T_max must be >= 1"),
    (lambda o: optim.OneCycleLR(o, max_lr=1.0), "pass total_steps=N"),
    (lambda o: optim.OneCycleLR(o, max_lr=1.0, total_steps=0), "total_steps must be a positive"),
    (lambda o: optim.OneCycleLR(o, 1.0, 10, pct_start=2.0), "pct_start must be a float"),
    (lambda o: optim.OneCycleLR(o, 1.0, 10, anneal_strategy="exp"), "'cos' or 'linear'"),
    (lambda o: optim.OneCycleLR(o, [1.0, 2.0], 10), "max_lr has 2 values"),
    (lambda o: optim.CosineAnnealingWarmRestarts(o, T_0=0), "T_0 must be a positive"),
    (lambda o: optim.CosineAnnealingWarmRestarts(o, 2, T_mult=0), "T_mult must be"),
    (lambda o: optim.ReduceLROnPlateau(o, factor=1.0), "factor must be < 1"),
    (lambda o: optim.ReduceLROnPlateau(o, mode="up"), "mode must be 'min'"),
    (lambda o: optim.ReduceLROnPlateau(o, threshold_mode="x"), "threshold_mode must be"),
    (lambda o: optim.LinearLR(o, start_factor=0.0), "start_factor must be in"),
    (lambda o: optim.ConstantLR(o, factor=2.0), "factor must be in"),
    (lambda o: optim.LambdaLR(o, [lambda e: 1.0] * 3), "lr_lambda has 3 values"),
    (lambda o: optim.MultiplicativeLR(o, 0.5), "lr_lambda must be a function"),
    (lambda o: optim.SequentialLR(o, [optim.StepLR(o, 1)], [2]), "need 0 milestones"),
    (lambda o: optim.ChainedScheduler([optim.ReduceLROnPlateau(o)]), "step it on its own"),
    (lambda o: optim.StepLR([o], 1), "takes a gpugrad.optim optimizer"),
])
def test_bad_arguments_name_the_argument(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make(_sgd([1.0]))


def test_cycle_momentum_needs_an_optimizer_with_momentum():
    class Plain(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=0.1))

    opt = Plain([gpugrad.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="pass cycle_momentum=False"):
        optim.OneCycleLR(opt, 1.0, 10)
    optim.OneCycleLR(opt, 1.0, 10, cycle_momentum=False)


def test_both_spellings_name_the_same_classes():
    for name in gg_sched.__all__:
        assert getattr(optim, name) is getattr(gg_sched, name)


# ---------------------------------------------------------------- against torch (2.13)

def _pair(lrs=(0.1, 0.05), kind="SGD"):
    """A gpugrad optimizer and a torch one, with one param group per lr."""
    torch = pytest.importorskip("torch")

    def make(lib, zeros):
        groups = [{"params": [zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
        if kind == "SGD":
            return lib.SGD(groups, lr=lrs[0], momentum=0.9)
        return lib.Adam(groups, lr=lrs[0], betas=(0.9, 0.999))
    return make(optim, gpugrad.zeros), make(torch.optim, torch.zeros)


def _hypers(opt) -> list:
    """Each group's lr and, where present, momentum and beta1."""
    out = []
    for g in opt.param_groups:
        out += [g["lr"], g.get("momentum", 0.0), g.get("betas", (0.0,))[0]]
    return out


def _same(got, want):
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float),
                               rtol=1e-15, atol=0)


def _both(make, steps=30, lrs=(0.1, 0.05), kind="SGD", between=None):
    """Run ``make(lr_scheduler_module, optimizer)`` on gpugrad and torch for ``steps`` steps
    (``between(opt, step)`` changes both optimizers alike before each scheduler step) and
    check every group's hyperparameters agree after each step."""
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(lrs, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = make(gg_sched, ours), make(torch.optim.lr_scheduler, theirs)
        _same(_hypers(ours), _hypers(theirs))
        for t in range(steps):
            ours.step(), theirs.step()
            if between is not None:
                between(ours, t), between(theirs, t)
            a.step(), b.step()
            _same(_hypers(ours), _hypers(theirs))
            _same(a.get_last_lr(), b.get_last_lr())
    return a, b


SCHEDULES = {
    "step": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "step_1": lambda m, o: m.StepLR(o, step_size=1, gamma=0.9),
    "multistep": lambda m, o: m.MultiStepLR(o, milestones=[3, 3, 8, 20], gamma=0.3),
    "exponential": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "lambda": lambda m, o: m.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 / (1 + e)]),
    "multiplicative": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95 + 0.001 * e),
    "linear": lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=10),
    "linear_down": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                           total_iters=7),
    "constant": lambda m, o: m.ConstantLR(o, factor=0.3, total_iters=6),
    "polynomial": lambda m, o: m.PolynomialLR(o, total_iters=12, power=1.7),
    "polynomial_1": lambda m, o: m.PolynomialLR(o),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "cosine_long": lambda m, o: m.CosineAnnealingLR(o, T_max=40),
    "warm_restarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                 eta_min=0.001),
    "warm_restarts_1": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=4),
    "one_cycle": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=30),
    "one_cycle_linear_3": lambda m, o: m.OneCycleLR(
        o, max_lr=1.0, epochs=3, steps_per_epoch=10, pct_start=0.25, three_phase=True,
        anneal_strategy="linear", base_momentum=[0.8, 0.7], max_momentum=0.9),
    "one_cycle_no_momentum": lambda m, o: m.OneCycleLR(
        o, max_lr=0.3, total_steps=31, cycle_momentum=False, div_factor=5.0,
        final_div_factor=100.0),
    "sequential": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, total_iters=5), m.CosineAnnealingLR(o, 10),
            m.ExponentialLR(o, 0.9)], milestones=[5, 15]),
    "chained": lambda m, o: m.ChainedScheduler([m.StepLR(o, 1, 0.9),
                                                m.CosineAnnealingLR(o, 10)]),
    "chained_in_sequential": lambda m, o: m.SequentialLR(
        o, [m.ChainedScheduler([m.ConstantLR(o, 0.5, 4), m.ExponentialLR(o, 0.95)]),
            m.StepLR(o, 4)], milestones=[8]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("kind", ["SGD", "Adam"])
def test_every_schedule_matches_torch_step_by_step(name, kind):
    a, b = _both(SCHEDULES[name], kind=kind)
    ours, theirs = a.state_dict(), b.state_dict()
    assert set(ours) == set(theirs)
    assert ours.get("last_epoch") == theirs.get("last_epoch")     # (ChainedScheduler: none)


@pytest.mark.parametrize("pair", [("StepLR(o, 1, 0.5)", "CosineAnnealingLR(o, 10)"),
                                  ("MultiStepLR(o, [4, 9])", "ExponentialLR(o, 0.9)"),
                                  ("LinearLR(o, 0.1, total_iters=6)", "CosineAnnealingLR(o, 8)"),
                                  ("ConstantLR(o, 0.5, 5)", "PolynomialLR(o, 20, 2.0)")])
def test_two_schedulers_stepped_together_chain_as_torch(pair):
    def make(m, o):
        first, second = (eval(f"m.{text}", {"m": m, "o": o}) for text in pair)
        return _Both(first, second)
    _both(make)


class _Both:
    """Two schedulers stepped one after the other by hand (no ChainedScheduler)."""

    def __init__(self, first, second):
        self.first, self.second = first, second

    def step(self):
        self.first.step()
        self.second.step()

    def get_last_lr(self):
        return self.second.get_last_lr()


@pytest.mark.parametrize("name", ["step", "multistep", "exponential", "multiplicative",
                                  "linear", "constant", "polynomial", "cosine", "chained"])
def test_an_lr_set_by_hand_is_scaled_from_as_in_torch(name):
    def set_by_hand(opt, t):
        if t in (4, 11):
            opt.param_groups[0]["lr"] = 0.02 * (t + 1)
    _both(SCHEDULES[name], between=set_by_hand)


@pytest.mark.parametrize("name", ["step", "multistep", "exponential", "linear", "constant",
                                  "polynomial", "cosine", "lambda", "warm_restarts"])
def test_a_group_added_later_is_scheduled_or_refused_as_in_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = SCHEDULES[name](gg_sched, ours)
        b = SCHEDULES[name](torch.optim.lr_scheduler, theirs)
        ours.add_param_group({"params": [gpugrad.zeros(1, requires_grad=True)], "lr": 1.0})
        theirs.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 1.0})
        for _ in range(20):
            try:
                b.step()
            except ValueError:                  # torch refuses: so must we
                with pytest.raises(ValueError, match="param groups"):
                    a.step()
                return
            a.step()
            _same(_hypers(ours), _hypers(theirs))


def test_step_lr_schedules_a_group_added_later():
    pytest.importorskip("torch")
    ours, _ = _pair((0.5,))
    sched = optim.StepLR(ours, 1, 0.5)
    ours.add_param_group({"params": [gpugrad.zeros(1, requires_grad=True)], "lr": 1.0})
    ours.step()
    sched.step()
    assert sched.get_last_lr() == [0.25, 0.5]


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_state_dict_mid_run_continues_as_the_run_and_as_torch(name):
    torch = pytest.importorskip("torch")
    make = SCHEDULES[name]
    ours, theirs = _pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = make(gg_sched, ours), make(torch.optim.lr_scheduler, theirs)
        for _ in range(12):
            a.step(), b.step()
        saved_opt, saved = copy.deepcopy(ours.state_dict()), copy.deepcopy(a.state_dict())
        # a fresh optimizer and scheduler, then the optimizer's state, then the scheduler's
        fresh, _ = _pair()
        c = make(gg_sched, fresh)
        fresh.load_state_dict(saved_opt)
        c.load_state_dict(saved)
        for _ in range(15):
            a.step(), b.step(), c.step()
            _same(_hypers(fresh), _hypers(ours))
            _same(_hypers(ours), _hypers(theirs))


def test_a_torch_state_dict_loads_into_gpugrad():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair()
    a = optim.CosineAnnealingLR(ours, T_max=9, eta_min=0.001)
    b = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=9, eta_min=0.001)
    for _ in range(5):
        theirs.step(), b.step()
    for group, theirs_group in zip(ours.param_groups, theirs.param_groups):
        group["lr"] = theirs_group["lr"]
    a.load_state_dict(b.state_dict())
    for _ in range(10):
        theirs.step(), a.step(), b.step()
        _same(a.get_last_lr(), b.get_last_lr())


def test_lambda_state_dict_drops_functions_and_keeps_callable_objects():
    torch = pytest.importorskip("torch")

    class Scale:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    ours, theirs = _pair()
    a = optim.LambdaLR(ours, [lambda e: 1.0, Scale(0.5)])
    b = torch.optim.lr_scheduler.LambdaLR(theirs, [lambda e: 1.0, Scale(0.5)])
    assert a.state_dict()["lr_lambdas"] == b.state_dict()["lr_lambdas"] == [None,
                                                                            {"rate": 0.5}]
    other = optim.LambdaLR(_pair()[0], [lambda e: 1.0, Scale(0.9)])
    other.load_state_dict(a.state_dict())
    assert other.lr_lambdas[1].rate == 0.5


RESUMABLE = {
    "step": lambda m, o, e: m.StepLR(o, 3, 0.5, last_epoch=e),
    "multistep": lambda m, o, e: m.MultiStepLR(o, [4, 9, 12], 0.5, last_epoch=e),
    "exponential": lambda m, o, e: m.ExponentialLR(o, 0.9, last_epoch=e),
    "linear": lambda m, o, e: m.LinearLR(o, 0.2, total_iters=8, last_epoch=e),
    "constant": lambda m, o, e: m.ConstantLR(o, 0.5, total_iters=8, last_epoch=e),
    "polynomial": lambda m, o, e: m.PolynomialLR(o, 12, 2.0, last_epoch=e),
    "cosine": lambda m, o, e: m.CosineAnnealingLR(o, 10, 0.01, last_epoch=e),
    "warm_restarts": lambda m, o, e: m.CosineAnnealingWarmRestarts(o, 3, 2, last_epoch=e),
    "lambda": lambda m, o, e: m.LambdaLR(o, lambda k: 0.9 ** k, last_epoch=e),
    "sequential": lambda m, o, e: m.SequentialLR(
        o, [m.StepLR(o, 3, 0.5, last_epoch=e), m.CosineAnnealingLR(o, 10, last_epoch=e)],
        milestones=[7], last_epoch=e),
}


@pytest.mark.parametrize("start", [0, 5])
@pytest.mark.parametrize("name", sorted(RESUMABLE))
def test_last_epoch_resumes_as_torch(name, start):
    def make(m, o):
        for group in o.param_groups:            # as a loaded optimizer state leaves them
            group["initial_lr"] = group["lr"] * 2
        return RESUMABLE[name](m, o, start)
    a, _ = _both(make, steps=20)
    assert a.state_dict()["last_epoch"] == start + 21


PLATEAUS = [dict(), dict(mode="max", factor=0.5, patience=2),
            dict(threshold=0.05, threshold_mode="abs", cooldown=2, patience=1, factor=0.3),
            dict(mode="max", threshold_mode="abs", threshold=0.2, patience=0, min_lr=[0.04, 0.0]),
            dict(patience=0, factor=0.5, min_lr=0.03, eps=0.01)]


@pytest.mark.parametrize("kwargs", PLATEAUS)
def test_plateau_follows_torch_on_a_scripted_metric(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    metrics = list(np.round(np.cumsum(rng.normal(0, 1, 40)), 2))
    ours, theirs = _pair()
    a = optim.ReduceLROnPlateau(ours, **kwargs)
    b = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kwargs)
    for i, m in enumerate(metrics):
        a.step(gpugrad.tensor(m, dtype="float64") if i % 2 else m)
        b.step(m)
        _same(_hypers(ours), _hypers(theirs))
        assert (a.num_bad_epochs, a.cooldown_counter, a.best) == \
            (b.num_bad_epochs, b.cooldown_counter, b.best)
        if i == 20:
            saved = copy.deepcopy(a.state_dict())
            assert set(saved) == set(b.state_dict())
            a = optim.ReduceLROnPlateau(ours)
            a.load_state_dict(saved)


@pytest.mark.parametrize("name", sorted(set(SCHEDULES) - {"multistep"}))
def test_state_dict_survives_gpugrad_save_and_load(name, tmp_path):
    # (MultiStepLR's milestones are a Counter with int keys, as torch's: not saveable yet)
    ours = _sgd([0.1, 0.05], momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = SCHEDULES[name](gg_sched, ours)
        for _ in range(12):
            a.step()
        gpugrad.save({"optimizer": ours.state_dict(), "scheduler": a.state_dict()},
                     tmp_path / "state.npz")
        fresh = _sgd([0.1, 0.05], momentum=0.9)
        c = SCHEDULES[name](gg_sched, fresh)
        state = gpugrad.load(tmp_path / "state.npz")
        fresh.load_state_dict(state["optimizer"])
        c.load_state_dict(state["scheduler"])
        for _ in range(15):
            a.step(), c.step()
            assert _hypers(fresh) == _hypers(ours)


def test_a_compiled_step_steps_its_schedulers_at_every_replay():
    def run(compiled):
        w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        opt = optim.SGD([w], lr=0.1)
        sched = optim.ChainedScheduler([optim.ExponentialLR(opt, gamma=0.5),
                                        optim.MultiStepLR(opt, milestones=[2], gamma=0.1)])

        def step(x):
            opt.zero_grad()
            (w * x).sum().backward()
            opt.step()
            sched.step()
        call = gpugrad.compile(step) if compiled else step
        lrs = []
        for _ in range(4):
            call(gpugrad.tensor([1.0, -1.0]))
            lrs.append(opt.param_groups[0]["lr"])
        return lrs, w.tolist()
    lrs, w = run(compiled=True)
    assert (lrs, w) == run(compiled=False)
    np.testing.assert_allclose(lrs, [0.05, 0.0025, 0.00125, 0.000625], rtol=1e-14)


@pytest.mark.parametrize("make", [
    lambda o: optim.StepLR(o, 1), lambda o: optim.CosineAnnealingWarmRestarts(o, 2),
    lambda o: optim.ChainedScheduler([optim.StepLR(o, 1)]),
    lambda o: optim.SequentialLR(o, [optim.StepLR(o, 1), optim.StepLR(o, 2)], [3])])
def test_step_is_refused_inside_a_cuda_graph_recording(make, monkeypatch):
    from gpugrad.optim import lr_scheduler_base
    from gpugrad.cuda import CaptureError
    opt = _sgd([1.0])
    sched = make(opt)
    plateau = optim.ReduceLROnPlateau(opt)
    monkeypatch.setattr(lr_scheduler_base, "is_graph_recording", lambda: True)
    for call in (sched.step, lambda: plateau.step(1.0)):
        with pytest.raises(CaptureError, match="call it after each call of the step"):
            call()
    assert opt.param_groups[0]["lr"] == 1.0
