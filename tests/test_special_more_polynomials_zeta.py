"""torch.special's orthogonal polynomials and Hurwitz zeta in gpugrad.special: values
against NumPy's float64 polynomial classes and the trigonometric closed forms, PyTorch's
degree rules (truncated n, 0 below 0, NaN past the Hermite limits), zeta against its
series identities and its q-gradient against finite differences; PyTorch where installed."""

import math

import numpy as np
import pytest
from numpy.polynomial import chebyshev, hermite, hermite_e, laguerre, legendre

import gpugrad
from gpugrad import special

XS = np.array([-1.7, -1.0, -0.93, -0.4, 0.0, 0.25, 0.61, 0.999, 1.0, 1.3])
DEGREES = [0, 1, 2, 3, 5, 8, 11, 17]


def _basis(module, n):
    c = np.zeros(n + 1)
    c[n] = 1.0
    return lambda x: module.__dict__[_EVAL[module]](x, c)


_EVAL = {chebyshev: "chebval", hermite: "hermval", hermite_e: "hermeval",
         laguerre: "lagval", legendre: "legval"}


def _chebyshev_kind(kind):
    """U by its recurrence in float64 NumPy; V_n = U_n - U_(n-1), W_n = U_n + U_(n-1)
    (U_-1 = 0), identities independent of the recurrences gpugrad runs for V and W."""
    def u(n, x):
        p, q = np.ones_like(x), 2 * x
        if n == 0:
            return p
        for _ in range(n - 1):
            p, q = q, 2 * x * q - p
        return q
    prev = (lambda n, x: u(n - 1, x) if n else np.zeros_like(x))
    return {"u": u, "v": lambda n, x: u(n, x) - prev(n, x),
            "w": lambda n, x: u(n, x) + prev(n, x)}[kind]


REFS = {
    "chebyshev_polynomial_t": lambda n, x: _basis(chebyshev, n)(x),
    "chebyshev_polynomial_u": _chebyshev_kind("u"),
    "chebyshev_polynomial_v": _chebyshev_kind("v"),
    "chebyshev_polynomial_w": _chebyshev_kind("w"),
    "hermite_polynomial_h": lambda n, x: _basis(hermite, n)(x),
    "hermite_polynomial_he": lambda n, x: _basis(hermite_e, n)(x),
    "laguerre_polynomial_l": lambda n, x: _basis(laguerre, n)(x),
    "legendre_polynomial_p": lambda n, x: _basis(legendre, n)(x),
}


@pytest.mark.parametrize("name", sorted(REFS))
def test_polynomials_against_numpy(name):
    x = gpugrad.tensor(np.repeat(XS, len(DEGREES)), dtype="float64")
    n = gpugrad.tensor(np.tile(DEGREES, len(XS)).astype(float), dtype="float64")
    expected = np.concatenate([[REFS[name](d, np.array([v]))[0] for d in DEGREES] for v in XS])
    got = getattr(special, name)(x, n).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-11 * np.abs(expected).max())


@pytest.mark.parametrize("kind", "tuvw")
def test_shifted_chebyshev_is_the_polynomial_at_2x_minus_1(kind):
    xs = (XS + 1.0) / 2.0
    plain = getattr(special, f"chebyshev_polynomial_{kind}")
    shifted = getattr(special, f"shifted_chebyshev_polynomial_{kind}")
    for d in DEGREES:
        np.testing.assert_allclose(
            shifted(gpugrad.tensor(xs, dtype="float64"), d).numpy(),
            plain(gpugrad.tensor(2 * xs - 1, dtype="float64"), d).numpy(), rtol=1e-10,
            atol=1e-10)


def test_chebyshev_trigonometric_forms_at_high_degree():
    t = np.linspace(0.1, 3.0, 7)
    x = gpugrad.tensor(np.cos(t), dtype="float64")
    for n in (40, 101):
        np.testing.assert_allclose(special.chebyshev_polynomial_t(x, n).numpy(),
                                   np.cos(n * t), atol=1e-12)
        np.testing.assert_allclose(special.chebyshev_polynomial_u(x, n).numpy(),
                                   np.sin((n + 1) * t) / np.sin(t), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(special.chebyshev_polynomial_w(x, n).numpy(),
                                   np.sin((n + 0.5) * t) / np.sin(t / 2), rtol=1e-10,
                                   atol=1e-10)


def test_degree_rules_as_pytorch():
    x = gpugrad.tensor([0.5, 0.5, 0.5, 0.5], dtype="float64")
    n = gpugrad.tensor([-1.0, 2.7, -0.5, np.nan], dtype="float64")
    # n truncated toward zero (2.7 -> 2, -0.5 -> 0); below 0 (and NaN) -> 0
    assert special.legendre_polynomial_p(x, n).tolist() == [0.0, -0.125, 1.0, 0.0]
    assert special.hermite_polynomial_h(x, n).tolist() == [0.0, -1.0, 1.0, 0.0]
    assert np.isnan(special.hermite_polynomial_h(gpugrad.tensor([0.5]), 129).item())
    assert np.isnan(special.hermite_polynomial_he(gpugrad.tensor([0.5], dtype="float64"),
                                                  513).item())
    assert special.chebyshev_polynomial_u(gpugrad.tensor([-1.0]), 3).item() == -4.0
    assert special.laguerre_polynomial_l(gpugrad.tensor([0.0]), 7).item() == 1.0
    out = special.chebyshev_polynomial_t(gpugrad.tensor([1, 2]), gpugrad.tensor([3]))
    assert out.dtype == gpugrad.float32 and out.tolist() == [1.0, 26.0]
    grad_x = gpugrad.tensor([0.5], requires_grad=True)
    assert not special.legendre_polynomial_p(grad_x, 3).requires_grad


def test_polynomials_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.uniform(-1.4, 1.4, 200), [1.0, -1.0, 0.0, 0.5]])
    ns = np.concatenate([rng.integers(-2, 30, 200).astype(float), [9.0, 10.0, 7.0, 12.7]])
    names = sorted(REFS) + [f"shifted_chebyshev_polynomial_{k}" for k in "tuvw"]
    for name in names:
        for dtype, rtol in (("float64", 1e-11), ("float32", 2e-4)):
            ours = getattr(special, name)(gpugrad.tensor(xs, dtype=dtype),
                                          gpugrad.tensor(ns, dtype=dtype)).numpy()
            theirs = getattr(torch.special, name)(torch.tensor(xs.astype(dtype)),
                                                  torch.tensor(ns.astype(dtype))).numpy()
            np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol, err_msg=name)


