"""Statistics and running reductions as PyTorch has them: ``cumprod`` (one record), and
composites: ``amax``/``amin``/``aminmax``, ``cummax``/``cummin``, ``std_mean``/``var_mean``
and ``nansum``/``nanmean`` (``median`` and ``quantile``: order_statistics.py;
``logcumsumexp``, exported here too: log_cumsum_exp.py).

``cumprod``'s gradient is exact where elements are zero, as PyTorch's (not ``ans / x``):
before a slice's first zero the running sums of ``g * ans`` over ``x``; at the first zero
the running sums of ``g`` times the products with that zero left out; after it, zero (a
value that carries the right slope for second derivatives). float16 scans run in float32
and are rounded back once, as PyTorch's.

Example::

    >>> x = gpugrad.tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> y = gpugrad.cumprod(x, 0)
    >>> y.tolist()
    [2.0, 0.0, 0.0]
    >>> y.sum().backward()
    >>> x.grad.tolist()                 # d/dx1 of 2 x1 + 2 x1 x2 = 2 + 6
    [1.0, 8.0, 0.0]
"""

from __future__ import annotations

import collections
import operator

import numpy as np

from .. import backend
from ..autograd.compile_mode import kernel, note_reads
from ..tensor import Tensor
from . import batching as _batching
from . import compare, extremes, reduce
from .complex_node import refuse_complex
from .inplace import in_place_method
from .cumulative import CumSum, reversed_cumsum, scan_dtype
from .elementwise import where
from .log_cumsum_exp import _scan, logcumsumexp     # (logcumsumexp: exported here too)
from .op_class import HOLOMORPHIC
from .record import AXIS, Op, apply, recording_backward
from .reduce import Sum, accumulating
from .shape_errors import checked_dim
from .selection import gather_checked

__all__ = ["amax", "amin", "aminmax", "cumprod", "cummax", "cummin", "logcumsumexp",
           "std_mean", "var_mean", "nanmean", "nansum"]

MinMax = collections.namedtuple("MinMax", ["min", "max"])
ValuesIndices = reduce.ValuesIndices


_reverse_cumsum = reversed_cumsum


# -- cumprod ----------------------------------------------------------------------------------

def _zeros_seen(x, axis: int):
    """``(zero, seen)``: where ``x`` is 0, and how many zeros the slice has up to there."""
    zero = compare.equal(x, 0)
    return zero, apply(CumSum, zero.astype(x.dtype), axis=axis)


def _cumprod_vjp(x, ans, g, axis: int):
    zero, seen = _zeros_seen(x, axis)
    before = seen == 0
    first = zero & (seen == 1)
    y = where(first, 1.0, x)                    # the first zero left out
    running = _reverse_cumsum(g * apply(CumProd, y, axis=axis), axis)
    grad = where(before, _reverse_cumsum(g * ans, axis) / where(before, x, 1.0), 0.0) + \
        where(first, running, 0.0)
    if not recording_backward():
        return grad
    # zero in value, but with the slope in the first zero that second derivatives need
    between = (seen == 1) & ~zero
    second = zero & (seen == 2)
    at_first = apply(Sum, where(first, x, 0.0), axis=(axis,), keepdims=True)
    y2 = where(second, 1.0, y)
    after = where(between, running / where(between, y, 1.0), 0.0) + \
        where(second, _reverse_cumsum(g * apply(CumProd, y2, axis=axis), axis), 0.0)
    return grad + at_first * after


class CumProd(Op):
    """Running products along ``axis`` (an int). (...) -> the same shape."""

    save = "x0 ans"
    vmap = AXIS
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, axis):
        return xp.cumprod(x, axis=axis, dtype=scan_dtype(xp, x.dtype)).astype(x.dtype,
                                                                               copy=False)

    @staticmethod
    def vjp(ctx, g):
        return _cumprod_vjp(ctx.xs[0], ctx.ans, g, ctx.axis)

    @staticmethod
    def jvp(ctx, t):
        x, axis = ctx.xs[0], ctx.axis
        zero, seen = _zeros_seen(x, axis)
        before = seen == 0
        first = zero & (seen == 1)
        t_first = apply(Sum, where(first, t, 0.0), axis=(axis,), keepdims=True)
        early = ctx.ans * apply(CumSum, where(before, t / where(before, x, 1.0), 0.0),
                                axis=axis)
        return where(before, early, t_first * apply(CumProd, where(first, 1.0, x), axis=axis))


