"""Reductions: sum, mean, max, min, logsumexp; and ``sum_to``, the adjoint of broadcasting.

Every reduction takes ``axis`` (an int, a tuple, or None for all axes; ``dim`` is accepted
as in PyTorch) and ``keepdims`` (or ``keepdim``). Example::

    >>> x = gpugrad.tensor([[1.0, 5.0], [3.0, 2.0]])
    >>> gpugrad.max(x, axis=1).tolist()
    [5.0, 3.0]
"""

from __future__ import annotations

import math

from .record import AXIS, LINEAR, Op, apply
from . import shape as _shape  # shape imports this module: use its names at call time

__all__ = ["sum", "mean", "max", "min", "logsumexp", "sum_to", "expand_reduced",
           "normalize_axis"]

def normalize_axis(axis, ndim: int, *, dim=None):
    """``axis`` (or ``dim``) as a sorted tuple of non-negative ints, or None for all axes."""
    if dim is not None:
        if axis is not None:
            raise TypeError("pass axis or dim, not both")
        axis = dim
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    result = []
    bound = ndim if ndim else 1      # a 0-d tensor accepts axis 0 and -1, as NumPy's sum does
    for a in axes:
        if not -bound <= a < bound:
            raise IndexError(f"axis {a} is out of range for a tensor with {ndim} dimensions "
                             f"(valid: {-bound} to {bound - 1})")
        result.append(a % bound)
    if ndim == 0:
        return None                  # reducing a 0-d tensor over its one "axis": itself
    if len(set(result)) != len(result):
        raise ValueError(f"axis {axis} repeats an axis")
    return tuple(sorted(result))


def _keep(keepdims, keepdim) -> bool:
    return bool(keepdim) if keepdim is not None else bool(keepdims)


def _kept_shape(shape: tuple, axis) -> tuple:
    """``shape`` with the reduced axes set to 1 (the keepdims shape)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def expand_reduced(g, shape: tuple, axis, keepdims: bool):
    """Broadcast a reduced ``g`` back to the ``shape`` it was reduced from."""
    if not keepdims:
        g = _shape.reshape(g, _kept_shape(shape, axis))
    return _shape.broadcast_to(g, shape)


def sum_to(g, shape: tuple):
    """Sum ``g`` down to ``shape``, undoing NumPy broadcasting (the vjp of broadcasting).

    Example::

        >>> sum_to(gpugrad.ones(2, 3), (1, 3)).tolist()
        [[2.0, 2.0, 2.0]]
    """
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    out = apply(Sum, g, axis=axes, keepdims=False) if axes else g
    return _shape.reshape(out, shape) if tuple(out.shape) != shape else out


class Sum(Op):
    """Sum over ``axis``. (...) -> reduced shape."""

    vmap = AXIS

    def forward(xp, x, axis, keepdims):
        return x.sum(axis=axis, keepdims=keepdims)

    def vjp(ctx, g):
        return expand_reduced(g, ctx.shapes[0], ctx.axis, ctx.keepdims)

    jvp = LINEAR


class Mean(Op):
    """Mean over ``axis``. (...) -> reduced shape."""

    vmap = AXIS

    def forward(xp, x, axis, keepdims):
        return x.mean(axis=axis, keepdims=keepdims)

    def vjp(ctx, g):
        shape = ctx.shapes[0]
        count = math.prod(shape) if ctx.axis is None else math.prod(shape[a] for a in ctx.axis)
        return expand_reduced(g, shape, ctx.axis, ctx.keepdims) / (count or 1)

    jvp = LINEAR


def _argext_weights(ctx):
    """Where each element equals the max (or min): 1/(number of ties), else 0."""
    x, ans = ctx.xs[0], ctx.ans
    hit = (x == expand_reduced(ans, x.shape, ctx.axis, ctx.keepdims)).astype(x.dtype)
    count = apply(Sum, hit, axis=ctx.axis, keepdims=True)
    return hit / count


class Max(Op):
    """Largest value over ``axis``; the gradient is shared equally among ties."""

    save = "xs ans"
    vmap = AXIS

    def forward(xp, x, axis, keepdims):
        return x.max(axis=axis, keepdims=keepdims)

    def vjp(ctx, g):
        return expand_reduced(g, ctx.shapes[0], ctx.axis, ctx.keepdims) * _argext_weights(ctx)

    def jvp(ctx, t):
        return apply(Sum, t * _argext_weights(ctx), axis=ctx.axis, keepdims=ctx.keepdims)


class Min(Op):
    """Smallest value over ``axis``; the gradient is shared equally among ties."""

    save = "xs ans"
    vmap = AXIS

    def forward(xp, x, axis, keepdims):
        return x.min(axis=axis, keepdims=keepdims)

    vjp = Max.vjp
    jvp = Max.jvp


class LogSumExp(Op):
    """log(sum(exp(x))) over ``axis``, computed without overflow."""

    save = "xs ans"
    vmap = AXIS

    def forward(xp, x, axis, keepdims):
        m = x.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
        return out if keepdims else out.squeeze(axis=axis)

    def vjp(ctx, g):
        x = ctx.xs[0]
        softmax = (x - expand_reduced(ctx.ans, x.shape, ctx.axis, ctx.keepdims)).exp()
        return expand_reduced(g, x.shape, ctx.axis, ctx.keepdims) * softmax

    def jvp(ctx, t):
        x = ctx.xs[0]
        softmax = (x - expand_reduced(ctx.ans, x.shape, ctx.axis, ctx.keepdims)).exp()
        return apply(Sum, t * softmax, axis=ctx.axis, keepdims=ctx.keepdims)


def _reduce(op, x, axis, keepdims, dim, keepdim):
    return apply(op, x, axis=normalize_axis(axis, x.ndim, dim=dim),
                 keepdims=_keep(keepdims, keepdim))


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Sum of elements over ``axis`` (all by default). Example: ``sum(x, axis=0)``."""
    return _reduce(Sum, x, axis, keepdims, dim, keepdim)


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Mean of elements over ``axis`` (all by default). Integer tensors are not allowed."""
    if x.dtype.kind not in "fc":
        raise TypeError(f"mean of a {x.dtype} tensor: convert it first, e.g. x.astype('float32')")
    return _reduce(Mean, x, axis, keepdims, dim, keepdim)


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Largest value over ``axis`` (values only, as NumPy and JAX; see ``argmax``)."""
    _check_nonempty(x, "max")
    return _reduce(Max, x, axis, keepdims, dim, keepdim)


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Smallest value over ``axis`` (values only, as NumPy and JAX; see ``argmin``)."""
    _check_nonempty(x, "min")
    return _reduce(Min, x, axis, keepdims, dim, keepdim)


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """``log(sum(exp(x), axis))`` without overflow: finite for inputs of 1e4 and more."""
    return _reduce(LogSumExp, x, axis, keepdims, dim, keepdim)


def _check_nonempty(x, name):
    if x.size == 0:
        raise ValueError(f"{name} of an empty tensor (shape {tuple(x.shape)}) has no value")
