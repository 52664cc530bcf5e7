"""Multinomial, MixtureSameFamily, LowRankMultivariateNormal and the KL pairs of
gpugrad/distributions/kl_more.py: by hand in float64 (math.lgamma, enumeration, dense
NumPy Gaussians, quadrature), seeded sample moments, rsample gradients against finite
differences, and torch's numbers where torch is installed."""

import itertools
import math

import numpy as np
import pytest

import gpugrad
from gpugrad.distributions import (Beta, Categorical, Exponential, Gamma, Independent,
                                   MultivariateNormal, Normal, Uniform, kl_divergence)
from gpugrad.distributions import kl_more  # registers its KL pairs
from gpugrad.distributions.continuous_bernoulli import ContinuousBernoulli
from gpugrad.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from gpugrad.distributions.mixture import MixtureSameFamily
from gpugrad.distributions.multinomial import Multinomial


def f64(values, requires_grad=False):
    return gpugrad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def _multinomial_log_pmf(counts, p):
    n = sum(counts)
    return (math.lgamma(n + 1) - sum(math.lgamma(c + 1) for c in counts)
            + sum(c * math.log(q) for c, q in zip(counts, p) if c))


def test_multinomial_by_hand():
    p = np.array([0.2, 0.3, 0.5])
    d = Multinomial(4, probs=f64(p * 7))                    # normalised over the last dim
    counts = [c for c in itertools.product(range(5), repeat=3) if sum(c) == 4]
    lp = d.log_prob(f64(counts)).numpy()
    np.testing.assert_allclose(lp, [_multinomial_log_pmf(c, p) for c in counts], rtol=1e-12)
    assert np.exp(lp).sum() == pytest.approx(1.0)
    assert d.entropy().item() == pytest.approx(-(np.exp(lp) * lp).sum(), rel=1e-12)
    np.testing.assert_allclose(d.mean.numpy(), 4 * p)
    np.testing.assert_allclose(d.variance.numpy(), 4 * p * (1 - p))
    zero = Multinomial(2, probs=f64([0.0, 1.0]))           # 0 draws of a 0-probability class
    assert zero.log_prob(f64([0.0, 2.0])).item() == pytest.approx(0.0, abs=1e-15)
    assert Multinomial(logits=f64(np.log(p))).log_prob(f64([0.0, 1.0, 0.0])).item() == \
        pytest.approx(math.log(0.3))
    with pytest.raises(NotImplementedError, match="inhomogeneous"):
        Multinomial(f64(3.0), probs=f64(p))
    with pytest.raises(ValueError, match="support"):
        d.log_prob(f64([3.0, 3.0, 0.0]))                    # sums to more than total_count


def test_multinomial_samples_and_shapes():
    gpugrad.manual_seed(0)
    d = Multinomial(6, probs=f64([[0.1, 0.9, 0.0], [0.2, 0.3, 0.5]]))
    x = d.sample((20000,))
    assert x.shape == (20000, 2, 3) and x.dtype == np.float64
    a = x.numpy()
    assert (a.sum(-1) == 6).all() and (a[:, 0, 2] == 0).all()
    np.testing.assert_allclose(a.mean(0), d.mean.numpy(), atol=4 * math.sqrt(1.5 / 20000))
    e = d.expand((4, 2))
    assert e.batch_shape == (4, 2) and e.event_shape == (3,)
    assert e.sample().shape == (4, 2, 3) and e.entropy().shape == (4, 2)
    assert Multinomial(0, logits=f64([0.0, 0.0])).sample((2,)).tolist() == [[0.0, 0.0]] * 2


