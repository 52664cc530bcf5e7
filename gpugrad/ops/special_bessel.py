"""Modified Bessel functions of the first kind, element-wise, as PyTorch's: ``i0``, ``i1`` and
the exponentially scaled ``i0e`` = exp(-|x|) i0 and ``i1e`` = exp(-|x|) i1. Float inputs keep
their dtype (integers become the default float dtype); any shape.

NumPy has no i1 (and its ``np.i0`` is not written against ``xp``), so the forwards are written
here once: the power series I_nu(x) = (x/2)^nu sum (x^2/4)^k / (k! (k + nu)!) (all terms
positive, so no cancellation) for |x| <= 20, and Hankel's asymptotic expansion
I_nu(x) ~ exp(x) / sqrt(2 pi x) sum (-1)^k a_k(nu) / x^k beyond; about 1e-15 relative in
float64.

Example::

    >>> from gpugrad.ops.special_bessel import i0, i1e
    >>> x = gpugrad.tensor([0.0, 1.0], dtype="float64", requires_grad=True)
    >>> [round(v, 12) for v in i0(x).tolist()]
    [1.0, 1.266065877752]
    >>> i0(x).sum().backward()
    >>> [round(v, 12) for v in x.grad.tolist()]                    # i1(x)
    [0.0, 0.565159103992]
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .record import BROADCAST, ELEMENTWISE, Op
from .special import polynomial
from .unary import _unary

__all__ = ["i0", "i0e", "i1", "i1e"]

_SERIES_UP_TO = 20.0
_SERIES_TERMS = 45          # (x^2/4)^k / (k!)^2 < 1e-17 I0(20) from k = 44 on
_ASYMPTOTIC_TERMS = 30      # the expansion's smallest term at x = 20 is below 1e-17


def _series(nu: int) -> tuple:
    """1 / (k! (k + nu)!), highest power of x^2/4 first."""
    return tuple(1.0 / (math.factorial(k) * math.factorial(k + nu))
                 for k in reversed(range(_SERIES_TERMS)))


def _asymptotic(nu: int) -> tuple:
    """(-1)^k a_k(nu) = (-1)^k prod_(j<=k) (4 nu^2 - (2j - 1)^2) / (k! 8^k), highest first."""
    terms, a = [], Fraction(1)
    for k in range(_ASYMPTOTIC_TERMS):
        terms.append(float(a))
        a *= Fraction(-(4 * nu * nu - (2 * k + 1) ** 2), (k + 1) * 8)
    return tuple(reversed(terms))


_I0_SERIES, _I1_SERIES = _series(0), _series(1)
_I0_ASYMPTOTIC, _I1_ASYMPTOTIC = _asymptotic(0), _asymptotic(1)


def _scaled(xp, x, nu: int, scaled: bool):
    """i_nu(x) (``scaled``: exp(-|x|) i_nu(x)) on a raw float array, in x's dtype."""
    work = x if x.dtype.itemsize >= 4 else x.astype(np.float32)
    y = xp.abs(work)
    near = xp.minimum(y, _SERIES_UP_TO)
    t = near * near * 0.25
    series = polynomial(_I0_SERIES if nu == 0 else _I1_SERIES, t)
    if nu == 1:
        series = series * near * 0.5
    far = xp.maximum(y, _SERIES_UP_TO)
    expansion = (polynomial(_I0_ASYMPTOTIC if nu == 0 else _I1_ASYMPTOTIC, 1.0 / far)
                 / xp.sqrt(2.0 * math.pi * far))
    with np.errstate(over="ignore", invalid="ignore"):
        if scaled:
            result = xp.where(y <= _SERIES_UP_TO, series * xp.exp(-near), expansion)
        else:           # exp(|x|) in two halves, so i0 stays finite up to its own overflow
            half = xp.exp(far * 0.5)
            result = xp.where(y <= _SERIES_UP_TO, series, half * expansion * half)
            result = xp.where(y == xp.inf, xp.inf, result)
    if nu == 1:
        result = xp.where(work < 0, -result, result)
    return result.astype(x.dtype, copy=False)


class I0(Op):
    """The modified Bessel function I_0; its derivative is i1(x)."""

    save = "xs"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return _scaled(xp, x, 0, False)

    @staticmethod
    def vjp(ctx, g):
        return g * i1(ctx.xs[0])

    jvp = ELEMENTWISE


class I0e(Op):
    """exp(-|x|) I_0(x); its derivative is i1e(x) - sign(x) i0e(x)."""

    save = "xs ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return _scaled(xp, x, 0, True)

    @staticmethod
    def vjp(ctx, g):
        from .compare import sign
        x = ctx.xs[0]
        return g * (i1e(x) - sign(x) * ctx.ans)

    jvp = ELEMENTWISE


class I1(Op):
    """The modified Bessel function I_1; its derivative is i0(x) - i1(x)/x (1/2 at 0)."""

    save = "xs ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return _scaled(xp, x, 1, False)

    @staticmethod
    def vjp(ctx, g):
        return g * (i0(ctx.xs[0]) - _over_x(ctx.ans, ctx.xs[0]))

    jvp = ELEMENTWISE


class I1e(Op):
    """exp(-|x|) I_1(x); its derivative is i0e(x) - i1e(x) (sign(x) + 1/x) (1/2 at 0)."""

    save = "xs ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return _scaled(xp, x, 1, True)

    @staticmethod
    def vjp(ctx, g):
        from .compare import sign
        x = ctx.xs[0]
        return g * (i0e(x) - sign(x) * ctx.ans - _over_x(ctx.ans, x))

    jvp = ELEMENTWISE


def _over_x(i1_value, x):
    """i1(x) / x, with its limit 1/2 at x = 0 (the safe denominator keeps the gradient of
    the branch not taken finite)."""
    from .elementwise import where
    zero = x == 0
    return where(zero, 0.5, i1_value / where(zero, 1.0, x))


def i0(input):
    """The modified Bessel function of the first kind of order 0, element-wise
    (``torch.i0``): any shape, float dtype kept.

    Example::

        >>> from gpugrad.ops.special_bessel import i0
        >>> [round(v, 10) for v in i0(gpugrad.tensor([0.0, 2.0], dtype="float64")).tolist()]
        [1.0, 2.2795853023]
    """
    return _unary(I0, input)


def i0e(input):
    """exp(-|x|) i0(x), element-wise (``torch.special.i0e``), finite for large |x|.

    Example::

        >>> from gpugrad.ops.special_bessel import i0e
        >>> [round(v, 10) for v in i0e(gpugrad.tensor([0.0, 1e3], dtype="float64")).tolist()]
        [1.0, 0.0126172405]
    """
    return _unary(I0e, input)


def i1(input):
    """The modified Bessel function of the first kind of order 1, element-wise
    (``torch.special.i1``): odd, any shape, float dtype kept.

    Example::

        >>> from gpugrad.ops.special_bessel import i1
        >>> [round(v, 10) for v in i1(gpugrad.tensor([-2.0, 0.0], dtype="float64")).tolist()]
        [-1.5906368546, 0.0]
    """
    return _unary(I1, input)


def i1e(input):
    """exp(-|x|) i1(x), element-wise (``torch.special.i1e``), finite for large |x|.

    Example::

        >>> from gpugrad.ops.special_bessel import i1e
        >>> [round(v, 10) for v in i1e(gpugrad.tensor([1.0, 1e3], dtype="float64")).tolist()]
        [0.2079104153, 0.0126109303]
    """
    return _unary(I1e, input)
