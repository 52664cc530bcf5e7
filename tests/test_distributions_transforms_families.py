"""The families torch builds as TransformedDistributions (HalfCauchy, Pareto, Weibull,
InverseGamma, Kumaraswamy, LogisticNormal), their KL pairs and ExponentialFamily: densities
by hand in float64, moments and entropies by quadrature, rsample gradients against finite
differences under a fixed seed, and torch's numbers where torch is installed."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.distributions import (Exponential, ExponentialFamily, Gamma, HalfCauchy,
                                   InverseGamma, Kumaraswamy, LogisticNormal, Normal, Pareto,
                                   Uniform, Weibull, kl_divergence)


def f64(values):
    return gpugrad.tensor(np.asarray(values, dtype=np.float64))


def hc(x, s):
    return 2 / (math.pi * s * (1 + (x / s) ** 2))


def pareto(x, s, a):
    return np.where(x >= s, a * s ** a / x ** (a + 1), 0.0)


def weibull(x, s, k):
    return k / s * (x / s) ** (k - 1) * np.exp(-(x / s) ** k)


def invgamma(x, a, b):
    return b ** a / math.gamma(a) * x ** (-a - 1) * np.exp(-b / x)


def kumaraswamy(x, a, b):
    return a * b * x ** (a - 1) * (1 - x ** a) ** (b - 1)


# (family, params, density, quadrature grid)
CASES = [
    (HalfCauchy, (1.5,), hc, None),
    (Pareto, (2.0, 3.5), pareto, np.linspace(2.0, 4000.0, 2_000_001)),
    (Weibull, (2.0, 1.7), weibull, np.linspace(1e-9, 40.0, 400_001)),
    (InverseGamma, (3.5, 2.0), invgamma, np.linspace(1e-4, 2000.0, 4_000_001)),
    (Kumaraswamy, (2.5, 1.8), kumaraswamy, np.linspace(0.0, 1.0, 400_001)),
]


@pytest.mark.parametrize("family, params, density, grid", CASES,
                         ids=[c[0].__name__ for c in CASES])
def test_log_prob_moments_entropy_by_hand(family, params, density, grid):
    d = family(*[f64(p) for p in params])
    x = {Kumaraswamy: [0.2, 0.7]}.get(family, [2.5, 4.0])
    np.testing.assert_allclose(d.log_prob(f64(x)).numpy(),
                               np.log(density(np.array(x), *params)), rtol=1e-10)
    if grid is None:
        return
    p = density(grid, *params)
    mean = np.trapezoid(grid * p, grid)
    assert d.mean.item() == pytest.approx(mean, rel=2e-3)
    if family is not Pareto:
        assert d.variance.item() == pytest.approx(np.trapezoid((grid - mean) ** 2 * p, grid),
                                                  rel=5e-3)
    safe = np.where(p > 0, p, 1.0)
    assert d.entropy().item() == pytest.approx(-np.trapezoid(p * np.log(safe), grid),
                                               abs=2e-3)
    assert d.mode.item() == pytest.approx(grid[np.argmax(p)], abs=2e-3 * grid[-1] / 40
                                          if family is not Pareto else 1e-9)


def test_half_cauchy_cdf_icdf_and_support():
    d = HalfCauchy(f64(2.0))
    assert d.cdf(f64(2.0)).item() == pytest.approx(0.5)
    assert d.icdf(f64(0.5)).item() == pytest.approx(2.0)
    assert d.log_prob(f64(0.0)).item() == pytest.approx(math.log(1 / math.pi))
    assert d.mean.item() == math.inf and d.mode.item() == 0.0
    assert d.entropy().item() == pytest.approx(math.log(4 * math.pi * 2) - math.log(2))


def test_logistic_normal_log_prob_is_the_change_of_variables():
    loc, scale = np.array([0.3, -0.2]), np.array([1.0, 0.5])
    d = LogisticNormal(f64(loc), f64(scale))
    y = np.array([0.2, 0.3, 0.5])
    # x = inverse stick breaking, by hand: z_i = y_i / (1 - sum_{j<i} y_j), x = logit(z) + log(K-i)
    sf = 1 - np.concatenate([[0.0], np.cumsum(y[:-1])])[:-1]
    z = y[:-1] / sf
    x = np.log(z / (1 - z)) + np.log([2.0, 1.0])

    def forward(v):
        zz = 1 / (1 + np.exp(-(v - np.log([2.0, 1.0]))))
        return np.array([zz[0], (1 - zz[0]) * zz[1]])
    eps, jac = 1e-6, []
    for i in range(2):
        e = np.eye(2)[i] * eps
        jac.append((forward(x + e) - forward(x - e)) / (2 * eps))
    base = (-0.5 * ((x - loc) / scale) ** 2 - np.log(scale) - 0.5 * math.log(2 * math.pi)).sum()
    want = base - np.linalg.slogdet(np.array(jac).T)[1]
    assert d.log_prob(f64(y)).item() == pytest.approx(want, abs=1e-7)
    assert d.event_shape == (3,) and LogisticNormal(0.0, 1.0).event_shape == (2,)


def weighted(x):
    return (x * (1.0 + gpugrad.arange(x.shape[-1], dtype="float64"))).sum()


def rsample_grad_check(make, params, seed=3, eps=1e-6):
    """d <w, rsample> / d params by autograd and by central differences (same seed)."""
    ps = [f64(p).requires_grad_() for p in params]
    gpugrad.manual_seed(seed)
    weighted(make(*ps).rsample((5,))).backward()
    for i, p in enumerate(params):
        def value(v):
            args = [f64(q) for q in params]
            args[i] = f64(v)
            gpugrad.manual_seed(seed)
            return weighted(make(*args).rsample((5,))).item()
        fd = (value(p + eps) - value(p - eps)) / (2 * eps)
        assert ps[i].grad.item() == pytest.approx(fd, rel=1e-5), (make, i)


def test_rsample_gradients_match_finite_differences():
    rsample_grad_check(HalfCauchy, [1.5])
    rsample_grad_check(Pareto, [2.0, 3.5])
    rsample_grad_check(Weibull, [2.0, 1.7])
    rsample_grad_check(Kumaraswamy, [2.5, 1.8])
    rsample_grad_check(lambda b: InverseGamma(f64(2.5), b), [0.7])   # rate (exact path)
    rsample_grad_check(lambda m, s: LogisticNormal(m * f64([1.0, 2.0]), s), [0.3, 0.8])


def test_pareto_kl_pairs_by_quadrature():
    x = np.linspace(1.0, 20000.0, 4_000_001)
    p, q = pareto(x, 1.0, 3.0), pareto(x, 0.5, 2.0)
    want = np.trapezoid(p * (np.log(np.where(p > 0, p, 1)) - np.log(np.where(p > 0, q, 1))), x)
    assert kl_divergence(Pareto(f64(1.0), f64(3.0)), Pareto(f64(0.5), f64(2.0))).item() == \
        pytest.approx(want, abs=1e-4)
    assert kl_divergence(Pareto(f64(0.5), f64(3.0)), Pareto(f64(1.0), f64(3.0))).item() == \
        math.inf
    log_exp = math.log(1.5) - 1.5 * x
    want = np.trapezoid(p * (np.log(np.where(p > 0, p, 1)) - log_exp), x)
    assert kl_divergence(Pareto(f64(1.0), f64(3.0)), Exponential(f64(1.5))).item() == \
        pytest.approx(want, abs=1e-4)
    assert kl_divergence(Pareto(f64(1.0), f64(0.9)), Exponential(f64(1.5))).item() == math.inf
    assert kl_divergence(Normal(f64(0.0), f64(1.0)), Pareto(f64(1.0), f64(2.0))).item() == \
        math.inf
    # Uniform(1, 2) against Pareto(1, 2): density 2 / x^3
    x = np.linspace(1.0, 2.0, 100_001)
    want = -np.trapezoid(np.log(2 / x ** 3), x)
    u = kl_divergence(Uniform(f64(1.0), f64(2.0)), Pareto(f64(1.0), f64(2.0))).item()
    assert u == pytest.approx(want, abs=1e-6)
    assert kl_divergence(Pareto(f64(1.0), f64(3.0)), Gamma(f64(2.0), f64(1.0))).item() > 0


class UnitNormal(ExponentialFamily):
    """N(mu, 1) as an exponential family: theta = mu, F = theta^2 / 2, E[k] = -(1+log 2pi)/2
    less the 1/2 E[x^2]... written so entropy/KL have the Normal's closed forms."""

    arg_constraints = {}

    def __init__(self, mu):
        self.mu = mu
        super().__init__(tuple(mu.shape))

    @property
    def _natural_params(self):
        return (self.mu,)

    def _log_normalizer(self, theta):
        return theta * theta / 2

    @property
    def _mean_carrier_measure(self):
        # E[-x^2 / 2 - log(2 pi) / 2] = -(mu^2 + 1) / 2 - log(2 pi) / 2
        return -(self.mu * self.mu + 1) / 2 - 0.5 * math.log(2 * math.pi)


