"""The gamma family, element-wise, as PyTorch's: ``lgamma`` (log |Gamma(x)|), ``digamma``
(its derivative), ``polygamma(n, x)`` (the n-th derivative of digamma) and ``mvlgamma``
(the multivariate log-gamma, a composite). Float inputs keep their dtype (integers become
the default float dtype); any shape.

NumPy has none of these, so the forwards are written here once against ``xp``: x is moved
up to 10 or more by the recurrences Gamma(x + 1) = x Gamma(x) and psi(x + 1) = psi(x) + 1/x
(ten masked steps, no data-dependent loop), then Stirling's series (its Bernoulli terms);
polygamma(n >= 1, x) is (-1)^(n+1) n! zeta(n + 1, x), the Hurwitz zeta by Euler-Maclaurin
summation. Negative x goes through the reflection formulas (pi / sin(pi x) and the n-th
derivative of pi cot(pi x), a polynomial in cot). About 1e-15 relative in float64 away from
the zeros of lgamma (x = 1, 2) and of digamma (x = 1.4616...), where the error is about
1e-15 absolute. Poles (0, -1, -2...) give inf or NaN as PyTorch's.

Example::

    >>> from gpugrad.ops.special_gamma import digamma, lgamma, polygamma
    >>> x = gpugrad.tensor([0.5, 3.0], dtype="float64", requires_grad=True)
    >>> [round(v, 12) for v in lgamma(x).tolist()]       # log(sqrt(pi)), log(2)
    [0.572364942925, 0.69314718056]
    >>> lgamma(x).sum().backward()
    >>> [round(v, 12) for v in x.grad.tolist()]          # digamma: -gamma - 2 log 2, 1.5 - gamma
    [-1.963510026021, 0.922784335098]
    >>> round(polygamma(1, gpugrad.tensor(1.0, dtype="float64")).item(), 12)   # pi^2 / 6
    1.644934066848
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np

from .complex_node import refuse_complex
from .record import BROADCAST, ELEMENTWISE, Op, apply
from .special import polynomial
from .unary import _float, _unary

__all__ = ["lgamma", "digamma", "polygamma", "mvlgamma"]

_SHIFT_TO = 10.0            # the recurrences move x up to at least this before the series
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_BERNOULLI = (Fraction(1, 6), Fraction(-1, 30), Fraction(1, 42), Fraction(-1, 30),
              Fraction(5, 66), Fraction(-691, 2730), Fraction(7, 6), Fraction(-3617, 510),
              Fraction(43867, 798), Fraction(-174611, 330), Fraction(854513, 138),
              Fraction(-236364091, 2730))      # B_2, B_4, ..., B_24
# Stirling: lgamma(z) = (z - 1/2) log z - z + log(2 pi)/2 + sum B_2k / (2k (2k-1) z^(2k-1));
# digamma(z) = log z - 1/(2z) - sum B_2k / (2k z^2k). Highest power first (Horner in 1/z^2).
_LGAMMA_SERIES = tuple(float(b / (2 * k * (2 * k - 1)))
                       for k, b in reversed(list(enumerate(_BERNOULLI[:9], 1))))
_DIGAMMA_SERIES = tuple(float(b / (2 * k))
                        for k, b in reversed(list(enumerate(_BERNOULLI[:9], 1))))


def _working(x):
    """x in float64, where the series run: the recurrences' cancellation (lgamma(1) is
    lgamma(11) - log(10!)) would cost float32 a few digits."""
    return x.astype(np.float64, copy=False)


def _reduced(xp, x):
    """x - round(x), in [-1/2, 1/2]: exact, so sin(pi r) and tan(pi r) keep full accuracy
    far from 0 (|sin(pi x)| = |sin(pi r)|, cot(pi x) = cot(pi r))."""
    return x - xp.round(x)


def _lgamma_positive(xp, x):
    """lgamma for x > 0: shift to z >= 10 while accumulating the product x (x+1) ..."""
    z, product = x, xp.ones_like(x)
    for _ in range(int(_SHIFT_TO)):
        low = z < _SHIFT_TO
        product = xp.where(low, product * z, product)
        z = xp.where(low, z + 1.0, z)
    with np.errstate(over="ignore"):
        w = 1.0 / (z * z)
    series = polynomial(_LGAMMA_SERIES, w) / z
    return (z - 0.5) * xp.log(z) - z + _HALF_LOG_2PI + series - xp.log(product)


def _lgamma_near_one_and_two(xp, a):
    """lgamma for a in [1/2, 5/2], exact zeros at 1 and 2: lgamma(1 + e) = -gamma e +
    sum over k >= 2 of (-1)^k zeta(k)/k e^k, and lgamma(2 + e) = log1p(e) + lgamma(1 + e),
    |e| <= 1/2 (no cancellation of two numbers near 15, as after the shift to 10)."""
    upper = a > 1.5
    e = xp.clip(xp.where(upper, a - 2.0, a - 1.0), -0.5, 0.5)
    series = e * polynomial(_lgamma_taylor(), e) + 0.0           # (+0.0: no -0.0 at 1)
    return xp.where(upper, xp.log1p(e) + series, series)


def _lgamma(xp, x):
    work = _working(x)
    negative = work < 0
    a = xp.where(negative, 1.0 - work, work)
    positive_part = _lgamma_positive(xp, a)
    positive_part = xp.where((a >= 0.5) & (a <= 2.5), _lgamma_near_one_and_two(xp, a),
                             positive_part)
    with np.errstate(divide="ignore", invalid="ignore"):
        sine = xp.abs(xp.sin(math.pi * _reduced(xp, xp.where(negative, work, 0.5))))
        reflected = math.log(math.pi) - xp.log(sine) - positive_part
    result = xp.where(negative, reflected, positive_part)
    result = xp.where(xp.isinf(work), xp.inf, result)          # lgamma(+-inf) = inf
    return result.astype(x.dtype, copy=False)


def _digamma_positive(xp, x):
    z, total = x, xp.zeros_like(x)
    with np.errstate(divide="ignore"):
        for _ in range(int(_SHIFT_TO)):
            low = z < _SHIFT_TO
            total = xp.where(low, total + 1.0 / z, total)
            z = xp.where(low, z + 1.0, z)
    with np.errstate(over="ignore"):
        w = 1.0 / (z * z)
    return xp.log(z) - 0.5 / z - w * polynomial(_DIGAMMA_SERIES, w) - total


@functools.lru_cache(maxsize=None)
def _cot_derivative(n: int) -> tuple:
    """Integer coefficients (highest power first) of P_n with d^n/du^n cot(u) = P_n(cot u):
    P_0(c) = c, P_(k+1)(c) = -(1 + c^2) P_k'(c)."""
    p = [0, 1]                                          # lowest power first while building
    for _ in range(n):
        d = [i * p[i] for i in range(1, len(p))]           # P_k', lowest power first
        p = [-((d[i] if i < len(d) else 0) + (d[i - 2] if i >= 2 else 0))
             for i in range(len(d) + 2)]
    while len(p) > 1 and p[-1] == 0:
        p.pop()
    return tuple(float(c) for c in reversed(p))


