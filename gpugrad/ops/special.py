"""Special functions, element-wise: erf, log1p and expm1, as PyTorch's ``torch.erf``,
``torch.log1p`` and ``torch.expm1``. Float inputs keep their dtype (integers become the
default float dtype); any shape.

NumPy has no erf (CuPy's lives in cupyx), so erf's forward is written here once against
``xp``: W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev approximations
for the error function", Math. Comp. 23 (1969) 631-638; the coefficients of his SPECFUN
routine CALERF), accurate to float64 rounding (about 1e-16 relative).

Example::

    >>> from gpugrad.ops.special import erf, expm1, log1p
    >>> x = gpugrad.tensor([0.0, 0.5, 3.0], dtype="float64", requires_grad=True)
    >>> [round(v, 12) for v in erf(x).tolist()]
    [0.0, 0.520499877813, 0.999977909503]
    >>> erf(x).sum().backward()
    >>> [round(v, 12) for v in x.grad.tolist()]        # 2/sqrt(pi) exp(-x^2)
    [1.128379167096, 0.878782578935, 0.000139253052]
    >>> log1p(gpugrad.tensor([1e-10], dtype="float64")).item()   # log(1 + x), not rounded
    9.999999999500001e-11
    >>> expm1(gpugrad.tensor([1e-10], dtype="float64")).item()   # exp(x) - 1, not rounded
    1.00000000005e-10
"""

from __future__ import annotations

import numpy as np

from .complex_node import refuse_complex
from .record import BROADCAST, ELEMENTWISE, Op
from .unary import _unary, exp

__all__ = ["erf", "log1p", "expm1"]

_TWO_OVER_SQRT_PI = 1.1283791670955126      # d/dx erf(x) at 0
_ONE_OVER_SQRT_PI = 0.56418958354775628695

# Cody's coefficients. erf(x) = x P(x^2) / Q(x^2) for |x| <= _SMALL; erfc(y) =
# exp(-y^2) P(y) / Q(y) for _SMALL < y <= 4; erfc(y) = exp(-y^2) / y (1/sqrt(pi) +
# z P(z) / Q(z)), z = 1/y^2, beyond. Each list starts with the highest power's term.
_SMALL = 0.46875
_A = (1.85777706184603153e-1, 3.16112374387056560e0, 1.13864154151050156e2,
      3.77485237685302021e2, 3.20937758913846947e3)
_B = (1.0, 2.36012909523441209e1, 2.44024637934444173e2, 1.28261652607737228e3,
      2.84423683343917062e3)
_C = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e0,
      6.61191906371416295e1, 2.98635138197400131e2, 8.81952221241769090e2,
      1.71204761263407058e3, 2.05107837782607147e3, 1.23033935479799725e3)
_D = (1.0, 1.57449261107098347e1, 1.17693950891312499e2, 5.37181101862009858e2,
      1.62138957456669019e3, 3.29079923573345963e3, 4.36261909014324716e3,
      3.43936767414372164e3, 1.23033935480374942e3)
_P = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
      1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4)
_Q = (1.0, 2.56852019228982242e0, 1.87295284992346725e0, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)
_ERFC_ZERO_FROM = 27.0      # erfc(y) is below the smallest float64 from about 26.6 on


def polynomial(coefficients, x):
    """Horner's rule: sum of coefficients[i] * x**(n - i), n = len(coefficients) - 1."""
    result = x * coefficients[0] + coefficients[1]
    for c in coefficients[2:]:
        result = result * x + c
    return result


def _erfc_positive(xp, y):
    """erfc(y) for y >= _SMALL (NaN stays NaN). The factor exp(-y^2) is taken as
    exp(-s^2) exp(-(y - s)(y + s)), s = y rounded down to a sixteenth, so that the rounding
    of y^2 is not magnified in the tail."""
    middle = xp.clip(y, _SMALL, 4.0)
    tail = xp.clip(y, 4.0, _ERFC_ZERO_FROM)
    z = 1.0 / (tail * tail)
    ratio = xp.where(y <= 4.0, polynomial(_C, middle) / polynomial(_D, middle),
                     (_ONE_OVER_SQRT_PI - z * polynomial(_P, z) / polynomial(_Q, z)) / tail)
    y = xp.where(y <= 4.0, middle, tail)
    s = xp.trunc(y * 16.0) / 16.0
    return xp.exp(-s * s) * xp.exp(-(y - s) * (y + s)) * ratio


def _erf(xp, x):
    """erf(x) on a raw float array, in x's dtype (float16 computed in float32)."""
    work = x if x.dtype.itemsize >= 4 else x.astype(np.float32)
    small = xp.clip(work, -_SMALL, _SMALL)
    t = small * small
    near_zero = small * polynomial(_A, t) / polynomial(_B, t)
    y = xp.abs(work)
    far = (0.5 - _erfc_positive(xp, y)) + 0.5
    result = xp.where(y <= _SMALL, near_zero, xp.where(work < 0, -far, far))
    return result.astype(x.dtype, copy=False)


class Erf(Op):
    """erf(x) = 2/sqrt(pi) * integral of exp(-t^2) from 0 to x; its derivative is
    2/sqrt(pi) exp(-x^2)."""

    save = "xs"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return _erf(xp, x)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        return g * (exp(-(x * x)) * _TWO_OVER_SQRT_PI)

    jvp = ELEMENTWISE


class Log1p(Op):
    """log(1 + x), accurate for small x; its derivative is 1 / (1 + x)."""

    save = "xs"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return xp.log1p(x)

    @staticmethod
    def vjp(ctx, g):
        return g / (ctx.xs[0] + 1.0)

    jvp = ELEMENTWISE


class Expm1(Op):
    """exp(x) - 1, accurate for small x; its derivative, exp(x), is read from the output
    as ``ans + 1`` (as PyTorch's)."""

    save = "ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return xp.expm1(x)

    @staticmethod
    def vjp(ctx, g):
        return g * (ctx.ans + 1.0)

    jvp = ELEMENTWISE


def erf(input):
    """The error function, element-wise: any shape, float dtype kept.

    Example::

        >>> from gpugrad.ops.special import erf
        >>> erf(gpugrad.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.84270084,  0.        ,  0.84270084], device='cpu', dtype=float32)
    """
    if input.dtype.kind == "c":
        refuse_complex("erf", input, ordered=False)
    return _unary(Erf, input)


def log1p(input):
    """log(1 + x), element-wise, without the rounding of 1 + x for small x: any shape,
    float dtype kept.

    Example::

        >>> from gpugrad.ops.special import log1p
        >>> log1p(gpugrad.tensor([0.0, 1e-8, np.e - 1]))
        tensor([0.e+00, 1.e-08, 1.e+00], device='cpu', dtype=float32)
    """
    return _unary(Log1p, input)


def expm1(input):
    """exp(x) - 1, element-wise, without cancellation for small x: any shape, float dtype
    kept.

    Example::

        >>> from gpugrad.ops.special import expm1
        >>> expm1(gpugrad.tensor([0.0, 1e-8, float(np.log(2.0))]))
        tensor([0.e+00, 1.e-08, 1.e+00], device='cpu', dtype=float32)
    """
    return _unary(Expm1, input)
