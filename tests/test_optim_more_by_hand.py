"""RMSprop, Adagrad, Adadelta, Adamax, NAdam and RAdam without torch: two steps of each
worked out by hand from the documented updates, bad hyperparameters named as PyTorch names
them, PyTorch's implementation switches accepted only where they change nothing, 0-d
parameters and skipped gradients, a CUDA-graph capture refusing them, and gpugrad.compile
replaying them exactly (N compiled steps equal N eager steps, bit for bit)."""

import copy
import math

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, optim
from gpugrad.autograd import capture_mode
from gpugrad.cuda import CaptureError
from gpugrad.nn import functional as F

from optim_more_cases import CLASSES, loss_of, make_params, train
from gpugrad.optim.adadelta import Adadelta
from gpugrad.optim.adagrad import Adagrad
from gpugrad.optim.adamax import Adamax
from gpugrad.optim.nadam import NAdam
from gpugrad.optim.radam import RAdam
from gpugrad.optim.rmsprop import RMSprop


def run(opt_class, grads, start=3.0, **options):
    """The parameter (shape (1,), float64) after one step per gradient in ``grads``."""
    p = nn.Parameter(gpugrad.tensor([start], dtype="float64"))
    opt = opt_class([p], **options)
    for g in grads:
        p.grad = gpugrad.tensor([g], dtype="float64")
        opt.step()
    return p.item(), opt.state[p]


# ---------------------------------------------------------------- two steps by hand
def test_rmsprop_by_hand():
    eps = 1e-8
    got, state = run(RMSprop, [4.0], lr=0.01, alpha=0.75)
    assert got == pytest.approx(3.0 - 0.01 * 4.0 / (2.0 + eps), rel=1e-15)   # v = 0.25 * 16
    assert state["step"] == 1 and state["square_avg"].item() == 4.0
    got, state = run(RMSprop, [4.0, 4.0], lr=0.01, alpha=0.75, momentum=0.5)
    b1 = 4.0 / (2.0 + eps)
    b2 = 0.5 * b1 + 4.0 / (math.sqrt(7.0) + eps)                  # v = 0.75 * 4 + 0.25 * 16
    assert got == pytest.approx(3.0 - 0.01 * b1 - 0.01 * b2, rel=1e-15)
    assert state["momentum_buffer"].item() == pytest.approx(b2, rel=1e-15)
    got, state = run(RMSprop, [4.0], lr=0.01, alpha=0.75, centered=True, weight_decay=0.5,
                     maximize=True)                                # g = -4 + 1.5 = -2.5
    v, a = 0.25 * 6.25, 0.25 * -2.5
    assert got == pytest.approx(3.0 + 0.01 * 2.5 / (math.sqrt(v - a * a) + eps), rel=1e-15)
    assert sorted(state) == ["grad_avg", "square_avg", "step"]


def test_adagrad_by_hand():
    got, state = run(Adagrad, [3.0, 4.0], lr=0.5, lr_decay=0.5, initial_accumulator_value=1.0)
    step1 = 0.5 * 3.0 / (math.sqrt(10.0) + 1e-10)                 # sum = 1 + 9
    step2 = 0.5 / 1.5 * 4.0 / (math.sqrt(26.0) + 1e-10)           # lr / (1 + 1 * lr_decay)
    assert got == pytest.approx(3.0 - step1 - step2, rel=1e-15)
    assert state["step"] == 2 and state["sum"].item() == 26.0
    got, _ = run(Adagrad, [1.0], lr=0.5, weight_decay=1.0, maximize=True)   # g = -1 + 3
    assert got == pytest.approx(3.0 - 0.5 * 2.0 / (2.0 + 1e-10), rel=1e-15)