def _normal_pdf(x, mu, s):
    return np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def test_mixture_by_hand():
    w, mu, s = np.array([0.2, 0.5, 0.3]), np.array([-1.0, 0.5, 2.0]), np.array([0.5, 1.0, 2.0])
    gmm = MixtureSameFamily(Categorical(probs=f64(w)), Normal(f64(mu), f64(s)))
    x = np.array([-2.0, 0.0, 0.7, 3.0])
    dens = (w * _normal_pdf(x[:, None], mu, s)).sum(-1)
    np.testing.assert_allclose(gmm.log_prob(f64(x)).numpy(), np.log(dens), rtol=1e-12)
    cdf = (w * 0.5 * (1 + np.vectorize(math.erf)((x[:, None] - mu) / (s * math.sqrt(2))))).sum(-1)
    np.testing.assert_allclose(gmm.cdf(f64(x)).numpy(), cdf, rtol=1e-12)
    mean = (w * mu).sum()
    assert gmm.mean.item() == pytest.approx(mean)
    assert gmm.variance.item() == pytest.approx((w * (s ** 2 + mu ** 2)).sum() - mean ** 2)
    gpugrad.manual_seed(0)
    samples = gmm.sample((40000,)).numpy()
    sd = math.sqrt(gmm.variance.item())
    assert abs(samples.mean() - mean) < 4 * sd / 200
    assert abs(samples.var() - sd ** 2) < 0.1 * sd ** 2
    logits = f64(np.log(w), requires_grad=True)
    MixtureSameFamily(Categorical(logits=logits), Normal(f64(mu), f64(s))).log_prob(
        f64(0.0)).backward()
    resp = w * _normal_pdf(0.0, mu, s)                     # d/dlogits: posterior - prior
    np.testing.assert_allclose(logits.grad.numpy(), resp / resp.sum() - w, rtol=1e-10)


def test_mixture_batches_and_events():
    mix = Categorical(logits=gpugrad.zeros(3, 5))
    comp = Independent(Normal(gpugrad.zeros(3, 5, 2), gpugrad.ones(3, 5, 2)), 1)
    gmm = MixtureSameFamily(mix, comp)
    assert gmm.batch_shape == (3,) and gmm.event_shape == (2,)
    assert gmm.log_prob(gpugrad.zeros(4, 3, 2)).shape == (4, 3)
    assert gmm.mean.shape == (3, 2) and gmm.variance.shape == (3, 2)
    assert gmm.expand((6, 3)).sample((2,)).shape == (2, 6, 3, 2)
    # a mixture of batch shape () over batched components: a choice per batch entry
    gpugrad.manual_seed(1)
    shared = MixtureSameFamily(Categorical(probs=f64([0.5, 0.5])),
                               Normal(f64([[-100.0, 100.0]] * 8), f64(1e-3)))
    x = shared.sample((500,)).numpy()
    assert x.shape == (500, 8) and 0.4 < (x > 0).mean() < 0.6
    assert not ((x > 0).all(1) | (x < 0).all(1)).all()
    with pytest.raises(ValueError, match="components"):
        MixtureSameFamily(Categorical(logits=gpugrad.zeros(4)), Normal(gpugrad.zeros(5), 1.0))
    with pytest.raises(ValueError, match="Categorical"):
        MixtureSameFamily(Normal(0.0, 1.0), Normal(gpugrad.zeros(5), 1.0))


def _dense_gaussian_logpdf(x, mu, cov):
    diff = x - mu
    _, logdet = np.linalg.slogdet(cov)
    maha = np.einsum("...i,ij,...j->...", diff, np.linalg.inv(cov), diff)
    return -0.5 * (len(mu) * math.log(2 * math.pi) + logdet + maha)


def _dense_kl(m0, c0, m1, c1):
    inv1 = np.linalg.inv(c1)
    return 0.5 * (np.trace(inv1 @ c0) + (m1 - m0) @ inv1 @ (m1 - m0) - len(m0)
                  + np.linalg.slogdet(c1)[1] - np.linalg.slogdet(c0)[1])


