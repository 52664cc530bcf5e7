"""The edges of the gamma family (gpugrad/ops/incomplete_gamma.py, standard_gamma.py,
random_draws.py, distributions/gamma.py and dirichlet.py): samples that must never round to
exactly 0 or 1, the incomplete gamma functions and the implicit gradient for every
concentration (large ones included), their domain, and the top-level torch names. References
are written here from the definitions (Poisson sums, the power series, finite differences in
float64); torch comparisons skip without torch."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.distributions import Beta, Chi2, Dirichlet, Gamma
from gpugrad.ops import incomplete_gamma
from gpugrad.ops.standard_gamma import regularized_gamma_p, regularized_gamma_q, \
    standard_gamma_grad
from gpugrad.random import draw_array

F64 = "float64"


def _t(values):
    return gpugrad.tensor(np.asarray(values, dtype=np.float64), dtype=F64)


def _log1pmx_neg(mu):
    """mu - log(1 + mu), by its power series for small mu (the reference's own)."""
    if abs(mu) > 0.01:
        return mu - math.log1p(mu)
    return math.fsum((-1) ** k * mu ** k / k for k in range(2, 12))


def _log_front(a, x):
    """log(x^a e^-x / Gamma(a + 1)), for large a through Stirling's series."""
    if a < 50:
        return a * math.log(x) - x - math.lgamma(a + 1)
    log_gamma_star = 1 / (12 * a) - 1 / (360 * a ** 3) + 1 / (1260 * a ** 5)
    return -a * _log1pmx_neg((x - a) / a) - 0.5 * math.log(2 * math.pi * a) - log_gamma_star


def _p_series(a, x):
    """P(a, x) = x^a e^-x / Gamma(a + 1) sum_n x^n / ((a+1)...(a+n)), summed to the end."""
    term, terms, n = 1.0, [1.0], 0
    while term > 1e-18 * terms[0] or n < x - a:
        n += 1
        term *= x / (a + n)
        terms.append(term)
    return math.exp(_log_front(a, x)) * math.fsum(terms)


def _poisson(k, x):
    return math.exp(k * math.log(x) - x - math.lgamma(k + 1))


def _q_integer(n, x):
    """Q(n, x) for an integer n: the Poisson(x) probability of fewer than n events."""
    return math.fsum(_poisson(k, x) for k in range(n))


def _p_integer(n, x):
    """P(n, x) = 1 - Q(n, x): the probability of n events or more."""
    return math.fsum(_poisson(k, x) for k in range(n, n + int(x + 40 * math.sqrt(x)) + 60))


# --- F1, F3: samples never exactly 0 or 1 --------------------------------------------------------

def test_beta_and_dirichlet_rsample_stay_inside_the_open_interval_in_float32():
    gpugrad.manual_seed(0)
    c = gpugrad.tensor([0.1, 0.1], requires_grad=True)
    d = Beta(c[0], c[1])
    x = d.rsample((100000,))
    values = x.detach().numpy()
    assert values.min() >= np.finfo(np.float32).tiny and values.max() <= 1 - 2.0 ** -24
    lp = d.log_prob(x)
    assert np.isfinite(lp.detach().numpy()).all()
    lp.mean().backward()
    assert np.isfinite(c.grad.numpy()).all()
    rows = Dirichlet(gpugrad.full((3,), 0.01)).rsample((20000,)).numpy()
    assert (rows < 1).all() and (rows > 0).all()


def test_gamma_rsample_with_a_large_rate_is_at_least_the_smallest_normal_float():
    gpugrad.manual_seed(1)
    c = gpugrad.tensor(0.01, requires_grad=True)
    r = gpugrad.tensor(1e10, requires_grad=True)
    d = Gamma(c, r)
    x = d.rsample((100000,))
    assert x.detach().numpy().min() == np.finfo(np.float32).tiny
    lp = d.log_prob(x)
    assert np.isfinite(lp.detach().numpy()).all()
    x.sum().backward()                            # the gradient is the unclamped sample's
    assert np.isfinite(c.grad.item()) and np.isfinite(r.grad.item())


# --- F2, F11: P, Q and dx/da for every concentration ---------------------------------------------

@pytest.mark.parametrize("n", [1, 3, 12, 50, 200])
def test_gammaincc_of_integer_a_is_the_poisson_sum_in_every_region(n):
    x = np.array([0.05, 0.3, 0.45, 0.9, 1.0, 1.1, 2.0, 2.6, 3.5]) * n
    q = regularized_gamma_q(_t(np.full(x.shape, float(n))), _t(x)).numpy()
    p = regularized_gamma_p(_t(np.full(x.shape, float(n))), _t(x)).numpy()
    np.testing.assert_allclose(q, [_q_integer(n, xi) for xi in x], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(p, [_p_integer(n, xi) for xi in x], rtol=1e-12, atol=1e-300)


def test_gammaincc_half_integers_against_erfc():
    """Q(k + 1/2, x) = erfc(sqrt x) + e^-x sum over j < k of x^(j + 1/2) / Gamma(j + 3/2)."""
    for k in (0, 4, 15):
        for x in (0.2, 3.0, 11.0, 40.0):
            head = math.erfc(math.sqrt(x))
            rest = math.fsum(math.exp((j + 0.5) * math.log(x) - x - math.lgamma(j + 1.5))
                             for j in range(k))
            got = regularized_gamma_q(_t([k + 0.5]), _t([x])).item()
            assert got == pytest.approx(head + rest, rel=1e-12)


@pytest.mark.parametrize("a", [2e7, 1e8])
@pytest.mark.parametrize("z", [-3.0, 0.0, 1.5])
def test_gammainc_and_the_implicit_gradient_for_very_large_a(a, z):
    x = a + z * math.sqrt(a)
    expected = _p_series(a, x)
    got = regularized_gamma_p(_t([a]), _t([x])).item()
    assert got == pytest.approx(expected, rel=1e-9)
    # dx/da = -(dP/da) / density, dP/da by Richardson-extrapolated central differences
    h = 0.02 * math.sqrt(a)
    d1 = (_p_series(a + h, x) - _p_series(a - h, x)) / (2 * h)
    d2 = (_p_series(a + 2 * h, x) - _p_series(a - 2 * h, x)) / (4 * h)
    density = math.exp(_log_front(a, x)) * a / x
    grad = standard_gamma_grad(_t([a]), _t([x])).item()
    assert grad == pytest.approx(-(4 * d1 - d2) / 3 / density, rel=1e-6)


def _quantile(a, u):
    lo, hi = 0.0, a + 12 * math.sqrt(a) + 40
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _p_series(a, mid) < u else (lo, mid)
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("a", [9.5, 15.0, 60.0, 500.0])
@pytest.mark.parametrize("u", [0.003, 0.5, 0.995])
def test_implicit_gradient_is_the_quantile_derivative_for_larger_a(a, u):
    x = _quantile(a, u)
    h = 1e-5 * a
    expected = (_quantile(a + h, u) - _quantile(a - h, u)) / (2 * h)
    got = standard_gamma_grad(_t([a]), _t([x])).item()
    assert got == pytest.approx(expected, rel=1e-6)


def test_gamma_cdf_of_a_sharp_gamma_is_one_half_near_its_mean():
    d = Gamma(_t([2e7]), _t([2e7]))
    assert d.cdf(_t([1.0])).item() == pytest.approx(0.5 + 1 / (3 * math.sqrt(2 * math.pi * 2e7)),
                                                     rel=1e-9)
    assert Chi2(_t([4e7])).cdf(_t([4e7])).item() == pytest.approx(0.5, abs=1e-4)


# --- F4: fixed work, whatever the concentrations -------------------------------------------------

class _CountingXp:
    """NumPy seen as another array module (so the code takes its device path, as on CUDA),
    counting every call."""

    def __init__(self):
        self.calls = 0

    def __getattr__(self, name):
        attr = getattr(np, name)
        if not callable(attr) or isinstance(attr, type):
            return attr

        def counted(*args, **kwargs):
            self.calls += 1
            return attr(*args, **kwargs)
        return counted


def test_device_path_matches_the_host_path_with_work_independent_of_the_values():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0.01, 3, 50), rng.uniform(10, 1e3, 50), [1e6, 2e7]])
    x = np.concatenate([rng.gamma(a[:-2]), [1e6 + 300, 2e7 - 9000]])
    counts = []
    for alphas in (a, np.full_like(a, 0.5)):
        xp = _CountingXp()
        grad = incomplete_gamma.quantile_derivative(xp, alphas, x)
        p, q = incomplete_gamma.regularized_pair(xp, alphas, x)
        counts.append(xp.calls)
        np.testing.assert_allclose(grad, incomplete_gamma.quantile_derivative(np, alphas, x),
                                   rtol=1e-13)
        host_p, host_q = incomplete_gamma.regularized_pair(np, alphas, x)
        np.testing.assert_allclose(p, host_p, rtol=1e-13)
        np.testing.assert_allclose(q, host_q, rtol=1e-13)
    assert counts[0] == counts[1]           # no loop sized by the largest concentration


