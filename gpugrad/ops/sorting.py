"""Sorting along a dimension, as PyTorch has it: ``sort`` and ``topk`` give ``(values,
indices)`` pairs, ``argsort`` the indices. The indices come from a stable NumPy/CuPy
argsort (ties keep their order; NaN sorts as the largest value, as in PyTorch) and are not
differentiable; the values are a ``gather`` of them, so gradients flow back to the elements
they came from.

Example::

    >>> x = gpugrad.tensor([3.0, 1.0, 2.0], requires_grad=True)
    >>> values, indices = x.sort(descending=True)
    >>> values.tolist(), indices.tolist()
    ([3.0, 2.0, 1.0], [0, 2, 1])
    >>> (values * gpugrad.tensor([1.0, 10.0, 100.0])).sum().backward()
    >>> x.grad.tolist()
    [1.0, 100.0, 10.0]
"""

from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd.compile_mode import kernel, note_reads
from ..tensor import Tensor
from . import batching as _batching
from .complex_node import refuse_complex
from .shape_errors import as_int, checked_dim
from .selection import gather_checked
from .unary import clone

__all__ = ["sort", "argsort", "topk"]

SortResult = namedtuple("SortResult", ["values", "indices"])      # (torch.return_types)


def _order(x, axis: int, descending: bool):
    """The int64 indices (raw) that sort the raw array ``x`` along ``axis``, ties in their
    input order either way."""
    xp = backend.xp_of(x)
    kind = "stable" if xp is np else None       # (CuPy's sorts are stable, and take None)
    if not descending:
        return xp.argsort(x, axis=axis, kind=kind).astype(xp.int64)
    # stable descending: sort the reversed axis stably, then read that order backwards
    flipped = xp.argsort(xp.flip(x, axis=axis), axis=axis, kind=kind)
    return xp.flip(x.shape[axis] - 1 - flipped, axis=axis).astype(xp.int64)


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices that sort ``input`` along ``dim``, as ``torch.argsort`` (always stable).

    Example::

        >>> gpugrad.tensor([[3, 1, 2]]).argsort(dim=1).tolist()
        [[1, 2, 0]]
    """
    refuse_complex("argsort", input)
    axis = checked_dim(input, dim, "argsort")
    if input._batched:
        return _batching.raw_over_axis(
            lambda v, a: Tensor._wrap(kernel(_order, v._array, a, descending))
            if isinstance(v, Tensor) else _order(v, a, descending), input, axis)
    note_reads(input)
    if input.ndim == 0:
        return Tensor._wrap(backend.xp_of(input._array).zeros((), "int64"))
    return Tensor._wrap(kernel(_order, input._array, axis, descending))


def sort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """``(values, indices)``: ``input`` sorted along ``dim`` and where each value came from,
    as ``torch.sort`` (always stable). Differentiable in the values.

    Shapes: (...) -> two tensors of the same shape.

    Example::

        >>> gpugrad.tensor([2, 3, 1]).sort().values.tolist()
        [1, 2, 3]
    """
    refuse_complex("sort", input)
    indices = argsort(input, dim, descending)
    if input.ndim == 0:
        return SortResult(clone(input), indices)
    return SortResult(gather_checked(input, dim % input.ndim, indices), indices)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """``(values, indices)`` of the ``k`` largest (or, with ``largest=False``, smallest)
    elements along ``dim``, in order, as ``torch.topk``. Differentiable in the values.

    Shapes: (..., n, ...) -> two tensors with ``dim`` of size ``k``.

    Example::

        >>> scores = gpugrad.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
        >>> scores.topk(2).indices.tolist()
        [[1, 2], [0, 1]]
    """
    refuse_complex("topk", input)
    axis = checked_dim(input, dim, "topk")
    n = input.shape[axis] if input.ndim else 1
    if k.__class__ is not int and getattr(k, "ndim", None) == 0:  # (np.int64(2), tensor(2))
        try:
            k = as_int(k, "topk", "k")
        except TypeError:
            pass                            # (refused below)
    if not isinstance(k, numbers.Integral) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be an int from 0 to the size of dimension {dim} "
                         f"({n}), got {k!r}")
    indices = argsort(input, dim, descending=largest)
    if input.ndim == 0:
        return SortResult(clone(input), indices)
    indices = indices[(slice(None),) * axis + (slice(0, k),)]
    return SortResult(gather_checked(input, axis, indices), indices)
