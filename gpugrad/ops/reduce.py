"""Reductions: sum, mean, max, min, var, std, logsumexp; and ``sum_to``, the adjoint of
broadcasting.

Every reduction takes PyTorch's ``dim`` (positional or keyword: an int, a tuple, or None
for all axes; an empty tuple or list also means all axes, as in PyTorch) or NumPy's ``axis=``
(keyword; ``axis=()`` reduces over no axis, as in NumPy and JAX), and ``keepdim`` (or
``keepdims``), except ``max``/``min``, whose one int ``dim`` (positional or keyword) gives
PyTorch's ``(values, indices)``; their ``axis=`` gives NumPy's values. Example::

    >>> x = gpugrad.tensor([[1.0, 5.0], [3.0, 2.0]])
    >>> gpugrad.max(x, axis=1).tolist(), gpugrad.max(x, 1).indices.tolist()
    ([5.0, 3.0], [1, 0])
"""

from __future__ import annotations

import collections
import math
import numbers
import warnings

import numpy as np

from ..dtypes import as_dtype, get_default_dtype
from .record import AXIS, LINEAR, Op, apply
from .op_class import HOLOMORPHIC
from .shape_errors import DimError
from ..scalar_casts import as_int
from . import complex_parts as _parts
from . import shape as _shape  # shape imports this module: use its names at call time

__all__ = ["sum", "mean", "max", "min", "var", "std", "logsumexp", "ValuesIndices", "sum_to",
           "expand_reduced", "normalize_axis"]

def normalize_axis(axis, ndim: int, *, dim=None):
    """``axis`` (or ``dim``: an int, any ``__index__`` integer such as a NumPy one, or a
    sequence of them) as a sorted tuple of non-negative ints, or None for all axes.

    Example::

        >>> gpugrad.ops.reduce.normalize_axis((-1, np.int64(0)), ndim=3)
        (0, 2)
    """
    if dim is not None:
        if axis is not None:
            raise TypeError("pass axis or dim, not both")
        axis = dim
    if axis is None:
        return None
    axes = (axis,) if axis.__class__ is int else axis if axis.__class__ is tuple else \
        _indices(axis)
    result = []
    bound = ndim if ndim else 1      # a 0-d tensor accepts axis 0 and -1, as NumPy's sum does
    for a in axes:
        if a.__class__ is not int:
            a = _index(a, axis)
        if not -bound <= a < bound:
            raise DimError(f"axis {a} is out of range for a tensor with {ndim} dimensions "
                           f"(valid: {-bound} to {bound - 1})")
        result.append(a % bound)
    if ndim == 0:
        return None                  # reducing a 0-d tensor over its one "axis": itself
    if len(set(result)) != len(result):
        raise ValueError(f"axis {axis} repeats an axis")
    return tuple(sorted(result))


def _indices(axis):
    """``axis``, one integer (a NumPy int, a 0-d tensor: checked by ``as_int``) or a
    sequence of them, as a sequence."""
    if axis.__class__ is list or isinstance(axis, numbers.Integral) or \
            getattr(axis, "ndim", None) == 0 or not hasattr(axis, "__iter__"):
        return axis if axis.__class__ is list else (axis,)
    return tuple(axis)


def _index(a, axis) -> int:
    """One dim ``a`` of ``axis`` as an int: a NumPy int or a 0-d integer tensor, as PyTorch
    takes them; a bool, a float or anything else is refused."""
    try:
        return as_int(a, "reduction")
    except TypeError:
        raise TypeError(f"dim must be an int or a sequence of ints (NumPy integers and 0-d "
                        f"integer tensors count as ints), got {axis!r}") from None


def keep_flag(keepdims, keepdim) -> bool:
    """NumPy's ``keepdims`` or PyTorch's ``keepdim`` (which wins when given) as a bool."""
    return bool(keepdim) if keepdim is not None else bool(keepdims)


