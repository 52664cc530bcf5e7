"""gpugrad.distributions against torch.distributions (skipped without torch): the same
parameters give the same log_prob, entropy, mean, variance, mode, cdf, icdf, KL, shapes and
gradients."""

from __future__ import annotations

import numpy as np
import pytest

import gpugrad
import gpugrad.distributions as gd

torch = pytest.importorskip("torch")
td = torch.distributions

RNG = np.random.default_rng(0)
LOC, SCALE = RNG.normal(size=(2, 3)), RNG.uniform(0.5, 2.0, size=(2, 3))
X = RNG.normal(size=(4, 2, 3))
W = RNG.uniform(0.1, 1.0, size=(2, 5))
A = RNG.normal(size=(2, 3, 3))
COV = A @ np.swapaxes(A, -1, -2) + np.eye(3)


def pair(cls, *args, **kwargs):
    """The same distribution in gpugrad and torch, from float64 NumPy arguments."""
    def convert(lib, v):
        if isinstance(v, np.ndarray):
            return gpugrad.tensor(v, dtype="float64") if lib == "g" else torch.tensor(v)
        return v
    g = getattr(gd, cls)(*(convert("g", a) for a in args),
                         **{k: convert("g", v) for k, v in kwargs.items()})
    r = getattr(td, cls)(*(convert("t", a) for a in args),
                         **{k: convert("t", v) for k, v in kwargs.items()})
    return g, r


def same(a, b, tol=1e-10):
    a = a.numpy() if hasattr(a, "numpy") and not isinstance(a, np.ndarray) else a
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), b.detach().numpy(), rtol=tol,
                               atol=tol, equal_nan=True)


CASES = [
    ("Normal", (LOC, SCALE), {}, X),
    ("Laplace", (LOC, SCALE), {}, X),
    ("Uniform", (LOC, LOC + SCALE), {}, (LOC + 0.3 * SCALE)[None]),
    ("Exponential", (SCALE,), {}, np.abs(X)),
    ("LogNormal", (LOC, SCALE), {}, np.exp(X)),
    ("Bernoulli", (), {"probs": W[:, :3]}, (X > 0).astype(np.float64)),
    ("Bernoulli", (), {"logits": LOC}, (X > 0).astype(np.float64)),
    ("Categorical", (), {"probs": W}, np.array([[0, 4], [3, 1]])),
    ("Categorical", (), {"logits": np.log(W) + 3.0}, np.array([[0, 4], [3, 1]])),
    ("OneHotCategorical", (), {"probs": W}, np.eye(5)[[[0, 4], [3, 1]]]),
    ("MultivariateNormal", (LOC,), {"covariance_matrix": COV}, X),
    ("MultivariateNormal", (LOC,), {"precision_matrix": COV}, X),
    ("MultivariateNormal", (LOC[0],), {"scale_tril": np.linalg.cholesky(COV)}, X),
]