def cumprod(input, dim: int, *, dtype=None):
    """The running products of ``input`` along ``dim``, as ``torch.cumprod``: float and
    complex tensors keep their dtype, integer and bool ones give int64 (or ``dtype``). Its
    gradient is exact where elements are zero.

    Shapes: (...) -> the same.

    Example::

        >>> gpugrad.tensor([[1, 2, 3], [4, 5, 6]]).cumprod(1).tolist()
        [[1, 2, 6], [4, 20, 120]]
    """
    axis = checked_dim(input, dim, "cumprod")
    input = accumulating(input, dtype)
    if input.ndim == 0:
        return apply(CumProd, input.reshape(1), axis=0).reshape(())
    return apply(CumProd, input, axis=axis)


# -- Composites -------------------------------------------------------------------------------

def _running_index(x, axis: int, largest: bool):
    """int64 raw: where the running max (min) along ``axis`` of raw ``x`` was last reached
    (NaN counts as the largest and the smallest, as PyTorch's)."""
    xp = backend.xp_of(x)
    extreme = _scan(xp, x, axis, xp.maximum if largest else xp.minimum)
    hit = x == extreme
    if x.dtype.kind in "fc":
        hit |= xp.isnan(x)
    lined = [1] * x.ndim
    lined[axis] = x.shape[axis]
    positions = xp.arange(x.shape[axis], dtype=xp.int64).reshape(lined)
    return _scan(xp, xp.where(hit, positions, 0), axis, xp.maximum)


def _cumulative_extreme(input, dim, largest: bool, name: str):
    refuse_complex(name, input)
    axis = checked_dim(input, dim, name)
    if input.ndim == 0:
        values, indices = _cumulative_extreme(input.reshape(1), 0, largest, name)
        return ValuesIndices(values.reshape(()), indices.reshape(()))
    if input._batched:
        indices = _batching.raw_over_axis(
            lambda v, a: Tensor._wrap(kernel(_running_index, v._array, a, largest))
            if isinstance(v, Tensor) else _running_index(v, a, largest), input, axis)
    else:
        note_reads(input)
        indices = Tensor._wrap(kernel(_running_index, input._array, axis, largest))
    return ValuesIndices(gather_checked(input, axis, indices), indices)


def cummax(input, dim: int):
    """``(values, indices)``: the running maximum of ``input`` along ``dim`` and where it was
    last reached, as ``torch.cummax`` (NaN propagates). Differentiable in the values (the
    gradient goes to the element each value came from).

    Example::

        >>> values, indices = gpugrad.tensor([1.0, 3.0, 2.0, 3.0]).cummax(0)
        >>> values.tolist(), indices.tolist()
        ([1.0, 3.0, 3.0, 3.0], [0, 1, 1, 3])
    """
    return _cumulative_extreme(input, dim, True, "cummax")


def cummin(input, dim: int):
    """``(values, indices)``: the running minimum of ``input`` along ``dim`` and where it was
    last reached, as ``torch.cummin``.

    Example::

        >>> gpugrad.tensor([3, 1, 2, 1]).cummin(0).indices.tolist()
        [0, 1, 1, 3]
    """
    return _cumulative_extreme(input, dim, False, "cummin")


def _axes(dim):
    """PyTorch's ``dim`` (None or ``()`` for all, an ``__index__`` int such as a NumPy one,
    or a sequence) as ``reduce``'s."""
    if dim is None or dim.__class__ is int:
        return dim
    try:
        return operator.index(dim)
    except TypeError:
        return tuple(dim) or None


