"""The array maths under ``gammainc``/``gammaincc`` and the implicit gamma gradient
(ops/standard_gamma.py holds their records): the regularised incomplete gamma functions
P(a, x), Q(a, x) = 1 - P and dx/da of a Gamma(a, 1) sample x at a fixed quantile, element-wise
on float64 arrays of any shape.

Every (a, x) falls in one of four regions, each computed with a fixed number of steps (none
is read from the data, so nothing waits for the device and one large a costs the others
nothing):

- series, x <= a + 1 for a < 10 and x < 0.4 a beyond: P = x^a e^-x / Gamma(a + 1) sum t_n,
  t_0 = 1, t_n = t_(n-1) x / (a + n), 50 terms (their ratio is below 0.4 or they fall like
  x^n / n!), differentiated in a term by term;
- continued fraction, the rest of a < 10 and x > 2.5 a beyond: Q = x^a e^-x / Gamma(a) C,
  C = 1 / (b0 - a1 / (b1 - a2 / ...)), b_k = x + 2k + 1 - a, a_k = k (k - a), evaluated from
  depth 100 where x < 3 (it converges slowest near x = 1 for small a) and 40 beyond;
- Temme's uniform asymptotic expansion (DLMF 8.12.3-8.12.10), a >= 10 and
  0.4 a <= x <= 2.5 a: with lambda = x / a and eta = sign(lambda - 1) sqrt(2 (lambda - 1 -
  log lambda)), Q = erfc(eta sqrt(a / 2)) / 2 + e^(-a eta^2 / 2) / sqrt(2 pi a) S,
  S = sum over k < 12 of c_k(eta) a^-k; the c_k are Taylor series in eta to order 30 whose
  coefficients come once, exactly (fractions), from the recurrence c_0 = 1/(lambda - 1) -
  1/eta, c_k = c_(k-1)'(eta) / eta + (-1)^k g_k / (lambda - 1). Its derivative in a is
  written out below (the factor e^(-a eta^2 / 2) cancels against the density's).

About 1e-14 relative in P, Q and dx/da against mpmath for a from 1e-5 to 1e12. On NumPy each
region is computed on its own elements only; on other array modules on every element, with
``where`` keeping the right one (the same fixed work, no boolean indexing, which would wait
for the device).

Example::

    >>> import numpy as np
    >>> from gpugrad.ops.incomplete_gamma import regularized_pair
    >>> p, q = regularized_pair(np, np.array([1.0, 2e7]), np.array([2.0, 2e7]))
    >>> round(float(p[0]), 12), round(float(q[0]), 12)          # 1 - e^-2, e^-2
    (0.864664716763, 0.135335283237)
    >>> round(float(p[1]), 6)                   # 1/2 + 1/(3 sqrt(2 pi a)) at the mean
    0.50003
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np

from .special import polynomial
from .special_erf import _erfcx
from .special_gamma import _LGAMMA_SERIES, _lgamma, _polygamma

__all__ = ["regularized_pair", "quantile_derivative", "temme_coefficients"]

_TEMME_FROM = 10.0                      # a from which the asymptotic expansion is used
_LOW, _HIGH = 0.4, 2.5                  # ... for x / a in [_LOW, _HIGH]
_TEMME_K, _TEMME_N = 12, 30             # powers of 1/a; Taylor terms in eta
_SERIES_TERMS, _FRACTION_NEAR, _FRACTION_FAR = 50, 100, 40
_CHUNK = 1 << 16                        # elements per matrix product in the expansion
_LOG_2PI = math.log(2.0 * math.pi)


@functools.lru_cache(maxsize=None)
def temme_coefficients(k_terms: int = _TEMME_K, n_terms: int = _TEMME_N) -> np.ndarray:
    """d[k, n], the Taylor coefficient of eta^n in Temme's c_k(eta) (k < k_terms,
    n < n_terms), float64, shape (k_terms, n_terms); d[0, 0] = -1/3, d[1, 0] = -1/540.

    Exact in fractions: with mu = lambda - 1 = eta u(eta), u = 1 + eta/3 + eta^2/36 + ...
    (from u (u + eta u') = 1 + eta u, which eta d eta = (1 - 1/lambda) d lambda gives), and
    v = 1/u, c_0 = (v - 1) / eta, and c_k = (c_(k-1)' + s_k v) / eta with s_k = (-1)^k g_k =
    -c_(k-1)'(0) (the value that cancels the pole at eta = 0)."""
    size = n_terms + 2 * k_terms + 2
    u = [Fraction(1)]
    for n in range(1, size):
        known = sum(u[i] * u[n - i] * (1 + n - i) for i in range(1, n))
        u.append((u[n - 1] - known) / (n + 2))
    v = [Fraction(1)]
    for n in range(1, size):
        v.append(-sum(u[i] * v[n - i] for i in range(1, n + 1)))
    rows = [v[1:]]
    for _ in range(1, k_terms):
        prev = rows[-1]
        s = -prev[1]
        rows.append([(n + 2) * prev[n + 2] + s * v[n + 1] for n in range(len(prev) - 2)])
    return np.array([[float(c) for c in row[:n_terms]] for row in rows])


def _log1pmx_neg(xp, mu):
    """mu - log(1 + mu) (= eta^2 / 2) without cancellation near mu = 0: there, with
    z = mu / (2 + mu), it is 2 z^2 / (1 - z) - 2 (z^3/3 + z^5/5 + ...)."""
    z = mu / (2.0 + mu)
    z2 = z * z
    tail = polynomial((1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3), z2)
    near = 2.0 * z2 / (1.0 - z) - 2.0 * z * z2 * tail
    return xp.where(xp.abs(mu) < 0.1, near, mu - xp.log1p(mu))


def _log_gamma_star(a):
    """log Gamma*(a) = log Gamma(a) - (a - 1/2) log a + a - log(2 pi) / 2, by Stirling's
    series (a >= 10)."""
    return polynomial(_LGAMMA_SERIES, 1.0 / (a * a)) / a


def _log_front(xp, a, x, lgamma_a1):
    """log(x^a e^-x / Gamma(a + 1)) (``lgamma_a1``: log Gamma(a + 1)); for a >= 10 as
    -a (mu - log1p mu) - log(2 pi a)/2 - log Gamma*(a), mu = x/a - 1 (no cancellation
    between terms near a log a)."""
    plain = a * xp.log(x) - x - lgamma_a1
    big = xp.maximum(a, _TEMME_FROM)
    stirling = (-big * _log1pmx_neg(xp, (x - big) / big) - 0.5 * (_LOG_2PI + xp.log(big))
                - _log_gamma_star(big))
    return xp.where(a >= _TEMME_FROM, stirling, plain)


def _series(xp, a, x, derivative: bool):
    """S = sum t_n and (with ``derivative``) dS/da = -sum t_n H_n, H_n = sum over k <= n
    of 1/(a + k)."""
    total, dtotal, term, harmonic = (xp.ones_like(a), xp.zeros_like(a), xp.ones_like(a),
                                     xp.zeros_like(a))
    for k in range(1, _SERIES_TERMS + 1):
        inverse = 1.0 / (a + k)
        term = term * x * inverse
        total = total + term
        if derivative:
            harmonic = harmonic + inverse
            dtotal = dtotal - term * harmonic
    return total, dtotal


def _fraction(xp, a, x, depth):
    """C and dC/da, the continued fraction evaluated from ``depth`` up."""
    f = x + 2 * depth + 1 - a
    df = -xp.ones_like(a)
    for k in range(depth - 1, -1, -1):
        ak, dak = (k + 1) * (k + 1 - a), -(k + 1.0)
        f, df = (x + 2 * k + 1 - a - ak / f,
                 -1.0 - (dak * f - ak * df) / (f * f))
    return 1.0 / f, -df / (f * f)


def _temme_sums(xp, a, eta, derivatives: bool):
    """S = sum_k c_k(eta) a^-k and, with ``derivatives``, dS/deta and T = sum_k k c_k a^-k:
    the powers of eta times the Taylor tables (one matrix product, in chunks), then Horner's
    rule in 1/a."""
    d = temme_coefficients()
    tables = [xp.asarray(d)]
    if derivatives:                                 # the tables of c_k'(eta)
        tables.append(xp.asarray(d[:, 1:] * np.arange(1, d.shape[1])))
    w = 1.0 / a
    out = [xp.empty_like(a) for _ in range(3 if derivatives else 1)]
    for start in range(0, a.shape[0], _CHUNK):
        part = slice(start, start + _CHUNK)
        powers = xp.empty((d.shape[1],) + eta[part].shape)
        powers[0] = 1.0
        for n in range(1, d.shape[1]):
            powers[n] = powers[n - 1] * eta[part]
        values = [table @ powers[:table.shape[1]] for table in tables]      # (K, m) each
        sums = [v[-1] for v in values] + ([(d.shape[0] - 1) * values[0][-1]]
                                          if derivatives else [])
        for k in range(d.shape[0] - 2, -1, -1):
            sums[0] = sums[0] * w[part] + values[0][k]
            if derivatives:
                sums[1] = sums[1] * w[part] + values[1][k]
                sums[2] = sums[2] * w[part] + k * values[0][k]
        for o, v in zip(out, sums):
            o[part] = v
    return out


def _temme_eta(xp, a, x):
    mu = (x - a) / a                    # (x - a exact for x / a in [1/2, 2])
    half_eta2 = _log1pmx_neg(xp, mu)
    eta = xp.sqrt(2.0 * xp.maximum(half_eta2, 0.0))
    return mu, half_eta2, xp.where(mu < 0, -eta, eta)


def _lgamma_a1(xp, a):
    return _lgamma(xp, a + 1.0)


def _digamma_a1(xp, a):
    return _polygamma(xp, 0, a + 1.0)


def _pair_series(xp, a, x, lgamma_a1):
    s, _ = _series(xp, a, x, derivative=False)
    lgamma_a1 = _lgamma_a1(xp, a) if lgamma_a1 is None else lgamma_a1
    p = xp.exp(_log_front(xp, a, x, lgamma_a1)) * s
    return p, 1.0 - p


def _pair_fraction(depth):
    def pair(xp, a, x, lgamma_a1):
        c, _ = _fraction(xp, a, x, depth)
        lgamma_a1 = _lgamma_a1(xp, a) if lgamma_a1 is None else lgamma_a1
        q = xp.exp(_log_front(xp, a, x, lgamma_a1) + xp.log(a)) * c
        return 1.0 - q, q
    return pair


def _pair_temme(xp, a, x, _):
    _, half_eta2, eta = _temme_eta(xp, a, x)
    (s,) = _temme_sums(xp, a, eta, derivatives=False)
    y = eta * xp.sqrt(0.5 * a)
    scale = xp.exp(-a * half_eta2)
    correction = s / xp.sqrt(2.0 * math.pi * a)
    upper = scale * (0.5 * _erfcx(xp, y) + correction)          # Q, where eta >= 0
    lower = scale * (0.5 * _erfcx(xp, -y) - correction)         # P, where eta < 0
    p = xp.where(eta < 0, lower, 1.0 - upper)
    q = xp.where(eta < 0, 1.0 - lower, upper)
    return p, q


def _grad_series(xp, a, x, digamma_a1):
    s, ds = _series(xp, a, x, derivative=True)
    digamma_a1 = _digamma_a1(xp, a) if digamma_a1 is None else digamma_a1
    return (-(x / a) * (s * (xp.log(x) - digamma_a1) + ds),)


def _grad_fraction(depth):
    def grad(xp, a, x, digamma_a1):
        c, dc = _fraction(xp, a, x, depth)
        digamma_a1 = _digamma_a1(xp, a) if digamma_a1 is None else digamma_a1
        return (x * (c * (xp.log(x) - digamma_a1 + 1.0 / a) + dc),)     # psi(a) = ...
    return grad


def _grad_temme(xp, a, x, _):
    """dx/da = dQ/da / density = (x Gamma*(a) / a) (r - eta/2 + (log lambda - 1/(2a)) S
    - (r dS/deta + T) / a), r = (lambda - 1) / eta (1 at eta = 0), from d eta / da =
    -r / a, the density e^(-a eta^2/2) sqrt(a / 2 pi) / (x Gamma*(a))."""
    mu, _, eta = _temme_eta(xp, a, x)
    s, ds, t = _temme_sums(xp, a, eta, derivatives=True)
    r = xp.where(eta == 0, 1.0, mu / xp.where(eta == 0, 1.0, eta))
    bracket = r - 0.5 * eta + (xp.log1p(mu) - 0.5 / a) * s - (r * ds + t) / a
    return ((x / a) * xp.exp(_log_gamma_star(a)) * bracket,)


def _regions(xp, a, x):
    """(mask, safe a, safe x) of each region, in the order of the functions' lists."""
    temme = (a >= _TEMME_FROM) & (x >= _LOW * a) & (x <= _HIGH * a)
    series = ~temme & (((a < _TEMME_FROM) & (x <= a + 1.0)) | (x < _LOW * a))
    rest = ~temme & ~series
    return [(series, 1.0, 0.5), (rest & (x < 3.0), 0.5, 2.0), (rest & (x >= 3.0), 1.0, 5.0),
            (temme, 20.0, 20.0)]


def _by_region(xp, columns, functions, outputs: int):
    """Each of ``functions`` (series, near and far fraction, Temme) on its region's
    elements, as ``outputs`` flat float64 arrays. ``columns``: flat a, x (valid: a > 0,
    x > 0, both finite) and a function of a computed once per distinct a (below), or None
    (each function computes it on its own elements)."""
    a, x, per_a = columns
    regions = _regions(xp, a, x)
    if xp is np:                        # each region on its own elements (cheap on the host)
        out = [np.empty_like(a) for _ in range(outputs)]
        for (mask, _, _), fn in zip(regions, functions):
            index = np.flatnonzero(mask)
            if index.size:
                part = None if per_a is None else per_a[index]
                for o, v in zip(out, fn(xp, a[index], x[index], part)):
                    o[index] = v
        return out
    out = [xp.zeros_like(a) for _ in range(outputs)]
    for (mask, safe_a, safe_x), fn in zip(regions, functions):
        values = fn(xp, xp.where(mask, a, safe_a), xp.where(mask, x, safe_x),
                    None if per_a is None else xp.where(mask, per_a, 0.0))
        out = [xp.where(mask, v, o) for o, v in zip(out, values)]
    return out


def _compact(array):
    """``array`` without the repeats of its broadcast (stride 0) dimensions, as a view: a
    Gamma(c).rsample((n,)) concentration is c seen n times, and lgamma/digamma of it are
    computed once per c."""
    return array[tuple(slice(0, 1) if stride == 0 and size > 1 else slice(None)
                       for stride, size in zip(array.strides, array.shape))]


def _prepared(xp, a, x, per_a):
    """The flat float64 columns (a, x, per_a(a) where a repeats, else None) with every
    invalid or special element replaced by a = 1, x = 1/2; the shape; the invalid and the
    special elements; the flat a and x as given."""
    shape = np.broadcast_shapes(a.shape, x.shape)
    small = _compact(a).astype(np.float64)
    if small.size < math.prod(shape):
        small = per_a(xp, xp.where((small > 0) & xp.isfinite(small), small, 1.0))
        small = xp.broadcast_to(small, shape).ravel()
    else:
        small = None
    a, x = (xp.broadcast_to(v.astype(np.float64, copy=False), shape).ravel() for v in (a, x))
    invalid = (xp.isnan(a) | xp.isnan(x) | (a < 0) | (x < 0) | ((a == 0) & (x == 0))
               | (xp.isinf(a) & xp.isinf(x)))
    special = invalid | (a == 0) | (x == 0) | xp.isinf(a) | xp.isinf(x)
    columns = (xp.where(special, 1.0, a), xp.where(special, 0.5, x), small)
    return shape, invalid, special, columns, (a, x)


def regularized_pair(xp, a, x):
    """(P(a, x), Q(a, x)) in float64, broadcast: NaN where a < 0, x < 0, either is NaN,
    a = x = 0 or both are infinite (as PyTorch's); P = 1 at a = 0 or x = inf, P = 0 at
    x = 0 or a = inf."""
    shape, invalid, special, columns, (a, x) = _prepared(
        xp, a, x, _lgamma_a1)
    with np.errstate(all="ignore"):
        p, q = _by_region(xp, columns, [_pair_series, _pair_fraction(_FRACTION_NEAR),
                                        _pair_fraction(_FRACTION_FAR), _pair_temme], 2)
    one = ((a == 0) | xp.isinf(x)) & special
    p = xp.where(special, xp.where(one, 1.0, 0.0), p)
    q = xp.where(special, xp.where(one, 0.0, 1.0), q)
    p, q = xp.where(invalid, xp.nan, p), xp.where(invalid, xp.nan, q)
    return p.reshape(shape), q.reshape(shape)


def quantile_derivative(xp, a, x):
    """dx/da for x ~ Gamma(a, 1) at a fixed CDF value, -(dP/da) / (dP/dx), float64,
    broadcast; NaN where a or x is not a positive finite number."""
    shape, _, special, columns, _ = _prepared(xp, a, x, _digamma_a1)
    with np.errstate(all="ignore"):
        (grad,) = _by_region(xp, columns, [_grad_series, _grad_fraction(_FRACTION_NEAR),
                                           _grad_fraction(_FRACTION_FAR), _grad_temme], 1)
    return xp.where(special, xp.nan, grad).reshape(shape)