def test_adadelta_by_hand():
    eps = 1e-6
    got, state = run(Adadelta, [2.0, 2.0], rho=0.5, eps=eps)
    d1 = math.sqrt(eps) / math.sqrt(2.0 + eps) * 2.0              # v = 0.5 * 4
    u1 = 0.5 * d1 * d1
    d2 = math.sqrt(u1 + eps) / math.sqrt(3.0 + eps) * 2.0         # v = 1 + 2
    assert got == pytest.approx(3.0 - d1 - d2, rel=1e-14)
    assert state["acc_delta"].item() == pytest.approx(0.5 * u1 + 0.5 * d2 * d2, rel=1e-14)
    got, _ = run(Adadelta, [2.0], lr=0.5, rho=0.0, weight_decay=1.0)   # g = 5, v = 25
    assert got == pytest.approx(3.0 - 0.5 * math.sqrt(eps) / math.sqrt(25.0 + eps) * 5.0,
                                rel=1e-15)


def test_adamax_by_hand():
    eps = 1e-8
    got, state = run(Adamax, [4.0, 1.0], lr=0.1, betas=(0.5, 0.5))
    step1 = 0.1 / 0.5 * 2.0 / (4.0 + eps)                         # m = 2, u = |g| + eps
    step2 = 0.1 / 0.75 * 1.5 / (0.5 * (4.0 + eps))                # u = max(2 + eps/2, 1 + eps)
    assert got == pytest.approx(3.0 - step1 - step2, rel=1e-15)
    assert state["exp_inf"].item() == pytest.approx(2.0 + eps / 2, rel=1e-15)
    got, _ = run(Adamax, [4.0], lr=0.1, maximize=True)
    assert got == pytest.approx(3.0 + 0.1 * 4.0 / (4.0 + eps), rel=1e-15)


def test_nadam_by_hand():
    mu1 = 0.9 * (1 - 0.5 * 0.96 ** 0.004)
    mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.008)
    product = float(np.float32(mu1))                              # PyTorch keeps it in float32
    denom = math.sqrt(0.004 / 0.001) + 1e-8                       # v = 0.001 * 4
    want = (3.0 - 0.1 * (1 - mu1) / (1 - product) * 2.0 / denom
            - 0.1 * mu2 / (1 - product * mu2) * 0.2 / denom)      # m = 0.1 * 2
    got, state = run(NAdam, [2.0], lr=0.1)
    assert got == pytest.approx(want, rel=1e-14) and state["mu_product"] == product
    # decoupled: p * (1 - lr * wd) first, and the gradient untouched
    got, _ = run(NAdam, [2.0], start=3.0 / 0.95, lr=0.1, weight_decay=0.5,
                 decoupled_weight_decay=True)
    assert got == pytest.approx(want, rel=1e-14)
    got, _ = run(NAdam, [0.5], lr=0.1, weight_decay=0.5)          # g = 0.5 + 1.5
    assert got == pytest.approx(want, rel=1e-14)


