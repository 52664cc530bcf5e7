"""gpugrad.optim.Adafactor and Muon: PyTorch 2.13's arguments, defaults, state layout and
steps (N steps against torch.optim on the same start, where installed), and torch-free
checks of each documented formula in float64 NumPy."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.optim.muon import zeropower_via_newtonschulz


def _loss(ps, k):
    return sum(((p - 0.1 * k) ** 2 * (i + 1)).sum() + 0.1 * (p ** 3).sum()
               for i, p in enumerate(ps))


def _against_torch(torch_cls, ours_cls, shapes, dtype, steps=8, **kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    inits = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tp = [torch.tensor(a, requires_grad=True) for a in inits]
    gp = [gpugrad.tensor(a, requires_grad=True) for a in inits]
    topt, gopt = torch_cls(tp, **kw), ours_cls(gp, **kw)
    for k in range(steps):
        for ps, opt in ((tp, topt), (gp, gopt)):
            opt.zero_grad()
            _loss(ps, k).backward()
            opt.step()
    return tp, gp, topt, gopt


# ----------------------------------------------------------------------------- Adafactor
def _adafactor_reference(p, grads, lr=1e-2, beta2_decay=-0.8, eps1=None, eps2=1e-3, d=1.0,
                         weight_decay=0.0):
    """The documented update in float64 NumPy, one gradient per step."""
    p = p.astype(np.float64).copy()
    eps1 = np.finfo(np.float32).eps if eps1 is None else eps1
    r = c = v = None
    for t, g in enumerate(grads, 1):
        w = t ** beta2_decay
        alpha = max(eps2, np.sqrt(np.mean(p * p))) * min(lr, 1 / math.sqrt(t))
        p *= 1 - lr * weight_decay
        if g.ndim > 1:
            rm, cm = np.mean(g * g, axis=-1, keepdims=True), np.mean(g * g, axis=-2, keepdims=True)
            r = rm if r is None else r + w * (rm - r)
            c = cm if c is None else c + w * (cm - c)
            est = r * c / np.maximum(np.mean(r, axis=-2, keepdims=True), eps1)
        else:
            v = g * g if v is None else v + w * (g * g - v)
            est = v
        u = g / np.sqrt(np.maximum(est, eps1 * eps1))
        p -= alpha / max(1.0, np.sqrt(np.mean(u * u)) / d) * u
    return p


@pytest.mark.parametrize("shape", [(3, 4), (5,), (2, 3, 2)])
def test_adafactor_follows_its_formula(shape):
    rng = np.random.default_rng(3)
    p0 = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(4)]
    w = gpugrad.tensor(p0, dtype="float64", requires_grad=True)
    opt = gpugrad.optim.Adafactor([w], lr=0.05, weight_decay=0.1, d=1.5)
    for g in grads:
        w.grad = gpugrad.tensor(g, dtype="float64")
        opt.step()
    expected = _adafactor_reference(p0, grads, lr=0.05, weight_decay=0.1, d=1.5,
                                    eps1=np.finfo(np.float64).eps)
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-12)
    state = opt.state[w]
    assert state["step"] == 4
    if len(shape) > 1:
        assert list(state) == ["step", "row_var", "col_var"]
        assert state["row_var"].shape == shape[:-1] + (1,)
        assert state["col_var"].shape == shape[:-2] + (1, shape[-1])
    else:
        assert list(state) == ["step", "variance"]


def test_adafactor_first_step_by_hand_and_arguments():
    # step 1: v = g^2, u = sign(g), alpha = lr RMS(p): p - lr RMS(p) sign(g)
    w = gpugrad.tensor([3.0, -4.0], dtype="float64", requires_grad=True)
    opt = gpugrad.optim.Adafactor([w], lr=0.1)
    w.grad = gpugrad.tensor([1e-3, 7.0], dtype="float64")
    opt.step()
    rms = math.sqrt(12.5)
    np.testing.assert_allclose(w.detach().numpy(), [3.0 - 0.1 * rms, -4.0 - 0.1 * rms])
    group = opt.param_groups[0]
    assert (group["lr"], group["beta2_decay"], group["eps"], group["d"],
            group["weight_decay"], group["maximize"]) == (0.1, -0.8, (None, 1e-3), 1.0, 0.0,
                                                          False)
    for bad in (dict(beta2_decay=0.5), dict(d=0.5), dict(eps=(-1.0, 1e-3)), dict(lr=-1.0)):
        with pytest.raises(ValueError):
            gpugrad.optim.Adafactor([w], **bad)


@pytest.mark.parametrize("dtype,atol", [("float32", 1e-6), ("float64", 1e-13)])
@pytest.mark.parametrize("kw", [{}, dict(lr=0.1, weight_decay=0.1),
                                dict(maximize=True, eps=(1e-30, 1e-3), d=2.0)])
def test_adafactor_against_torch(kw, dtype, atol):
    torch = pytest.importorskip("torch")
    tp, gp, topt, gopt = _against_torch(torch.optim.Adafactor, gpugrad.optim.Adafactor,
                                        [(4, 3), (5,), (2, 3, 4), ()], dtype, **kw)
    for t, g in zip(tp, gp):
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), atol=atol)
    ts, gs = topt.state_dict(), gopt.state_dict()
    for i in ts["state"]:
        assert list(ts["state"][i]) == list(gs["state"][i])
        assert float(gs["state"][i]["step"]) == float(ts["state"][i]["step"])


# ----------------------------------------------------------------------------- Muon
def test_newton_schulz_on_a_scaled_orthogonal_matrix():
    """G = s Q (Q orthogonal): X0 = Q / sqrt(n), and each step maps the one singular value
    sigma to a sigma + b sigma^3 + c sigma^5; the result is Q times the fifth iterate (to
    bfloat16's 3 digits)."""
    q, _ = np.linalg.qr(np.random.default_rng(4).standard_normal((6, 6)))
    a, b, c = 3.4445, -4.7750, 2.0315
    sigma = 1 / math.sqrt(6)
    for _ in range(5):
        sigma = a * sigma + b * sigma ** 3 + c * sigma ** 5
    out = zeropower_via_newtonschulz(np, 7.0 * q, (a, b, c), 5, 1e-7)
    np.testing.assert_allclose(out, sigma * q, atol=2e-2)
    tall = zeropower_via_newtonschulz(np, 7.0 * q[:, :4], (a, b, c), 5, 1e-7)
    assert tall.shape == (6, 4)


def test_muon_momentum_decay_and_lr_adjustment_by_hand():
    """nesterov=False, momentum 0.5: B1 = g1, B2 = 0.5 g1 + g2 ... (PyTorch's lerp form
    keeps B = momentum B + (1 - momentum) g); p = p (1 - lr wd) - lr sqrt(max(1, m/n)) NS(B)."""
    rng = np.random.default_rng(5)
    p0 = rng.standard_normal((6, 3))
    g1, g2 = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    w = gpugrad.tensor(p0, dtype="float64", requires_grad=True)
    opt = gpugrad.optim.Muon([w], lr=0.1, weight_decay=0.2, momentum=0.5, nesterov=False)
    expected, buf = p0.copy(), np.zeros_like(p0)
    for g in (g1, g2):
        w.grad = gpugrad.tensor(g, dtype="float64")
        opt.step()
        buf = 0.5 * buf + 0.5 * g
        ortho = zeropower_via_newtonschulz(np, buf, (3.4445, -4.7750, 2.0315), 5, 1e-7)
        expected = expected * (1 - 0.1 * 0.2) - 0.1 * math.sqrt(2.0) * ortho
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(opt.state[w]["momentum_buffer"].numpy(), buf, rtol=1e-12)
    assert list(opt.state[w]) == ["momentum_buffer"]


def test_muon_arguments_as_pytorch():
    w = gpugrad.zeros(3, 2, requires_grad=True)
    group = gpugrad.optim.Muon([w]).param_groups[0]
    assert {k: v for k, v in group.items() if k != "params"} == dict(
        lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
        ns_coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None)
    with pytest.raises(ValueError, match="2-D"):
        gpugrad.optim.Muon([gpugrad.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match="adjust_lr_fn"):
        gpugrad.optim.Muon([w], adjust_lr_fn="other")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [{}, dict(lr=0.02, nesterov=False, momentum=0.9),
                                dict(lr=0.01, adjust_lr_fn="match_rms_adamw")])
def test_muon_against_torch(kw, dtype):
    torch = pytest.importorskip("torch")
    tp, gp, topt, gopt = _against_torch(torch.optim.Muon, gpugrad.optim.Muon,
                                        [(4, 3), (3, 5), (16, 16)], dtype, **kw)
    for t, g in zip(tp, gp):
        # the iteration is bfloat16 in both: a rare tie of its roundings differs by one
        # bfloat16 step of an update entry times the (adjusted) lr
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), atol=1e-4)
    assert list(topt.state_dict()["state"][0]) == list(gopt.state_dict()["state"][0])
    assert topt.state_dict()["param_groups"] == gopt.state_dict()["param_groups"]
