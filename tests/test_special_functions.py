"""gpugrad.special and the special-function records (gpugrad/ops/special_*.py): exact values
from the textbook identities, edge values (poles, infinities, the far tails), gradients as
PyTorch's, and agreement with torch.special where torch is installed."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad import special

EULER_GAMMA = 0.5772156649015329


def f64(values):
    return gpugrad.tensor(values, dtype="float64")


def test_gamma_family_at_exact_values():
    x = f64([1.0, 2.0, 0.5, 3.0, 10.0])
    np.testing.assert_allclose(special.gammaln(x).numpy(),
                               [0.0, 0.0, 0.5 * math.log(math.pi), math.log(2.0),
                                math.log(362880.0)], rtol=4e-15, atol=0)
    assert special.gammaln(f64([1.0, 2.0])).tolist() == [0.0, 0.0]     # exact zeros
    harmonic_9 = sum(1.0 / k for k in range(1, 10))
    np.testing.assert_allclose(special.digamma(x).numpy(),
                               [-EULER_GAMMA, 1.0 - EULER_GAMMA,
                                -EULER_GAMMA - 2.0 * math.log(2.0), 1.5 - EULER_GAMMA,
                                harmonic_9 - EULER_GAMMA], rtol=2e-15)
    np.testing.assert_allclose(special.polygamma(1, f64([1.0, 0.5, 3.0])).numpy(),
                               [math.pi ** 2 / 6, math.pi ** 2 / 2, math.pi ** 2 / 6 - 1.25],
                               rtol=1e-15)
    zeta3 = 1.2020569031595942
    np.testing.assert_allclose(special.polygamma(2, f64([1.0])).numpy(), [-2.0 * zeta3],
                               rtol=1e-15)
    # reflection: Gamma(-1/2) = -2 sqrt(pi); digamma(-1/2) = digamma(3/2) (pi cot = 0 there)
    np.testing.assert_allclose(special.gammaln(f64([-0.5])).numpy(),
                               [math.log(2.0 * math.sqrt(math.pi))], rtol=1e-15)
    np.testing.assert_allclose(special.digamma(f64([-0.5])).numpy(),
                               [2.0 - EULER_GAMMA - 2.0 * math.log(2.0)], rtol=1e-14)


def test_gamma_family_against_math_lgamma_wide_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0.01, 40.0, 400), 10.0 ** rng.uniform(-300, 300, 200),
                        rng.uniform(-40.0, -0.01, 400)])
    x = x[np.abs(x - np.round(x)) > 1e-3]
    expected = np.array([math.lgamma(v) for v in x])
    got = special.gammaln(f64(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13)


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")   # (NumPy at poles)
def test_gamma_family_poles_and_infinities_as_torch():
    x = f64([0.0, -0.0, -1.0, math.inf, -math.inf, math.nan])
    assert special.gammaln(x).tolist()[:5] == [math.inf] * 5
    d = special.digamma(x).tolist()
    assert d[0] == -math.inf and d[1] == math.inf and math.isnan(d[2]) and d[3] == math.inf
    assert math.isnan(d[4]) and math.isnan(d[5])
    assert special.polygamma(1, f64([0.0, math.inf])).tolist() == [math.inf, 0.0]
    with pytest.raises(ValueError, match="non-negative int"):
        special.polygamma(-1, x)


def test_gamma_family_gradients_chain_up_the_polygammas():
    x = f64([0.7, 2.5, -1.5]).requires_grad_()
    (g,) = gpugrad.autograd.grad(special.gammaln(x).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.numpy(), special.digamma(x).detach().numpy(), rtol=1e-15)
    (h,) = gpugrad.autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(h.numpy(), special.polygamma(1, x).detach().numpy(),
                               rtol=1e-15)


def test_float32_lgamma_keeps_float32_accuracy():
    x = gpugrad.tensor([1.5, 2.0, 1e-3, 7.25], dtype="float32")
    expected = [math.lgamma(v) for v in x.tolist()]
    got = special.gammaln(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=2e-7, atol=1e-7)


def test_erf_family_far_tails():
    x = f64([10.0, 26.0, 30.0, -30.0, math.inf, -math.inf])
    np.testing.assert_allclose(special.erfc(x).numpy()[:2],
                               [math.erfc(10.0), math.erfc(26.0)], rtol=1e-14)
    assert special.erfc(x).tolist()[2:] == [0.0, 2.0, 0.0, 2.0]
    big = f64([1e10, 1e100])
    np.testing.assert_allclose(special.erfcx(big).numpy(), 1.0 / (big.numpy() *
                               math.sqrt(math.pi)), rtol=1e-15)
    assert special.erfcx(f64([-math.inf, math.inf])).tolist() == [math.inf, 0.0]
    # inverses: round trips, including 1 - y far below float64's epsilon for ndtri
    y = f64([-0.999999, -0.5, 0.0, 0.3, 0.9999999999])
    np.testing.assert_allclose(gpugrad.erf(special.erfinv(y)).numpy(), y.numpy(), rtol=1e-15)
    p = f64([1e-300, 1e-20, 0.025, 0.5, 0.975])
    x = special.ndtri(p)
    # (ndtr magnifies an ulp of x by |x| ~ 37 at 1e-300: the round trip's own conditioning)
    np.testing.assert_allclose(special.ndtr(x).numpy(), p.numpy(), rtol=1e-12)
    assert special.erfinv(f64([-1.0, 1.0])).tolist() == [-math.inf, math.inf]
    assert special.ndtri(f64([0.0, 1.0])).tolist() == [-math.inf, math.inf]
    assert all(math.isnan(v) for v in special.erfinv(f64([1.5, -2.0])).tolist())


def test_log_ndtr_far_lower_tail_is_finite_with_finite_gradient():
    x = f64([-40.0, -5.0, 0.0, 5.0]).requires_grad_()
    out = special.log_ndtr(x)
    # log Phi(x) = -x^2/2 - log(-x sqrt(2 pi)) - 1/x^2 + 5/2 x^-4 - 37/3 x^-6 + ... (tail)
    tail = (-800.0 - math.log(40.0 * math.sqrt(2.0 * math.pi)) - 1.0 / 40 ** 2
            + 2.5 / 40 ** 4 - 37.0 / 3.0 / 40 ** 6)
    assert abs(out.tolist()[0] - tail) < 1e-10            # (the next term: ~1e-11)
    (g,) = gpugrad.autograd.grad(out.sum(), [x])
    assert np.isfinite(g.numpy()).all() and abs(g.tolist()[0] - 40.0249) < 1e-3


def test_bessel_values_and_gradients():
    x = f64([0.0, 1.0, -2.0, 50.0])
    np.testing.assert_allclose(special.i0(x).numpy(), np.i0(x.numpy()), rtol=1e-15)
    np.testing.assert_allclose(special.i0e(f64([1e3])).numpy(), [0.012617240455891257],
                               rtol=1e-14)
    assert special.i1(f64([-2.0])).tolist() == [-special.i1(f64([2.0])).item()]
    z = f64([0.0, 3.0]).requires_grad_()
    (g,) = gpugrad.autograd.grad(special.i1e(z).sum(), [z])
    assert g.tolist()[0] == 0.5                              # torch's limit at 0


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")   # (NumPy at 0)
def test_entropy_terms_at_zero_as_torch():
    x = f64([0.0, 0.5, -1.0]).requires_grad_()
    out = special.entr(x)
    assert out.tolist()[0] == 0.0 and out.tolist()[2] == -math.inf
    (g,) = gpugrad.autograd.grad(out.sum(), [x])
    assert g.tolist()[0] == math.inf and math.isnan(g.tolist()[2])
    a, b = f64([0.0, 2.0]).requires_grad_(), f64([-1.0, 1.0]).requires_grad_()
    out = special.xlog1py(a, b)
    assert out.tolist() == [0.0, 2.0 * math.log(2.0)]
    ga, gb = gpugrad.autograd.grad(out.sum(), [a, b])
    assert ga.tolist() == [0.0, math.log(2.0)] and gb.tolist()[1] == 1.0


def test_namespace_names_and_tensor_methods():
    for name in ("expit", "logit", "erf", "erfc", "erfcx", "erfinv", "gammaln", "digamma",
                 "psi", "polygamma", "multigammaln", "xlogy", "xlog1py", "entr", "ndtr",
                 "ndtri", "log_ndtr", "logsumexp", "softmax", "log_softmax", "log1p", "expm1",
                 "exp2", "sinc", "round", "i0", "i0e", "i1", "i1e"):
        assert callable(getattr(special, name)), name
    x = gpugrad.tensor([0.25, 0.5])
    for name in ("lgamma", "digamma", "erfinv", "erfc", "i0"):
        np.testing.assert_array_equal(getattr(x, name)().numpy(),
                                      getattr(gpugrad, name)(x).numpy())
    np.testing.assert_array_equal(x.polygamma(1).numpy(), gpugrad.polygamma(1, x).numpy())
    np.testing.assert_allclose(special.logsumexp(f64([[0.0, 0.0]]), 1).numpy(),
                               [math.log(2.0)], rtol=1e-15)
    assert special.softmax(x, 0).shape == (2,) and special.expit(x).dtype == np.float32


NAMES = ["gammaln", "digamma", "erfc", "erfcx", "i0", "i0e", "i1", "i1e", "ndtr", "log_ndtr",
         "entr", "expit", "sinc", "log1p", "expm1", "exp2"]


@pytest.mark.parametrize("name", NAMES)
def test_values_and_gradients_match_torch_special(name):
    torch = pytest.importorskip("torch")
    values = np.array([0.3, 1.7, 2.5, 5.0, 12.0, -0.7, -2.5])
    if name in ("entr", "log1p"):
        values = np.abs(values)
    x = f64(values).requires_grad_()
    tx = torch.tensor(values, requires_grad=True)
    out, t_out = getattr(special, name)(x), getattr(torch.special, name)(tx)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-13)
    (g,) = gpugrad.autograd.grad(out.sum(), [x])
    t_out.sum().backward()
    np.testing.assert_allclose(g.numpy(), tx.grad.numpy(), rtol=1e-8)


@pytest.mark.parametrize("name,values", [("erfinv", [-0.99, -0.3, 0.0, 0.5, 0.9999]),
                                         ("ndtri", [1e-10, 0.01, 0.5, 0.975])])
def test_inverses_match_torch_special(name, values):
    torch = pytest.importorskip("torch")
    p = f64(values).requires_grad_()
    tp = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    out, t_out = getattr(special, name)(p), getattr(torch.special, name)(tp)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-13)
    (g,) = gpugrad.autograd.grad(out.sum(), [p])
    t_out.sum().backward()
    np.testing.assert_allclose(g.numpy(), tp.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_polygamma_and_mvlgamma_match_torch(n):
    torch = pytest.importorskip("torch")
    values = np.array([0.3, 1.7, 4.5, 20.0])
    out = special.polygamma(n, f64(values)).numpy()
    np.testing.assert_allclose(out, torch.special.polygamma(n, torch.tensor(values)).numpy(),
                               rtol=1e-9)           # (torch's trigamma is good to ~1e-10)
    got = special.multigammaln(f64([2.5, 7.0]), 3).numpy()
    np.testing.assert_allclose(got, torch.special.multigammaln(
        torch.tensor([2.5, 7.0], dtype=torch.float64), 3).numpy(), rtol=1e-14)