def test_lowrank_by_hand():
    rng = np.random.default_rng(0)
    loc, W, D = rng.normal(size=4), rng.normal(size=(4, 2)), rng.uniform(0.5, 2.0, 4)
    cov = W @ W.T + np.diag(D)
    d = LowRankMultivariateNormal(f64(loc), f64(W), f64(D))
    x = rng.normal(size=(3, 4))
    np.testing.assert_allclose(d.log_prob(f64(x)).numpy(), _dense_gaussian_logpdf(x, loc, cov),
                               rtol=1e-12)
    assert d.entropy().item() == pytest.approx(
        0.5 * (4 * (1 + math.log(2 * math.pi)) + np.linalg.slogdet(cov)[1]), rel=1e-12)
    np.testing.assert_allclose(d.covariance_matrix.numpy(), cov, rtol=1e-12)
    np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(cov), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(d.scale_tril.numpy(), np.linalg.cholesky(cov), rtol=1e-10)
    np.testing.assert_allclose(d.variance.numpy(), np.diag(cov), rtol=1e-12)
    gpugrad.manual_seed(0)
    s = d.sample((40000,)).numpy()
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.12)
    np.testing.assert_allclose(s.mean(0), loc, atol=4 * math.sqrt(np.diag(cov).max() / 40000))


def test_lowrank_shapes_and_rsample_gradient():
    d = LowRankMultivariateNormal(gpugrad.zeros(3, 4), gpugrad.ones(4, 2), gpugrad.ones(2, 1, 4))
    assert d.batch_shape == (2, 3) and d.event_shape == (4,)
    assert d.rsample((5,)).shape == (5, 2, 3, 4) and d.entropy().shape == (2, 3)
    assert d.expand((7, 2, 3)).log_prob(gpugrad.zeros(4)).shape == (7, 2, 3)
    with pytest.raises(ValueError, match="cov_factor"):
        LowRankMultivariateNormal(gpugrad.zeros(3), gpugrad.ones(4, 2), gpugrad.ones(3))
    rng = np.random.default_rng(1)
    loc, W, D = rng.normal(size=3), rng.normal(size=(3, 2)), rng.uniform(0.5, 2.0, 3)

    def loss(w_values, d_values, requires_grad=False):
        w = f64(w_values, requires_grad)
        dd = f64(d_values, requires_grad)
        gpugrad.manual_seed(5)
        x = LowRankMultivariateNormal(f64(loc), w, dd).rsample((4,))
        return (x ** 2).sum(), w, dd

    out, w, dd = loss(W, D, True)
    out.backward()
    h = 1e-6
    for grad, base, is_w in [(w.grad.numpy(), W, True), (dd.grad.numpy(), D, False)]:
        fd = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            up, down = base.copy(), base.copy()
            up[idx] += h
            down[idx] -= h
            args_up = (up, D) if is_w else (W, up)
            args_down = (down, D) if is_w else (W, down)
            fd[idx] = (loss(*args_up)[0].item() - loss(*args_down)[0].item()) / (2 * h)
        np.testing.assert_allclose(grad, fd, rtol=1e-5)


def test_lowrank_kl_pairs_by_hand():
    rng = np.random.default_rng(2)
    m0, W0, D0 = rng.normal(size=4), rng.normal(size=(4, 2)), rng.uniform(0.5, 2.0, 4)
    m1, W1, D1 = rng.normal(size=4), rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, 4)
    c0, c1 = W0 @ W0.T + np.diag(D0), W1 @ W1.T + np.diag(D1)
    p = LowRankMultivariateNormal(f64(m0), f64(W0), f64(D0))
    q = LowRankMultivariateNormal(f64(m1), f64(W1), f64(D1))
    fp = MultivariateNormal(f64(m0), covariance_matrix=f64(c0))
    fq = MultivariateNormal(f64(m1), covariance_matrix=f64(c1))
    for a, b in [(p, q), (fp, q), (p, fq)]:
        assert kl_divergence(a, b).item() == pytest.approx(_dense_kl(m0, c0, m1, c1), rel=1e-10)
    assert kl_divergence(p, p).item() == pytest.approx(0.0, abs=1e-12)
    batched = LowRankMultivariateNormal(f64(m0), f64(W0), f64(np.stack([D0, D1])))
    assert kl_divergence(batched, fq).shape == (2,)


