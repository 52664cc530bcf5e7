"""The re-review RR1 findings on gpugrad.distributions: ContinuousBernoulli's gradient at
logits = 0 (F1), relaxed families with a float temperature (F5), the added families and
helpers (F2: OneHotCategoricalStraightThrough, tril_matrix_to_vec / vec_to_tril_matrix,
GeneralizedPareto, LKJCholesky) and the ExponentialFamily bases (F3). Each against a
hand-derived float64 value, finite differences or a closed form, and against torch where it
is installed."""

import math
import warnings

import numpy as np
import pytest

import gpugrad
import gpugrad.distributions as GD
from gpugrad.autograd.gradcheck import gradcheck
from gpugrad.distributions.kl_transformed import _kl_expfamily_expfamily
from gpugrad.distributions.utils import tril_matrix_to_vec, vec_to_tril_matrix


def f64(values, requires_grad=False):
    return gpugrad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# F1: ContinuousBernoulli.log_prob at logits == 0 (probs == 1/2)


def test_continuous_bernoulli_log_prob_gradient_at_logits_zero():
    # at logits 0 the normaliser's Taylor form is flat (d log C / dp = 0 at p = 1/2), so
    # d log_prob / dlogits = x - sigmoid(0) = x - 1/2 and d / dprobs = 4 (x - 1/2)
    x = np.array([0.3, 0.9])
    logits = f64([0.0, 0.0], requires_grad=True)
    GD.ContinuousBernoulli(logits=logits).log_prob(f64(x)).sum().backward()
    np.testing.assert_allclose(logits.grad.numpy(), x - 0.5, rtol=1e-12)
    probs = f64([0.5, 0.5], requires_grad=True)
    GD.ContinuousBernoulli(probs=probs).log_prob(f64(x)).sum().backward()
    np.testing.assert_allclose(probs.grad.numpy(), 4 * (x - 0.5), rtol=1e-12)
    value = f64([0.3])
    assert gradcheck(lambda l: GD.ContinuousBernoulli(logits=l).log_prob(value),
                     (f64([0.0], requires_grad=True),))
    assert gradcheck(lambda p: GD.ContinuousBernoulli(probs=p).log_prob(value),
                     (f64([0.5], requires_grad=True),))


def test_continuous_bernoulli_gradient_at_zero_matches_torch():
    torch = pytest.importorskip("torch")
    for dtype, tdt, rtol in (("float64", torch.float64, 1e-12), ("float32", torch.float32, 1e-6)):
        for kw in ("logits", "probs"):
            start = 0.0 if kw == "logits" else 0.5
            mine = gpugrad.tensor([start, start], dtype=dtype, requires_grad=True)
            GD.ContinuousBernoulli(**{kw: mine}).log_prob(
                gpugrad.tensor([0.3, 0.9], dtype=dtype)).sum().backward()
            theirs = torch.tensor([start, start], dtype=tdt, requires_grad=True)
            torch.distributions.ContinuousBernoulli(**{kw: theirs}).log_prob(
                torch.tensor([0.3, 0.9], dtype=tdt)).sum().backward()
            np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=rtol)


# F5: a Python-float temperature


def test_relaxed_log_prob_takes_a_float_temperature():
    lam, logits = 0.5, np.array([0.4, -1.3])
    x = np.array([0.3, 0.7])
    d = GD.RelaxedOneHotCategorical(lam, logits=f64(logits))
    # the Concrete density (Maddison et al. 2017, eq. 1), in closed form
    p = np.exp(logits - np.logaddexp.reduce(logits))
    want = (math.lgamma(2) + math.log(lam) + np.log(p).sum() - (lam + 1) * np.log(x).sum()
            - 2 * np.log((p * x ** -lam).sum()))
    assert d.log_prob(f64(x)).item() == pytest.approx(want, rel=1e-10)
    assert d.temperature == lam                                  # kept as given, as torch's
    same = GD.RelaxedOneHotCategorical(f64(lam), logits=f64(logits)).log_prob(f64(x))
    assert d.log_prob(f64(x)).item() == pytest.approx(same.item(), rel=1e-14)
    b = GD.RelaxedBernoulli(lam, logits=f64(logits))
    tb = GD.RelaxedBernoulli(f64(lam), logits=f64(logits))
    np.testing.assert_allclose(b.log_prob(f64(x)).numpy(), tb.log_prob(f64(x)).numpy(),
                               rtol=1e-14)
    assert b.log_prob(f64(x)).dtype == np.float64
    with pytest.raises(TypeError, match="temperature must be a gpugrad.Tensor"):
        GD.RelaxedOneHotCategorical([0.5], logits=f64(logits))