def torch_dim(dim, axis=None):
    """``(axis, dim)`` for ``normalize_axis``, with PyTorch's empty ``dim`` (``()`` or
    ``[]``) made None: all axes, as ``torch.sum(x, dim=())``, where NumPy's ``axis=()`` is
    no axis at all.

    Example::

        >>> gpugrad.ops.reduce.torch_dim((), None), gpugrad.ops.reduce.torch_dim([1], None)
        ((None, None), (None, [1]))
    """
    if dim is None or dim.__class__ is int:
        return axis, dim
    if dim.__class__ is tuple or dim.__class__ is list:
        if dim:
            return axis, dim
    elif isinstance(dim, numbers.Integral) or getattr(dim, "ndim", None) == 0 or \
            not hasattr(dim, "__len__") or len(dim):
        return axis, dim                # (one dim: a NumPy int, a 0-d tensor; or a sequence)
    if axis is not None:
        raise TypeError("pass axis or dim, not both")
    return None, None


def _kept_shape(shape: tuple, axis) -> tuple:
    """``shape`` with the reduced axes set to 1 (the keepdims shape)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def accumulating(x, dtype=None):
    """``x`` as ``dtype``, or as int64 if it is bool or integer, as PyTorch's sums and
    products of such tensors are (NumPy's depend on the platform)."""
    if dtype is not None:
        return x.astype(dtype)
    return x.astype("int64") if x.dtype.kind in "biu" else x


def expand_reduced(g, shape: tuple, axis, keepdims: bool):
    """Broadcast a reduced ``g`` back to the ``shape`` it was reduced from.

    Example (``g`` was summed over axis 1 of a (2, 3) tensor)::

        >>> g = gpugrad.tensor([1.0, 2.0])
        >>> gpugrad.ops.reduce.expand_reduced(g, (2, 3), axis=(1,), keepdims=False).tolist()
        [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    """
    if not keepdims:
        g = _shape.reshape_to(g, _kept_shape(shape, axis))
    return _shape.expand_to(g, shape)


def sum_to(g, shape: tuple):
    """Sum ``g`` down to ``shape``, undoing NumPy broadcasting (the vjp of broadcasting).

    Example::

        >>> gpugrad.ops.sum_to(gpugrad.ones(2, 3), (1, 3)).tolist()
        [[2.0, 2.0, 2.0]]
    """
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    out = apply(Sum, g, axis=axes, keepdims=False) if axes else g
    return _shape.reshape_to(out, shape)


class Sum(Op):
    """Sum over ``axis``. (...) -> reduced shape."""

    vmap = AXIS
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, axis, keepdims):
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(ctx, g):
        return expand_reduced(g, ctx.shapes[0], ctx.axis, ctx.keepdims)

    jvp = LINEAR


class Mean(Op):
    """Mean over ``axis``. (...) -> reduced shape."""

    vmap = AXIS
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, axis, keepdims):
        return x.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(ctx, g):
        shape = ctx.shapes[0]
        count = math.prod(shape) if ctx.axis is None else math.prod(shape[a] for a in ctx.axis)
        g = expand_reduced(g, shape, ctx.axis, ctx.keepdims)
        if g.dtype == "float16" and count > 2048:   # (float16 rounds the count, or makes it inf)
            return (g.astype("float32") / count).astype(g.dtype)
        return g / (count or 1)

    jvp = LINEAR


class LogSumExp(Op):
    """log(sum(exp(x))) over ``axis``, computed without overflow (complex x: shifted by the
    largest real part, as PyTorch's, so the imaginary part is the principal log's)."""

    save = "xs ans"
    vmap = AXIS
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, axis, keepdims):
        if x.size == 0:             # log(0) where a reduced axis is empty; else empty anyway
            out = xp.full(_kept_shape(x.shape, axis), -xp.inf, dtype=x.dtype)
            return out if keepdims else out.reshape(_reduced_shape(x.shape, axis))
        m = (x.real if x.dtype.kind == "c" else x).max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
        return out if keepdims else out.squeeze(axis=axis)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        softmax = (x - expand_reduced(ctx.ans, x.shape, ctx.axis, ctx.keepdims)).exp()
        return expand_reduced(g, x.shape, ctx.axis, ctx.keepdims) * softmax

    @staticmethod
    def jvp(ctx, t):
        x = ctx.xs[0]
        softmax = (x - expand_reduced(ctx.ans, x.shape, ctx.axis, ctx.keepdims)).exp()
        return apply(Sum, t * softmax, axis=ctx.axis, keepdims=ctx.keepdims)


