"""Element-wise functions, as PyTorch's: frac, reciprocal, rsqrt, log2, log10, exp2, sinc,
logit, clamp_min/clamp_max, sgn (z / |z| for complex z); and, from nonfinite.py, isinf,
isposinf, isneginf, nan_to_num, from pointwise_binary.py, logaddexp, logaddexp2, fmod,
remainder, xlogy, copysign and lerp, and from rounding.py, floor, ceil, round, trunc/fix.
Any shape. Float dtypes are kept; integer and bool tensors give float32 where PyTorch's
do (reciprocal, log2...), and stay as they are for floor, ceil, round, trunc and
nan_to_num. floor, ceil, round and trunc have zero gradient (as PyTorch's), frac gradient
1. Each has its Tensor method and in-place method (``t.floor_()``).

Example::

    >>> from gpugrad.ops.pointwise import floor, frac
    >>> x = gpugrad.tensor([-1.5, 2.25], requires_grad=True)
    >>> floor(x).tolist(), frac(x).tolist()
    ([-2.0, 2.0], [-0.5, 0.25])
    >>> (floor(x) + frac(x)).sum().backward(); x.grad.tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

import math

import numpy as np

from . import compare
from .elementwise import where
from .promotion import scalar_operand
from .nonfinite import isinf, isneginf, isposinf, nan_to_num
from .inplace import in_place_method as in_place
from .pointwise_binary import (copysign, fmod, lerp, logaddexp, logaddexp2, remainder,
                               xlogy)
from .complex_node import refuse_complex
from .complex_parts import conj, real
from .op_class import OWN_RULES
from .record import BROADCAST, ELEMENTWISE, Op, apply
from .rounding import ceil, fix, floor, refuse_bool, round, trunc  # noqa: A004
from ..scalar_casts import checked_scalar
from ..tensor import Tensor
from .trigonometric import _Unary, cos
from .unary import _float, _is_scalar, _unary, clamp

__all__ = ["floor", "ceil", "round", "trunc", "fix", "frac", "reciprocal", "rsqrt", "log2",
           "log10", "exp2", "sinc", "logit", "clamp_min", "clamp_max", "sgn",
           "isinf", "isposinf", "isneginf", "nan_to_num",
           "logaddexp", "logaddexp2", "fmod", "remainder", "xlogy", "copysign", "lerp"]

_LN2, _LN10 = math.log(2.0), math.log(10.0)


class Frac(_Unary, Op):
    """x - trunc(x), with gradient 1."""

    save = ""

    @staticmethod
    def forward(xp, x):
        return x - xp.trunc(x)

    @staticmethod
    def vjp(ctx, g):
        return g


class Reciprocal(_Unary, Op):
    save = "ans"

    @staticmethod
    def forward(xp, x):
        return 1.0 / x

    @staticmethod
    def vjp(ctx, g):
        return -g * (ctx.ans * ctx.ans)


class Rsqrt(_Unary, Op):
    """1 / sqrt(x); its derivative -out^3 / 2 is read from the output."""

    save = "ans"

    @staticmethod
    def forward(xp, x):
        return 1.0 / xp.sqrt(x)

    @staticmethod
    def vjp(ctx, g):
        y = ctx.ans
        return g * (y * y * y * -0.5)


class Log2(_Unary, Op):
    @staticmethod
    def forward(xp, x):
        return xp.log2(x)

    @staticmethod
    def vjp(ctx, g):
        return g / (ctx.xs[0] * _LN2)


class Log10(_Unary, Op):
    @staticmethod
    def forward(xp, x):
        return xp.log10(x)

    @staticmethod
    def vjp(ctx, g):
        return g / (ctx.xs[0] * _LN10)


class Exp2(_Unary, Op):
    save = "ans"

    @staticmethod
    def forward(xp, x):
        return xp.exp2(x)

    @staticmethod
    def vjp(ctx, g):
        return g * (ctx.ans * _LN2)


class Sinc(_Unary, Op):
    """sin(pi x) / (pi x), 1 at 0; its derivative (cos(pi x) - sinc(x)) / x, 0 at 0 (as
    PyTorch's, whose second derivative at 0 is 0 too)."""

    save = "xs ans"

    @staticmethod
    def forward(xp, x):
        if x.dtype.itemsize < 4:                # float16: pi x rounded would be too coarse
            return xp.sinc(x.astype(np.float32)).astype(x.dtype)
        return xp.sinc(x)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        zero = x == 0
        safe = where(zero, 1.0, x)
        return g * where(zero, 0.0, (cos(safe * math.pi) - ctx.ans) / safe)


class Logit(_Unary, Op):
    """log(z / (1 - z)), z = x clamped to [eps, 1 - eps] when eps is given. Gradient as
    PyTorch's: 1 / (x (1 - x)); with eps, 0 outside [eps, 1 - eps]; without, NaN outside
    [0, 1]."""

    @staticmethod
    def forward(xp, x, eps):
        z = x if eps is None else xp.clip(x, eps, 1.0 - eps)
        return xp.log(z / (1.0 - z))

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        grad = g / (x * (1.0 - x))
        if ctx.eps is None:
            return where((x < 0.0) | (x > 1.0), math.nan, grad)
        return where((x < ctx.eps) | (x > 1.0 - ctx.eps), 0.0, grad)


def frac(input):
    """x - trunc(x): the fractional part with the sign of x, element-wise (gradient 1).
    Float tensors only, as PyTorch's.

    Example::

        >>> gpugrad.ops.pointwise.frac(gpugrad.tensor([-1.25, 2.5])).tolist()
        [-0.25, 0.5]
    """
    refuse_bool("frac", input, also_int=True)
    return apply(Frac, input)


def reciprocal(input):
    """1 / x, element-wise; integers give float32.

    Example::

        >>> gpugrad.ops.pointwise.reciprocal(gpugrad.tensor([2, -4]))
        tensor([ 0.5 , -0.25], device='cpu', dtype=float32)
    """
    return _unary(Reciprocal, input)


def rsqrt(input):
    """1 / sqrt(x), element-wise; integers give float32.

    Example::

        >>> gpugrad.ops.pointwise.rsqrt(gpugrad.tensor([4.0, 0.25])).tolist()
        [0.5, 2.0]
    """
    return _unary(Rsqrt, input)


def log2(input):
    """Base-2 logarithm, element-wise.

    Example::

        >>> gpugrad.ops.pointwise.log2(gpugrad.tensor([1.0, 8.0])).tolist()
        [0.0, 3.0]
    """
    return _unary(Log2, input)


def log10(input):
    """Base-10 logarithm, element-wise.

    Example::

        >>> gpugrad.ops.pointwise.log10(gpugrad.tensor([1.0, 1000.0], dtype="float64"))
        tensor([0., 3.], device='cpu', dtype=float64)
    """
    return _unary(Log10, input)


def exp2(input):
    """2 ** x, element-wise.

    Example::

        >>> gpugrad.ops.pointwise.exp2(gpugrad.tensor([-1.0, 3.0])).tolist()
        [0.5, 8.0]
    """
    return _unary(Exp2, input)


def sinc(input):
    """The normalized sinc, sin(pi x) / (pi x), 1 at 0, element-wise.

    Example::

        >>> gpugrad.ops.pointwise.sinc(gpugrad.tensor([0.0, 0.5], dtype="float64"))
        tensor([1.        , 0.63661977], device='cpu', dtype=float64)
    """
    return _unary(Sinc, input)


def logit(input, eps=None):
    """log(p / (1 - p)), element-wise, p = input clamped to [eps, 1 - eps] when ``eps`` is
    given (else NaN outside [0, 1]); integers give float32; complex refused, as PyTorch's.

    Example::

        >>> gpugrad.ops.pointwise.logit(gpugrad.tensor([0.5, 0.0]), eps=0.25).tolist()
        [0.0, -1.0986123085021973]
    """
    refuse_complex("logit", input, ordered=False, hint="apply it to x.real if that is meant")
    return apply(Logit, _float(input), eps=None if eps is None else float(eps))


def clamp_min(input, min):
    """max(x, min), element-wise (``clamp(input, min=min)``); ``min`` a number or a tensor
    (broadcast with ``input``; the gradient goes to the bound where it clamps, as PyTorch's).

    Example::

        >>> gpugrad.ops.pointwise.clamp_min(gpugrad.tensor([-1.0, 2.0]), 0.5).tolist()
        [0.5, 2.0]
    """
    if isinstance(min, Tensor):
        return clamp(input, min=min)
    x, min = _number_bound("clamp_min", input, min)
    return clamp(x, min=min)


def clamp_max(input, max):
    """min(x, max), element-wise (``clamp(input, max=max)``); ``max`` a number or a tensor
    (broadcast with ``input``; the gradient goes to the bound where it clamps, as PyTorch's).

    Example::

        >>> gpugrad.ops.pointwise.clamp_max(gpugrad.tensor([-1.0, 2.0]), 0.5).tolist()
        [-1.0, 0.5]
    """
    if isinstance(max, Tensor):
        return clamp(input, max=max)
    x, max = _number_bound("clamp_max", input, max)
    return clamp(x, max=max)


def _number_bound(name, x, bound):
    """``(x, bound)``, x cast as PyTorch casts a tensor meeting a number (an integer tensor
    and a float bound: float32); an int bound of an integer tensor must fit its dtype, a
    negative one wrapping into an unsigned dtype (``uint8_x.clamp_min(-1)`` is 255)."""
    if not _is_scalar(bound):
        raise TypeError(f"{name}: the bound must be a number or a tensor, not "
                        f"{type(bound).__name__}")
    if bound.__class__ is int and x.dtype.kind in "iu":
        bound = checked_scalar(bound, x.dtype, name)
    return scalar_operand(x, bound)


class Sgn(Op):
    """``z / |z|`` (0 at 0) of a complex ``z``, as ``torch.sgn``. Its Jacobian (a real-linear
    map, self-adjoint) takes ``t`` to ``(t - Re(t conj(s)) s) / |z|`` with ``s = sgn(z)``:
    that is both the tangent and PyTorch's gradient (``g`` for ``t``); 0 at z == 0."""

    save = "xs ans"
    vmap = BROADCAST
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, z):
        a = xp.abs(z)
        return xp.where(a == 0, 0, z / xp.where(a == 0, 1, a))   # (0 at 0, no 0/0)

    @staticmethod
    def vjp(ctx, g):
        z, s = ctx.xs[0], ctx.ans
        a = z.abs()
        zero = a == 0
        return where(zero, 0.0, (g - real(g * conj(s)) * s) / (a + zero))

    jvp = ELEMENTWISE                   # (the same self-adjoint map of the tangent)


def sgn(input):
    """The sign of each element: -1, 0 or 1 (same dtype) for a real tensor, as ``sign``
    (zero gradient); ``z / |z|`` (0 at 0) for a complex one, as ``torch.sgn``, with
    PyTorch's gradient ``(g - Re(g conj(sgn z)) sgn z) / |z|``.

    Example::

        >>> gpugrad.ops.pointwise.sgn(gpugrad.tensor([-2.0, 0.0, 3.0])).tolist()
        [-1.0, 0.0, 1.0]
        >>> gpugrad.sgn(gpugrad.tensor([3 + 4j, 0j]))
        tensor([0.6+0.8j, 0. +0.j ], device='cpu', dtype=complex64)
    """
    if input.dtype.kind == "c":
        return apply(Sgn, input)
    return compare.sign(input)


METHODS: dict = {name: globals()[name] for name in __all__}    # all are Tensor methods too
METHODS.update({name + "_": in_place(globals()[name], name) for name in (
    "floor", "ceil", "round", "trunc", "fix", "frac", "reciprocal", "rsqrt", "log2", "log10",
    "exp2", "sinc", "logit", "nan_to_num", "clamp_min", "clamp_max", "sgn", "fmod",
    "remainder", "xlogy", "copysign", "lerp")})
