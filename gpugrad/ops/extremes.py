"""``max`` and ``min`` as PyTorch has them, and their records: over all elements or NumPy's
``axis`` (tied extremes share the gradient equally), PyTorch's ``(values, indices)`` along
one ``dim`` (order_statistics.extreme_along: the gradient goes to the index), or the
element-wise ``maximum``/``minimum`` with a second tensor (records here too; ties share).
With NaNs, the max of all elements is NaN and its gradient goes to the NaNs, shared equally
(as ``torch.max(x)``); over ``axis`` a NaN slice's gradient is NaN (as ``torch.amax``).

Example::

    >>> x = gpugrad.tensor([[1.0, 5.0], [5.0, 2.0]], requires_grad=True)
    >>> x.max().backward()                  # two tied maxima: half the gradient each
    >>> x.grad.tolist(), x.max(1).indices.tolist(), x.min(axis=0).tolist()
    ([[0.0, 0.5], [0.5, 0.0]], [1, 0], [1.0, 2.0])
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..tensor import Tensor
from .complex_node import refuse_complex
from .promotion import binary, tangent_sum, tensor_pair
from .record import AXIS, BROADCAST, Op, apply
from .reduce import Sum, expand_reduced, keep_flag, normalize_axis, sum_to
from .shape_errors import DimError, ShapeError, checked_dim

__all__ = ["max", "min", "maximum", "minimum"]


def _argext_weights(ctx):
    """Where each element equals the max (or min): 1/(number of ties), else 0. With
    ``nan_even`` (the max of all elements, as ``torch.max(x)``) a NaN max is met by the NaNs;
    without, a NaN max is met by nothing and its slice's weights are NaN (as ``torch.amax``),
    from 0 / NaN (no 0 / 0, so no NumPy RuntimeWarning)."""
    x, ans = ctx.xs[0], ctx.ans
    extreme = expand_reduced(ans, x.shape, ctx.axis, ctx.keepdims)
    hit = x == extreme
    if ctx.nan_even:
        hit = hit | ((x != x) & (extreme != extreme))
    hit = hit.astype(x.dtype)
    count = apply(Sum, hit, axis=ctx.axis, keepdims=True)
    if not ctx.nan_even:
        from .elementwise import where         # (elementwise imports this module)
        count = where(count == 0, math.nan, count)
    return hit / count


class Max(Op):
    """Largest value over ``axis``; the gradient is shared equally among ties."""

    save = "xs ans"
    vmap = AXIS

    @staticmethod
    def forward(xp, x, axis, keepdims, nan_even=False):
        return x.max(axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(ctx, g):
        return expand_reduced(g, ctx.shapes[0], ctx.axis, ctx.keepdims) * _argext_weights(ctx)

    @staticmethod
    def jvp(ctx, t):
        return apply(Sum, t * _argext_weights(ctx), axis=ctx.axis, keepdims=ctx.keepdims)


class Min(Op):
    """Smallest value over ``axis``; the gradient is shared equally among ties."""

    save = "xs ans"
    vmap = AXIS

    @staticmethod
    def forward(xp, x, axis, keepdims, nan_even=False):
        return x.min(axis=axis, keepdims=keepdims)

    vjp = staticmethod(Max.vjp)
    jvp = staticmethod(Max.jvp)


def _maximum_weights(a, b, larger: bool):
    """1 where ``a`` wins, 0 where ``b`` wins, 1/2 on ties (the gradient is shared)."""
    wins = (a > b) if larger else (a < b)
    dtype = np.result_type(a.dtype, b.dtype)
    return wins.astype(dtype) + (a == b).astype(dtype) * 0.5


class Maximum(Op):
    save = "xs"
    broadcasts = True
    larger = True
    vmap = BROADCAST

    @staticmethod
    def forward(xp, a, b):
        return xp.maximum(a, b)

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.xs
        w = _maximum_weights(a, b, ctx.op.larger)
        return (sum_to(g * w, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g * (1 - w), ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.xs
        w = _maximum_weights(a, b, ctx.op.larger)
        return tangent_sum(ctx, None if ta is None else ta * w,
                            None if tb is None else tb * (1 - w))


class Minimum(Op):
    save = "xs"
    broadcasts = True
    larger = False
    vmap = BROADCAST

    @staticmethod
    def forward(xp, a, b):
        return xp.minimum(a, b)

    vjp = staticmethod(Maximum.vjp)
    jvp = staticmethod(Maximum.jvp)


def maximum(a, b):
    """Element-wise larger of ``a`` and ``b`` (ties share the gradient equally)."""
    a, b = tensor_pair(a, b)
    if a.dtype.kind == "c" or b.dtype.kind == "c":
        refuse_complex("maximum", a, b)
    return binary(Maximum, a, b)


def minimum(a, b):
    """Element-wise smaller of ``a`` and ``b`` (ties share the gradient equally)."""
    a, b = tensor_pair(a, b)
    if a.dtype.kind == "c" or b.dtype.kind == "c":
        refuse_complex("minimum", a, b)
    return binary(Minimum, a, b)


def max(input, *args, dim=None, keepdim=None, axis=None, keepdims=None, other=None):
    """The largest value, as ``torch.max``, in its three forms:

    - ``max(x)``: of all elements (0-d); tied maxima share the gradient equally;
    - ``max(x, dim, keepdim=False)`` (``dim`` one int, NumPy int or 0-d integer tensor,
      positional or keyword): the named pair ``(values, indices)`` along ``dim``; the
      gradient goes to the returned index;
    - ``max(x, other)`` (a tensor alone by position, or ``other=``): ``maximum(x, other)``.
      As in PyTorch, ``max(x, dim=gpugrad.tensor(1))`` is a reduction.

    NumPy's ``axis=`` (an int or a tuple) gives the values alone, tied maxima sharing the
    gradient (as ``amax``).

    Example::

        >>> x = gpugrad.tensor([[1.0, 5.0], [3.0, 2.0]])
        >>> values, indices = x.max(1)
        >>> values.tolist(), indices.tolist()
        ([5.0, 3.0], [1, 0])
        >>> x.max(axis=1).tolist(), x.max().item()
        ([5.0, 3.0], 5.0)
    """
    if args:
        dim, keepdim, other = _positional("max", args, dim, keepdim, other)
    if input.dtype.kind == "c" or other is not None or not (dim is None or dim.__class__ is int):
        refuse_complex("max", input, other, dim)
    if other is not None:
        return maximum(input, _other(dim, other, keepdim, "max"))
    return _extreme(Max, input, dim, keepdim, axis, keepdims)


def min(input, *args, dim=None, keepdim=None, axis=None, keepdims=None, other=None):
    """The smallest value, as ``torch.min``: ``min(x)``, ``min(x, dim, keepdim=False)`` (the
    named pair ``(values, indices)``) or ``min(x, other)`` (``minimum``); see ``max``.

    Example::

        >>> gpugrad.tensor([[1.0, 5.0], [3.0, 2.0]]).min(-1).indices.tolist()
        [0, 1]
    """
    if args:
        dim, keepdim, other = _positional("min", args, dim, keepdim, other)
    if input.dtype.kind == "c" or other is not None or not (dim is None or dim.__class__ is int):
        refuse_complex("min", input, other, dim)
    if other is not None:
        return minimum(input, _other(dim, other, keepdim, "min"))
    return _extreme(Min, input, dim, keepdim, axis, keepdims)


def _positional(name: str, args, dim, keepdim, other):
    """Read ``max(x, a)`` / ``max(x, a, b)`` as PyTorch: a lone positional tensor (no
    keepdim) is ``other``; anything else is ``dim`` (then ``keepdim``). A tensor passed as
    ``dim=`` by keyword is always a dim (read through ``__index__``), as in PyTorch."""
    if len(args) > 2:
        raise TypeError(f"{name}() takes at most 3 positional arguments (input, dim, keepdim), "
                        f"got {1 + len(args)}; pass the others by keyword")
    if dim is not None or (len(args) == 2 and keepdim is not None):
        raise TypeError(f"{name}() got dim (or keepdim) both by position and by keyword; "
                        f"pass it once")
    first = args[0]
    if isinstance(first, Tensor):
        if len(args) == 1 and keepdim is None:
            if other is not None:
                raise TypeError(f"{name}() got other both by position and by keyword; pass "
                                f"it once")
            return None, None, first
        if first.ndim or first.dtype.kind not in "iu":
            raise TypeError(f"{name}(input, other) takes no dim or keepdim; pass other alone "
                            f"(a tensor dim must be a 0-d integer tensor, got shape "
                            f"{tuple(first.shape)}, {first.dtype})")
    return first, (args[1] if len(args) == 2 else keepdim), other


def _other(dim, other, keepdim, name: str):
    if (other is not None and dim is not None) or keepdim is not None:
        raise TypeError(f"{name}(input, other) takes no dim or keepdim; pass other alone")
    return dim if other is None else other


def _extreme(op, x, dim, keepdim, axis, keepdims, nan_even=None, name=None):
    """``nan_even``: the NaN rule of the max of all elements (default: when neither dim nor
    axis is given, as ``torch.max(x)``; ``amax`` passes False, as ``torch.amax``)."""
    name = name or op.__name__.lower()
    if dim is not None and axis is not None:
        raise TypeError(f"{name}: pass dim ((values, indices), as PyTorch) or axis (values, "
                        f"as NumPy), not both")
    keep = keep_flag(keepdims, keepdim)
    if dim is None:                         # all axes, or NumPy's axis (an int or a tuple)
        axes = None if axis is None else normalize_axis(axis, x.ndim)
        _check_nonempty(x, axes, name)
        if nan_even is None:
            nan_even = axis is None
        return apply(op, x, axis=axes, keepdims=keep, nan_even=nan_even)
    try:
        dim = operator.index(dim)
    except TypeError:
        raise TypeError(f"{name}(dim=...) takes one int dimension (a tensor passed alone "
                        f"by position is the other operand), got {dim!r}; reduce several with "
                        f"axis=(...) or a{name} (values only)") from None
    from .order_statistics import extreme_along     # (it imports reduce, which imports this)
    return extreme_along(op is Max, x, checked_dim(x, dim, name), keep)


def _check_nonempty(x, axes, name):
    """Refuse a reduction over an axis of size 0 (over others, the result is just empty):
    a RuntimeError over all elements, an IndexError over a dimension, as PyTorch's (both are
    ValueErrors too)."""
    if x.numel():
        return
    if axes is None:
        raise ShapeError(f"{name} of an empty tensor (shape {tuple(x.shape)}) has no value; "
                         f"reduce over a non-empty dimension, or check the size first")
    empty = [a for a in axes or () if x.shape[a] == 0]
    if empty:
        raise DimError(f"{name} over dimension {empty[0]} of size 0 (shape "
                         f"{tuple(x.shape)}) has no value; reduce over non-empty dimensions, "
                         f"or check the size first")
