"""The error-function family beyond erf, element-wise, as PyTorch's: ``erfc`` (1 - erf,
without cancellation for large x), ``erfcx`` (exp(x^2) erfc(x)), ``erfinv`` and ``ndtri``
(the inverse of the normal CDF) as records; ``ndtr`` and ``log_ndtr`` as composites. Float
inputs keep their dtype (integers become the default float dtype); any shape.

The forwards are written once against ``xp`` from Cody's erfc (gpugrad/ops/special.py).
The inverses start from M. Giles' single-precision approximation ("Approximating the erfinv
function", GPU Computing Gems, 2011), or from the asymptotic x^2 ~ -log(q sqrt(pi) x) in
the far tail, and take Newton steps on erf(x) = y near 0 and on log erfc(x) = log(1 - |y|)
beyond, so that 1 - |y| (exact there) sets the accuracy: about 1e-15 relative in float64,
down to ndtri(1e-300).

Example::

    >>> from gpugrad.ops.special_erf import erfc, erfinv
    >>> x = gpugrad.tensor([0.0, 10.0], dtype="float64")
    >>> erfc(x).tolist()                       # 1 - erf(10) would round to 0
    [1.0, 2.0884875837625446e-45]
    >>> y = gpugrad.tensor([0.5], dtype="float64", requires_grad=True)
    >>> erfinv(y).sum().backward()
    >>> [round(v, 12) for v in y.grad.tolist()]          # sqrt(pi)/2 exp(erfinv(y)^2)
    [1.112584818972]
"""

from __future__ import annotations

import math

import numpy as np

from .complex_node import refuse_complex
from .record import BROADCAST, ELEMENTWISE, Op
from .special import _A, _B, _C, _D, _ERFC_ZERO_FROM, _P, _Q, _SMALL
from .special import _ONE_OVER_SQRT_PI, _TWO_OVER_SQRT_PI
from .special import _erf, _erfc_positive, polynomial
from .unary import _unary, exp, log

__all__ = ["erfc", "erfcx", "erfinv", "ndtr", "ndtri", "log_ndtr"]

_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
# Giles' coefficients, highest power first: erfinv(y) ~ y p(w), w = -log((1 - y)(1 + y)),
# p a polynomial in w - 2.5 for w < 5, in sqrt(w) - 3 beyond (to w = 16, float32's end).
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _working(x):
    return x if x.dtype.itemsize >= 4 else x.astype(np.float32)


def _erfc(xp, x):
    work = _working(x)
    small = xp.clip(work, -_SMALL, _SMALL)
    t = small * small
    near_zero = 1.0 - small * polynomial(_A, t) / polynomial(_B, t)
    far = _erfc_positive(xp, xp.abs(work))
    far = xp.where(xp.abs(work) >= _ERFC_ZERO_FROM, 0.0, far)   # (below the smallest float)
    result = xp.where(xp.abs(work) <= _SMALL, near_zero, xp.where(work < 0, 2.0 - far, far))
    return result.astype(x.dtype, copy=False)


def _erfcx_positive(xp, y):
    """exp(y^2) erfc(y) for y >= _SMALL, without the exp factor's overflow (Cody's ratio)."""
    middle = xp.clip(y, _SMALL, 4.0)
    tail = xp.maximum(y, 4.0)
    with np.errstate(over="ignore"):
        z = 1.0 / (tail * tail)
    return xp.where(y <= 4.0, polynomial(_C, middle) / polynomial(_D, middle),
                    (_ONE_OVER_SQRT_PI - z * polynomial(_P, z) / polynomial(_Q, z)) / tail)


def _erfcx(xp, x):
    work = _working(x)
    small = xp.clip(work, -_SMALL, _SMALL)
    t = small * small
    near_zero = xp.exp(t) * (1.0 - small * polynomial(_A, t) / polynomial(_B, t))
    y = xp.abs(work)
    positive = _erfcx_positive(xp, xp.maximum(y, _SMALL))
    with np.errstate(over="ignore", invalid="ignore"):
        # erfcx(-y) = 2 exp(y^2) - erfcx(y); exp(y^2) as exp(s^2) exp((y - s)(y + s))
        s = xp.trunc(y * 16.0) / 16.0
        negative = 2.0 * (xp.exp(s * s) * xp.exp((y - s) * (y + s))) - positive
    result = xp.where(y <= _SMALL, near_zero, xp.where(work < 0, negative, positive))
    result = xp.where(work == -xp.inf, xp.inf, result)
    return result.astype(x.dtype, copy=False)