def _quad_kl(log_p, log_q, lo=0.0, hi=1.0, n=200001):
    x = np.linspace(lo, hi, n)
    lp, lq = log_p(x), log_q(x)
    y = np.exp(lp) * (lp - lq)
    return float(((y[1:] + y[:-1]) * np.diff(x)).sum() / 2)


def _cb_log_density(p):
    c = 2 * math.atanh(1 - 2 * p) / (1 - 2 * p)
    return lambda x: math.log(c) + x * math.log(p) + (1 - x) * math.log1p(-p)


def test_continuous_bernoulli_kl_pairs_by_quadrature():
    assert kl_more.__all__ == []                                # (imported to register)
    p, q = ContinuousBernoulli(f64(0.2)), ContinuousBernoulli(f64(0.7))
    assert kl_divergence(p, q).item() == pytest.approx(
        _quad_kl(_cb_log_density(0.2), _cb_log_density(0.7)), abs=1e-8)
    flat = lambda x: np.zeros_like(x)                          # noqa: E731  Uniform(0, 1)
    assert kl_divergence(p, Uniform(f64(0.0), f64(1.0))).item() == pytest.approx(
        _quad_kl(_cb_log_density(0.2), flat), abs=1e-8)
    assert kl_divergence(Uniform(f64(0.0), f64(1.0)), q).item() == pytest.approx(
        _quad_kl(flat, _cb_log_density(0.7)), abs=1e-8)
    assert kl_divergence(Uniform(f64(0.2), f64(0.6)), q).item() == pytest.approx(
        _quad_kl(lambda x: np.full_like(x, -math.log(0.4)), _cb_log_density(0.7), 0.2, 0.6),
        abs=1e-8)
    assert kl_divergence(p, Exponential(f64(2.0))).item() == pytest.approx(
        _quad_kl(_cb_log_density(0.2), lambda x: math.log(2.0) - 2 * x), abs=1e-8)
    normal = lambda x: np.log(_normal_pdf(x, 0.3, 1.5))         # noqa: E731
    assert kl_divergence(p, Normal(f64(0.3), f64(1.5))).item() == pytest.approx(
        _quad_kl(_cb_log_density(0.2), normal), abs=1e-8)
    beta_pdf = lambda x: np.log(np.clip(6 * x * (1 - x), 1e-300, None))  # noqa: E731
    assert kl_divergence(Beta(f64(2.0), f64(2.0)), q).item() == pytest.approx(
        _quad_kl(beta_pdf, _cb_log_density(0.7)), abs=1e-7)
    assert kl_divergence(p, Uniform(f64(0.1), f64(1.0))).item() == math.inf
    assert kl_divergence(Uniform(f64(-0.1), f64(1.0)), q).item() == math.inf
    for other in [Normal(f64(0.0), f64(1.0)), Exponential(f64(1.0)), Gamma(f64(2.0), f64(1.0))]:
        assert kl_divergence(other, q).item() == math.inf