# --- F5, F7: log_prob of numbers, mode's gradient ------------------------------------------------

def test_gamma_log_prob_takes_a_number_and_keeps_the_parameters_dtype():
    d = Gamma(gpugrad.tensor([2.0]), gpugrad.tensor([1.0]))
    assert d.log_prob(1.0).tolist() == pytest.approx([-1.0])          # log(1 e^-1 / 1!)
    lp = d.log_prob(gpugrad.tensor([1.0], dtype=F64))
    assert lp.dtype == gpugrad.float32
    assert Chi2(gpugrad.tensor([2.0])).log_prob(2.0).item() == pytest.approx(-1 - math.log(2))


def test_dirichlet_and_beta_mode_gradient_is_zero_at_the_corner():
    c = _t([0.5, 0.3]).requires_grad_()
    (Dirichlet(c).mode * _t([1.0, 2.0])).sum().backward()
    assert c.grad.tolist() == [0.0, 0.0]
    c1, c0 = _t(0.4).requires_grad_(), _t(0.7).requires_grad_()
    Beta(c1, c0).mode.backward()
    assert (c1.grad.item(), c0.grad.item()) == (0.0, 0.0)
    c = _t([3.0, 2.0]).requires_grad_()            # an interior mode: (a-1) / sum(a-1)
    Dirichlet(c).mode[0].backward()
    assert c.grad.tolist() == pytest.approx([1 / 3 - 2 / 9, -2 / 9])


