"""ContinuousBernoulli, NegativeBinomial, FisherSnedecor and VonMises
(gpugrad/distributions/{continuous_bernoulli,negative_binomial,fisher_snedecor,von_mises}.py):
densities by hand in float64 (math.lgamma, Bessel series, quadrature), moments of seeded
samples within bounds, rsample gradients against finite differences or the derivative of a
closed-form moment, and torch's numbers where torch is installed."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.distributions.continuous_bernoulli import ContinuousBernoulli
from gpugrad.distributions.fisher_snedecor import FisherSnedecor
from gpugrad.distributions.negative_binomial import NegativeBinomial
from gpugrad.distributions.von_mises import VonMises


def f64(values, requires_grad=False):
    return gpugrad.tensor(values, dtype="float64", requires_grad=requires_grad)


GRID = np.linspace(0.0, 1.0, 200001)


def _trapezoid(y, x):
    return float(((y[1:] + y[:-1]) * np.diff(x)).sum() / 2)


def _cb_density(p, x):
    """C(p) p^x (1 - p)^(1 - x), C(p) = 2 artanh(1 - 2p) / (1 - 2p) (2 at p = 1/2)."""
    c = 2.0 if p == 0.5 else 2 * math.atanh(1 - 2 * p) / (1 - 2 * p)
    return c * p ** x * (1 - p) ** (1 - x)


def test_continuous_bernoulli_by_hand_and_quadrature():
    probs = [0.1, 0.3, 0.4995, 0.5, 0.8]      # 0.4995 and 0.5: inside the Taylor region
    d = ContinuousBernoulli(f64(probs))
    x = f64([0.25] * 5)
    np.testing.assert_allclose(d.log_prob(x).numpy(),
                               [math.log(_cb_density(p, 0.25)) for p in probs], rtol=1e-6,
                               atol=1e-12)
    for i, p in enumerate(probs):
        dens = _cb_density(p, GRID)
        assert _trapezoid(dens, GRID) == pytest.approx(1.0, abs=1e-8)
        mean = _trapezoid(GRID * dens, GRID)
        assert d.mean[i].item() == pytest.approx(mean, abs=1e-7)
        assert d.variance[i].item() == pytest.approx(_trapezoid(GRID ** 2 * dens, GRID)
                                                     - mean ** 2, abs=1e-7)
        assert d.entropy()[i].item() == pytest.approx(-_trapezoid(dens * np.log(dens), GRID),
                                                      abs=1e-7)
        upto = GRID <= 0.25
        tol = 1e-7 if abs(p - 0.5) > 1e-3 else 1e-3     # inside lims torch's cdf is x itself
        assert d.cdf(x)[i].item() == pytest.approx(_trapezoid(dens[upto], GRID[upto]),
                                                   abs=tol)
    u = f64([0.05, 0.4, 0.6, 0.9, 0.99])
    np.testing.assert_allclose(d.cdf(d.icdf(u)).numpy(), u.numpy(), atol=1e-10)
    free = ContinuousBernoulli(f64(probs), validate_args=False)
    assert free.cdf(f64([-1.0] * 5)).tolist() == [0.0] * 5
    assert free.cdf(f64([2.0] * 5)).tolist() == [1.0] * 5
    by_logits = ContinuousBernoulli(logits=f64([math.log(0.3 / 0.7)]))
    assert by_logits.mean.item() == pytest.approx(d.mean[1].item(), rel=1e-9)


def test_continuous_bernoulli_validation_before_clamp_and_shapes():
    with pytest.raises(ValueError, match="probs"):
        ContinuousBernoulli(f64([1.5]))
    ContinuousBernoulli(f64([1.5]), validate_args=False)       # unchecked: clamped to 1 - eps
    d = ContinuousBernoulli(0.3)
    assert d.batch_shape == () and d.has_rsample
    e = d.expand((2, 3))
    assert e.batch_shape == (2, 3) and e.sample((4,)).shape == (4, 2, 3)
    with pytest.raises(ValueError, match="support"):
        d.log_prob(gpugrad.tensor(1.5))


def test_continuous_bernoulli_rsample_gradient_matches_finite_differences():
    p = f64([0.2, 0.7], requires_grad=True)
    gpugrad.manual_seed(3)
    x = ContinuousBernoulli(p).rsample((5,))
    x.sum().backward()
    h = 1e-6
    grads = []
    for i in range(2):
        up, down = [0.2, 0.7], [0.2, 0.7]
        up[i] += h
        down[i] -= h
        gpugrad.manual_seed(3)
        s_up = ContinuousBernoulli(f64(up)).rsample((5,)).numpy()[:, i].sum()
        gpugrad.manual_seed(3)
        s_down = ContinuousBernoulli(f64(down)).rsample((5,)).numpy()[:, i].sum()
        grads.append((s_up - s_down) / (2 * h))
    np.testing.assert_allclose(p.grad.numpy(), grads, rtol=1e-5)


def test_continuous_bernoulli_sample_moments():
    gpugrad.manual_seed(0)
    d = ContinuousBernoulli(f64([0.1, 0.5, 0.9]))
    x = d.sample((40000,)).numpy()
    assert ((x >= 0) & (x <= 1)).all()
    np.testing.assert_allclose(x.mean(0), d.mean.numpy(), atol=4 * math.sqrt(0.09 / 40000))


def _nb_pmf(r, p, k):
    return math.exp(math.lgamma(r + k) - math.lgamma(k + 1) - math.lgamma(r)
                    + k * math.log(p) + r * math.log1p(-p))


def test_negative_binomial_by_hand():
    r, p = [2.0, 3.5], [0.3, 0.6]
    d = NegativeBinomial(f64(r), probs=f64(p))
    k = np.arange(400.0)
    for i in range(2):
        pmf = np.array([_nb_pmf(r[i], p[i], j) for j in k])
        assert pmf.sum() == pytest.approx(1.0)
        assert d.mean[i].item() == pytest.approx((k * pmf).sum())
        assert d.variance[i].item() == pytest.approx((k ** 2 * pmf).sum() - (k * pmf).sum() ** 2)
        assert d.mode[i].item() == k[pmf.argmax()]
    lp = d.log_prob(f64([[3.0, 0.0], [5.0, 7.0]])).numpy()
    expected = [[math.log(_nb_pmf(2.0, 0.3, 3)), math.log(_nb_pmf(3.5, 0.6, 0))],
                [math.log(_nb_pmf(2.0, 0.3, 5)), math.log(_nb_pmf(3.5, 0.6, 7))]]
    np.testing.assert_allclose(lp, expected, rtol=1e-10)
    zero = NegativeBinomial(f64(0.0), probs=f64(0.4))
    assert zero.log_prob(f64(0.0)).item() == 0.0               # a point mass at 0
    logits = NegativeBinomial(f64(2.0), logits=f64(math.log(0.3 / 0.7)))
    assert logits.log_prob(f64(3.0)).item() == pytest.approx(lp[0, 0])
    assert d.expand((4, 2)).log_prob(f64(3.0)).shape == (4, 2)


def test_negative_binomial_sample_moments_and_gradient():
    gpugrad.manual_seed(0)
    d = NegativeBinomial(f64([2.0, 5.0]), probs=f64([0.3, 0.5]))
    x = d.sample((40000,)).numpy()
    assert (x % 1 == 0).all() and (x >= 0).all()
    sd = np.sqrt(d.variance.numpy())
    np.testing.assert_allclose(x.mean(0), d.mean.numpy(), atol=(4 * sd / 200).max())
    p = f64(0.3, requires_grad=True)
    NegativeBinomial(f64(2.0), probs=p).log_prob(f64(3.0)).backward()
    assert p.grad.item() == pytest.approx(3 / 0.3 - 2 / 0.7)    # d/dp [k log p + r log(1-p)]


def _f_density(d1, d2, x):
    log_b = math.lgamma(d1 / 2) + math.lgamma(d2 / 2) - math.lgamma((d1 + d2) / 2)
    return np.exp((d1 / 2) * math.log(d1 / d2) + (d1 / 2 - 1) * np.log(x)
                  - (d1 + d2) / 2 * np.log1p(d1 * x / d2) - log_b)


def test_fisher_snedecor_by_hand():
    d = FisherSnedecor(f64([4.0, 1.0, 3.0]), f64([6.0, 2.0, 9.0]))
    x = [0.7, 1.3, 2.0]
    np.testing.assert_allclose(d.log_prob(f64(x)).numpy(),
                               [math.log(_f_density(a, b, v))
                                for a, b, v in zip([4.0, 1.0, 3.0], [6.0, 2.0, 9.0], x)],
                               rtol=1e-10)
    mean, mode, var = d.mean.numpy(), d.mode.numpy(), d.variance.numpy()
    assert mean[0] == pytest.approx(1.5) and math.isnan(mean[1])        # df2 <= 2
    assert mode[0] == pytest.approx(2 / 4 * 6 / 8) and math.isnan(mode[1])
    assert var[2] == pytest.approx(2 * 81 * 10 / (3 * 49 * 5)) and math.isnan(var[1])
    grid = np.linspace(0.0, 1.0, 200001) ** 2 * 400         # fine near 0, tail to 400
    assert _trapezoid(_f_density(3.0, 9.0, grid[1:]), grid[1:]) == pytest.approx(1.0, abs=1e-4)
    df2 = f64([1.0, 6.0], requires_grad=True)
    FisherSnedecor(f64([3.0, 3.0]), df2).mean.sum().backward()
    assert df2.grad.tolist() == [0.0, pytest.approx(-2 / 16)]            # no NaN leaks


def test_fisher_snedecor_rsample_moments_and_gradient():
    gpugrad.manual_seed(0)
    df2 = f64(12.0, requires_grad=True)
    x = FisherSnedecor(f64(5.0), df2).rsample((60000,))
    assert (x.numpy() > 0).all()
    var = 2 * 144 * 15 / (5 * 100 * 8)
    assert abs(x.mean().item() - 1.2) < 4 * math.sqrt(var / 60000)
    x.mean().backward()                       # d/d df2 of E[x] = df2 / (df2 - 2): -2 / 100
    assert df2.grad.item() == pytest.approx(-0.02, abs=0.004)
    d = FisherSnedecor(2.0, 3.0)
    assert d.batch_shape == () and d.expand((3,)).rsample((2,)).shape == (2, 3)


def _log_i0(k):
    """log I0(k) from the series sum (k/2)^(2m) / (m!)^2, in logs."""
    terms = [2 * m * math.log(k / 2) - 2 * math.lgamma(m + 1) for m in range(400)]
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def _bessel_ratio(k):
    """I1(k) / I0(k) from the series."""
    terms1 = [(2 * m + 1) * math.log(k / 2) - math.lgamma(m + 1) - math.lgamma(m + 2)
              for m in range(400)]
    top = max(terms1)
    return math.exp(top + math.log(sum(math.exp(t - top) for t in terms1)) - _log_i0(k))


def test_von_mises_by_hand():
    kappa = [0.3, 2.0, 40.0]
    d = VonMises(f64([0.0, 1.0, -3.0]), f64(kappa))
    x = f64([0.5, 1.0 + 2 * math.pi, 3.0])
    expected = [k * math.cos(v - m) - math.log(2 * math.pi) - _log_i0(k)
                for k, v, m in zip(kappa, [0.5, 1.0, 3.0], [0.0, 1.0, -3.0])]
    np.testing.assert_allclose(d.log_prob(x).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(d.variance.numpy(), [1 - _bessel_ratio(k) for k in kappa],
                               rtol=1e-12)
    theta = np.linspace(-math.pi, math.pi, 20001)
    for i, k in enumerate(kappa):
        dens = np.exp(k * np.cos(theta) - math.log(2 * math.pi) - _log_i0(k))
        assert _trapezoid(dens, theta) == pytest.approx(1.0, abs=1e-9)
    k = f64([2.0], requires_grad=True)
    VonMises(f64([0.0]), k).log_prob(f64([0.5])).sum().backward()
    assert k.grad.item() == pytest.approx(math.cos(0.5) - _bessel_ratio(2.0), rel=1e-10)
    assert d.mean is d.loc and d.mode is d.loc and not d.has_rsample


def test_von_mises_samples():
    gpugrad.manual_seed(0)
    kappa = [1e-6, 0.5, 4.0, 100.0]
    d = VonMises(f64([0.0, 2.0, -3.0, 3.0]), f64(kappa))
    x = d.sample((20000,))
    assert x.shape == (20000, 4) and x.dtype == np.float64
    a = x.numpy()
    assert ((a >= -math.pi) & (a < math.pi)).all()
    # mean resultant length E[cos(x - loc)] = I1(k) / I0(k)
    resultant = np.cos(a - np.array([0.0, 2.0, -3.0, 3.0])).mean(0)
    np.testing.assert_allclose(resultant, [_bessel_ratio(k) for k in kappa],
                               atol=4 * math.sqrt(0.5 / 20000))
    f32 = VonMises(gpugrad.zeros(3), gpugrad.ones(3)).sample((2,))
    assert f32.dtype == np.float32 and f32.shape == (2, 3)
    assert VonMises(0.0, 1.0).expand((2, 2)).sample().shape == (2, 2)


def test_against_torch():
    torch = pytest.importorskip("torch")
    D = torch.distributions

    def t(values):
        return torch.tensor(values, dtype=torch.float64)

    probs = [0.1, 0.3, 0.4995, 0.5, 0.7, 0.95]
    x = [0.2, 0.9, 0.5, 0.1, 0.0, 1.0]
    ours, theirs = ContinuousBernoulli(f64(probs)), D.ContinuousBernoulli(t(probs))
    for got, want in [(ours.mean, theirs.mean), (ours.variance, theirs.variance),
                      (ours.entropy(), theirs.entropy()), (ours.log_prob(f64(x)),
                      theirs.log_prob(t(x))), (ours.cdf(f64(x)), theirs.cdf(t(x))),
                      (ours.icdf(f64(x)), theirs.icdf(t(x)))]:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
    r, p, k = [0.0, 2.0, 3.5], [0.3, 0.5, 0.0], [0.0, 3.0, 2.0]
    ours, theirs = NegativeBinomial(f64(r), f64(p)), D.NegativeBinomial(t(r), t(p))
    for got, want in [(ours.mean, theirs.mean), (ours.variance, theirs.variance),
                      (ours.mode, theirs.mode), (ours.log_prob(f64(k)), theirs.log_prob(t(k)))]:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    d1, d2, v = [1.0, 4.0, 2.5, 6.0], [2.0, 6.0, 5.0, 3.0], [0.5, 1.0, 2.0, 3.0]
    ours, theirs = FisherSnedecor(f64(d1), f64(d2)), D.FisherSnedecor(t(d1), t(d2))
    for got, want in [(ours.mean, theirs.mean), (ours.variance, theirs.variance),
                      (ours.mode, theirs.mode), (ours.log_prob(f64(v)), theirs.log_prob(t(v)))]:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    loc, kappa, v = [0.0, 1.0, -2.0], [0.5, 4.0, 30.0], [0.3, 7.0, -2.1]
    ours, theirs = VonMises(f64(loc), f64(kappa)), D.VonMises(t(loc), t(kappa))
    # torch's log I0 is a polynomial fit, good to about 1e-7
    np.testing.assert_allclose(ours.log_prob(f64(v)).numpy(), theirs.log_prob(t(v)).numpy(),
                               atol=1e-6)
    np.testing.assert_allclose(ours.variance.numpy(), theirs.variance.numpy(), atol=1e-6)
    for ours, theirs in [(ContinuousBernoulli(0.3), D.ContinuousBernoulli(0.3)),
                         (FisherSnedecor(2.0, 3.0), D.FisherSnedecor(2.0, 3.0)),
                         (VonMises(f64([0.0]), f64([1.0])), D.VonMises(t([0.0]), t([1.0])))]:
        assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
        assert ours.has_rsample == theirs.has_rsample