def _inverse_erfc(xp, a, q):
    """x >= 0 with erf(x) = a and erfc(x) = q = 1 - a, both given (q exact where small)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = -xp.log(q * (2.0 - q))
        central = a * polynomial(_GILES_CENTRAL, w - 2.5)
        tail = a * polynomial(_GILES_TAIL, xp.sqrt(xp.clip(w, 5.0, 16.0)) - 3.0)
        t = -xp.log(q)
        far = xp.sqrt(xp.maximum(t - 0.5 * xp.log(math.pi * xp.maximum(t, 1.0)), 0.0))
        x = xp.where(w < 5.0, central, xp.where(w < 16.0, tail, far))
        log_q = xp.log(q)
        for _ in range(3):
            # near 0: Newton on erf(x) - a; beyond: on log erfc(x) - log q, where
            # log erfc(x) = log erfcx(x) - x^2 and its derivative is -2/sqrt(pi) / erfcx(x)
            inner = xp.clip(x, 0.0, None)
            step_near = (_erf(xp, inner) - a) / (_TWO_OVER_SQRT_PI * xp.exp(-inner * inner))
            ratio = _erfcx_positive(xp, xp.maximum(inner, _SMALL))
            step_far = -(xp.log(ratio) - inner * inner - log_q) * ratio / _TWO_OVER_SQRT_PI
            x = x - xp.where(q >= 0.5, step_near, step_far)
        x = xp.where(q == 0, xp.inf, x)
        return xp.where((q < 0) | (q > 1) | xp.isnan(q), xp.nan, x)


def _erfinv(xp, y):
    work = _working(y)
    a = xp.abs(work)
    x = _inverse_erfc(xp, a, 1.0 - a)
    return xp.where(work < 0, -x, x).astype(y.dtype, copy=False)


def _ndtri(xp, p):
    """The x with P(N(0,1) <= x) = p: -sqrt(2) erfcinv(2p) below 1/2 (2p exact), mirrored
    above."""
    work = _working(p)
    lower = xp.minimum(work, 1.0 - work)            # exact for p >= 1/4 (Sterbenz)
    q = 2.0 * lower
    x = -_SQRT_2 * _inverse_erfc(xp, 1.0 - q, q)
    x = xp.where(work > 0.5, -x, x)
    x = xp.where(work == 0.5, 0.0, x)
    x = xp.where((work < 0) | (work > 1), xp.nan, x)
    return x.astype(p.dtype, copy=False)


class Erfc(Op):
    """erfc(x) = 1 - erf(x); its derivative is -2/sqrt(pi) exp(-x^2)."""

    save = "xs"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return _erfc(xp, x)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        return g * (exp(-(x * x)) * -_TWO_OVER_SQRT_PI)

    jvp = ELEMENTWISE


class Erfcx(Op):
    """erfcx(x) = exp(x^2) erfc(x); its derivative is 2 x erfcx(x) - 2/sqrt(pi)."""

    save = "xs ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return _erfcx(xp, x)

    @staticmethod
    def vjp(ctx, g):
        return g * (ctx.xs[0] * ctx.ans * 2.0 - _TWO_OVER_SQRT_PI)

    jvp = ELEMENTWISE


class Erfinv(Op):
    """The inverse of erf on (-1, 1); its derivative is sqrt(pi)/2 exp(erfinv(y)^2)."""

    save = "ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return _erfinv(xp, x)

    @staticmethod
    def vjp(ctx, g):
        return g * (exp(ctx.ans * ctx.ans) * _SQRT_PI_OVER_2)

    jvp = ELEMENTWISE


class Ndtri(Op):
    """The standard normal quantile on (0, 1); its derivative is sqrt(2 pi) exp(x^2 / 2)."""

    save = "ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return _ndtri(xp, x)

    @staticmethod
    def vjp(ctx, g):
        return g * (exp(ctx.ans * ctx.ans * 0.5) * _SQRT_2PI)

    jvp = ELEMENTWISE


def erfc(input):
    """The complementary error function 1 - erf(x), element-wise (``torch.erfc``), accurate
    where erf(x) rounds to 1: any shape, float dtype kept.

    Example::

        >>> from gpugrad.ops.special_erf import erfc
        >>> erfc(gpugrad.tensor([-1.0, 0.0, 5.0], dtype="float64")).tolist()
        [1.8427007929497148, 1.0, 1.537459794428035e-12]
    """
    return _unary(Erfc, input)


def erfcx(input):
    """The scaled complementary error function exp(x^2) erfc(x), element-wise
    (``torch.special.erfcx``); finite for large x where exp(x^2) overflows.

    Example::

        >>> from gpugrad.ops.special_erf import erfcx
        >>> erfcx(gpugrad.tensor([0.0, 1e10], dtype="float64")).tolist()   # ~ 1/(x sqrt(pi))
        [1.0, 5.641895835477563e-11]
    """
    return _unary(Erfcx, input)


def erfinv(input):
    """The inverse error function, element-wise (``torch.erfinv``): erf(erfinv(y)) = y on
    (-1, 1), +-inf at +-1, NaN outside. Any shape, float dtype kept.

    Example::

        >>> from gpugrad.ops.special_erf import erfinv
        >>> erfinv(gpugrad.tensor([0.0, 0.5, -1.0], dtype="float64")).tolist()
        [0.0, 0.4769362762044698, -inf]
    """
    if input.dtype.kind == "c":
        refuse_complex("erfinv", input, ordered=False)
    return _unary(Erfinv, input)


def ndtri(input):
    """The quantile function of the standard normal distribution, element-wise
    (``torch.special.ndtri``): ndtr(ndtri(p)) = p on (0, 1), -inf at 0, inf at 1.

    Example::

        >>> from gpugrad.ops.special_erf import ndtri
        >>> [round(v, 12) for v in ndtri(gpugrad.tensor([0.5, 0.975], dtype="float64")).tolist()]
        [0.0, 1.95996398454]
    """
    return _unary(Ndtri, input)


def ndtr(input):
    """The standard normal CDF, element-wise (``torch.special.ndtr``): erfc(-x/sqrt(2)) / 2,
    so the lower tail keeps its relative accuracy.

    Example::

        >>> from gpugrad.ops.special_erf import ndtr
        >>> [round(v, 12) for v in ndtr(gpugrad.tensor([0.0, 1.95996398454])).tolist()]
        [0.5, 0.975000023842]
    """
    return erfc(input * (-1.0 / _SQRT_2)) * 0.5


def log_ndtr(input):
    """log of the standard normal CDF, element-wise (``torch.special.log_ndtr``), finite
    far into the lower tail: log(erfcx(-x/sqrt(2)) / 2) - x^2/2 below -1, log1p(-ndtr(-x))
    above.

    Example::

        >>> from gpugrad.ops.special_erf import log_ndtr
        >>> [round(v, 6) for v in log_ndtr(gpugrad.tensor([-40.0, 0.0], dtype="float64")).tolist()]
        [-804.608442, -0.693147]
    """
    from .elementwise import where      # (elementwise builds on unary)
    from .special import log1p
    x = input if input.dtype.kind == "f" else input.astype("float32")
    below = x < -1.0                    # each branch sees inputs in its own range, so the one
    low = where(below, x, -1.0)         # not taken has finite values and gradients; `where`
    high = where(below, -1.0, x)        # (not min/max, which split a tie) passes x's whole
    lower = log(erfcx(low * (-1.0 / _SQRT_2)) * 0.5) - low * low * 0.5
    upper = log1p(erfc(high * (1.0 / _SQRT_2)) * -0.5)
    return where(below, lower, upper)   # gradient to the branch taken, -1 included