# --- F8, F9: domain and messages -----------------------------------------------------------------

def test_gammainc_domain_as_torch():
    inf, nan = math.inf, math.nan
    a = [1.0, -1.0, 0.0, 0.0, 0.0, inf, inf, 1.0, 1.0, 2.0, nan]
    x = [-1.0, 1.0, 0.0, 1.0, inf, 1.0, inf, 0.0, inf, nan, 1.0]
    p = [nan, nan, nan, 1.0, 1.0, 0.0, nan, 0.0, 1.0, nan, nan]
    for dtype in ("float32", F64):
        ta, tx = gpugrad.tensor(a, dtype=dtype), gpugrad.tensor(x, dtype=dtype)
        got_p, got_q = regularized_gamma_p(ta, tx).numpy(), regularized_gamma_q(ta, tx).numpy()
        np.testing.assert_array_equal(got_p, np.array(p, dtype=dtype))
        np.testing.assert_array_equal(got_q, 1 - np.array(p, dtype=dtype))
    # tiny x keeps its value (no floor at 1e-300): P(1, x) = 1 - e^-x = x for tiny x
    assert regularized_gamma_p(_t([1.0]), _t([1e-310])).item() == pytest.approx(1e-310)


def test_gammainc_takes_a_number():
    t = gpugrad.tensor([2.0, 3.0])
    assert gpugrad.special.gammainc(t, 1.0).tolist() == \
        gpugrad.special.gammainc(t, gpugrad.full((2,), 1.0)).tolist()
    assert gpugrad.special.gammaincc(2.0, t).tolist() == pytest.approx(
        [3 * math.exp(-2), 4 * math.exp(-3)], rel=1e-6)