def _reduced_shape(shape: tuple, axis) -> tuple:
    """``shape`` without the reduced axes (all when ``axis`` is None)."""
    return () if axis is None else tuple(n for i, n in enumerate(shape) if i not in axis)


def reduce_over(op, x, axis, keepdims, dim, keepdim):
    """``op`` (a reduction record) applied over ``axis`` (or ``dim``; all by default)."""
    if axis is not None or dim is not None:         # (over all axes: nothing to normalize)
        axis = normalize_axis(axis, x.ndim, dim=dim)
    return apply(op, x, axis=axis, keepdims=keep_flag(keepdims, keepdim))


def sum(input, dim=None, keepdim=None, *, axis=None, keepdims=False, dtype=None):
    """Sum of elements over ``dim`` (or ``axis``; all by default). Integer and bool tensors
    sum to int64, as PyTorch's; ``dtype``: ``input`` is cast to it first (the gradient comes
    back in ``input``'s dtype).

    Example::

        >>> x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> gpugrad.sum(x, axis=0).tolist(), x.sum().item(), x.sum(dtype="float64").dtype
        ([4.0, 6.0], 10.0, dtype('float64'))
    """
    if dtype is None and input.dtype.kind in "fc":     # (the common case: nothing to cast)
        if axis is None and dim is None:                # (all axes: nothing to normalize)
            return apply(Sum, input, axis=None,
                         keepdims=bool(keepdims) if keepdim is None else bool(keepdim))
        axis, dim = torch_dim(dim, axis)
        return reduce_over(Sum, input, axis, keepdims, dim, keepdim)
    axis, dim = torch_dim(dim, axis)
    out = reduce_over(Sum, accumulating(input, dtype), axis, keepdims, dim, keepdim)
    if dtype is not None and out.dtype != as_dtype(dtype):
        out = out.astype(dtype)       # (NumPy sums int32 to int64; PyTorch keeps the dtype given)
    return out


def mean(input, dim=None, keepdim=None, *, axis=None, keepdims=False, dtype=None):
    """Mean of elements over ``dim`` (or ``axis``; all by default). ``dtype``: ``input`` is
    cast to it first; without it integer tensors are refused, as PyTorch's.

    Example::

        >>> gpugrad.tensor([1.0, 2.0, 6.0]).mean().item()
        3.0
        >>> gpugrad.tensor([1, 2]).mean(dtype="float32").item()
        1.5
    """
    if dtype is not None:
        input = input.astype(dtype)
    if input.dtype.kind not in "fc":
        raise TypeError(f"mean of a {input.dtype} tensor: pass dtype=gpugrad.float32 or "
                        f"convert it first, e.g. x.astype('float32')")
    axis, dim = torch_dim(dim, axis)
    return reduce_over(Mean, input, axis, keepdims, dim, keepdim)


ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])


