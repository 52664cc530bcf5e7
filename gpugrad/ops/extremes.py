"""``max`` and ``min`` as PyTorch has them, and their records: over all elements or NumPy's
``axis`` (tied extremes share the gradient equally), PyTorch's ``(values, indices)`` along
one ``dim`` (order_statistics.extreme_along: the gradient goes to the index), or the
element-wise ``maximum``/``minimum`` with a second tensor. With NaNs, the max of all
elements is NaN and its gradient goes to the NaNs, shared equally (as ``torch.max(x)``);
over ``axis`` a NaN slice's gradient is NaN (as ``torch.amax``).

Example::

    >>> x = gpugrad.tensor([[1.0, 5.0], [5.0, 2.0]], requires_grad=True)
    >>> x.max().backward()                  # two tied maxima: half the gradient each
    >>> x.grad.tolist(), x.max(1).indices.tolist(), x.min(axis=0).tolist()
    ([[0.0, 0.5], [0.5, 0.0]], [1, 0], [1.0, 2.0])
"""

from __future__ import annotations

import operator

from ..tensor import Tensor
from .complex_node import refuse_complex
from .record import AXIS, Op, apply
from .reduce import Sum, expand_reduced, keep_flag, normalize_axis
from .shape_errors import DimError, ShapeError, checked_dim

__all__ = ["max", "min"]


def _argext_weights(ctx):
    """Where each element equals the max (or min): 1/(number of ties), else 0. With
    ``nan_even`` (the max of all elements, as ``torch.max(x)``) a NaN max is met by the NaNs."""
    x, ans = ctx.xs[0], ctx.ans
    extreme = expand_reduced(ans, x.shape, ctx.axis, ctx.keepdims)
    hit = x == extreme
    if ctx.nan_even:
        hit = hit | ((x != x) & (extreme != extreme))
    hit = hit.astype(x.dtype)
    count = apply(Sum, hit, axis=ctx.axis, keepdims=True)
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


def max(input, dim=None, keepdim=None, *, axis=None, keepdims=None, other=None):
    """The largest value, as ``torch.max``, in its three forms:

    - ``max(x)``: of all elements (0-d); tied maxima share the gradient equally;
    - ``max(x, dim, keepdim=False)`` (``dim`` one int, positional or keyword): the named
      pair ``(values, indices)`` along ``dim``; the gradient goes to the returned index;
    - ``max(x, other)`` (a tensor): ``maximum(x, other)``.

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
    if input.dtype.kind == "c" or other is not None or not (dim is None or dim.__class__ is int):
        refuse_complex("max", input, other, dim)
    if other is not None or isinstance(dim, Tensor):
        from .elementwise import maximum       # elementwise imports this module
        return maximum(input, _other(dim, other, keepdim, "max"))
    return _extreme(Max, input, dim, keepdim, axis, keepdims)


def min(input, dim=None, keepdim=None, *, axis=None, keepdims=None, other=None):
    """The smallest value, as ``torch.min``: ``min(x)``, ``min(x, dim, keepdim=False)`` (the
    named pair ``(values, indices)``) or ``min(x, other)`` (``minimum``); see ``max``.

    Example::

        >>> gpugrad.tensor([[1.0, 5.0], [3.0, 2.0]]).min(-1).indices.tolist()
        [0, 1]
    """
    if input.dtype.kind == "c" or other is not None or not (dim is None or dim.__class__ is int):
        refuse_complex("min", input, other, dim)
    if other is not None or isinstance(dim, Tensor):
        from .elementwise import minimum       # elementwise imports this module
        return minimum(input, _other(dim, other, keepdim, "min"))
    return _extreme(Min, input, dim, keepdim, axis, keepdims)


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
        raise TypeError(f"{name}(dim=...) takes one int dimension (or a tensor, the other "
                        f"operand), got {dim!r}; reduce several with axis=(...) or a{name} "
                        f"(values only)") from None
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
