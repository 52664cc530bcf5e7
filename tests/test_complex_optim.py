"""Optimizers on complex parameters, as PyTorch's: a complex parameter is a pair of reals per
element (``view_as_real``), so each optimizer's step on it equals its step on the real pairs.
Checked against the same optimizer on a float64 parameter holding the pairs, a hand-derived
Adam step, and torch where installed."""

import numpy as np
import pytest

import gpugrad

P = np.array([[1 + 2j, -0.5 + 0.3j, 2 - 1j], [0.2 - 0.7j, -1.5 + 1j, 0.4 + 0.1j]])

CONFIGS = [
    ("Adam", {}), ("Adam", dict(amsgrad=True, weight_decay=0.1)), ("Adam", dict(maximize=True)),
    ("AdamW", {}), ("RMSprop", dict(momentum=0.9, centered=True)), ("Adagrad", {}),
    ("Adadelta", {}), ("Adamax", {}), ("NAdam", {}), ("RAdam", {}), ("Rprop", {}),
    ("ASGD", {}), ("SGD", dict(momentum=0.9, nesterov=True)), ("SGD", {}),
]
IDS = [f"{name}-{'-'.join(kw) or 'default'}" for name, kw in CONFIGS]


def _loss(lib, z):
    """A real loss of complex z, not separable in Re/Im: |z|^3 + Re((1 + 2i) z)."""
    return (z.abs() ** 3 + (z * (1 + 2j)).real).sum()


def _run_complex(name, kw, steps=4):
    p = gpugrad.nn.Parameter(gpugrad.tensor(P, dtype="complex128"))
    opt = getattr(gpugrad.optim, name)([p], lr=0.1, **kw)
    for _ in range(steps):
        opt.zero_grad()
        _loss(gpugrad, p).backward()
        opt.step()
    return p, opt


def _run_pairs(name, kw, steps=4):
    """The same optimizer on a float64 parameter of shape (2, 3, 2): the real pairs."""
    w = gpugrad.nn.Parameter(gpugrad.tensor(np.stack([P.real, P.imag], -1)))
    opt = getattr(gpugrad.optim, name)([w], lr=0.1, **kw)
    for _ in range(steps):
        opt.zero_grad()
        _loss(gpugrad, gpugrad.complex(w[..., 0], w[..., 1])).backward()
        opt.step()
    return w, opt


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_complex_step_is_the_step_on_the_real_pairs(name, kw):
    p, opt = _run_complex(name, kw)
    w, opt_pairs = _run_pairs(name, kw)
    pairs = w.detach().numpy()
    np.testing.assert_allclose(p.detach().numpy(), pairs[..., 0] + 1j * pairs[..., 1],
                               rtol=1e-12, atol=1e-14)
    for key, value in opt.state[p].items():       # complex state, shaped as the parameter
        if isinstance(value, gpugrad.Tensor):
            assert value.dtype == np.complex128 and tuple(value.shape) == P.shape, key
            real = opt_pairs.state[w][key].numpy()
            np.testing.assert_allclose(value.numpy(), real[..., 0] + 1j * real[..., 1],
                                       rtol=1e-12, atol=1e-14)


def test_adam_first_step_moves_each_part_by_lr():
    """Adam's first step is lr * sign(g) per real number: the imaginary parts move too."""
    p = gpugrad.nn.Parameter(gpugrad.tensor([1 + 2j, -0.5 + 0.3j, 2 - 1j], dtype="complex128"))
    opt = gpugrad.optim.Adam([p], lr=0.1)
    (p.abs() ** 2).sum().backward()                 # grad 2p
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9 + 1.9j, -0.4 + 0.2j, 1.9 - 0.9j],
                               rtol=1e-7)


