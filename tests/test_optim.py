"""Optimizers against float64 NumPy written from PyTorch's documented algorithms, state
dicts, and learning-rate schedules against their formulas."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad import optim

# (these schedules are stepped without an optimizer step, on purpose)
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)`")

TARGET = np.array([0.5, -1.0, 2.0])


def loss_of(p):
    """A quadratic with gradient 2 * (p - TARGET) * [1, 2, 3]."""
    weights = gpugrad.tensor([1.0, 2.0, 3.0], dtype=p.dtype, device=p.device)
    return (((p - gpugrad.tensor(TARGET, dtype=p.dtype, device=p.device)) ** 2) *
            weights).sum()


def gradient(p):
    return 2 * (p - TARGET) * np.array([1.0, 2.0, 3.0])


def run(make_optimizer, device, steps=4):
    p = gpugrad.tensor([1.0, 1.0, 1.0], dtype="float64", device=device, requires_grad=True)
    opt = make_optimizer([p])
    for _ in range(steps):
        opt.zero_grad()
        loss_of(p).backward()
        opt.step()
    return p.numpy()


def sgd_reference(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                  steps=4):
    p, buf = np.ones(3), None
    for _ in range(steps):
        g = gradient(p) + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def adam_reference(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False,
                   steps=4):
    p, m, v = np.ones(3), np.zeros(3), np.zeros(3)
    for t in range(1, steps + 1):
        g = gradient(p)
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("options", [
    dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.5),
    dict(lr=0.05, momentum=0.9, nesterov=True), dict(lr=0.1, weight_decay=0.1, momentum=0.5),
], ids=["plain", "momentum", "dampening", "nesterov", "weight-decay"])
def test_sgd_matches_reference(device, options):
    np.testing.assert_allclose(run(lambda ps: optim.SGD(ps, **options), device),
                               sgd_reference(**options), rtol=1e-12)


@pytest.mark.parametrize("options", [
    dict(lr=0.1), dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.1, weight_decay=0.1),
], ids=["default", "betas-eps", "weight-decay"])
def test_adam_and_adamw_match_reference(device, options):
    np.testing.assert_allclose(run(lambda ps: optim.Adam(ps, **options), device),
                               adam_reference(**options), rtol=1e-10)
    decoupled = dict(options, weight_decay=options.get("weight_decay", 0.01))
    np.testing.assert_allclose(run(lambda ps: optim.AdamW(ps, **decoupled), device),
                               adam_reference(**decoupled, decoupled=True), rtol=1e-10)


def test_first_adam_step_by_hand():
    # at t = 1, m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps) ~ lr * sign(g)
    p = gpugrad.tensor([3.0], dtype="float64", requires_grad=True)
    opt = optim.Adam([p], lr=0.5)
    (p * 4.0).sum().backward()
    opt.step()
    assert p.item() == pytest.approx(3.0 - 0.5 * 4.0 / (4.0 + 1e-8))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_state_dict_resume_matches_an_uninterrupted_run(name):
    options = {"SGD": dict(lr=0.05, momentum=0.9), "Adam": dict(lr=0.1),
               "AdamW": dict(lr=0.1)}[name]
    cls = getattr(optim, name)
    straight = run(lambda ps: cls(ps, **options), "cpu", steps=6)
    p = gpugrad.tensor([1.0, 1.0, 1.0], dtype="float64", requires_grad=True)
    first = cls([p], **options)
    for _ in range(3):
        first.zero_grad()
        loss_of(p).backward()
        first.step()
    saved = first.state_dict()
    q = gpugrad.tensor(p.numpy(), dtype="float64", requires_grad=True)
    second = cls([q], **options)
    second.load_state_dict(saved)
    for _ in range(3):
        second.zero_grad()
        loss_of(q).backward()
        second.step()
    np.testing.assert_array_equal(q.numpy(), straight)


def test_state_dict_errors():
    p = gpugrad.zeros(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = gpugrad.ones(3)
    opt.step()
    state = opt.state_dict()
    other = optim.SGD([gpugrad.zeros(4, requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"state.0.momentum_buffer.*\(3,\).*\(4,\)"):
        other.load_state_dict(state)
    with pytest.raises(KeyError, match="param_groups"):
        opt.load_state_dict({"state": {}})


def test_zero_grad_and_bad_arguments():
    p = gpugrad.zeros(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = gpugrad.ones(2)
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)


def test_schedulers_follow_their_formulas():
    opt = optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=0.2)
    step = optim.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(7):
        lrs.append(opt.param_groups[0]["lr"])
        step.step()
    assert lrs == pytest.approx([0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05])
    opt = optim.Adam([gpugrad.zeros(1, requires_grad=True)], lr=1.0)
    cosine = optim.CosineAnnealingLR(opt, T_max=4, eta_min=0.1)
    values = [opt.param_groups[0]["lr"]]
    for _ in range(4):
        cosine.step()
        values.append(cosine.get_last_lr()[0])
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)]
    assert values == pytest.approx(expected)
    restored = optim.CosineAnnealingLR(opt, T_max=4, eta_min=0.1)
    restored.load_state_dict(cosine.state_dict())
    assert restored.get_last_lr() == pytest.approx([0.1]) and restored.last_epoch == 4
    restored.step()                             # past T_max the cosine rises again
    assert restored.get_last_lr() == pytest.approx([0.1 + 0.9 * (1 + math.cos(math.pi * 5 / 4))
                                                    / 2])


def test_parameter_arguments_are_checked_as_in_pytorch():
    w = gpugrad.ones(2, 2, requires_grad=True)
    with pytest.raises(TypeError, match="not a single tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="leaf tensors"):
        optim.SGD([w * 2], lr=0.1)
    frozen = gpugrad.ones(2)                     # requires_grad=False: kept, never updated
    opt = optim.Adam([w, frozen], lr=0.1)
    w.grad = gpugrad.ones(2, 2)
    opt.step()
    assert frozen.tolist() == [1.0, 1.0] and w.tolist() != [[1.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_a_step_is_an_in_place_change_that_saved_graphs_see(device, name):
    # as PyTorch: step() bumps each updated parameter's version, so backward through a graph
    # that saved the old value raises instead of using the new one
    p = gpugrad.tensor([1.0, 2.0], dtype="float64", device=device, requires_grad=True)
    opt = getattr(optim, name)([p], lr=0.1)
    stale = (p * p).sum()                       # saves p
    loss_of_p = (p * 3.0).sum()
    loss_of_p.backward()
    before = p._version_value
    opt.step()
    assert p._version_value == before + 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        stale.backward()