@pytest.mark.parametrize("cls, args, kwargs, value", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_values_match_torch(cls, args, kwargs, value):
    g, r = pair(cls, *args, **kwargs)
    assert tuple(g.batch_shape) == tuple(r.batch_shape)
    assert tuple(g.event_shape) == tuple(r.event_shape)
    dtype = torch.int64 if cls == "Categorical" else torch.float64
    gv = gpugrad.tensor(value, dtype="int64" if cls == "Categorical" else "float64")
    same(g.log_prob(gv), r.log_prob(torch.tensor(value, dtype=dtype)), 1e-9)
    same(g.entropy(), r.entropy(), 1e-9)
    for name in ("mean", "variance", "stddev", "mode"):
        same(getattr(g, name), getattr(r, name), 1e-9)
    if cls in ("Normal", "Laplace", "Uniform", "Exponential", "LogNormal"):
        same(g.cdf(gv), r.cdf(torch.tensor(value)), 1e-9)
        p = np.linspace(0.05, 0.95, 3)
        same(g.icdf(gpugrad.tensor(p, dtype="float64")), r.icdf(torch.tensor(p)), 1e-9)
    assert tuple(g.sample((7,)).shape) == tuple(r.sample((7,)).shape)
    assert g.has_rsample == r.has_rsample
    big_g, big_r = g.expand((4,) + tuple(g.batch_shape)), r.expand((4,) + r.batch_shape)
    same(big_g.log_prob(gv[0]), big_r.log_prob(torch.tensor(value[0], dtype=dtype)), 1e-9)


KL_PAIRS = [
    (("Normal", (LOC, SCALE)), ("Normal", (SCALE, LOC ** 2 + 0.5))),
    (("Laplace", (LOC, SCALE)), ("Laplace", (SCALE, LOC ** 2 + 0.5))),
    (("Exponential", (SCALE,)), ("Exponential", (LOC ** 2 + 0.5,))),
    (("Uniform", (LOC, LOC + SCALE)), ("Uniform", (LOC - 1.0, LOC + SCALE + 0.5))),
    (("Uniform", (LOC, LOC + SCALE)), ("Uniform", (LOC + 0.1, LOC + SCALE + 0.5))),
    (("Normal", (LOC, SCALE)), ("Laplace", (SCALE, LOC ** 2 + 0.5))),
    (("Laplace", (LOC, SCALE)), ("Normal", (SCALE, LOC ** 2 + 0.5))),
    (("Exponential", (SCALE,)), ("Normal", (LOC, SCALE))),
    (("Uniform", (LOC, LOC + SCALE)), ("Normal", (LOC, SCALE))),
    (("Uniform", (SCALE, SCALE + 1.0)), ("Exponential", (SCALE,))),
    (("Normal", (LOC, SCALE)), ("Uniform", (LOC, LOC + SCALE))),
    (("LogNormal", (LOC, SCALE)), ("LogNormal", (SCALE, SCALE))),
    (("MultivariateNormal", (LOC,), {"covariance_matrix": COV}),
     ("MultivariateNormal", (SCALE[0],), {"scale_tril": np.linalg.cholesky(COV[0])})),
]


@pytest.mark.parametrize("p_spec, q_spec", KL_PAIRS, ids=[f"{p[0]}-{q[0]}-{i}" for i, (p, q)
                                                         in enumerate(KL_PAIRS)])
def test_kl_matches_torch(p_spec, q_spec):
    gp, rp = pair(p_spec[0], *p_spec[1], **(p_spec[2] if len(p_spec) > 2 else {}))
    gq, rq = pair(q_spec[0], *q_spec[1], **(q_spec[2] if len(q_spec) > 2 else {}))
    same(gd.kl_divergence(gp, gq), td.kl_divergence(rp, rq), 1e-9)


def test_discrete_kl_and_independent_match_torch():
    q = W[::-1].copy()
    for cls, key in (("Categorical", "probs"), ("OneHotCategorical", "logits")):
        gp, rp = pair(cls, **{key: W})
        gq, rq = pair(cls, **{key: q})
        same(gd.kl_divergence(gp, gq), td.kl_divergence(rp, rq), 1e-9)
    probs = np.array([0.0, 0.3, 1.0, 0.5])
    gp, rp = pair("Bernoulli", probs=probs)
    gq, rq = pair("Bernoulli", probs=np.array([0.6, 0.0, 0.6, 1.0]))
    same(gd.kl_divergence(gp, gq), td.kl_divergence(rp, rq), 1e-9)
    gi = gd.Independent(gd.Normal(gpugrad.tensor(LOC), gpugrad.tensor(SCALE)), 2)
    ri = td.Independent(td.Normal(torch.tensor(LOC), torch.tensor(SCALE)), 2)
    same(gi.log_prob(gpugrad.tensor(X)), ri.log_prob(torch.tensor(X)), 1e-9)
    same(gi.entropy(), ri.entropy(), 1e-9)


def test_gradients_match_torch():
    def grads(lib, mod):
        loc = lib.tensor(LOC, requires_grad=True) if lib is torch else \
            gpugrad.tensor(LOC, dtype="float64", requires_grad=True)
        scale = lib.tensor(SCALE, requires_grad=True) if lib is torch else \
            gpugrad.tensor(SCALE, dtype="float64", requires_grad=True)
        x = lib.tensor(X) if lib is torch else gpugrad.tensor(X, dtype="float64")
        p = mod.Normal(loc, scale)
        q = mod.Laplace(scale, loc ** 2 + 0.5)
        total = (p.log_prob(x).sum() + p.entropy().sum() + mod.kl_divergence(p, q).sum()
                 + mod.LogNormal(loc, scale).log_prob(x.exp()).sum())
        total.backward()
        return loc.grad, scale.grad

    for a, b in zip(grads(gpugrad, gd), grads(torch, td)):
        same(a, b, 1e-9)


def test_repr_and_errors_match_torch():
    g, r = pair("Normal", np.zeros(3), np.ones(3))
    assert repr(g) == "Normal(loc: gpugrad.Size([3]), scale: gpugrad.Size([3]))"
    assert repr(r) == "Normal(loc: torch.Size([3]), scale: torch.Size([3]))"
    for make in (lambda m, x: m.Normal(x([0.0]), x([-1.0])),
                 lambda m, x: m.Categorical(probs=x([0.5, 0.5])).log_prob(x([3.0])),
                 lambda m, x: m.Uniform(x([1.0]), x([0.0]))):
        for mod, x in ((gd, lambda v: gpugrad.tensor(v, dtype="float64")),
                       (td, lambda v: torch.tensor(v, dtype=torch.float64))):
            with pytest.raises(ValueError):
                make(mod, x)