def var(x, dim=None, unbiased=None, keepdim=None, *, correction=None, ddof=None, axis=None,
        keepdims=False):
    """Variance over ``dim`` (or ``axis``; all by default):
    ``sum(|x - mean|**2) / (n - correction)`` (real for a complex ``x``, as PyTorch's).

    ``correction`` defaults to 1 (the unbiased estimate), as in PyTorch; NumPy's ``ddof``
    and PyTorch's older ``unbiased=True/False`` (also positional: ``x.var(1, False)``, and
    ``x.var(False)`` over all) are accepted too (one of the three). ``np.var(t)`` keeps
    NumPy's default of 0. float16 is accumulated in float32 and comes back as float16, as
    PyTorch's. Differentiable; composed of other ops.

    Example::

        >>> x = gpugrad.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
        >>> x.var().item(), x.var(correction=0).item()     # 10/4 and 10/5
        (2.5, 2.0)
    """
    if x.dtype.kind not in "fc":
        raise TypeError(f"var/std of a {x.dtype} tensor: convert it first, e.g. "
                        f"x.astype('float32')")
    if isinstance(dim, bool) and unbiased is None:     # PyTorch's var(input, unbiased)
        dim, unbiased = None, dim
    correction = _correction(correction, unbiased, ddof)
    axis, dim = torch_dim(dim, axis)
    axes = normalize_axis(axis, x.ndim, dim=dim)
    count = x.numel() if axes is None else math.prod(x.shape[a] for a in axes)
    if x.dtype == "float16":         # (its squares and their sum overflow at 65504)
        return var(x.astype("float32"), axis=axes, correction=correction,
                   keepdims=keep_flag(keepdims, keepdim)).astype(x.dtype)
    centered = x - mean(x, axis=axes, keepdims=True)
    if x.dtype.kind == "c":         # |x - mean|^2 = Re(c conj(c)): real, as PyTorch's
        squares = _parts.real(centered * _parts.conj_physical(centered))
    else:
        squares = centered * centered
    total = sum(squares, axis=axes, keepdims=keep_flag(keepdims, keepdim))
    dof = count - correction
    if dof > 0:
        return total * (1.0 / dof)
    warnings.warn(f"var/std: {count} values with correction {correction} leave no degrees "
                  f"of freedom; the result is inf (or NaN where all values are equal)",
                  RuntimeWarning, stacklevel=2)
    with np.errstate(invalid="ignore"):                     # 0 * inf: NaN, as PyTorch's 0/0
        return total * math.inf


def std(x, dim=None, unbiased=None, keepdim=None, *, correction=None, ddof=None, axis=None,
        keepdims=False):
    """Standard deviation over ``dim``: ``sqrt(var(...))`` with the same arguments
    (``correction`` defaults to 1, as in PyTorch). Where all values are equal its
    gradient is 0, as PyTorch's, not the NaN of sqrt's slope at 0.

    Example::

        >>> gpugrad.tensor([1.0, 3.0]).std(correction=0).item()
        1.0
    """
    from .elementwise import where      # elementwise imports this module
    if x.dtype == "float16":         # (sqrt in float32 too, as PyTorch's)
        return std(x.astype("float32"), dim, unbiased, keepdim, correction=correction,
                   ddof=ddof, axis=axis, keepdims=keepdims).astype(x.dtype)
    v = var(x, dim, unbiased, keepdim, correction=correction, ddof=ddof, axis=axis,
            keepdims=keepdims)
    spread = v != 0                     # sqrt only where its slope is finite
    return where(spread, where(spread, v, 1.0).sqrt(), 0.0)


def _correction(correction, unbiased, ddof) -> float:
    given = [name for name, value in (("correction", correction), ("unbiased", unbiased),
                                      ("ddof", ddof)) if value is not None]
    if len(given) > 1:
        raise TypeError(f"var/std: pass one of correction, unbiased and ddof, not "
                        f"{' and '.join(given)}")
    if unbiased is not None:
        return 1 if unbiased else 0
    value = correction if correction is not None else ddof
    if value is None:
        return 1
    if not isinstance(value, (int, float)):
        if getattr(value, "ndim", None) != 0 or value.dtype.kind not in "biuf":
            raise TypeError(f"var/std: correction must be a number (an int or a float, or a "
                            f"0-d tensor holding one), got {type(value).__name__}")
        value = value.item()        # (a NumPy number, a 0-d tensor: a Python number)
    return value


def logsumexp(x, dim=None, keepdim=None, *, axis=None, keepdims=False):
    """``log(sum(exp(x), dim))`` without overflow: finite for inputs of 1e4 and more;
    ``-inf`` over an empty ``dim``. Integer and bool tensors give the default float dtype,
    as PyTorch's.

    Example::

        >>> gpugrad.tensor([1e4, 1e4]).logsumexp().item()    # 1e4 + log(2), in float32
        10000.693359375
    """
    if x.dtype.kind in "biu":
        x = x.astype(get_default_dtype())
    axis, dim = torch_dim(dim, axis)
    return reduce_over(LogSumExp, x, axis, keepdims, dim, keepdim)

