"""The counting families (Poisson, Binomial, Geometric), Cauchy, Gumbel and HalfNormal,
and the KL pairs of gpugrad/distributions/kl_families.py: by hand in float64 (math.lgamma,
sums over the support, quadrature), sampling moments under fixed seeds, and torch's numbers
where torch is installed."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.distributions import (Bernoulli, Beta, Binomial, Cauchy, Dirichlet, Exponential,
                                   Gamma, Geometric, Gumbel, HalfNormal, Normal, Poisson,
                                   Uniform, kl_divergence)


def f64(values):
    return gpugrad.tensor(values, dtype="float64")


def test_counting_log_probs_by_hand():
    k = 3.0
    assert Poisson(f64(2.0)).log_prob(f64(k)).item() == pytest.approx(
        -2 + k * math.log(2) - math.lgamma(k + 1))
    assert Binomial(5, probs=f64(0.3)).log_prob(f64(2.0)).item() == pytest.approx(
        math.log(10 * 0.3 ** 2 * 0.7 ** 3))
    assert Binomial(5, logits=f64(0.4)).probs.item() == pytest.approx(1 / (1 + math.exp(-0.4)))
    assert Geometric(probs=f64(0.3)).log_prob(f64(2.0)).item() == pytest.approx(
        math.log(0.7 ** 2 * 0.3))
    assert Geometric(probs=f64(1.0)).log_prob(f64(0.0)).item() == 0.0


def test_counting_entropies_are_sums_over_the_support():
    d = Binomial(6, probs=f64([0.2, 0.5]))
    k = np.arange(7.0)
    for i, p in enumerate([0.2, 0.5]):
        pmf = np.array([math.comb(6, int(j)) * p ** j * (1 - p) ** (6 - j) for j in k])
        assert d.entropy()[i].item() == pytest.approx(-(pmf * np.log(pmf)).sum())
    p = 0.35
    pmf = np.array([(1 - p) ** j * p for j in range(400)])
    assert Geometric(probs=f64(p)).entropy().item() == pytest.approx(
        -(pmf * np.log(pmf)).sum())
    with pytest.raises(NotImplementedError, match="Inhomogeneous"):
        Binomial(f64([2.0, 3.0]), probs=f64([0.5, 0.5])).entropy()


def test_counting_samples_moments_and_seed():
    gpugrad.manual_seed(0)
    x = Poisson(f64([0.5, 4.0])).sample((20000,)).numpy()
    np.testing.assert_allclose(x.mean(0), [0.5, 4.0], atol=4 * math.sqrt(4 / 20000))
    y = Binomial(f64([10.0, 3.0]), probs=f64([0.3, 0.9])).sample((20000,)).numpy()
    np.testing.assert_allclose(y.mean(0), [3.0, 2.7], atol=0.04)
    assert y.max() <= 10 and (y % 1 == 0).all()
    z = Geometric(probs=f64(0.25)).sample((20000,)).numpy()
    assert abs(z.mean() - 3.0) < 4 * math.sqrt(12 / 20000)
    gpugrad.manual_seed(9)
    a = Poisson(gpugrad.ones(4)).sample()
    gpugrad.manual_seed(9)
    np.testing.assert_array_equal(a.numpy(), Poisson(gpugrad.ones(4)).sample().numpy())
    assert a.dtype == np.float32


def test_continuous_families_by_hand():
    c = Cauchy(f64(1.0), f64(2.0))
    assert c.log_prob(f64(3.0)).item() == pytest.approx(-math.log(2 * math.pi * 2))
    assert c.cdf(f64(3.0)).item() == pytest.approx(0.75) and math.isnan(c.mean.item())
    assert c.icdf(f64(0.75)).item() == pytest.approx(3.0)
    g = Gumbel(f64(0.5), f64(2.0))
    z = (1.2 - 0.5) / 2.0
    assert g.log_prob(f64(1.2)).item() == pytest.approx(-z - math.exp(-z) - math.log(2.0))
    assert g.icdf(g.cdf(f64(1.2))).item() == pytest.approx(1.2)
    h = HalfNormal(f64(1.5))
    assert h.log_prob(f64(1.0)).item() == pytest.approx(
        math.log(2) - 0.5 * math.log(2 * math.pi) - math.log(1.5) - 1 / (2 * 2.25))
    assert h.cdf(f64(1.0)).item() == pytest.approx(math.erf(1 / (1.5 * math.sqrt(2))))
    gpugrad.manual_seed(1)
    s = h.sample((40000,)).numpy()
    assert abs(s.mean() - 1.5 * math.sqrt(2 / math.pi)) < 4 * h.stddev.item() / 200
    t = g.sample((40000,)).numpy()
    assert abs(t.mean() - g.mean.item()) < 4 * g.stddev.item() / 200


def test_kl_pairs_are_expectations_of_the_log_ratio():
    """KL(p || q) = E_p[log p - log q], checked by a large fixed-seed sample."""
    gpugrad.manual_seed(2)
    pairs = [(Gamma(f64(2.0), f64(1.5)), Gamma(f64(3.0), f64(1.0))),
             (Beta(f64(2.0), f64(3.0)), Beta(f64(1.0), f64(1.5))),
             (Dirichlet(f64([1.0, 2.0, 3.0])), Dirichlet(f64([2.0, 2.0, 2.0]))),
             (Poisson(f64(3.0)), Poisson(f64(2.0))),
             (Exponential(f64(2.0)), Gamma(f64(2.0), f64(3.0))),
             (Gamma(f64(2.0), f64(1.5)), Normal(f64(1.0), f64(2.0))),
             (Gumbel(f64(0.0), f64(1.0)), Gumbel(f64(1.0), f64(2.0))),
             (Cauchy(f64(0.0), f64(1.0)), Cauchy(f64(1.0), f64(2.0))),
             (HalfNormal(f64(1.0)), HalfNormal(f64(2.0))),
             (Geometric(probs=f64(0.3)), Geometric(probs=f64(0.5)))]
    for p, q in pairs:
        x = p.sample((200000,))
        ratio = (p.log_prob(x) - q.log_prob(x)).numpy()
        exact = kl_divergence(p, q).item()
        assert abs(exact - ratio.mean()) < 5 * ratio.std() / math.sqrt(ratio.size) + 1e-9, \
            (type(p).__name__, type(q).__name__, exact, ratio.mean())


def test_kl_gradients_match_finite_differences():
    def kl(a):
        return kl_divergence(Gamma(a, f64(1.5)), Gamma(f64(3.0), f64(1.0)))
    a = f64(2.0).requires_grad_()
    kl(a).backward()
    h = 1e-6
    fd = (kl(f64(2.0 + h)).item() - kl(f64(2.0 - h)).item()) / (2 * h)
    assert a.grad.item() == pytest.approx(fd, rel=1e-6)


def test_kl_infinite_pairs_and_binomial_counts():
    assert kl_divergence(Gamma(f64(1.0), f64(1.0)), Uniform(f64(0.0), f64(1.0))).item() \
        == math.inf
    assert kl_divergence(Binomial(5, probs=f64(0.3)), Binomial(4, probs=f64(0.3))).item() \
        == math.inf
    with pytest.raises(NotImplementedError):
        kl_divergence(Binomial(3, probs=f64(0.3)), Binomial(4, probs=f64(0.3)))


def test_against_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    t = lambda v: torch.tensor(v, dtype=torch.float64)    # noqa: E731
    cases = [
        (Poisson(f64([0.5, 3.0])), td.Poisson(t([0.5, 3.0])), [1.0, 4.0], False),
        (Binomial(f64([5.0, 8.0]), probs=f64([0.3, 0.6])),
         td.Binomial(t([5.0, 8.0]), probs=t([0.3, 0.6])), [2.0, 8.0], False),
        (Binomial(6, logits=f64([-0.3, 1.2])), td.Binomial(6, logits=t([-0.3, 1.2])),
         [0.0, 5.0], True),
        (Geometric(logits=f64([-0.3, 1.2])), td.Geometric(logits=t([-0.3, 1.2])),
         [0.0, 5.0], True),
        (Cauchy(f64([0.0, 1.0]), f64([1.0, 3.0])), td.Cauchy(t([0.0, 1.0]), t([1.0, 3.0])),
         [0.5, -2.0], True),
        (Gumbel(f64([0.0, 1.0]), f64([1.0, 3.0])), td.Gumbel(t([0.0, 1.0]), t([1.0, 3.0])),
         [0.5, -2.0], True),
        (HalfNormal(f64([1.0, 3.0])), td.HalfNormal(t([1.0, 3.0])), [0.5, 2.0], True),
    ]
    for ours, theirs, values, has_entropy in cases:
        name = type(ours).__name__
        for attr in ("mean", "variance", "mode"):
            np.testing.assert_allclose(getattr(ours, attr).numpy(),
                                       getattr(theirs, attr).numpy(), err_msg=name + attr)
        np.testing.assert_allclose(ours.log_prob(f64(values)).numpy(),
                                   theirs.log_prob(t(values)).numpy(), err_msg=name)
        if has_entropy:
            np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(),
                                       err_msg=name)
        if name in ("Cauchy", "Gumbel", "HalfNormal"):
            np.testing.assert_allclose(ours.cdf(f64(values)).numpy(),
                                       theirs.cdf(t(values)).numpy(), err_msg=name)
            np.testing.assert_allclose(ours.icdf(f64([0.2, 0.7])).numpy(),
                                       theirs.icdf(t([0.2, 0.7])).numpy(), err_msg=name)


def test_kl_against_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    t = lambda v: torch.tensor(v, dtype=torch.float64)    # noqa: E731
    def families(a, b, lo, hi, pr):
        ours = {"Gamma": Gamma(f64(a), f64(b)), "Beta": Beta(f64(a), f64(b)),
                "Exponential": Exponential(f64(b)), "Normal": Normal(f64(a), f64(b)),
                "Gumbel": Gumbel(f64(a), f64(b)), "Poisson": Poisson(f64(a)),
                "Uniform": Uniform(f64(lo), f64(hi)), "Bernoulli": Bernoulli(probs=f64(pr)),
                "Geometric": Geometric(probs=f64(pr)), "Cauchy": Cauchy(f64(a), f64(b)),
                "HalfNormal": HalfNormal(f64(b)), "Dirichlet": Dirichlet(f64([a, b]))}
        theirs = {"Gamma": td.Gamma(t(a), t(b)), "Beta": td.Beta(t(a), t(b)),
                  "Exponential": td.Exponential(t(b)), "Normal": td.Normal(t(a), t(b)),
                  "Gumbel": td.Gumbel(t(a), t(b)), "Poisson": td.Poisson(t(a)),
                  "Uniform": td.Uniform(t(lo), t(hi)), "Bernoulli": td.Bernoulli(probs=t(pr)),
                  "Geometric": td.Geometric(probs=t(pr)), "Cauchy": td.Cauchy(t(a), t(b)),
                  "HalfNormal": td.HalfNormal(t(b)), "Dirichlet": td.Dirichlet(t([a, b]))}
        return ours, theirs

    ours_p, theirs_p = families([0.7, 2.0], [1.5, 0.4], [0.1, 0.2], [0.6, 0.9], [0.3, 0.6])
    ours_q, theirs_q = families([1.3, 0.5], [0.8, 2.2], [0.0, -1.0], [1.0, 0.5], [0.5, 0.2])
    pairs = ["Gamma Gamma", "Beta Beta", "Poisson Poisson", "Gumbel Gumbel", "Cauchy Cauchy",
             "HalfNormal HalfNormal", "Geometric Geometric", "Dirichlet Dirichlet",
             "Exponential Gamma", "Gamma Exponential", "Gamma Normal", "Gamma Gumbel",
             "Beta Gamma", "Beta Exponential", "Beta Normal", "Beta Uniform", "Uniform Beta",
             "Uniform Gamma", "Uniform Gumbel", "Exponential Gumbel", "Normal Gumbel",
             "Gumbel Normal", "Bernoulli Poisson", "Normal Gamma", "Gamma Uniform"]
    for pair in pairs:
        p, q = pair.split()
        np.testing.assert_allclose(kl_divergence(ours_p[p], ours_q[q]).numpy(),
                                   td.kl_divergence(theirs_p[p], theirs_q[q]).numpy(),
                                   rtol=1e-10, err_msg=pair)
