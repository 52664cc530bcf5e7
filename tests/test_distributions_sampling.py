"""gpugrad.distributions: sample moments (seeded; bounds many standard errors wide, so they
cannot flake), replay under gpugrad.manual_seed, vmap's randomness rules, and gradients of
rsample, log_prob, entropy and kl_divergence against central differences in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.distributions import (Bernoulli, Categorical, Exponential, Independent, Laplace,
                                   LogNormal, MultivariateNormal, Normal, OneHotCategorical,
                                   TransformedDistribution, Uniform, kl_divergence)
from gpugrad.distributions.transforms import TanhTransform

F64 = "float64"
N = 200_000


def t(values, requires_grad=False):
    return gpugrad.tensor(np.asarray(values, dtype=np.float64), dtype=F64,
                          requires_grad=requires_grad)


def _check_moments(samples, mean, var, sigmas=6.0):
    """Sample mean and variance within ``sigmas`` standard errors (variance: through the
    fourth moment, estimated from the samples)."""
    x = samples.numpy().astype(np.float64)
    n = x.shape[0]
    m, v = x.mean(0), x.var(0)
    np.testing.assert_array_less(np.abs(m - mean), sigmas * np.sqrt(var / n) + 1e-12)
    fourth = ((x - m) ** 4).mean(0)
    np.testing.assert_array_less(np.abs(v - var), sigmas * np.sqrt((fourth - v ** 2) / n)
                                 + 1e-12)


@pytest.mark.parametrize("make, mean, var", [
    (lambda: Normal(t([0.0, 2.0]), t([1.0, 0.5])), [0.0, 2.0], [1.0, 0.25]),
    (lambda: Uniform(t([0.0, -1.0]), t([1.0, 3.0])), [0.5, 1.0], [1 / 12, 16 / 12]),
    (lambda: Exponential(t([0.5, 3.0])), [2.0, 1 / 3], [4.0, 1 / 9]),
    (lambda: Laplace(t([1.0]), t([2.0])), [1.0], [8.0]),
    (lambda: LogNormal(t([0.0]), t([0.5])), [math.exp(0.125)],
     [(math.exp(0.25) - 1) * math.exp(0.25)]),
    (lambda: Bernoulli(probs=t([0.1, 0.7])), [0.1, 0.7], [0.09, 0.21]),
    (lambda: Bernoulli(logits=t([0.0])), [0.5], [0.25]),
])
def test_sample_moments(make, mean, var):
    d = make()
    samples = d.sample((N,))
    assert samples.dtype == np.float64 and not samples.requires_grad
    _check_moments(samples, np.array(mean), np.array(var))
    np.testing.assert_allclose(d.mean.numpy(), mean, rtol=1e-12)
    np.testing.assert_allclose(d.variance.numpy(), var, rtol=1e-12)


def test_categorical_and_one_hot_sample_frequencies():
    p = np.array([[0.1, 0.0, 0.6, 0.3], [0.25, 0.25, 0.25, 0.25]])
    samples = Categorical(probs=t(p)).sample((N,))
    assert samples.dtype == np.int64 and samples.shape == (N, 2)
    s = samples.numpy()
    freq = np.stack([(s == k).mean(0) for k in range(4)], -1)
    np.testing.assert_array_less(np.abs(freq - p), 6 * np.sqrt(p * (1 - p) / N) + 1e-12)
    assert (s[:, 0] != 1).all()                     # zero probability: never drawn
    hot = OneHotCategorical(logits=t(np.log(p[1]))).sample((N,)).numpy()
    assert hot.shape == (N, 4) and (hot.sum(-1) == 1).all()
    np.testing.assert_array_less(np.abs(hot.mean(0) - 0.25), 6 * math.sqrt(0.1875 / N))


def test_multivariate_normal_sample_covariance():
    cov = np.array([[2.0, 0.6], [0.6, 0.5]])
    d = MultivariateNormal(t([1.0, -1.0]), covariance_matrix=t(cov))
    x = d.sample((N,)).numpy()
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / N)    # Wishart
    np.testing.assert_array_less(np.abs(np.cov(x.T) - cov), 6 * se)
    np.testing.assert_array_less(np.abs(x.mean(0) - [1.0, -1.0]), 6 * np.sqrt(np.diag(cov) / N))


def test_samples_replay_under_manual_seed_and_move_the_stream():
    d = Normal(t([0.0, 1.0]), t([1.0, 2.0]))
    gpugrad.manual_seed(7)
    a, b = d.sample((3,)), Categorical(probs=t([0.5, 0.5])).sample((5,))
    gpugrad.manual_seed(7)
    assert (d.sample((3,)) == a).all() and (Categorical(probs=t([0.5, 0.5])).sample((5,))
                                            == b).all()
    assert not (d.sample((3,)) == a).all()
    for dtype in ("float32", "float64"):
        assert Normal(gpugrad.zeros(2, dtype=dtype), 1.0).sample().dtype == np.dtype(dtype)


def test_vmap_randomness_rules():
    locs = t([0.0, 100.0, 200.0])

    def draw(loc):
        return Normal(loc, 1.0, validate_args=False).rsample((2,))

    with pytest.raises(RuntimeError, match="randomness"):
        gpugrad.vmap(draw)(locs)
    different = gpugrad.vmap(draw, randomness="different")(locs).numpy()
    same = gpugrad.vmap(draw, randomness="same")(locs).numpy()
    assert different.shape == same.shape == (3, 2)
    noise_d, noise_s = different - locs.numpy()[:, None], same - locs.numpy()[:, None]
    assert not np.allclose(noise_d[0], noise_d[1])
    np.testing.assert_allclose(noise_s[0], noise_s[1], atol=1e-9)
    np.testing.assert_allclose(noise_s[0], noise_s[2], atol=1e-9)


# -------------------------------------------------------------------------------------------
# gradients: central differences in float64
# -------------------------------------------------------------------------------------------

def _gradcheck(fn, *values):
    inputs = tuple(t(v, requires_grad=True) for v in values)
    assert gpugrad.gradcheck(lambda *xs: fn(*xs), inputs, eps=1e-6, atol=1e-6, rtol=1e-5)


def test_rsample_is_reparameterised():
    for make in (lambda a, b: Normal(a, b), lambda a, b: Laplace(a, b),
                 lambda a, b: Uniform(a, a + b), lambda a, b: LogNormal(a, b),
                 lambda a, b: Exponential(b)):
        def fn(a, b):
            gpugrad.manual_seed(3)                  # the same noise at every evaluation
            return make(a, b).rsample((4,))
        _check = fn(t([0.2, -0.4], True), t([0.7, 1.3], True))
        assert _check.requires_grad
        _gradcheck(fn, [0.2, -0.4], [0.7, 1.3])
    loc = t([1.0, 2.0], True)
    noise = Normal(loc, 1.0).rsample((5,))
    noise.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [5.0, 5.0])
    assert not Normal(loc, 1.0).sample().requires_grad
    with pytest.raises(NotImplementedError, match="has no rsample"):
        Bernoulli(probs=t([0.5])).rsample()


def test_multivariate_normal_rsample_flows_through_the_cholesky_factor():
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])

    def fn(loc, c):
        gpugrad.manual_seed(5)
        sym = (c + c.mT) / 2
        return MultivariateNormal(loc, covariance_matrix=sym).rsample((3,))

    _gradcheck(fn, [0.5, -0.5], cov)


def test_log_prob_and_entropy_gradients():
    x = t([0.3, -1.2])
    _gradcheck(lambda a, b: Normal(a, b).log_prob(x) + Normal(a, b).entropy(),
               [0.1, 0.5], [0.8, 1.7])
    _gradcheck(lambda a, b: Laplace(a, b).log_prob(x) + Laplace(a, b).entropy(),
               [0.1, 0.5], [0.8, 1.7])
    _gradcheck(lambda r: Exponential(r).log_prob(t([0.3, 1.2])) + Exponential(r).entropy(),
               [0.8, 1.7])
    _gradcheck(lambda p: Bernoulli(probs=p).log_prob(t([1.0, 0.0])) + Bernoulli(probs=p).entropy(),
               [0.3, 0.8])
    _gradcheck(lambda z: Bernoulli(logits=z).log_prob(t([1.0, 0.0])) +
               Bernoulli(logits=z).entropy(), [0.0, -1.5])
    _gradcheck(lambda z: Categorical(logits=z).log_prob(gpugrad.tensor([2, 0])) +
               Categorical(logits=z).entropy(), [[0.1, -0.3, 0.9], [1.0, 0.0, -2.0]])
    _gradcheck(lambda p: Categorical(probs=p).log_prob(gpugrad.tensor([1])) +
               Categorical(probs=p).entropy(), [[0.2, 0.5, 0.3]])
    _gradcheck(lambda a, b: LogNormal(a, b).log_prob(t([0.5, 2.0])), [0.1, 0.5], [0.8, 1.7])
    _gradcheck(lambda a, b: Normal(a, b).cdf(x) + Normal(a, b).icdf(t([0.1, 0.8])),
               [0.1, 0.5], [0.8, 1.7])

    def mvn(loc, L):
        d = MultivariateNormal(loc, scale_tril=L.tril() + t(np.eye(2)) * 0.0)
        return d.log_prob(t([[0.2, 0.1], [1.0, -1.0]])).sum() + d.entropy()

    _gradcheck(mvn, [0.3, -0.2], [[1.2, 0.0], [0.4, 0.9]])
    squashed = lambda a, b: TransformedDistribution(Normal(a, b), [TanhTransform()])  # noqa
    _gradcheck(lambda a, b: squashed(a, b).log_prob(t([0.2, -0.7])), [0.1, 0.5], [0.8, 1.7])


def test_kl_gradients():
    _gradcheck(lambda a, b, c, d: kl_divergence(Normal(a, b), Normal(c, d)),
               [0.1, 0.5], [0.8, 1.7], [-0.3, 0.0], [1.1, 0.6])
    _gradcheck(lambda a, b, c, d: kl_divergence(Laplace(a, b), Normal(c, d)),
               [0.1, 0.5], [0.8, 1.7], [-0.3, 0.0], [1.1, 0.6])
    _gradcheck(lambda a, b, c, d: kl_divergence(Normal(a, b), Laplace(c, d)),
               [0.1, 0.5], [0.8, 1.7], [-0.3, 0.0], [1.1, 0.6])
    _gradcheck(lambda p, q: kl_divergence(Categorical(logits=p), Categorical(logits=q)),
               [0.1, 0.5, -1.0], [0.8, -1.7, 0.0])
    _gradcheck(lambda p, q: kl_divergence(Bernoulli(probs=p), Bernoulli(probs=q)),
               [0.2, 0.6], [0.7, 0.4])
    _gradcheck(lambda a, b: kl_divergence(Exponential(a), Exponential(b)), [0.5], [2.0])
    _gradcheck(lambda a, b: kl_divergence(Independent(Normal(a, 1.0), 1),
                                          Independent(Normal(b, 2.0), 1)), [0.5, 1.0], [2.0, 0.0])

    def mvn(m, L1, L2):
        p = MultivariateNormal(m, scale_tril=L1.tril())
        q = MultivariateNormal(m * 0.5, scale_tril=L2.tril())
        return kl_divergence(p, q)

    _gradcheck(mvn, [0.3, -0.2], [[1.2, 0.0], [0.4, 0.9]], [[0.7, 0.0], [-0.2, 1.5]])