def test_exponential_family_entropy_and_kl_by_bregman():
    p, q = UnitNormal(f64([0.5, -1.0])), UnitNormal(f64([2.0, 0.0]))
    np.testing.assert_allclose(p.entropy().numpy(), [0.5 * math.log(2 * math.pi * math.e)] * 2)
    np.testing.assert_allclose(kl_divergence(p, q).numpy(), [1.125, 0.5])


def test_families_match_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    for name, params, x in (("HalfCauchy", ([0.5, 2.0],), [0.3, 1.7]),
                            ("Pareto", ([1.0, 2.0], [3.0, 0.8]), [1.5, 2.5]),
                            ("Weibull", ([1.0, 2.0], [3.0, 0.8]), [1.5, 2.5]),
                            ("InverseGamma", ([3.0, 1.5], [2.0, 0.8]), [1.5, 2.5]),
                            ("Kumaraswamy", ([3.0, 0.5], [2.0, 1.5]), [0.3, 0.8]),
                            ("LogisticNormal", ([0.3, -0.2], [1.0, 0.5]), [0.2, 0.3, 0.5])):
        a = getattr(gpugrad.distributions, name)(*[f64(p) for p in params])
        b = getattr(td, name)(*[torch.tensor(p, dtype=torch.float64) for p in params])
        assert (a.batch_shape, a.event_shape) == (tuple(b.batch_shape), tuple(b.event_shape))
        np.testing.assert_allclose(a.log_prob(f64(x)).numpy(),
                                   b.log_prob(torch.tensor(x, dtype=torch.float64)).numpy(),
                                   rtol=1e-10, err_msg=name)
        attrs = ["mean", "variance", "entropy", "mode"]
        if name == "LogisticNormal":
            attrs = []
        if name == "Kumaraswamy":
            attrs.remove("mode")            # torch 2.13's mode is NaN everywhere (log1p(-b))
        for attr in attrs:
            va = getattr(a, attr)
            vb = getattr(b, attr)
            va, vb = (va(), vb()) if attr == "entropy" else (va, vb)
            np.testing.assert_allclose(va.numpy(), vb.numpy(), rtol=1e-10, err_msg=name + attr)
        assert a.has_rsample == b.has_rsample and repr(a.support) == repr(b.support).replace(
            ", dtype=torch.float64", ", device='cpu', dtype=float64")
    p = (gpugrad.distributions.Pareto(f64([1.0, 2.0]), f64([3.0, 2.5])),
         td.Pareto(torch.tensor([1.0, 2.0], dtype=torch.float64),
                   torch.tensor([3.0, 2.5], dtype=torch.float64)))
    others = {"Exponential": ([1.5, 0.5],), "Gamma": ([2.0, 3.0], [1.5, 0.5]),
              "Normal": ([0.1, 2.0], [1.0, 3.0]), "Uniform": ([1.0, 0.5], [3.0, 2.0]),
              "Pareto": ([1.5, 1.0], [2.0, 1.5])}
    for name, params in others.items():
        o = (getattr(gpugrad.distributions, name)(*[f64(v) for v in params]),
             getattr(td, name)(*[torch.tensor(v, dtype=torch.float64) for v in params]))
        for i, j in ((0, 1), (1, 0)):
            pair = ((p, o)[i], (p, o)[j])
            np.testing.assert_allclose(kl_divergence(pair[0][0], pair[1][0]).numpy(),
                                       td.kl_divergence(pair[0][1], pair[1][1]).numpy(),
                                       rtol=1e-10, err_msg=name)


def test_continuous_bernoulli_and_pareto_have_disjoint_supports():
    from gpugrad.distributions.continuous_bernoulli import ContinuousBernoulli
    cb, pa = ContinuousBernoulli(probs=f64([0.3, 0.6])), Pareto(f64(2.0), f64(3.0))
    assert kl_divergence(cb, pa).tolist() == [math.inf] * 2
    assert kl_divergence(pa, cb).item() == math.inf          # p's shape, as torch's