# ----------------------------------------------------------------------------- zeta
def test_zeta_known_values_and_identities():
    x = gpugrad.tensor([2.0, 4.0, 2.0, 3.0], dtype="float64")
    q = gpugrad.tensor([1.0, 1.0, 0.5, 2.0], dtype="float64")
    expected = [math.pi ** 2 / 6, math.pi ** 4 / 90, math.pi ** 2 / 2,
                1.2020569031595942 - 1.0]                     # zeta(3) - 1
    np.testing.assert_allclose(special.zeta(x, q).numpy(), expected, rtol=1e-14)
    # zeta(x, q) - zeta(x, q + 1) = q^-x, at random points; and a direct sum at large x
    rng = np.random.default_rng(1)
    xs, qs = rng.uniform(1.1, 12.0, 50), rng.uniform(0.05, 30.0, 50)
    a = special.zeta(gpugrad.tensor(xs, dtype="float64"), gpugrad.tensor(qs, dtype="float64"))
    b = special.zeta(gpugrad.tensor(xs, dtype="float64"),
                     gpugrad.tensor(qs + 1, dtype="float64"))
    np.testing.assert_allclose(a.numpy() - b.numpy(), qs ** -xs, rtol=1e-12)
    direct = math.fsum((0.7 + k) ** -20.0 for k in range(200))
    assert special.zeta(gpugrad.tensor(20.0, dtype="float64"), 0.7).item() == \
        pytest.approx(direct, rel=1e-15)


def test_zeta_edge_values_as_pytorch():
    x = gpugrad.tensor([1.0, 0.5, 2.0, 2.5, 2.0], dtype="float64")
    q = gpugrad.tensor([1.0, 1.0, 0.0, -1.5, -1.5], dtype="float64")
    out = special.zeta(x, q).numpy()
    assert out[0] == np.inf and np.isnan(out[1]) and out[2] == np.inf and np.isnan(out[3])
    # q = -1.5, integer x: the series from q itself, sum_k (q + k)^-2
    assert out[4] == pytest.approx(math.pi ** 2 / 2 + 1 / 2.25 + 1 / 0.25, rel=1e-13)
    assert special.zeta(gpugrad.tensor([2]), 1).dtype == gpugrad.float32


def test_zeta_gradient_in_q_and_refused_in_x():
    q = gpugrad.tensor([0.7, 2.5], dtype="float64", requires_grad=True)
    x = gpugrad.tensor([3.0, 2.2], dtype="float64")
    special.zeta(x, q).sum().backward()
    h = 1e-6
    fd = [(special.zeta(x, q.detach() + h) - special.zeta(x, q.detach() - h)).numpy()
          / (2 * h)]
    np.testing.assert_allclose(q.grad.numpy(), fd[0], rtol=1e-7)
    # second order: d/dq of -x zeta(x + 1, q) = x (x + 1) zeta(x + 2, q)
    q2 = gpugrad.tensor(1.5, dtype="float64", requires_grad=True)
    (g,) = gpugrad.autograd.grad(special.zeta(3.0, q2), [q2], create_graph=True)
    (h2,) = gpugrad.autograd.grad(g, [q2])
    five = gpugrad.tensor(5.0, dtype="float64")
    assert h2.item() == pytest.approx(12.0 * special.zeta(five, 1.5).item(), rel=1e-13)
    xg = gpugrad.tensor([3.0], dtype="float64", requires_grad=True)
    with pytest.raises(NotImplementedError, match="derivative for 'zeta'"):
        special.zeta(xg, 2.0).sum().backward()


def test_zeta_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    xs = np.concatenate([rng.uniform(1, 30, 100), [1.0, 0.5, 2.0, 2.5, 2.0, 3.0]])
    qs = np.concatenate([rng.uniform(0.01, 40, 100), [1.0, 1.0, 0.0, -1.5, -2.5, -20.5]])
    ours = special.zeta(gpugrad.tensor(xs, dtype="float64"), gpugrad.tensor(qs, dtype="float64"))
    theirs = torch.special.zeta(torch.tensor(xs), torch.tensor(qs))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-13)
    tq = torch.tensor([0.7, 2.5], dtype=torch.float64, requires_grad=True)
    torch.special.zeta(torch.tensor([3.0, 2.2], dtype=torch.float64), tq).sum().backward()
    q = gpugrad.tensor([0.7, 2.5], dtype="float64", requires_grad=True)
    special.zeta(gpugrad.tensor([3.0, 2.2], dtype="float64"), q).sum().backward()
    np.testing.assert_allclose(q.grad.numpy(), tq.grad.numpy(), rtol=1e-13)