def test_complex_state_dict_round_trip_resumes_the_same_steps():
    """Two steps, a state_dict, two more steps from a fresh optimizer loaded with it: the
    same parameters (and complex state) as four steps without a break."""
    straight, opt4 = _run_complex("Adam", {}, steps=4)
    p, opt = _run_complex("Adam", {}, steps=2)
    saved = opt.state_dict()
    assert saved["state"][0]["exp_avg_sq"].dtype == np.complex128
    again = gpugrad.optim.Adam([p], lr=0.1)
    again.load_state_dict(saved)
    assert again.state[p]["exp_avg"].dtype == np.complex128
    for _ in range(2):
        again.zero_grad()
        _loss(gpugrad, p).backward()
        again.step()
    np.testing.assert_allclose(p.detach().numpy(), straight.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(again.state[p]["exp_avg_sq"].numpy(),
                               opt4.state[straight]["exp_avg_sq"].numpy(), rtol=1e-14)


def test_complex64_state_keeps_its_dtype():
    z = gpugrad.nn.Parameter(gpugrad.tensor(P.astype(np.complex64)))
    opt = gpugrad.optim.RMSprop([z], lr=0.1)
    _loss(gpugrad, z).backward()
    opt.step()
    assert z.dtype == np.complex64 and opt.state[z]["square_avg"].dtype == np.complex64


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_on_a_complex_parameter_is_lbfgs_on_the_pairs(line_search):
    target = np.array([1 + 1j, -2 + 0.5j])

    def run(param, as_complex):
        opt = gpugrad.optim.LBFGS([param], line_search_fn=line_search)

        def closure():
            opt.zero_grad()
            z = as_complex(param)
            loss = ((z - gpugrad.tensor(target)).abs() ** 2).sum() + (z.abs() ** 4).sum()
            loss.backward()
            return loss
        opt.step(closure)
        return param.detach().numpy()

    z = run(gpugrad.nn.Parameter(gpugrad.tensor([0.5 - 1j, 1 + 2j])), lambda p: p)
    pairs = run(gpugrad.nn.Parameter(gpugrad.tensor([[0.5, -1.0], [1.0, 2.0]],
                                                    dtype="float64")),
                lambda w: gpugrad.complex(w[:, 0], w[:, 1]))
    np.testing.assert_allclose(z, pairs[:, 0] + 1j * pairs[:, 1], rtol=1e-6)


def _mixed_loss(lib, z, r):
    """A real loss coupling a complex parameter z (2,) with a real one r (3,)."""
    return (((z - (1 - 1j)).abs() ** 2).sum() + ((r - 0.5) ** 2).sum()
            + (z.real * r[:2]).sum() + (z.imag * r[1:]).sum() ** 2)


Z0, R0 = np.array([1 + 2j, -0.5 + 1j]), np.array([0.3, -1.2, 2.0])


def _run_lbfgs_mixed(lib, make, as_complex, line_search):
    params = make()
    opt = lib.optim.LBFGS(params, max_iter=6, line_search_fn=line_search)

    def closure():
        opt.zero_grad()
        loss = _mixed_loss(lib, as_complex(params[0]), params[1])
        loss.backward()
        return loss
    for _ in range(2):
        opt.step(closure)
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_takes_a_complex_parameter_next_to_a_real_one(line_search):
    """complex128 with float64 (their real dtypes agree): the same steps as LBFGS on a
    float64 (2, 2) parameter holding the pairs, whose flat vector has the same order."""
    def mixed():
        return [gpugrad.nn.Parameter(gpugrad.tensor(Z0)), gpugrad.nn.Parameter(gpugrad.tensor(R0))]

    def pairs():
        return [gpugrad.nn.Parameter(gpugrad.tensor(np.stack([Z0.real, Z0.imag], -1))),
                gpugrad.nn.Parameter(gpugrad.tensor(R0))]
    z, r = _run_lbfgs_mixed(gpugrad, mixed, lambda p: p, line_search)
    w, r2 = _run_lbfgs_mixed(gpugrad, pairs, lambda w: gpugrad.complex(w[:, 0], w[:, 1]),
                             line_search)
    np.testing.assert_allclose(z, w[:, 0] + 1j * w[:, 1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r, r2, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="share a device and a"):      # complex64 + float64
        opt = gpugrad.optim.LBFGS([gpugrad.nn.Parameter(gpugrad.tensor(Z0, dtype="complex64")),
                                   gpugrad.nn.Parameter(gpugrad.tensor(R0))])
        opt.step(lambda: gpugrad.tensor(0.0))


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_mixed_complex_and_real_matches_torch(line_search):
    torch = pytest.importorskip("torch")
    ours = _run_lbfgs_mixed(gpugrad, lambda: [
        gpugrad.nn.Parameter(gpugrad.tensor(Z0.astype(np.complex64))),
        gpugrad.nn.Parameter(gpugrad.tensor(R0.astype(np.float32)))], lambda p: p, line_search)
    theirs = _run_lbfgs_mixed(torch, lambda: [
        torch.nn.Parameter(torch.tensor(Z0.astype(np.complex64))),
        torch.nn.Parameter(torch.tensor(R0.astype(np.float32)))], lambda p: p, line_search)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_complex_steps_match_torch(name, kw):
    torch = pytest.importorskip("torch")
    p, opt = _run_complex(name, kw)
    t = torch.nn.Parameter(torch.tensor(P))
    topt = getattr(torch.optim, name)([t], lr=0.1, **kw)
    for _ in range(4):
        topt.zero_grad()
        _loss(torch, t).backward()
        topt.step()
    np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
    ours, theirs = opt.state_dict()["state"].get(0, {}), topt.state_dict()["state"].get(0, {})
    for key, value in theirs.items():
        if key != "step" and torch.is_tensor(value) and value.is_complex():
            np.testing.assert_allclose(ours[key].numpy(), value.numpy(), rtol=1e-10)