def test_poisson_refuses_a_negative_or_nan_rate():
    for bad in (math.nan, -1.0):
        with pytest.raises(RuntimeError, match="non-negative"):
            gpugrad.poisson(gpugrad.tensor([1.0, bad]))


# --- F6, F10: torch's names, generators, draw_array ----------------------------------------------

def test_poisson_and_binomial_at_top_level_with_a_generator():
    g = gpugrad.Generator().manual_seed(5)
    first = gpugrad.poisson(gpugrad.full((50000,), 3.0), generator=g)
    again = gpugrad.poisson(gpugrad.full((50000,), 3.0), generator=g.manual_seed(5))
    assert first.tolist() == again.tolist()
    assert abs(first.numpy().mean() - 3.0) < 5 * math.sqrt(3.0 / 50000)
    counts = gpugrad.binomial(gpugrad.full((50000,), 10.0), gpugrad.full((50000,), 0.3),
                              generator=g).numpy()
    assert abs(counts.mean() - 3.0) < 5 * math.sqrt(2.1 / 50000)
    assert abs(counts.var() - 2.1) < 0.1
    assert gpugrad.binomial(gpugrad.tensor([-2.0, 4.0]), gpugrad.tensor([0.5, 1.0])).tolist() \
        == [0.0, 4.0]
    assert gpugrad._standard_gamma(gpugrad.ones(3)).shape == (3,)
    assert gpugrad._standard_gamma_grad(_t([1.0]), _t([2.0])).item() == pytest.approx(
        1.63169146, rel=1e-8)


def test_draw_array_replays_under_a_seed_and_names_its_methods():
    cpu = gpugrad.Device("cpu")
    gpugrad.manual_seed(3)
    a = draw_array("standard_gamma", cpu, np.full(4, 2.0))
    gpugrad.manual_seed(3)
    assert (draw_array("standard_gamma", cpu, np.full(4, 2.0)) == a).all()
    with pytest.raises(ValueError, match="standard_gamma"):
        draw_array("gamma", cpu, np.ones(2))


# --- torch ---------------------------------------------------------------------------------------

def test_against_torch():
    torch = pytest.importorskip("torch")
    a = np.array([0.3, 2.0, 15.0, 2e7, 1e9])
    x = np.array([0.5, 1.0, 20.0, 2e7 + 3000, 1e9 - 30000])
    for name in ("gammainc", "gammaincc"):
        expected = getattr(torch.special, name)(torch.tensor(a), torch.tensor(x)).numpy()
        got = getattr(gpugrad.special, name)(_t(a), _t(x)).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-9)
    expected = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    got = standard_gamma_grad(_t(a), _t(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=2e-3)     # (torch's is an approximation)
    inf = math.inf
    ea, ex = [1.0, -1.0, 0.0, 0.0, inf, inf, 1.0], [-1.0, 1.0, 0.0, 1.0, 1.0, inf, 0.0]
    np.testing.assert_array_equal(
        gpugrad.special.gammainc(_t(ea), _t(ex)).numpy(),
        torch.special.gammainc(torch.tensor(ea, dtype=torch.float64),
                               torch.tensor(ex, dtype=torch.float64)).numpy())
    c = torch.tensor([0.5, 0.3], dtype=torch.float64, requires_grad=True)
    import torch.distributions as TD
    (TD.Dirichlet(c).mode * torch.tensor([1.0, 2.0], dtype=torch.float64)).sum().backward()
    assert c.grad.tolist() == [0.0, 0.0]
    tp = TD.Gamma(torch.tensor([2.0]), torch.tensor([1.0])).log_prob(1.0)
    gp = Gamma(gpugrad.tensor([2.0]), gpugrad.tensor([1.0])).log_prob(1.0)
    assert gp.tolist() == pytest.approx(tp.tolist()) and str(tp.dtype) == "torch.float32"
    t_small = TD.Beta(torch.tensor(0.1), torch.tensor(0.1)).rsample((100000,))
    g_small = Beta(gpugrad.tensor(0.1), gpugrad.tensor(0.1)).rsample((100000,)).numpy()
    assert float(t_small.max()) == float(g_small.max()) == 1 - 2.0 ** -24