def test_against_torch():
    torch = pytest.importorskip("torch")
    TD = torch.distributions
    rng = np.random.default_rng(3)

    def t(values):
        return torch.tensor(np.asarray(values, dtype=np.float64))

    def close(ours, theirs, rtol=1e-10):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                                   atol=1e-12)

    pm, xs = rng.uniform(size=(2, 3)), np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0]])
    ours, theirs = Multinomial(3, f64(pm)), TD.Multinomial(3, t(pm))
    close(ours.log_prob(f64(xs)), theirs.log_prob(t(xs)))
    close(ours.entropy(), theirs.entropy(), rtol=1e-6)         # torch's lgamma(n + 1): float32
    ml, cl, cs = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.uniform(0.5, 2, (2, 3))
    ours = MixtureSameFamily(Categorical(logits=f64(ml)), Normal(f64(cl), f64(cs)))
    theirs = TD.MixtureSameFamily(TD.Categorical(logits=t(ml)), TD.Normal(t(cl), t(cs)))
    x = rng.normal(size=(5, 2))
    for a, b in [(ours.mean, theirs.mean), (ours.variance, theirs.variance),
                 (ours.log_prob(f64(x)), theirs.log_prob(t(x))), (ours.cdf(f64(x)),
                 theirs.cdf(t(x)))]:
        close(a, b)
    loc, W, D = rng.normal(size=(2, 4)), rng.normal(size=(2, 4, 2)), rng.uniform(0.5, 2, 4)
    ours = LowRankMultivariateNormal(f64(loc), f64(W), f64(D))
    theirs = TD.LowRankMultivariateNormal(t(loc), t(W), t(D))
    x = rng.normal(size=(3, 2, 4))
    for a, b in [(ours.log_prob(f64(x)), theirs.log_prob(t(x))),
                 (ours.entropy(), theirs.entropy()), (ours.scale_tril, theirs.scale_tril),
                 (ours.precision_matrix, theirs.precision_matrix)]:
        close(a, b)
    loc2, W2, D2 = rng.normal(size=4), rng.normal(size=(4, 3)), rng.uniform(0.5, 2, (2, 4))
    oq, tq = (LowRankMultivariateNormal(f64(loc2), f64(W2), f64(D2)),
              TD.LowRankMultivariateNormal(t(loc2), t(W2), t(D2)))
    cov = np.eye(4) + 0.3
    om, tm = (MultivariateNormal(f64(loc2), covariance_matrix=f64(cov)),
              TD.MultivariateNormal(t(loc2), covariance_matrix=t(cov)))
    for a, b in [(ours, oq), (om, oq), (ours, om)]:
        ta = {id(ours): theirs, id(om): tm, id(oq): tq}
        close(kl_divergence(a, b), TD.kl_divergence(ta[id(a)], ta[id(b)]))
    cb, tcb = ContinuousBernoulli(f64([0.2, 0.7])), TD.ContinuousBernoulli(t([0.2, 0.7]))
    cb2, tcb2 = (ContinuousBernoulli(logits=f64([-1.0, 0.001])),
                 TD.ContinuousBernoulli(logits=t([-1.0, 0.001])))
    pairs = [(cb, tcb, cb2, tcb2),
             (Beta(f64([2.0, 0.5]), f64([3.0, 1.0])), TD.Beta(t([2.0, 0.5]), t([3.0, 1.0])),
              cb, tcb),
             (cb, tcb, Exponential(f64([2.0, 0.5])), TD.Exponential(t([2.0, 0.5]))),
             (cb, tcb, Normal(f64([2.0, 0.5]), f64([1.0, 3.0])),
              TD.Normal(t([2.0, 0.5]), t([1.0, 3.0]))),
             # strictly inside / outside (torch's pairs give inf where the ends touch)
             (cb, tcb, Uniform(f64([-1.0, 0.5]), f64([2.0, 3.0])),
              TD.Uniform(t([-1.0, 0.5]), t([2.0, 3.0]))),
             (Uniform(f64([0.1, 0.5]), f64([0.9, 3.0])), TD.Uniform(t([0.1, 0.5]), t([0.9, 3.0])),
              cb, tcb),
             (Normal(f64([0.1, 0.5]), f64([0.9, 3.0])), TD.Normal(t([0.1, 0.5]), t([0.9, 3.0])),
              cb, tcb)]
    for op, tp, oq, tq in pairs:
        close(kl_divergence(op, oq), TD.kl_divergence(tp, tq))