# F2: OneHotCategoricalStraightThrough


def test_one_hot_straight_through_rsample_value_and_gradient():
    gpugrad.manual_seed(0)
    logits = f64([[0.2, -0.4, 1.0], [0.0, 0.5, -1.0]], requires_grad=True)
    d = GD.OneHotCategoricalStraightThrough(logits=logits)
    assert isinstance(d, GD.OneHotCategorical) and d.has_rsample
    x = d.rsample((5,))
    assert x.shape == (5, 2, 3)
    assert set(np.unique(x.detach().numpy())) <= {0.0, 1.0}
    np.testing.assert_array_equal(x.detach().numpy().sum(-1), np.ones((5, 2)))
    w = np.arange(30.0).reshape(5, 2, 3)
    (x * f64(w)).sum().backward()
    # d sum(w * probs) / dlogits = p * (v - <p, v>), v = sum over samples of w
    lg = logits.detach().numpy()
    p = np.exp(lg - np.logaddexp.reduce(lg, axis=-1, keepdims=True))
    v = w.sum(0)
    want = p * (v - (p * v).sum(-1, keepdims=True))
    np.testing.assert_allclose(logits.grad.numpy(), want, rtol=1e-12)
    q = GD.OneHotCategoricalStraightThrough(probs=f64([[0.3, 0.3, 0.4]] * 2))
    assert GD.kl_divergence(d, q).shape == (2,)
    assert d.expand((4, 2)).rsample().shape == (4, 2, 3)