def amax(input, dim=(), keepdim: bool = False):
    """The largest values over ``dim`` (an int or a sequence; all by default), as
    ``torch.amax``: tied maxima share the gradient equally.

    Example::

        >>> gpugrad.amax(gpugrad.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=0).tolist()
        [3.0, 5.0]
    """
    if input.dtype.kind == "c":
        refuse_complex("amax", input)
    # (NaN: a NaN gradient everywhere in a NaN slice, all elements too, as torch.amax)
    return extremes._extreme(extremes.Max, input, None, None, _axes(dim), keepdim, False, "amax")


def amin(input, dim=(), keepdim: bool = False):
    """The smallest values over ``dim`` (all by default), as ``torch.amin``.

    Example::

        >>> gpugrad.amin(gpugrad.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=1).tolist()
        [1.0, 2.0]
    """
    if input.dtype.kind == "c":
        refuse_complex("amin", input)
    return extremes._extreme(extremes.Min, input, None, None, _axes(dim), keepdim, False, "amin")


def aminmax(input, *, dim=None, keepdim: bool = False):
    """``(min, max)`` over ``dim`` (an int, or all), as ``torch.aminmax``.

    Example::

        >>> gpugrad.aminmax(gpugrad.tensor([3, 1, 2])).max.item()
        3
    """
    refuse_complex("aminmax", input)
    if dim is not None:
        dim = checked_dim(input, dim, "aminmax")
    return MinMax(amin(input, () if dim is None else dim, keepdim),
                  amax(input, () if dim is None else dim, keepdim))


def _spread_and_mean(fn, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):                   # PyTorch's std_mean(x, unbiased)
        dim, unbiased = None, dim
    axis = _axes(dim)
    spread = fn(input, axis, unbiased, keepdim, correction=correction)
    return spread, reduce.mean(input, axis=axis, keepdims=keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(std, mean)`` over ``dim``, as ``torch.std_mean`` (``correction`` defaults to 1).

    Example::

        >>> s, m = gpugrad.std_mean(gpugrad.tensor([1.0, 3.0]))
        >>> round(s.item(), 4), m.item()
        (1.4142, 2.0)
    """
    return _spread_and_mean(reduce.std, input, dim, unbiased, keepdim, correction)


def var_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(var, mean)`` over ``dim``, as ``torch.var_mean`` (``correction`` defaults to 1).

    Example::

        >>> v, m = gpugrad.var_mean(gpugrad.tensor([1.0, 3.0]), correction=0)
        >>> v.item(), m.item()
        (1.0, 2.0)
    """
    return _spread_and_mean(reduce.var, input, dim, unbiased, keepdim, correction)


def _nan_free(input):
    return where(compare.isnan(input), 0.0, input) if input.dtype.kind in "fc" else input


def nansum(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The sum over ``dim`` (all by default) with NaN counted as zero, as ``torch.nansum``
    (integer and bool tensors give int64). NaNs get a zero gradient.

    Example::

        >>> gpugrad.tensor([1.0, float("nan"), 2.0]).nansum().item()
        3.0
    """
    return reduce.sum(accumulating(_nan_free(input), dtype), axis=_axes(dim),
                      keepdims=keepdim)


def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The mean over ``dim`` of the elements that are not NaN, as ``torch.nanmean`` (NaN
    where all are; float tensors).

    Example::

        >>> gpugrad.tensor([1.0, float("nan"), 2.0]).nanmean().item()
        1.5
    """
    if dtype is not None:
        input = input.astype(dtype)
    if input.dtype.kind != "f":
        raise TypeError(f"nanmean: the input must be a float tensor, got {input.dtype}")
    wide = "float32" if input.dtype.itemsize < 4 else input.dtype  # (a float16 count of
    counted = reduce.sum((~compare.isnan(input)).astype(wide), axis=_axes(dim),   # 70000 is
                         keepdims=keepdim)                                        # inf)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):   # all NaN: 0 / 0
        return (nansum(input, dim, keepdim).astype(wide) / counted).astype(input.dtype)


METHODS: dict = {
    "amax": amax, "amin": amin, "aminmax": aminmax, "cumprod": cumprod, "cummax": cummax,
    "cummin": cummin, "logcumsumexp": logcumsumexp, "nanmean": nanmean, "nansum": nansum,
    "cumprod_": in_place_method(cumprod),
}
