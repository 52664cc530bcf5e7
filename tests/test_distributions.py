"""gpugrad.distributions against closed forms in float64 NumPy (no torch): log_prob, cdf,
icdf, entropy, mean, variance and KL of every family; shapes (sample x batch x event);
expand; validate_args. Sampling, gradients and vmap: test_distributions_sampling.py; the
same numbers against torch: test_distributions_torch.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.distributions import (Bernoulli, Categorical, Distribution, Exponential,
                                   Independent, Laplace, LogNormal, MultivariateNormal, Normal,
                                   OneHotCategorical, TransformedDistribution, Uniform,
                                   constraints, kl_divergence, register_kl)
from gpugrad.distributions.transforms import (AffineTransform, ComposeTransform, ExpTransform,
                                              SigmoidTransform, TanhTransform)

F64 = "float64"
LOG_2PI = math.log(2 * math.pi)


def t(values):
    return gpugrad.tensor(np.asarray(values, dtype=np.float64), dtype=F64)


def close(actual, expected, tol=1e-10):
    np.testing.assert_allclose(np.asarray(actual.numpy() if hasattr(actual, "numpy")
                                          else actual, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64), rtol=tol, atol=tol)


LOC, SCALE, X = np.array([0.0, 1.5, -2.0]), np.array([1.0, 0.5, 3.0]), np.array([0.3, 1.0, 4.0])


def test_normal_closed_forms():
    d = Normal(t(LOC), t(SCALE))
    close(d.log_prob(t(X)), -(X - LOC) ** 2 / (2 * SCALE ** 2) - np.log(SCALE) - LOG_2PI / 2)
    close(d.entropy(), 0.5 + LOG_2PI / 2 + np.log(SCALE))
    erf = np.vectorize(math.erf)
    close(d.cdf(t(X)), 0.5 * (1 + erf((X - LOC) / (SCALE * math.sqrt(2)))))
    close(d.mean, LOC), close(d.variance, SCALE ** 2), close(d.stddev, SCALE)
    close(d.mode, LOC)


def test_normal_icdf_inverts_the_cdf_to_the_dtypes_precision():
    p = np.array([1e-12, 0.001, 0.025, 0.3, 0.5, 0.9, 0.975, 1 - 1e-9])
    d = Normal(t(0.0), t(1.0))
    x = d.icdf(t(p))
    close(x[6], 1.959963984540054, 1e-13)       # the 97.5% quantile
    close(d.cdf(x), p, 1e-12)
    edges = Normal(0.0, 1.0).icdf(gpugrad.tensor([0.0, 1.0])).tolist()
    assert edges == [-math.inf, math.inf]


def test_uniform_exponential_laplace_closed_forms():
    low, high = np.array([0.0, -1.0]), np.array([2.0, 3.0])
    u = Uniform(t(low), t(high))
    close(u.log_prob(t([1.0, 0.0])), -np.log(high - low))
    close(u.entropy(), np.log(high - low)), close(u.mean, (low + high) / 2)
    close(u.variance, (high - low) ** 2 / 12), close(u.cdf(t([1.0, 0.0])), [0.5, 0.25])
    close(u.icdf(t([0.5, 0.25])), [1.0, 0.0])
    assert math.isnan(u.mode[0].item())
    rate = np.array([0.5, 2.0])
    e = Exponential(t(rate))
    close(e.log_prob(t([1.0, 0.25])), np.log(rate) - rate * [1.0, 0.25])
    close(e.entropy(), 1 - np.log(rate)), close(e.mean, 1 / rate)
    close(e.variance, rate ** -2.0), close(e.cdf(t([1.0, 1.0])), 1 - np.exp(-rate))
    close(e.icdf(e.cdf(t([1.0, 3.0]))), [1.0, 3.0])
    lap = Laplace(t(LOC), t(SCALE))
    close(lap.log_prob(t(X)), -np.log(2 * SCALE) - np.abs(X - LOC) / SCALE)
    close(lap.entropy(), 1 + np.log(2 * SCALE)), close(lap.variance, 2 * SCALE ** 2)
    cdf = np.where(X < LOC, 0.5 * np.exp((X - LOC) / SCALE), 1 - 0.5 * np.exp(-(X - LOC) / SCALE))
    close(lap.cdf(t(X)), cdf), close(lap.icdf(t(cdf)), X, 1e-9)


def test_bernoulli_probs_and_logits_agree_with_closed_forms():
    p = np.array([0.1, 0.5, 0.8])
    for d in (Bernoulli(probs=t(p)), Bernoulli(logits=t(np.log(p / (1 - p))))):
        close(d.log_prob(t([1.0, 0.0, 0.0])), np.log([0.1, 0.5, 0.2]))
        close(d.entropy(), -(p * np.log(p) + (1 - p) * np.log(1 - p)))
        close(d.mean, p), close(d.variance, p * (1 - p))
    mode = Bernoulli(probs=t(p)).mode.numpy()
    assert mode[0] == 0 and math.isnan(mode[1]) and mode[2] == 1
    close(Bernoulli(probs=t([0.3])).enumerate_support(), [[0.0], [1.0]])


def test_categorical_normalises_probs_and_logits_as_torch():
    w = np.array([[1.0, 2.0, 5.0], [3.0, 3.0, 2.0]])
    p = w / w.sum(-1, keepdims=True)
    logits = np.log(w) + 7.0                      # unnormalised: shifted
    for d in (Categorical(probs=t(w)), Categorical(logits=t(logits))):
        close(d.probs, p), close(d.logits, np.log(p))
        close(d.log_prob(gpugrad.tensor([2, 0])), np.log([p[0, 2], p[1, 0]]))
        close(d.entropy(), -(p * np.log(p)).sum(-1))
        assert d.batch_shape == (2,) and d.event_shape == ()
    d = Categorical(probs=t(w))
    assert d.mode.tolist() == [2, 0]
    assert d.log_prob(gpugrad.tensor([[0], [1]])).shape == (2, 2)      # value broadcast
    assert d.enumerate_support().tolist() == [[0, 0], [1, 1], [2, 2]]
    assert np.isnan(d.mean.numpy()).all() and d.mean.shape == (2,)
    one_hot = OneHotCategorical(probs=t(w))
    close(one_hot.log_prob(t([[0, 0, 1], [1, 0, 0]])), np.log([p[0, 2], p[1, 0]]))
    close(one_hot.entropy(), -(p * np.log(p)).sum(-1)), close(one_hot.mean, p)
    close(one_hot.variance, p * (1 - p)), close(one_hot.mode, [[0, 0, 1], [1, 0, 0]])
    assert one_hot.event_shape == (3,) and one_hot.enumerate_support().shape == (3, 2, 3)


def test_categorical_entropy_with_a_zero_probability_is_finite():
    d = Categorical(probs=t([0.5, 0.5, 0.0]))
    close(d.entropy(), math.log(2))


COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
MEAN = np.array([0.5, -1.0, 2.0])


def _mvn_log_prob(x, mean, cov):
    diff = x - mean
    return -0.5 * (len(mean) * LOG_2PI + np.linalg.slogdet(cov)[1]
                   + diff @ np.linalg.solve(cov, diff))


@pytest.mark.parametrize("form", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal_three_parameterisations(form):
    matrix = {"covariance_matrix": COV, "precision_matrix": np.linalg.inv(COV),
              "scale_tril": np.linalg.cholesky(COV)}[form]
    d = MultivariateNormal(t(MEAN), **{form: t(matrix)})
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.5]])
    close(d.log_prob(t(x)), [_mvn_log_prob(row, MEAN, COV) for row in x], 1e-9)
    close(d.entropy(), 0.5 * (3 * (1 + LOG_2PI) + np.linalg.slogdet(COV)[1]), 1e-9)
    close(d.covariance_matrix, COV, 1e-9), close(d.precision_matrix, np.linalg.inv(COV), 1e-9)
    close(d.scale_tril, np.linalg.cholesky(COV), 1e-9), close(d.variance, np.diag(COV), 1e-9)


def test_multivariate_normal_batches_broadcast():
    L = t(np.linalg.cholesky(COV))
    d = MultivariateNormal(t(np.zeros((4, 1, 3))), scale_tril=L.expand(2, 3, 3))
    assert d.batch_shape == (4, 2) and d.event_shape == (3,)
    assert d.rsample((5,)).shape == (5, 4, 2, 3) and d.log_prob(t(np.ones(3))).shape == (4, 2)
    close(d.log_prob(t(np.ones(3)))[1, 1], _mvn_log_prob(np.ones(3), np.zeros(3), COV))
    with pytest.raises(ValueError, match="Exactly one"):
        MultivariateNormal(t(MEAN), covariance_matrix=t(COV), scale_tril=L)
    with pytest.raises(ValueError, match="does not match loc"):
        MultivariateNormal(t(np.zeros(2)), covariance_matrix=t(COV))


def test_lognormal_and_transformed_distributions():
    d = LogNormal(t(LOC), t(SCALE))
    y = np.exp(X)
    close(d.log_prob(t(y)), -(X - LOC) ** 2 / (2 * SCALE ** 2) - np.log(SCALE) - LOG_2PI / 2 - X)
    close(d.mean, np.exp(LOC + SCALE ** 2 / 2)), close(d.mode, np.exp(LOC - SCALE ** 2))
    close(d.variance, (np.exp(SCALE ** 2) - 1) * np.exp(2 * LOC + SCALE ** 2))
    close(d.entropy(), 0.5 + LOG_2PI / 2 + np.log(SCALE) + LOC)
    close(d.cdf(d.icdf(t([0.2, 0.5, 0.9]))), [0.2, 0.5, 0.9], 1e-12)
    # y = 1 + 2 x: density of N(1, 2^2)
    affine = TransformedDistribution(Normal(t(0.0), t(1.0)), [AffineTransform(1.0, 2.0)])
    close(affine.log_prob(t(X)), -(X - 1) ** 2 / 8 - math.log(2) - LOG_2PI / 2)
    close(affine.cdf(t([1.0])), [0.5])
    flipped = TransformedDistribution(Normal(t(0.0), t(1.0)), AffineTransform(0.0, -1.0))
    close(flipped.cdf(t([1.0])), [1 - 0.5 * (1 + math.erf(-1 / math.sqrt(2)))])
    # tanh-squashed normal (SAC): log N(x) - log(1 - tanh(x)^2)
    squashed = TransformedDistribution(Normal(t(0.0), t(1.0)), [TanhTransform()])
    x = np.array([-1.0, 0.2, 2.0])
    close(squashed.log_prob(t(np.tanh(x))), -x ** 2 / 2 - LOG_2PI / 2 - np.log(1 - np.tanh(x) ** 2),
          1e-9)
    logistic = TransformedDistribution(Normal(t(0.0), t(1.0)), [SigmoidTransform()])
    s = 1 / (1 + np.exp(-x))
    close(logistic.log_prob(t(s)), -x ** 2 / 2 - LOG_2PI / 2 - np.log(s * (1 - s)), 1e-9)
    compose = ComposeTransform([AffineTransform(0.0, 2.0), ExpTransform()])
    close(compose.inv(compose(t(X))), X), close(compose.log_abs_det_jacobian(t(X), None),
                                                math.log(2) + 2 * X)


def test_independent_sums_the_reinterpreted_dimensions():
    base = Normal(t(np.zeros((2, 3))), t(np.ones((2, 3))))
    d = Independent(base, 1)
    assert d.batch_shape == (2,) and d.event_shape == (3,) and d.has_rsample
    close(d.log_prob(t(np.zeros((2, 3)))), 3 * np.full(2, -LOG_2PI / 2))
    close(d.entropy(), 3 * np.full(2, 0.5 + LOG_2PI / 2))
    assert d.sample((4,)).shape == (4, 2, 3)
    assert isinstance(d.support, constraints._IndependentConstraint)
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        Independent(base, 3)


@pytest.mark.parametrize("make", [
    lambda: Normal(t(LOC), t(SCALE)), lambda: Laplace(t(LOC), t(SCALE)),
    lambda: Exponential(t(SCALE)), lambda: Uniform(t(LOC), t(LOC + SCALE)),
    lambda: Bernoulli(probs=t([0.1, 0.5, 0.9])), lambda: LogNormal(t(LOC), t(SCALE)),
    lambda: Categorical(logits=t(np.zeros((3, 4)))),
    lambda: OneHotCategorical(probs=t(np.ones((3, 4)))),
    lambda: MultivariateNormal(t(np.zeros((3, 3))), covariance_matrix=t(COV)),
    lambda: Independent(Normal(t(np.zeros((3, 2))), t(np.ones((3, 2)))), 1)])
def test_shapes_and_expand(make):
    d = make()
    batch, event = d.batch_shape, d.event_shape
    assert batch == (3,)
    x = d.sample((5, 2))
    assert x.shape == (5, 2) + batch + event
    assert d.log_prob(x).shape == (5, 2) + batch
    big = d.expand((4, 3))
    assert big.batch_shape == (4, 3) and big.event_shape == event
    assert big.sample().shape == (4, 3) + event
    np.testing.assert_allclose(big.log_prob(x[0, 0]).numpy()[2], d.log_prob(x[0, 0]).numpy())
    if d.has_rsample:
        assert d.rsample((2,)).shape == (2,) + batch + event


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")   # (unvalidated NaN)
def test_validate_args_refuses_bad_parameters_and_values():
    with pytest.raises(ValueError, match="Expected parameter scale .* GreaterThan"):
        Normal(t([0.0]), t([-1.0]))
    with pytest.raises(ValueError, match="Expected parameter probs"):
        Bernoulli(probs=t([1.5]))
    with pytest.raises(ValueError, match="Expected parameter probs"):
        Categorical(probs=t([-0.5, 0.5]))
    with pytest.raises(ValueError, match="Uniform is not defined when low>= high"):
        Uniform(t([1.0]), t([0.0]))
    with pytest.raises(ValueError, match="positive_definite|PositiveDefinite"):
        MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="within the support"):
        Exponential(t([1.0])).log_prob(t([-1.0]))
    with pytest.raises(ValueError, match="within the support"):
        Bernoulli(probs=t([0.5])).log_prob(t([0.5]))
    with pytest.raises(ValueError, match="within the support"):
        Categorical(probs=t([0.5, 0.5])).log_prob(gpugrad.tensor([2]))
    with pytest.raises(ValueError, match="right-most size of value must match event_shape"):
        MultivariateNormal(t([0.0, 0.0]), scale_tril=t(np.eye(2))).log_prob(t([0.0]))
    with pytest.raises(ValueError, match="not broadcastable"):
        Normal(t(np.zeros(3)), 1.0).log_prob(t(np.zeros(2)))
    with pytest.raises(ValueError, match="must be a Tensor"):
        Normal(0.0, 1.0).log_prob(0.5)
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        Bernoulli(probs=t([0.5]), logits=t([0.0]))
    # validate_args=False lets them through, as torch's
    assert np.isnan(Normal(t([0.0]), t([-1.0]), validate_args=False).entropy().numpy()).all()
    assert Exponential(t([1.0]), validate_args=False).log_prob(t([-1.0])).item() == 1.0


def test_set_default_validate_args_switches_validation_off_and_on():
    assert Distribution._validate_args is True                  # torch's default
    try:
        Distribution.set_default_validate_args(False)
        Normal(t([0.0]), t([-1.0]))                              # not checked
        assert Normal(t([0.0]), t([-1.0]), validate_args=True) is not None
    except ValueError:
        pass
    else:
        raise AssertionError("validate_args=True must still check")
    finally:
        Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        Distribution.set_default_validate_args("yes")


def test_constraints_check():
    v = t([-1.0, 0.0, 0.5, 1.0, np.nan])
    assert constraints.real.check(v).tolist() == [True, True, True, True, False]
    assert constraints.positive.check(v).tolist() == [False, False, True, True, False]
    assert constraints.nonnegative.check(v).tolist() == [False, True, True, True, False]
    assert constraints.unit_interval.check(v).tolist() == [False, True, True, True, False]
    assert constraints.half_open_interval(0.0, 1.0).check(v).tolist()[3] is False
    assert constraints.boolean.check(v).tolist() == [False, True, False, True, False]
    assert constraints.integer_interval(0, 1).check(v).tolist() == [False, True, False, True,
                                                                     False]
    assert constraints.simplex.check(t([[0.2, 0.8], [0.5, 0.6]])).tolist() == [True, False]
    assert constraints.one_hot.check(t([[0, 1], [1, 1]])).tolist() == [True, False]
    assert constraints.lower_cholesky.check(t([[[1, 0], [2, 3]], [[1, 1], [0, 1]]])).tolist() \
        == [True, False]
    assert constraints.positive_definite.check(t([[[2, 1], [1, 2]], [[1, 2], [2, 1]]])).tolist() \
        == [True, False]
    assert constraints.real_vector.check(t([[0.0, 1.0], [np.nan, 1.0]])).tolist() == [True, False]
    assert constraints.is_dependent(Uniform.arg_constraints["low"])
    assert repr(constraints.positive) == "GreaterThan(lower_bound=0.0)"
    assert repr(constraints.real_vector) == "IndependentConstraint(Real(), 1)"


# -------------------------------------------------------------------------------------------
# KL divergences: closed forms, and quadrature for the mixed pairs
# -------------------------------------------------------------------------------------------

def _quadrature_kl(log_p, log_q, lo, hi, n=400001):
    x = np.linspace(lo, hi, n)
    lp, lq = log_p(x), log_q(x)
    integrand = np.where(np.isfinite(lp), np.exp(lp) * (lp - lq), 0.0)
    return np.trapezoid(integrand, x) if hasattr(np, "trapezoid") else np.trapz(integrand, x)


def _normal_logpdf(m, s):
    return lambda x: -(x - m) ** 2 / (2 * s * s) - math.log(s) - LOG_2PI / 2


def _laplace_logpdf(m, b):
    return lambda x: -np.log(2 * b) - np.abs(x - m) / b


def test_kl_same_family_closed_forms():
    m1, s1, m2, s2 = 0.3, 0.7, -1.0, 1.9
    close(kl_divergence(Normal(t(m1), t(s1)), Normal(t(m2), t(s2))),
          math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5)
    close(kl_divergence(Exponential(t(2.0)), Exponential(t(0.5))), math.log(4) + 0.25 - 1)
    close(kl_divergence(Uniform(t(0.0), t(1.0)), Uniform(t(-1.0), t(2.0))), math.log(3))
    assert kl_divergence(Uniform(t(-1.0), t(1.0)), Uniform(t(0.0), t(2.0))).item() == math.inf
    close(kl_divergence(Laplace(t(m1), t(s1)), Laplace(t(m2), t(s2))),
          _quadrature_kl(_laplace_logpdf(m1, s1), _laplace_logpdf(m2, s2), -30, 30), 1e-7)
    p, q = np.array([0.2, 0.5, 0.3]), np.array([0.1, 0.1, 0.8])
    close(kl_divergence(Categorical(probs=t(p)), Categorical(probs=t(q))),
          (p * np.log(p / q)).sum())
    close(kl_divergence(OneHotCategorical(probs=t(p)), OneHotCategorical(logits=t(np.log(q)))),
          (p * np.log(p / q)).sum())
    assert kl_divergence(Categorical(probs=t([0.5, 0.5])),
                         Categorical(probs=t([1.0, 0.0]))).item() == math.inf
    close(kl_divergence(Categorical(probs=t([1.0, 0.0])), Categorical(probs=t([0.5, 0.5]))),
          math.log(2))
    a, b = np.array([0.0, 0.3, 1.0]), np.array([0.6, 0.6, 0.6])
    expected = np.array([math.log(1 / 0.4), 0.3 * math.log(0.3 / 0.6) + 0.7 * math.log(0.7 / 0.4),
                         math.log(1 / 0.6)])
    close(kl_divergence(Bernoulli(probs=t(a)), Bernoulli(probs=t(b))), expected, 1e-9)
    assert kl_divergence(Bernoulli(probs=t([0.5])), Bernoulli(probs=t([0.0]))).item() == math.inf


def test_kl_multivariate_normal_and_independent():
    cov_q = np.array([[1.0, 0.2, 0.0], [0.2, 2.0, 0.5], [0.0, 0.5, 1.5]])
    mean_q = np.array([1.0, 0.0, -1.0])
    p = MultivariateNormal(t(MEAN), covariance_matrix=t(COV))
    q = MultivariateNormal(t(mean_q), precision_matrix=t(np.linalg.inv(cov_q)))
    diff = mean_q - MEAN
    expected = 0.5 * (np.trace(np.linalg.solve(cov_q, COV)) + diff @ np.linalg.solve(cov_q, diff)
                      - 3 + np.linalg.slogdet(cov_q)[1] - np.linalg.slogdet(COV)[1])
    close(kl_divergence(p, q), expected, 1e-9)
    batched = MultivariateNormal(t(np.zeros((2, 3))), scale_tril=t(np.linalg.cholesky(COV)))
    assert kl_divergence(batched, q).shape == (2,)
    ip = Independent(Normal(t(LOC), t(SCALE)), 1)
    iq = Independent(Normal(t(LOC[::-1]), t(SCALE[::-1])), 1)
    per = np.log(SCALE[::-1] / SCALE) + (SCALE ** 2 + (LOC - LOC[::-1]) ** 2) / (
        2 * SCALE[::-1] ** 2) - 0.5
    close(kl_divergence(ip, iq), per.sum())
    close(kl_divergence(LogNormal(t(0.3), t(0.7)), LogNormal(t(-1.0), t(1.9))),
          kl_divergence(Normal(t(0.3), t(0.7)), Normal(t(-1.0), t(1.9))))


def test_kl_mixed_pairs_against_quadrature():
    normal, laplace = _normal_logpdf(0.4, 0.8), _laplace_logpdf(-0.2, 1.3)
    close(kl_divergence(Normal(t(0.4), t(0.8)), Laplace(t(-0.2), t(1.3))),
          _quadrature_kl(normal, laplace, -30, 30), 1e-7)
    close(kl_divergence(Laplace(t(-0.2), t(1.3)), Normal(t(0.4), t(0.8))),
          _quadrature_kl(laplace, normal, -60, 60), 1e-6)
    exponential = lambda x: np.where(x >= 0, np.log(1.7) - 1.7 * x, -np.inf)  # noqa: E731
    close(kl_divergence(Exponential(t(1.7)), Normal(t(0.4), t(0.8))),
          _quadrature_kl(exponential, normal, 0, 40), 1e-6)
    uniform = lambda x: np.where((x >= -0.5) & (x <= 2.0), -math.log(2.5), -np.inf)  # noqa
    close(kl_divergence(Uniform(t(-0.5), t(2.0)), Normal(t(0.4), t(0.8))),
          _quadrature_kl(uniform, normal, -0.5, 2.0), 1e-8)
    close(kl_divergence(Uniform(t(0.5), t(2.0)), Exponential(t(1.7))),
          _quadrature_kl(lambda x: np.full_like(x, -math.log(1.5)),
                         lambda x: math.log(1.7) - 1.7 * x, 0.5, 2.0), 1e-8)
    assert kl_divergence(Uniform(t(-0.5), t(2.0)), Exponential(t(1.7))).item() == math.inf
    for p, q in [(Normal(0.0, 1.0), Uniform(0.0, 1.0)), (Normal(0.0, 1.0), Exponential(1.0)),
                 (Laplace(0.0, 1.0), Uniform(0.0, 1.0)), (Exponential(1.0), Uniform(0.0, 1.0))]:
        assert kl_divergence(p, q).item() == math.inf


def test_kl_dispatch_register_and_errors():
    with pytest.raises(NotImplementedError, match="No KL"):
        kl_divergence(Bernoulli(probs=t([0.5])), Normal(0.0, 1.0))

    class Wide(Normal):
        pass

    assert kl_divergence(Wide(0.0, 1.0), Normal(0.0, 1.0)).item() == 0.0     # inherited

    @register_kl(Wide, Normal)
    def _wide(p, q):
        return p.loc * 0 + 7.0

    assert kl_divergence(Wide(0.0, 1.0), Normal(0.0, 1.0)).item() == 7.0
    with pytest.raises(TypeError):
        register_kl(int, Normal)


def test_normal_icdf_second_derivative_by_hand():
    """q(p) = Phi^-1(p): q' = 1 / phi(q), q'' = q / phi(q)^2 (through the erfinv record)."""
    p = gpugrad.tensor([0.1, 0.5, 0.9], dtype="float64", requires_grad=True)
    q = Normal(0.0, 1.0).icdf(p)
    first, = gpugrad.autograd.grad(q.sum(), p, create_graph=True)
    second, = gpugrad.autograd.grad(first.sum(), p)
    qs = q.detach().numpy()
    density = np.exp(-qs ** 2 / 2) / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(first.detach().numpy(), 1 / density, rtol=1e-12)
    np.testing.assert_allclose(second.numpy(), qs / density ** 2, rtol=1e-10, atol=1e-12)
