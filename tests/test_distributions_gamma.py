"""Gamma's implicit reparameterisation (gpugrad/ops/standard_gamma.py) and the families
built on it (Gamma, Chi2, Beta, Dirichlet, StudentT): the implicit derivative against a
float64 finite difference of the CDF's inverse (a CDF written here from scratch), sampling
moments within a few standard errors under fixed seeds, densities against math.lgamma."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.distributions import Beta, Chi2, Dirichlet, Gamma, StudentT
from gpugrad.ops.standard_gamma import regularized_gamma_p, standard_gamma, \
    standard_gamma_grad


def _cdf(a, x):
    """P(a, x) in float64 by the plain power series (x < a + 40 here), term by term."""
    term = math.exp(a * math.log(x) - x - math.lgamma(a + 1))
    total, n = term, 0
    while term > 1e-18 * total:
        n += 1
        term *= x / (a + n)
        total += term
    return total


def _quantile(a, u):
    lo, hi = 0.0, a + 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _cdf(a, mid) < u else (lo, mid)
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("a", [0.05, 0.7, 1.0, 3.5, 20.0])
@pytest.mark.parametrize("u", [0.02, 0.5, 0.97])
def test_implicit_gradient_is_the_quantile_derivative(a, u):
    x = _quantile(a, u)
    h = 1e-5 * a
    expected = (_quantile(a + h, u) - _quantile(a - h, u)) / (2 * h)
    got = standard_gamma_grad(gpugrad.tensor([a], dtype="float64"),
                              gpugrad.tensor([x], dtype="float64")).item()
    assert got == pytest.approx(expected, rel=1e-5)


def test_regularized_gamma_p_matches_the_series_and_the_exponential():
    a = gpugrad.tensor([0.3, 1.0, 4.0, 4.0, 50.0], dtype="float64")
    x = gpugrad.tensor([0.2, 2.0, 1.0, 12.0, 45.0], dtype="float64")
    got = regularized_gamma_p(a, x).tolist()
    expected = [_cdf(float(ai), float(xi)) for ai, xi in zip(a.tolist(), x.tolist())]
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert got[1] == pytest.approx(1 - math.exp(-2.0), rel=1e-13)


def test_rsample_gradient_flows_through_the_implicit_rule_and_the_rate():
    gpugrad.manual_seed(3)
    c = gpugrad.tensor([0.4, 2.5], dtype="float64", requires_grad=True)
    r = gpugrad.tensor([2.0, 0.5], dtype="float64", requires_grad=True)
    x = Gamma(c, r).rsample()
    x.sum().backward()
    s = (x * r).detach()                          # the standard gamma draws
    np.testing.assert_allclose(c.grad.numpy(), standard_gamma_grad(c.detach(), s).numpy()
                               / r.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(r.grad.numpy(), -(x / r).detach().numpy(), rtol=1e-12)


def test_pathwise_gradient_of_the_mean_is_unbiased():
    gpugrad.manual_seed(0)
    c = gpugrad.tensor([0.3, 1.0, 6.0], dtype="float64", requires_grad=True)
    x = Gamma(c, 2.0).rsample((20000,))
    x.mean(0).sum().backward()                    # d E[x] / dc = 1 / rate = 0.5
    # the gradient of a sample is x/c in expectation-free form: sd of dx/dc ~ sd(x)/c
    np.testing.assert_allclose(c.grad.numpy(), 0.5, rtol=0.04)


@pytest.mark.parametrize("c", [0.2, 1.0, 7.5])
def test_sampling_moments_within_standard_errors(c):
    gpugrad.manual_seed(1)
    x = standard_gamma(gpugrad.full((40000,), c, dtype="float64")).numpy()
    n = x.size
    assert abs(x.mean() - c) < 4 * math.sqrt(c / n)
    assert abs(x.var() - c) < 4 * math.sqrt((6 * c ** 2 + 2 * c) / n) + 0.02 * c  # kurtosis
    assert x.min() > 0


def test_sampling_replays_under_a_seed_and_keeps_dtype():
    gpugrad.manual_seed(5)
    a = Gamma(gpugrad.ones(3), 1.0).sample((2,))
    gpugrad.manual_seed(5)
    b = Gamma(gpugrad.ones(3), 1.0).sample((2,))
    assert a.dtype == np.float32 and a.shape == (2, 3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_gamma_density_entropy_and_moments_by_hand():
    c, r, v = 2.5, 1.5, 0.8
    d = Gamma(gpugrad.tensor(c, dtype="float64"), gpugrad.tensor(r, dtype="float64"))
    lp = c * math.log(r) + (c - 1) * math.log(v) - r * v - math.lgamma(c)
    assert d.log_prob(gpugrad.tensor(v, dtype="float64")).item() == pytest.approx(lp)
    assert d.mean.item() == c / r and d.variance.item() == pytest.approx(c / r ** 2)
    assert d.mode.item() == pytest.approx((c - 1) / r)
    # entropy: -E[log p] by quadrature of the density
    xs = np.linspace(1e-6, 40, 400001)
    logp = c * math.log(r) + (c - 1) * np.log(xs) - r * xs - math.lgamma(c)
    integrand = np.exp(logp) * logp
    entropy = -np.sum((integrand[1:] + integrand[:-1]) / 2 * np.diff(xs))
    assert d.entropy().item() == pytest.approx(entropy, rel=1e-6)
    assert d.cdf(gpugrad.tensor(v, dtype="float64")).item() == pytest.approx(_cdf(c, r * v))


def test_chi2_beta_dirichlet_studentt_by_hand():
    assert Chi2(gpugrad.tensor(4.0, dtype="float64")).log_prob(
        gpugrad.tensor(2.0, dtype="float64")).item() == pytest.approx(
        math.log(2.0 / 4 * math.exp(-1.0)))        # x/4 e^(-x/2) at 2
    b = Beta(gpugrad.tensor(2.0, dtype="float64"), gpugrad.tensor(3.0, dtype="float64"))
    assert b.log_prob(gpugrad.tensor(0.4, dtype="float64")).item() == pytest.approx(
        math.log(12 * 0.4 * 0.6 ** 2))
    assert b.mean.item() == pytest.approx(0.4) and b.variance.item() == pytest.approx(0.04)
    d = Dirichlet(gpugrad.tensor([1.0, 2.0, 3.0], dtype="float64"))
    v = gpugrad.tensor([0.2, 0.3, 0.5], dtype="float64")
    assert d.log_prob(v).item() == pytest.approx(math.log(60 * 0.3 * 0.25))   # 5! / (0! 1! 2!)
    t = StudentT(gpugrad.tensor(3.0, dtype="float64"), 1.0, 2.0)
    y = 0.5
    lp = (math.lgamma(2) - math.lgamma(1.5) - 0.5 * math.log(3 * math.pi) - math.log(2.0)
          - 2 * math.log1p(y ** 2 / 3))
    assert t.log_prob(gpugrad.tensor(2.0, dtype="float64")).item() == pytest.approx(lp)
    assert t.variance.item() == pytest.approx(12.0)


def test_dirichlet_and_beta_samples_and_gradients():
    gpugrad.manual_seed(2)
    c = gpugrad.tensor([2.0, 3.0, 5.0], dtype="float64", requires_grad=True)
    x = Dirichlet(c).rsample((30000,))
    np.testing.assert_allclose(x.sum(-1).detach().numpy(), 1.0, rtol=1e-12)
    mean = x.mean(0)
    np.testing.assert_allclose(mean.detach().numpy(), [0.2, 0.3, 0.5], atol=0.006)
    mean[0].backward()           # d E[x0] / dc = (e0 - E[x]) ... analytic: (1 - 0.2)/10, ...
    np.testing.assert_allclose(c.grad.numpy(), [0.08, -0.02, -0.02], atol=0.006)
    gpugrad.manual_seed(4)
    b = Beta(gpugrad.tensor([0.5, 4.0]), 2.0).sample((20000,)).numpy()
    np.testing.assert_allclose(b.mean(0), [0.2, 4 / 6], atol=0.008)


def test_studentt_rsample_moments_and_df_gradient():
    gpugrad.manual_seed(6)
    df = gpugrad.tensor(5.0, dtype="float64", requires_grad=True)
    x = StudentT(df, 1.0, 2.0).rsample((40000,))
    assert abs(x.mean().item() - 1.0) < 4 * math.sqrt(4 * 5 / 3 / 40000)
    (x - 1.0).pow(2).mean().backward()     # d/d df of 4 df/(df-2) = -8/(df-2)^2 = -0.889
    assert df.grad.item() == pytest.approx(-8 / 9, rel=0.25)


def test_validation_and_shapes():
    with pytest.raises(ValueError, match="concentration"):
        Gamma(gpugrad.tensor([-1.0]), 1.0)
    with pytest.raises(ValueError, match="at least one-dimensional"):
        Dirichlet(gpugrad.tensor(1.0))
    d = Dirichlet(gpugrad.ones(2, 3)).expand((4, 2))
    assert d.batch_shape == (4, 2) and d.event_shape == (3,)
    assert d.sample((5,)).shape == (5, 4, 2, 3)
    g = Gamma(gpugrad.ones(3), 2.0).expand((2, 3))
    assert g.rsample().shape == (2, 3) and Chi2(gpugrad.ones(3)).expand((2, 3)).df.shape == (2, 3)
    assert Beta(1.0, 2.0).batch_shape == () and StudentT(gpugrad.ones(2)).batch_shape == (2,)


def test_vmap_randomness_gives_each_example_its_own_draw():
    f = gpugrad.func.vmap(lambda a: standard_gamma(a), randomness="different")
    out = f(gpugrad.full((3, 2), 2.0))
    assert out.shape == (3, 2) and len(set(out.flatten().tolist())) == 6
    with pytest.raises(RuntimeError, match="randomness"):
        gpugrad.func.vmap(lambda a: standard_gamma(a))(gpugrad.full((3, 2), 2.0))


def _torch_pairs(torch):
    f64 = dict(dtype=torch.float64)
    c, r = [0.4, 2.5, 7.0], [1.5, 0.5, 2.0]
    g = gpugrad.tensor
    return [
        (Gamma(g(c, dtype="float64"), g(r, dtype="float64")),
         torch.distributions.Gamma(torch.tensor(c, **f64), torch.tensor(r, **f64)),
         [0.3, 2.0, 5.0]),
        (Chi2(g(c, dtype="float64")), torch.distributions.Chi2(torch.tensor(c, **f64)),
         [0.3, 2.0, 5.0]),
        (Beta(g(c, dtype="float64"), g(r, dtype="float64")),
         torch.distributions.Beta(torch.tensor(c, **f64), torch.tensor(r, **f64)),
         [0.3, 0.6, 0.9]),
        (StudentT(g(c, dtype="float64"), 0.5, g(r, dtype="float64")),
         torch.distributions.StudentT(torch.tensor(c, **f64), 0.5, torch.tensor(r, **f64)),
         [-1.0, 0.4, 3.0]),
    ]


def test_against_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs, values in _torch_pairs(torch):
        v = gpugrad.tensor(values, dtype="float64")
        tv = torch.tensor(values, dtype=torch.float64)
        for name in ("mean", "variance", "mode"):
            np.testing.assert_allclose(getattr(ours, name).numpy(),
                                       getattr(theirs, name).numpy(), rtol=1e-10,
                                       err_msg=f"{type(ours).__name__}.{name}")
        np.testing.assert_allclose(ours.log_prob(v).numpy(), theirs.log_prob(tv).numpy(),
                                   rtol=1e-10)
        np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(),
                                   rtol=1e-10)
    gc = [0.4, 2.5, 7.0]
    ours = Gamma(gpugrad.tensor(gc, dtype="float64"), 2.0).cdf(
        gpugrad.tensor([0.1, 1.0, 3.0], dtype="float64"))
    theirs = torch.distributions.Gamma(torch.tensor(gc, dtype=torch.float64), 2.0).cdf(
        torch.tensor([0.1, 1.0, 3.0], dtype=torch.float64))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    d = [[1.0, 2.0, 0.5], [3.0, 0.2, 4.0]]
    ours, theirs = Dirichlet(gpugrad.tensor(d, dtype="float64")), \
        torch.distributions.Dirichlet(torch.tensor(d, dtype=torch.float64))
    v = [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]
    np.testing.assert_allclose(ours.log_prob(gpugrad.tensor(v, dtype="float64")).numpy(),
                               theirs.log_prob(torch.tensor(v, dtype=torch.float64)).numpy())
    for name in ("mean", "variance", "mode"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy())
    np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy())


def test_implicit_gradient_against_torch():
    torch = pytest.importorskip("torch")
    a = np.array([0.05, 0.5, 1.0, 3.0, 9.0, 30.0])
    x = np.array([0.01, 0.3, 1.2, 2.0, 11.0, 25.0])
    theirs = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    ours = standard_gamma_grad(gpugrad.tensor(a), gpugrad.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=5e-4)       # torch's is an approximation