def test_radam_against_its_documented_formula():
    # rho_inf = 19 for beta2 = 0.9: steps 1-5 take the SGD-like branch, then the rectified
    grads = [2.0, -1.0, 0.5, 3.0, 1.0, -2.0, 0.5, 1.5]
    got, state = run(RAdam, grads, lr=0.1, betas=(0.8, 0.9), weight_decay=0.1)
    p, m, v, branches = 3.0, 0.0, 0.0, []
    for t, g in enumerate(grads, 1):
        g = g + 0.1 * p
        m, v = 0.8 * m + 0.2 * g, 0.9 * v + 0.1 * g * g
        m_hat = m / (1 - 0.8 ** t)
        rho_t = 19 - 2 * t * 0.9 ** t / (1 - 0.9 ** t)
        branches.append(rho_t > 5)
        if rho_t > 5:
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * 19 / (15 * 17 * rho_t))
            p -= 0.1 * m_hat * r * math.sqrt(1 - 0.9 ** t) / (math.sqrt(v) + 1e-8)
        else:
            p -= 0.1 * m_hat
    assert branches == [False] * 5 + [True] * 3
    assert got == pytest.approx(p, rel=1e-13) and state["step"] == 8
    got, _ = run(RAdam, [2.0], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
    assert got == pytest.approx(3.0 * 0.95 - 0.1 * 2.0, rel=1e-15)


# ---------------------------------------------------------------- arguments
BAD = [
    (RMSprop, dict(lr=-0.1), "lr"), (RMSprop, dict(eps=-1e-8), "eps"),
    (RMSprop, dict(momentum=-0.5), "momentum"), (RMSprop, dict(alpha=-0.1), "alpha"),
    (RMSprop, dict(weight_decay=-1.0), "weight_decay"),
    (Adagrad, dict(lr=float("nan")), "lr"), (Adagrad, dict(lr_decay=-0.1), "lr_decay"),
    (Adagrad, dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (Adagrad, dict(eps=-1.0), "eps"), (Adagrad, dict(weight_decay=-1.0), "weight_decay"),
    (Adadelta, dict(rho=1.5), "rho"), (Adadelta, dict(rho=-0.1), "rho"),
    (Adadelta, dict(lr=-1.0), "lr"), (Adadelta, dict(eps=-1.0), "eps"),
    (Adamax, dict(betas=(1.0, 0.9)), r"betas\[0\]"), (Adamax, dict(betas=(0.9, -0.1)),
                                                      r"betas\[1\]"),
    (Adamax, dict(weight_decay=-1.0), "weight_decay"),
    (NAdam, dict(momentum_decay=-1.0), "momentum_decay"), (NAdam, dict(eps=-1.0), "eps"),
    (NAdam, dict(betas=(0.9, 1.0)), r"betas\[1\]"),
    (RAdam, dict(lr=-1e-3), "lr"), (RAdam, dict(betas=(-0.1, 0.9)), r"betas\[0\]"),
    (RAdam, dict(weight_decay=-0.1), "weight_decay"),
]


@pytest.mark.parametrize("cls, options, arg", BAD,
                         ids=[f"{c.__name__}-{a}" for c, _, a in BAD])
def test_bad_hyperparameters_are_named(cls, options, arg):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: invalid {arg}="):
        cls(make_params(gpugrad), **options)


def test_betas_must_be_a_pair():
    with pytest.raises(ValueError, match=r"NAdam: betas must be a pair .*got 0.9"):
        NAdam(make_params(gpugrad), betas=0.9)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_pytorch_switches_only_at_values_that_change_nothing(name):
    """foreach/fused/capturable pick an implementation (accepted, no effect); a
    differentiable step is refused."""
    cls = CLASSES[name]
    flag = "fused" if name == "Adagrad" else "capturable"
    for value in (None, False, True):
        opt = cls(make_params(gpugrad), foreach=value)
        assert opt.defaults["foreach"] is value and opt.param_groups[0]["foreach"] is value
    cls(make_params(gpugrad), **{flag: True})
    with pytest.raises(ValueError, match=rf"{name}: differentiable=True is not supported"):
        cls(make_params(gpugrad), differentiable=True)
    with pytest.raises(TypeError, match="foreach must be a bool or None"):
        cls(make_params(gpugrad), foreach="yes")
    with pytest.raises(TypeError):
        cls(make_params(gpugrad), amsgrad=True)


# ---------------------------------------------------------------- state and steps
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_zero_d_parameters_skipped_gradients_and_deepcopy(name):
    params = make_params(gpugrad)
    opt = CLASSES[name](params, lr=0.01)
    train(gpugrad, opt, params, 6)                 # b and s lose their gradient at times
    w, b, s = params
    assert s.shape == () and type(s._array) is np.ndarray
    assert [opt.state[p]["step"] for p in params] == [6, 5, 4]
    for key, entry in opt.state[s].items():
        if key not in ("step", "mu_product"):
            assert isinstance(entry, gpugrad.Tensor) and type(entry._array) is np.ndarray
            assert entry.shape == ()
    before = b.numpy().copy()
    opt.zero_grad()
    w.grad = gpugrad.ones(3, 2, dtype="float64")
    opt.step()                                     # no gradient: not moved, not counted
    np.testing.assert_array_equal(b.numpy(), before)
    assert opt.state[b]["step"] == 5 and opt.state[w]["step"] == 7
    copies, opt2 = copy.deepcopy((params, opt))
    for o, ps in ((opt, params), (opt2, copies)):
        train(gpugrad, o, ps, 4, first=6)
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_each_group_reads_its_own_learning_rate_at_each_step(name):
    a, b = (nn.Parameter(gpugrad.tensor([1.0, -2.0], dtype="float64")) for _ in range(2))
    opt = CLASSES[name]([{"params": [a]}, {"params": [b], "lr": 0.0}], lr=0.1)
    for lrs in ((0.1, 0.0), (0.0, 0.1)):
        for group, lr in zip(opt.param_groups, lrs):
            group["lr"] = lr                            # as a scheduler would
        before = [a.numpy().copy(), b.numpy().copy()]
        a.grad = gpugrad.tensor([0.5, 1.5], dtype="float64")
        b.grad = gpugrad.tensor([0.5, 1.5], dtype="float64")
        opt.step()
        moved = [not np.array_equal(p.numpy(), q) for p, q in zip((a, b), before)]
        assert moved == [lr > 0 for lr in lrs]


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_a_cuda_graph_capture_refuses_them(name, monkeypatch):
    """Their updates are not fused, so a capture would freeze the learning rate and the step
    count: refused while recording (simulated: on CPU nothing records), nothing updated."""
    params = make_params(gpugrad)
    opt = CLASSES[name](params, lr=0.1)
    loss_of(gpugrad, params).backward()
    before = [p.numpy().copy() for p in params]
    monkeypatch.setattr(capture_mode._state, "recording", True)
    with pytest.raises(CaptureError, match=rf"{name}: .* takes the reference update"):
        opt.step()
    monkeypatch.setattr(capture_mode._state, "recording", False)
    assert all(np.array_equal(p.numpy(), q) for p, q in zip(params, before))


# ---------------------------------------------------------------- gpugrad.compile
COMPILED = {
    "RMSprop": dict(lr=1e-2, momentum=0.9, centered=True, weight_decay=1e-3),
    "Adagrad": dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "Adadelta": dict(lr=1.0, weight_decay=1e-3),
    "Adamax": dict(lr=1e-2, weight_decay=1e-3),
    "NAdam": dict(lr=1e-2, weight_decay=1e-2, decoupled_weight_decay=True),
    "RAdam": dict(lr=1e-2, betas=(0.8, 0.9), maximize=False),
}


def trained(name, compiled, steps=6):
    """Losses and parameters after ``steps`` steps of one MLP with a StepLR schedule."""
    gpugrad.manual_seed(0)
    model = nn.MLP([8, 16, 16, 4])
    opt = CLASSES[name](list(model.parameters()), **COMPILED[name])
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        return loss

    start = [p.numpy().copy() for p in model.parameters()]
    rng = np.random.default_rng(1)
    batches = [(gpugrad.tensor(rng.standard_normal((5, 8)).astype(np.float32)),
                gpugrad.tensor(rng.integers(0, 4, 5))) for _ in range(steps)]
    run_step = gpugrad.compile(step) if compiled else step
    losses = [run_step(x, y).numpy() for x, y in batches]
    params = [p.numpy().copy() for p in model.parameters()]
    assert not any(np.array_equal(a, b) for a, b in zip(start, params))     # all moved
    return losses, params, run_step, opt


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_compiled_steps_equal_eager_steps_exactly(name):
    eager_losses, eager_params, _, eager_opt = trained(name, False)
    losses, params, compiled, opt = trained(name, True)
    assert all(np.array_equal(a, b) for a, b in zip(eager_losses, losses))
    assert all(np.array_equal(a, b) for a, b in zip(eager_params, params))
    assert (compiled.records, compiled.replays) == (1, 5)
    assert [s["step"] for s in opt.state.values()] == [s["step"]
                                                       for s in eager_opt.state.values()]
    assert opt.state[opt._params()[0]]["step"] == 6
