"""RelaxedBernoulli, LogitRelaxedBernoulli, RelaxedOneHotCategorical, ExpRelaxedCategorical:
densities against the Concrete closed forms (Maddison et al. 2017) in float64, rsample
gradients against finite differences under a fixed seed, shapes/expand, and torch's
numbers where torch is installed."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.distributions import (ExpRelaxedCategorical, LogitRelaxedBernoulli,
                                   RelaxedBernoulli, RelaxedOneHotCategorical)


def f64(values):
    return gpugrad.tensor(np.asarray(values, dtype=np.float64))


def test_relaxed_bernoulli_density_is_the_binary_concrete():
    lam, logits = 0.7, np.array([0.4, -1.3])
    d = RelaxedBernoulli(f64(lam), logits=f64(logits))
    x = np.array([0.3, 0.9])
    a = np.exp(logits)
    want = (lam * a * x ** (-lam - 1) * (1 - x) ** (-lam - 1)
            / (a * x ** -lam + (1 - x) ** -lam) ** 2)
    np.testing.assert_allclose(d.log_prob(f64(x)).numpy(), np.log(want), rtol=1e-10)
    # the logit: a logistic of location logits / lam and scale 1 / lam
    z = np.array([0.5, -2.0])
    u = lam * z - logits
    np.testing.assert_allclose(LogitRelaxedBernoulli(f64(lam), logits=f64(logits)).log_prob(
        f64(z)).numpy(), math.log(lam) - u - 2 * np.log1p(np.exp(-u)), rtol=1e-10)
    assert d.probs.numpy() == pytest.approx(1 / (1 + np.exp(-logits)))


def test_relaxed_one_hot_density_is_the_concrete():
    lam, logits = 0.6, np.array([0.2, -0.9, 1.0])
    d = RelaxedOneHotCategorical(f64(lam), logits=f64(logits))
    x = np.array([0.2, 0.3, 0.5])
    a = np.exp(logits)
    n = 3
    want = (math.log(math.factorial(n - 1)) + (n - 1) * math.log(lam)
            + np.log(a * x ** (-lam - 1)).sum() - n * math.log((a * x ** -lam).sum()))
    assert d.log_prob(f64(x)).item() == pytest.approx(want, rel=1e-10)
    e = ExpRelaxedCategorical(f64(lam), logits=f64(logits))
    assert e.log_prob(f64(np.log(x))).item() == pytest.approx(want + np.log(x).sum(),
                                                              rel=1e-10)


def test_samples_shapes_support_and_expand():
    gpugrad.manual_seed(0)
    d = RelaxedOneHotCategorical(f64(0.5), probs=f64([[0.2, 0.8], [0.5, 0.5]]))
    s = d.rsample((4,))
    assert s.shape == (4, 2, 2) and d.batch_shape == (2,) and d.event_shape == (2,)
    np.testing.assert_allclose(s.sum(-1).numpy(), np.ones((4, 2)), rtol=1e-12)
    assert d.expand((3, 2)).sample().shape == (3, 2, 2)
    b = RelaxedBernoulli(f64(0.5), probs=0.3)
    assert b.batch_shape == () and b.sample((5,)).shape == (5,)
    x = RelaxedBernoulli(f64(0.5), probs=f64([0.1, 0.9])).expand((3, 2)).rsample()
    assert x.shape == (3, 2) and bool(((x > 0) & (x < 1)).all())
    with pytest.raises(ValueError, match="but not both"):
        RelaxedBernoulli(f64(0.5), probs=0.3, logits=0.1)
    # low temperature: samples near the vertices, with the right frequencies
    gpugrad.manual_seed(1)
    hard = RelaxedBernoulli(f64(0.05), probs=f64(0.3)).sample((20000,)).numpy()
    assert abs((hard > 0.5).mean() - 0.3) < 0.02


def grad_check(make, params, seed=5, eps=1e-6):
    ps = [f64(p).requires_grad_() for p in params]

    def weighted(x):
        return (x * (1.0 + gpugrad.arange(x.shape[-1], dtype="float64"))).sum()
    gpugrad.manual_seed(seed)
    weighted(make(*ps).rsample((3,))).backward()
    for i, p in enumerate(params):
        for j in range(np.size(p)):
            def value(delta):
                args = [np.array(q, dtype=np.float64) for q in params]
                args[i] = args[i].copy()
                args[i].flat[j] += delta
                gpugrad.manual_seed(seed)
                return weighted(make(*[f64(q) for q in args]).rsample((3,))).item()
            fd = (value(eps) - value(-eps)) / (2 * eps)
            assert np.ravel(ps[i].grad.numpy())[j] == pytest.approx(fd, rel=1e-5, abs=1e-8)


def test_rsample_gradients_match_finite_differences():
    grad_check(lambda t, lg: RelaxedBernoulli(t, logits=lg), [0.7, [0.4, -1.3]])
    grad_check(lambda t, lg: RelaxedOneHotCategorical(t, logits=lg), [0.7, [0.2, -0.9, 1.0]])


def test_relaxed_match_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    t = torch.tensor(0.7, dtype=torch.float64)
    for name, kw in (("RelaxedBernoulli", {"probs": [0.2, 0.9]}),
                     ("RelaxedOneHotCategorical", {"logits": [0.2, -0.9, 1.0]})):
        a = getattr(gpugrad.distributions, name)(f64(0.7), **{k: f64(v) for k, v in kw.items()})
        b = getattr(td, name)(t, **{k: torch.tensor(v, dtype=torch.float64)
                                    for k, v in kw.items()})
        s = b.sample((4,))
        np.testing.assert_allclose(a.log_prob(f64(s.numpy())).numpy(), b.log_prob(s).numpy(),
                                   rtol=1e-10)
        assert (a.batch_shape, a.event_shape) == (tuple(b.batch_shape), tuple(b.event_shape))
        assert a.has_rsample == b.has_rsample and repr(a.support) == repr(b.support)
        assert a.base_dist.has_rsample == b.base_dist.has_rsample