def _reflection_term(xp, n: int, x):
    """pi^(n+1) P_n(cot(pi x)): psi^(n)(x) = (-1)^n psi^(n)(1 - x) - this, for any n."""
    with np.errstate(divide="ignore", invalid="ignore"):
        cot = 1.0 / xp.tan(math.pi * _reduced(xp, x))
        coefficients = _cot_derivative(n)
        value = (polynomial(coefficients, cot) if len(coefficients) > 1
                 else xp.full_like(x, coefficients[0]))
    return math.pi ** (n + 1) * value


def _hurwitz_zeta(xp, s: int, q):
    """zeta(s, q) = sum over k >= 0 of (q + k)^-s for q > 0 and an integer s >= 2: the first
    ``terms`` directly, the rest by Euler-Maclaurin with 12 Bernoulli terms."""
    terms = 10 + s                  # the tail's series converges fast once q + terms >> s
    total = xp.zeros_like(q)
    with np.errstate(divide="ignore", over="ignore"):
        for k in range(terms):
            total = total + (q + k) ** -s
        a = q + terms
        inv = 1.0 / a
        series = inv * polynomial(_zeta_tail(s), inv * inv)
        tail = inv ** s * (a / (s - 1) + 0.5 + series)
    return total + tail


@functools.lru_cache(maxsize=None)
def _zeta_tail(s: int) -> tuple:
    """Euler-Maclaurin's tail coefficients for zeta(s, .), highest power first: B_2j / (2j)!
    times the rising product s (s+1) ... (s + 2j - 2). Made once per s."""
    rising, coefficients = Fraction(s), []
    for j, b in enumerate(_BERNOULLI, 1):
        coefficients.append(float(b / math.factorial(2 * j) * rising))
        rising *= (s + 2 * j - 1) * (s + 2 * j)
    return tuple(reversed(coefficients))


_EULER_GAMMA = 0.5772156649015329


@functools.lru_cache(maxsize=None)
def _lgamma_taylor() -> tuple:
    """The Taylor coefficients of lgamma(1 + e) / e, highest power first: -gamma,
    zeta(k)/k ... (made on first use, not at import: 54 zeta sums)."""
    return tuple(reversed(
        [-_EULER_GAMMA] + [(-1.0) ** k * float(_hurwitz_zeta(np, k, np.ones(1))[0]) / k
                           for k in range(2, 56)]))