def test_one_hot_straight_through_matches_torch():
    torch = pytest.importorskip("torch")
    lg = np.array([[0.2, -0.4, 1.0], [0.0, 0.5, -1.0]])
    w = np.arange(6.0).reshape(2, 3)
    mine = f64(lg, requires_grad=True)
    (GD.OneHotCategoricalStraightThrough(logits=mine).rsample() * f64(w)).sum().backward()
    theirs = torch.tensor(lg, requires_grad=True)
    (torch.distributions.OneHotCategoricalStraightThrough(logits=theirs).rsample()
     * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


# F2: tril_matrix_to_vec / vec_to_tril_matrix


def test_tril_vec_helpers_by_hand_and_round_trip():
    m = np.arange(16.0).reshape(4, 4)
    assert tril_matrix_to_vec(f64(m)).tolist() == [0, 4, 5, 8, 9, 10, 12, 13, 14, 15]
    assert tril_matrix_to_vec(f64(m), diag=-2).tolist() == [8, 12, 13]
    assert tril_matrix_to_vec(f64(m), diag=1).tolist() == [0, 1, 4, 5, 6, 8, 9, 10, 11,
                                                           12, 13, 14, 15]
    assert vec_to_tril_matrix(f64([1, 2, 3])).tolist() == [[1, 0], [2, 3]]
    assert vec_to_tril_matrix(f64([7])).tolist() == [[7]]
    assert vec_to_tril_matrix(f64([5]), diag=-1).tolist() == [[0, 0], [5, 0]]
    batch = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    for diag in range(-3, 4):
        vec = tril_matrix_to_vec(f64(batch), diag)
        np.testing.assert_array_equal(vec_to_tril_matrix(vec, diag).numpy(),
                                      np.tril(batch, diag))
    with pytest.raises(ValueError, match="cannot be expressed as the lower triangular"):
        vec_to_tril_matrix(f64([1.0, 2.0]))
    with pytest.raises(ValueError, match="outside"):
        tril_matrix_to_vec(f64(m), diag=4)
    v = f64([1.0, 2.0, 3.0], requires_grad=True)
    (vec_to_tril_matrix(v) * f64([[1.0, 10.0], [100.0, 1000.0]])).sum().backward()
    assert v.grad.tolist() == [1.0, 100.0, 1000.0]


def test_tril_vec_helpers_match_torch():
    torch = pytest.importorskip("torch")
    from torch.distributions import utils as tu
    mats = np.random.default_rng(1).standard_normal((2, 5, 5))
    for diag in range(-5, 5):
        want = tu.tril_matrix_to_vec(torch.tensor(mats), diag).numpy()
        np.testing.assert_array_equal(tril_matrix_to_vec(f64(mats), diag).numpy(), want)
        np.testing.assert_array_equal(
            vec_to_tril_matrix(f64(want), diag).numpy(),
            tu.vec_to_tril_matrix(torch.tensor(want), diag).numpy())


# F2: GeneralizedPareto


def test_generalized_pareto_special_cases_by_hand():
    x = f64([0.5, 1.5])
    # xi = 0: Exponential(1 / scale) shifted by loc
    d = GD.GeneralizedPareto(0.25, 2.0, 0.0)
    np.testing.assert_allclose(GD.GeneralizedPareto(f64(0.25), f64(2.0), f64(0.0)).log_prob(
        x).numpy(), -math.log(2.0) - (np.array([0.5, 1.5]) - 0.25) / 2.0, rtol=1e-12)
    assert d.mean.item() == pytest.approx(2.25) and d.variance.item() == pytest.approx(4.0)
    # xi = -1: Uniform(loc, loc + scale)
    u = GD.GeneralizedPareto(f64(0.0), f64(2.0), f64(-1.0))
    np.testing.assert_allclose(u.log_prob(x).numpy(), [-math.log(2.0)] * 2, rtol=1e-12)
    np.testing.assert_allclose(u.cdf(x).numpy(), [0.25, 0.75], rtol=1e-12)
    assert u.support.upper_bound.item() == 2.0
    # xi > 0, loc = scale / xi: Pareto(scale=loc, alpha=1 / xi)
    xi, s = 0.5, 3.0
    p = GD.GeneralizedPareto(f64(s / xi), f64(s), f64(xi))
    y = f64([7.0, 10.0])
    np.testing.assert_allclose(p.log_prob(y).numpy(),
                               GD.Pareto(f64(s / xi), f64(1 / xi)).log_prob(y).numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(p.icdf(p.cdf(y)).numpy(), [7.0, 10.0], rtol=1e-12)
    assert math.isnan(GD.GeneralizedPareto(0.0, 1.0, 1.5).mean.item())
    assert GD.GeneralizedPareto(f64([0.0, 1.0]), 1.0, 0.2).entropy().shape == (2,)


def test_generalized_pareto_rsample_gradient_and_sample_mean():
    loc, scale, xi = f64(0.1, True), f64(2.0, True), f64(0.3, True)
    gpugrad.manual_seed(3)
    GD.GeneralizedPareto(loc, scale, xi).rsample((4,)).sum().backward()
    gpugrad.manual_seed(3)
    u = gpugrad.rand((4,), dtype="float64").numpy()
    h = 1e-6
    icdf = lambda c: (0.1 + 2.0 / c * np.expm1(-c * np.log1p(-u))).sum()   # noqa: E731
    assert xi.grad.item() == pytest.approx((icdf(0.3 + h) - icdf(0.3 - h)) / (2 * h), rel=1e-6)
    assert loc.grad.item() == pytest.approx(4.0)
    assert scale.grad.item() == pytest.approx(((icdf(0.3) - 0.4) / 2.0), rel=1e-10)
    gpugrad.manual_seed(0)
    draws = GD.GeneralizedPareto(0.0, 1.0, 0.1).sample((20000,)).numpy()
    assert draws.mean() == pytest.approx(1 / 0.9, rel=0.03)


def test_generalized_pareto_matches_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    # (torch 2.13's log_prob / cdf raise for float64 parameters: its isclose compares a
    # float32 zero, so the comparison runs in float32)
    args = np.array([[0.1, -0.3, 0.0], [2.0, 0.7, 1.5], [0.4, -0.5, 0.0]], dtype=np.float32)
    x = np.array([0.5, 0.2, 3.0], dtype=np.float32)
    mine = GD.GeneralizedPareto(*[gpugrad.tensor(a) for a in args])
    theirs = td.GeneralizedPareto(*[torch.tensor(a) for a in args])
    for name in ("log_prob", "cdf", "log_cdf", "log_survival_function", "icdf"):
        v = np.array([0.3, 0.6, 0.9], dtype=np.float32) if name == "icdf" else x
        np.testing.assert_allclose(getattr(mine, name)(gpugrad.tensor(v)).numpy(),
                                   getattr(theirs, name)(torch.tensor(v)).numpy(), rtol=1e-5)
    for name in ("mean", "variance", "mode"):
        np.testing.assert_allclose(getattr(mine, name).numpy(),
                                   getattr(theirs, name).numpy(), rtol=1e-6)
    np.testing.assert_allclose(mine.entropy().numpy(), theirs.entropy().numpy(), rtol=1e-6)
    np.testing.assert_allclose(mine.support.upper_bound.numpy(),
                               theirs.support.upper_bound.numpy())


# F2: LKJCholesky


def _lkj_2d_log_density(r, eta):
    """log of r's density for dim 2: (1 - r^2)^(eta - 1) / (2^(2 eta - 1) B(eta, eta))."""
    log_beta = 2 * math.lgamma(eta) - math.lgamma(2 * eta)
    return (eta - 1) * np.log1p(-r * r) - (2 * eta - 1) * math.log(2) - log_beta


def test_lkj_cholesky_log_prob_and_moments_by_hand():
    for eta in (0.5, 1.0, 3.0):
        r = np.array([0.0, 0.4, -0.8])
        L = np.zeros((3, 2, 2))
        L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = 1.0, r, np.sqrt(1 - r * r)
        np.testing.assert_allclose(GD.LKJCholesky(2, f64(eta)).log_prob(f64(L)).numpy(),
                                   _lkj_2d_log_density(r, eta), rtol=1e-12)
    # samples: a correlation of LKJ(D, eta) is 2 Beta(b, b) - 1, b = eta - 1 + D / 2, so
    # E[r^2] = 1 / (2 b + 1): 1/4 and 1/10 for D = 3, eta = 1 and 4
    gpugrad.manual_seed(0)
    d = GD.LKJCholesky(3, f64([1.0, 4.0]))
    L = d.sample((8000,))
    assert L.shape == (8000, 2, 3, 3)
    assert bool(GD.constraints.corr_cholesky.check(L).all())
    r10 = L.numpy()[..., 1, 0]
    np.testing.assert_allclose((r10 ** 2).mean(0), [1 / 4, 1 / 10], rtol=0.05)
    eta = f64(2.0, True)
    GD.LKJCholesky(3, eta).log_prob(L[:5, 0]).sum().backward()
    assert gradcheck(lambda e: GD.LKJCholesky(3, e).log_prob(L[:5, 0]),
                     (f64([2.0], requires_grad=True),))
    with pytest.raises(ValueError, match="dim to be an integer greater"):
        GD.LKJCholesky(1)


def test_lkj_cholesky_matches_torch():
    torch = pytest.importorskip("torch")
    scipy_stats = pytest.importorskip("scipy.stats")
    torch.manual_seed(0)
    for dim, eta in ((2, 0.5), (4, 1.0), (5, 3.0)):
        theirs = torch.distributions.LKJCholesky(dim, torch.tensor(eta, dtype=torch.float64))
        L = theirs.sample((6,))
        np.testing.assert_allclose(
            GD.LKJCholesky(dim, f64(eta)).log_prob(f64(L.numpy())).numpy(),
            theirs.log_prob(L).numpy(), rtol=1e-12)
    gpugrad.manual_seed(1)
    mine = GD.LKJCholesky(4, 2.0).sample((3000,)).numpy()[..., 3, 1]
    ref = torch.distributions.LKJCholesky(4, 2.0).sample((3000,)).numpy()[..., 3, 1]
    assert scipy_stats.ks_2samp(mine, ref).pvalue > 1e-3


# F3: ExponentialFamily bases


_FAMILIES = {
    "Normal": lambda m: m.Normal(m_t(m, [0.3, -1.0]), m_t(m, [1.2, 0.7])),
    "Bernoulli": lambda m: m.Bernoulli(probs=m_t(m, [0.3, 0.6])),
    "Beta": lambda m: m.Beta(m_t(m, [1.5, 2.0]), m_t(m, [2.5, 0.7])),
    "Dirichlet": lambda m: m.Dirichlet(m_t(m, [[1.5, 2.0, 0.5], [1.0, 2.0, 3.0]])),
    "Exponential": lambda m: m.Exponential(m_t(m, [1.5, 0.4])),
    "Gamma": lambda m: m.Gamma(m_t(m, [1.5, 3.0]), m_t(m, [2.0, 0.5])),
    "Chi2": lambda m: m.Chi2(m_t(m, [3.0, 5.0])),
    "Poisson": lambda m: m.Poisson(m_t(m, [1.5, 3.0])),
    "ContinuousBernoulli": lambda m: m.ContinuousBernoulli(probs=m_t(m, [0.3, 0.7])),
}


def m_t(module, values):
    if module is GD:
        return f64(values)
    import torch
    return torch.tensor(values, dtype=torch.float64)


def _shifted(module, name):
    """A second member of the family (each parameter moved)."""
    d = _FAMILIES[name](module)
    scale = (lambda v: v * 1.3) if name != "Bernoulli" and name != "ContinuousBernoulli" \
        else (lambda v: v * 0.8)
    params = {k: scale(getattr(d, k)) for k in d.arg_constraints if k in d.__dict__}
    if name == "Beta":
        params = {"concentration1": d.concentration1 * 1.3, "concentration0": d.concentration0}
    if name == "Chi2":
        params = {"df": d.df * 1.3}
    return type(d)(**params)


@pytest.mark.parametrize("name", sorted(_FAMILIES))
def test_exponential_families_bregman_kl_equals_their_closed_form(name):
    p, q = _FAMILIES[name](GD), _shifted(GD, name)
    assert isinstance(p, GD.ExponentialFamily)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        registered = GD.kl_divergence(p, q).numpy()      # the family's own pair, kept
    np.testing.assert_allclose(_kl_expfamily_expfamily(p, q).numpy(), registered, rtol=1e-9)


def test_kl_pairs_keep_their_closed_forms_and_cross_families_raise():
    # Normal: log(s2 / s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2, by hand
    kl = GD.kl_divergence(GD.Normal(f64(0.3), f64(1.2)), GD.Normal(f64(-1.0), f64(0.7)))
    want = math.log(0.7 / 1.2) + (1.2 ** 2 + 1.3 ** 2) / (2 * 0.7 ** 2) - 0.5
    assert kl.item() == pytest.approx(want, rel=1e-14)
    # Gamma(2, 1) || Exponential(1) = Gamma(1, 1): (a1 - a2) digamma(a1) - lgamma(a1) = 1 - euler
    kl = GD.kl_divergence(GD.Gamma(f64(2.0), f64(1.0)), GD.Exponential(f64(1.0)))
    assert kl.item() == pytest.approx(1 - 0.5772156649015329, rel=1e-12)
    with pytest.raises(NotImplementedError):
        GD.kl_divergence(GD.Bernoulli(0.3), GD.Gamma(1.0, 1.0))     # both ExponentialFamily
    for cls in (GD.Categorical, GD.Binomial, GD.Geometric, GD.Laplace, GD.Uniform):
        assert not issubclass(cls, GD.ExponentialFamily)     # as torch 2.13's


def test_exponential_family_bases_and_natural_params_match_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    for name in td.__all__:
        cls = getattr(td, name)
        if isinstance(cls, type) and issubclass(cls, td.Distribution) and hasattr(GD, name):
            assert issubclass(getattr(GD, name), GD.ExponentialFamily) == \
                issubclass(cls, td.ExponentialFamily), name
    for name in _FAMILIES:
        mine, theirs = _FAMILIES[name](GD), _FAMILIES[name](td)
        for a, b in zip(mine._natural_params, theirs._natural_params):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(
            mine._log_normalizer(*mine._natural_params).detach().numpy(),
            theirs._log_normalizer(*theirs._natural_params).detach().numpy(), rtol=1e-12)
