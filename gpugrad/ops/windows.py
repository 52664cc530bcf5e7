"""Sliding windows and differences along a dimension, as PyTorch's ``t.unfold(dimension,
size, step)`` and ``torch.diff``: composites of index_select, slicing and subtraction, so
differentiable to any order (``unfold``'s gradient adds up where windows overlap).
PyTorch's ``unfold`` returns a view; this one returns a copy (writes into it do not reach
the input).

Example::

    >>> x = gpugrad.arange(5.0)
    >>> x.unfold(0, 2, 1).tolist()
    [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0]]
    >>> gpugrad.diff(gpugrad.tensor([1, 3, 6, 10])).tolist()
    [2, 3, 4]
"""

from __future__ import annotations

from .. import creation
from ..scalar_casts import as_int
from ..tensor import Tensor
from . import compare
from .selection import index_select
from .shape import cat, movedim
from .shape_errors import ShapeError, checked_dim

__all__ = ["unfold", "diff"]


def unfold(input, dimension: int, size: int, step: int):
    """Every window of ``size`` elements along ``dimension``, ``step`` apart, as PyTorch's
    ``t.unfold(dimension, size, step)``: that dimension becomes the number of windows,
    ``(n - size) // step + 1``, and a new last dimension of ``size`` holds each window.

    Shapes: (..., n, ...) -> (..., (n - size) // step + 1, ..., size).

    Example::

        >>> gpugrad.arange(6.0).reshape(2, 3).unfold(1, 2, 1).shape
        (2, 2, 2)
    """
    size, step = as_int(size, "unfold", "size"), as_int(step, "unfold", "step")
    if size < 0:
        raise ValueError(f"unfold: size must be a non-negative int, got {size!r}")
    if step <= 0:
        raise ValueError(f"unfold: step must be a positive int, got {step!r}")
    if input.ndim == 0:             # PyTorch's: a 0-d tensor has one window of size <= 1
        checked_dim(input.reshape(1), dimension, "unfold")
        if size > 1:
            raise ShapeError(f"unfold: maximum size for a 0-d tensor is 1 but size is {size}")
        return input.reshape(1)[:size]
    x = input
    dim = checked_dim(x, dimension, "unfold")
    length = x.shape[dim]
    if size > length:
        raise ShapeError(f"unfold: maximum size for tensor at dimension {dim} is {length} but "
                         f"size is {size} (shape {tuple(input.shape)})")
    count = (length - size) // step + 1
    starts = creation.arange(count, device=x.device).reshape(-1, 1) * step
    index = (starts + creation.arange(size, device=x.device).reshape(1, -1)).reshape(-1)
    picked = index_select(x, dim, index)
    shape = tuple(x.shape[:dim]) + (count, size) + tuple(x.shape[dim + 1:])
    return movedim(picked.reshape(shape), dim + 1, -1)


def _slice(x, dim, start, stop):
    index = [slice(None)] * x.ndim
    index[dim] = slice(start, stop)
    return x[tuple(index)]


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``, as ``torch.diff``: out[i] = x[i + 1] -
    x[i], repeated ``n`` times, after ``prepend`` and ``append`` (tensors of ``input``'s
    dimensions) are joined on; bool tensors give x[i + 1] != x[i].

    Shapes: (..., m, ...) -> (..., max(m - n, 0), ...) (m counting prepend and append).

    Example::

        >>> gpugrad.diff(gpugrad.tensor([1.0, 2.0]), prepend=gpugrad.tensor([0.0])).tolist()
        [1.0, 1.0]
    """
    if input.ndim == 0:
        raise ValueError("diff expects input to be at least one-dimensional")
    n = as_int(n, "diff", "n")
    if n < 0:
        raise ValueError(f"diff: order must be a non-negative int, got {n!r}")
    dim = checked_dim(input, dim, "diff")
    parts = [p for p in (prepend, input, append) if p is not None]
    for p in parts:
        if not isinstance(p, Tensor) or p.ndim != input.ndim:
            raise ValueError(f"diff: prepend and append must be tensors with the input's "
                             f"{input.ndim} dimensions, got "
                             f"{getattr(p, 'shape', type(p).__name__)}")
    x = cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        if x.shape[dim] == 0:
            break
        later, earlier = _slice(x, dim, 1, None), _slice(x, dim, None, -1)
        x = compare.not_equal(later, earlier) if x.dtype.kind == "b" else later - earlier
    return x


METHODS = {"unfold": unfold, "diff": diff}
