"""Ops between a tensor and a Python scalar ``c``, which is a parameter of the op rather
than an input: ``x * 2.0`` is ``MulScalar(x, c=2.0)``. So a scalar never widens a float32
tensor, needs no device copy, and has no gradient of its own to compute.

Example::

    >>> (gpugrad.tensor([1.0, 2.0]) * 2.5).dtype
    dtype('float32')
"""

from __future__ import annotations

import cmath
import math

import numpy as np

from .record import BROADCAST, ELEMENTWISE, LINEAR, Op, apply
from .op_class import HOLOMORPHIC

__all__ = ["AddScalar", "MulScalar", "DivScalar", "RDivScalar", "PowScalar", "PowScalarGrad",
           "RPowScalar", "integer_power"]


def integer_power(xp, a, b):
    """``a ** b`` for a signed integer array ``b`` of exponents (and an integer ``a`` of its
    dtype, array or Python int), as PyTorch's: a negative exponent gives 1 for a base of 1,
    1 or -1 for -1 (even or odd exponent) and 0 for any other base, where NumPy raises.

    Example::

        >>> gpugrad.ops.scalar.integer_power(np, -1, np.array([-3, -2, 2], np.int8)).tolist()
        [-1, 1, 1]
    """
    negative = b < 0
    if xp is np and not negative.any():         # (on a GPU the check would read the device)
        return a ** b
    out = a ** xp.where(negative, b & 1, b)     # (for a base of 1 or -1, a ** b = a ** (b % 2))
    return xp.where(negative & (a != 1) & (a != -1), out.dtype.type(0), out)


class AddScalar(Op):
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, c):
        return x + c

    @staticmethod
    def vjp(ctx, g):
        return g

    @staticmethod
    def jvp(ctx, t):
        return t


class MulScalar(Op):
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, c):
        return x * c

    @staticmethod
    def vjp(ctx, g):
        return g * ctx.c

    jvp = LINEAR


class DivScalar(Op):
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, c):
        return x / c

    @staticmethod
    def vjp(ctx, g):
        return g / ctx.c

    jvp = LINEAR


class RDivScalar(Op):
    """``c / x``."""

    save = "xs ans"
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, c):
        return c / x

    @staticmethod
    def vjp(ctx, g):
        return -g * ctx.ans / ctx.xs[0]

    jvp = ELEMENTWISE


class PowScalar(Op):
    """``x ** c``."""

    save = "xs"
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, c):
        return x ** c

    @staticmethod
    def vjp(ctx, g):
        if ctx.c == 0:
            return g * 0.0
        return apply(PowScalarGrad, g, ctx.xs[0], c=ctx.c)

    jvp = ELEMENTWISE


class PowScalarGrad(Op):
    """``g * c * x ** (c - 1)``: PowScalar's reverse rule as one op (``c`` != 0), so a
    backward through ``x ** c`` runs one op, not three. Its own rules are itself again:
    ``d/dg`` is the same op of the cotangent, ``d/dx`` the op at exponent ``c - 1`` (zero
    when ``c`` is 1, where the rule does not depend on ``x``)."""

    save = "xs"
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, g, x, c):
        if c == 2:                              # the common square: one array op fewer
            return g * (x * 2.0)
        return g * c * x ** (c - 1)

    @staticmethod
    def vjp(ctx, gg):
        g, x = ctx.xs
        return (apply(PowScalarGrad, gg, x, c=ctx.c) if ctx.needs(0) else None,
                _in_x(gg * g, x, ctx.c) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, tg, tx):
        g, x = ctx.xs
        along_g = None if tg is None else apply(PowScalarGrad, tg, x, c=ctx.c)
        along_x = None if tx is None else _in_x(g * tx, x, ctx.c)
        if along_g is None or along_x is None:
            return along_x if along_g is None else along_g
        return along_g + along_x


def _in_x(h, x, c):
    """``h * d/dx (c * x ** (c - 1))`` = ``h * c * (c - 1) * x ** (c - 2)``: zeros of h's
    shape at ``c`` = 1 (a gradient that is zero, as PowScalar's own rule gives at 0)."""
    return h * 0.0 if c == 1 else apply(PowScalarGrad, h * c, x, c=c - 1)


class RPowScalar(Op):
    """``c ** x``."""

    save = "ans"
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, c):
        if x.dtype.kind == "i" and (c.__class__ is int or c.__class__ is bool):
            return integer_power(xp, c, x)      # (NumPy refuses negative int exponents)
        return c ** x

    @staticmethod
    def vjp(ctx, g):
        c = ctx.c
        if c == 0:
            return g * ctx.ans * 0.0
        if ctx.ans.dtype.kind == "c":
            # the principal complex log (log|c| + i*pi for c < 0), as torch
            return g * ctx.ans * cmath.log(c)
        return g * ctx.ans * (math.log(c) if c > 0 else math.nan)

    jvp = ELEMENTWISE