def _polygamma(xp, n: int, x):
    """psi^(n)(x) on a raw float array (n = 0: digamma), in x's dtype."""
    work = _working(x)
    negative = work < 0
    a = xp.where(negative, 1.0 - work, work)
    if n == 0:
        positive_part = _digamma_positive(xp, a)
    else:
        positive_part = (-1.0) ** (n + 1) * math.factorial(n) * _hurwitz_zeta(xp, n + 1, a)
    reflection = _reflection_term(xp, n, xp.where(negative, work, 0.5))
    with np.errstate(invalid="ignore"):
        reflected = (-1.0) ** n * positive_part - reflection
    result = xp.where(negative, reflected, positive_part)
    if n == 0:      # PyTorch's: digamma(+-0) = -+inf, NaN at -1, -2... and -inf
        result = xp.where(negative & (work == xp.round(work)), xp.nan, result)
        result = xp.where(work == 0, xp.copysign(xp.inf, -work), result)
    else:           # a pole at 0 (sign of n's parity), 0 at inf
        result = xp.where(work == 0, (-1.0) ** (n + 1) * xp.inf, result)
        result = xp.where(work == xp.inf, 0.0, result)
    return result.astype(x.dtype, copy=False)


class Lgamma(Op):
    """log |Gamma(x)|; its derivative is digamma(x)."""

    save = "xs"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return _lgamma(xp, x)

    @staticmethod
    def vjp(ctx, g):
        return g * digamma(ctx.xs[0])

    jvp = ELEMENTWISE


class Digamma(Op):
    """psi(x) = d/dx lgamma(x); its derivative is polygamma(1, x) (trigamma)."""

    save = "xs"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return _polygamma(xp, 0, x)

    @staticmethod
    def vjp(ctx, g):
        return g * polygamma(1, ctx.xs[0])

    jvp = ELEMENTWISE


class Polygamma(Op):
    """psi^(n)(x), the n-th derivative of digamma (n >= 1); its derivative is
    polygamma(n + 1, x)."""

    save = "xs"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x, n):
        return _polygamma(xp, n, x)

    @staticmethod
    def vjp(ctx, g):
        return g * polygamma(ctx.n + 1, ctx.xs[0])

    jvp = ELEMENTWISE


def _refuse_complex(name: str, x) -> None:
    """The refusal of a complex ``x`` by a real-only gamma function, as PyTorch's."""
    refuse_complex(name, x, ordered=False, hint="apply it to x.real or x.abs() if that is meant")


def lgamma(input):
    """log |Gamma(x)|, element-wise (``torch.lgamma``): any shape, float dtype kept; inf at
    0, -1, -2... Its gradient is ``digamma``.

    Example::

        >>> from gpugrad.ops.special_gamma import lgamma
        >>> lgamma(gpugrad.tensor([1.0, 4.0, -0.5])).tolist()     # 0, log 6, log(2 sqrt(pi))
        [0.0, 1.7917594909667969, 1.2655121088027954]
    """
    if input.dtype.kind == "c":
        _refuse_complex("lgamma", input)
    return _unary(Lgamma, input)


def digamma(input):
    """psi(x) = Gamma'(x) / Gamma(x), element-wise (``torch.digamma``): any shape, float
    dtype kept; -inf at +0, +inf at -0 and NaN at -1, -2..., as PyTorch's.

    Example::

        >>> from gpugrad.ops.special_gamma import digamma
        >>> round(digamma(gpugrad.tensor(1.0, dtype="float64")).item(), 12)   # -Euler's gamma
        -0.577215664902
    """
    if input.dtype.kind == "c":
        _refuse_complex("digamma", input)
    return _unary(Digamma, input)


def polygamma(n, input):
    """psi^(n)(x), the n-th derivative of digamma, element-wise (``torch.polygamma``):
    ``n`` a non-negative int (0 is digamma), any shape, float dtype kept.

    Example::

        >>> from gpugrad.ops.special_gamma import polygamma
        >>> x = gpugrad.tensor([1.0, 0.5], dtype="float64")
        >>> [round(v, 12) for v in polygamma(1, x).tolist()]       # pi^2/6, pi^2/2
        [1.644934066848, 4.934802200545]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative int, got {n!r}; e.g. "
                         f"polygamma(1, x) for trigamma")
    if input.dtype.kind == "c":
        _refuse_complex("polygamma", input)
    if n == 0:
        return _unary(Digamma, input)
    return apply(Polygamma, _float(input), n=int(n))


def mvlgamma(input, p: int):
    """The multivariate log-gamma of dimension ``p``, element-wise (``torch.mvlgamma``):
    sum over i < p of lgamma(x - i/2), plus p (p - 1)/4 log(pi). Any shape, float dtype kept;
    defined for x > (p - 1)/2.

    Example::

        >>> from gpugrad.ops.special_gamma import mvlgamma
        >>> round(mvlgamma(gpugrad.tensor(2.5, dtype="float64"), 3).item(), 10)
        1.8809954616
    """
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise ValueError(f"mvlgamma: p must be a positive int, got {p!r}")
    total = lgamma(input)
    for i in range(1, int(p)):
        total = total + lgamma(input - 0.5 * i)
    return total + p * (p - 1) / 4.0 * math.log(math.pi)
