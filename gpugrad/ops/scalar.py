"""Ops between a tensor and a Python scalar ``c``, which is a parameter of the op rather
than an input: ``x * 2.0`` is ``MulScalar(x, c=2.0)``. So a scalar never widens a float32
tensor, needs no device copy, and has no gradient of its own to compute.

Example::

    >>> (gpugrad.tensor([1.0, 2.0]) * 2.5).dtype
    dtype('float32')
"""

from __future__ import annotations

import math

from .record import BROADCAST, ELEMENTWISE, LINEAR, Op

__all__ = ["AddScalar", "MulScalar", "DivScalar", "RDivScalar", "PowScalar", "RPowScalar"]


class AddScalar(Op):
    vmap = BROADCAST

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

    @staticmethod
    def forward(xp, x, c):
        return x * c

    @staticmethod
    def vjp(ctx, g):
        return g * ctx.c

    jvp = LINEAR


class DivScalar(Op):
    vmap = BROADCAST

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

    @staticmethod
    def forward(xp, x, c):
        return x ** c

    @staticmethod
    def vjp(ctx, g):
        if ctx.c == 0:
            return g * 0.0
        if ctx.c == 2:                          # the common square: one op fewer
            return g * (ctx.xs[0] * 2.0)
        return g * ctx.c * ctx.xs[0] ** (ctx.c - 1)

    jvp = ELEMENTWISE


class RPowScalar(Op):
    """``c ** x``."""

    save = "ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x, c):
        return c ** x

    @staticmethod
    def vjp(ctx, g):
        c = ctx.c
        return g * ctx.ans * (math.log(c) if c > 0 else 0.0 if c == 0 else math.nan)

    jvp = ELEMENTWISE
