"""Writing into positions and reading from them, as PyTorch spells it: ``scatter``
(``reduce=`` "add"/"multiply" too: scatter_reduce.py's), ``scatter_add``, ``index_add``,
``index_copy``, ``take``, ``take_along_dim``: composites of the indexing and set-item
records (their gradients, tangents and batching rules are those records').

Example::

    >>> x = gpugrad.zeros(3, requires_grad=True)
    >>> src = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = gpugrad.scatter_add(x, 0, gpugrad.tensor([0, 2, 0]), src)
    >>> y.tolist()
    [4.0, 0.0, 2.0]
    >>> (y * gpugrad.tensor([1.0, 10.0, 100.0])).sum().backward()
    >>> src.grad.tolist()                       # each source element: its target's weight
    [1.0, 100.0, 1.0]
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import creation
from ..tensor import Tensor
from . import indexing, shape
from .indexing import ScatterAdd, normalize_index
from .inplace import in_place_method
from .region_write import SetItem
from .record import apply
from .shape_errors import checked_dim
from .scatter_reduce import (check_same_dtype, checked_scatter, index_grid, src_part,
                             scatter_reduce)
from .selection import check_index_range, gather, integer_index

__all__ = ["scatter", "scatter_add", "index_add", "index_copy", "take", "take_along_dim"]

_LEGACY_REDUCES = {"add": "sum", "multiply": "prod"}


def scatter(input, dim: int, index, src=None, *, value=None, reduce=None):
    """A copy of ``input`` with ``src[i][j]`` written at ``out[index[i][j]][j]`` (``dim=0``;
    and so on for the other dims), as ``torch.scatter``; ``src`` may be a number (or pass
    ``value=``). Where ``index`` repeats a place, which write wins is unspecified, as in
    PyTorch. Differentiable in ``input`` (zero where written) and in a tensor ``src``
    (``gather`` of the gradient). ``reduce="add"`` or ``"multiply"`` (PyTorch's older
    spelling) reduces instead of writing: ``scatter_reduce`` with "sum" or "prod" (and its
    gradients, which PyTorch's ``scatter(..., reduce=)`` does not have).

    Example::

        >>> x = gpugrad.zeros(2, 3)
        >>> gpugrad.scatter(x, 1, gpugrad.tensor([[2], [0]]), 5.0).tolist()
        [[0.0, 0.0, 5.0], [5.0, 0.0, 0.0]]
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter needs src (a tensor) or value (a number)")
    if reduce is not None:
        return _scatter_reduced(input, dim, index, src, reduce)
    tensor_src = isinstance(src, Tensor)
    axis, index = checked_scatter("scatter", input, dim, index, src if tensor_src else None)
    if tensor_src:
        check_same_dtype("scatter", input, src)
    if input.ndim == 0:                         # as a 1-element vector (0-d index, src too)
        return scatter(input.reshape(1), 0, index.reshape(-1),
                       src.reshape(-1) if tensor_src else src).reshape(())
    if tensor_src:
        v = src_part(src, index)
    else:
        v = creation.full((), src, dtype=input.dtype, device=input.device)
    parts, scatter_free = normalize_index(input, index_grid(index, axis, input.device))
    return apply(SetItem, input, v, index=parts, scatter_free=scatter_free)


def _scatter_reduced(input, dim, index, src, reduce):
    """``scatter(..., reduce=)``: "add" and "multiply" as scatter_reduce's "sum", "prod"."""
    if reduce not in _LEGACY_REDUCES:
        raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}; for "
                         f"'mean', 'amax' or 'amin' use scatter_reduce")
    index = integer_index(index, "scatter")
    if not isinstance(src, Tensor):
        src = creation.full(tuple(index.shape), src, dtype=input.dtype, device=input.device)
    return scatter_reduce(input, dim, index, src, _LEGACY_REDUCES[reduce])


def scatter_add(input, dim: int, index, src):
    """``input`` plus ``src[i][j]`` added at ``out[index[i][j]][j]`` (``dim=0``; and so on),
    as ``torch.scatter_add``: repeated places add up. Differentiable in both.

    Example::

        >>> gpugrad.scatter_add(gpugrad.zeros(3), 0, gpugrad.tensor([1, 1]),
        ...                     gpugrad.tensor([1.0, 2.0])).tolist()
        [0.0, 3.0, 0.0]
    """
    axis, index = checked_scatter("scatter_add", input, dim, index, src)
    check_same_dtype("scatter_add", input, src)
    if input.ndim == 0:
        return scatter_add(input.reshape(1), 0, index.reshape(-1),
                           src.reshape(-1)).reshape(())
    parts, _ = normalize_index(input, index_grid(index, axis, input.device))
    added = apply(ScatterAdd, src_part(src, index), shape=tuple(input.shape), index=parts,
                  scatter_free=False)
    return input + added


def _along(op: str, input, dim, index, source):
    """``(index parts, source)`` for the index_* ops: ``index`` 1-d along ``dim``."""
    axis = checked_dim(input, dim, op)
    index = integer_index(index, op)
    if index.ndim > 1:
        raise ValueError(f"{op}: the index must be 1-d (or 0-d), got shape "
                         f"{tuple(index.shape)}")
    index = index.reshape(-1)
    check_same_dtype(op, input, source)
    expected = list(input.shape)
    if expected:
        expected[axis] = index.shape[0]
    if tuple(source.shape) != tuple(expected) and source.numel() != index.shape[0]:
        raise ValueError(f"{op}: source of shape {tuple(source.shape)} must have the input's "
                         f"shape {tuple(input.shape)} with dimension {dim} of the index's "
                         f"length, {tuple(expected)}")
    check_index_range(index, input.shape[axis] if input.ndim else 1, op,
                      f"dimension {dim}'s size")
    source = shape.reshape(source, tuple(expected)) if expected else source.reshape(-1)
    parts, scatter_free = normalize_index(input, (slice(None),) * axis + (index,))
    return parts, scatter_free, source


def index_add(input, dim: int, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at positions ``index`` (1-d) along ``dim``,
    as ``torch.index_add``: repeated positions add up. Differentiable in both.

    Shapes: input (..., n, ...), index (k,), source (..., k, ...) -> input's.

    Example::

        >>> gpugrad.index_add(gpugrad.zeros(3), 0, gpugrad.tensor([0, 0, 2]),
        ...                   gpugrad.tensor([1.0, 2.0, 3.0]), alpha=2).tolist()
        [6.0, 0.0, 6.0]
    """
    if input.ndim == 0:
        return index_add(input.reshape(1), 0, index, source.reshape(-1),
                         alpha=alpha).reshape(())
    parts, _, source = _along("index_add", input, dim, index, source)
    if not (isinstance(alpha, numbers.Number) and alpha == 1):
        source = source * alpha
    added = apply(ScatterAdd, source, shape=tuple(input.shape), index=parts,
                  scatter_free=False)
    return input + added


def index_copy(input, dim: int, index, source):
    """A copy of ``input`` with the slices of ``source`` written at positions ``index``
    (1-d) along ``dim``, as ``torch.index_copy``. Differentiable in both.

    Example::

        >>> gpugrad.index_copy(gpugrad.zeros(2, 3), 1, gpugrad.tensor([2, 0]),
        ...                    gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [[2.0, 0.0, 1.0], [4.0, 0.0, 3.0]]
    """
    if input.ndim == 0:
        return index_copy(input.reshape(1), 0, index, source.reshape(-1)).reshape(())
    parts, scatter_free, source = _along("index_copy", input, dim, index, source)
    return apply(SetItem, input, source, index=parts, scatter_free=scatter_free)


def take(input, index):
    """The elements of the flattened ``input`` at ``index`` (negative counts from the end),
    as ``torch.take``: the result has the index's shape.

    Example::

        >>> gpugrad.take(gpugrad.tensor([[1, 2], [3, 4]]), gpugrad.tensor([[0, 3]])).tolist()
        [[1, 4]]
    """
    index = integer_index(index, "take")
    n = input.numel()
    check_index_range(index, n, "take", "negative ones count from the end", low=-n)
    flat = shape.reshape(input, -1)
    return indexing.getitem(flat, (index,)) if index.ndim else \
        indexing.getitem(flat, (index.reshape(1),)).reshape(())


def take_along_dim(input, indices, dim=None):
    """``input``'s values at ``indices`` along ``dim``, as ``torch.take_along_dim``: the two
    broadcast in the other dimensions (then ``gather``); with ``dim=None``, over the
    flattened input (a 1-d result).

    Example::

        >>> x = gpugrad.tensor([[10, 30, 20], [60, 40, 50]])
        >>> gpugrad.take_along_dim(x, x.argsort(dim=1), dim=1).tolist()
        [[10, 20, 30], [40, 50, 60]]
    """
    indices = integer_index(indices, "take_along_dim")
    if dim is None:
        return gather(shape.reshape(input, -1), 0, indices.reshape(-1))
    axis = checked_dim(input, dim, "take_along_dim")
    if indices.ndim != input.ndim:
        raise ValueError(f"take_along_dim: input {tuple(input.shape)} and indices "
                         f"{tuple(indices.shape)} must have the same number of dimensions")
    size_in = list(input.shape)
    size_ix = list(indices.shape)
    size_in[axis] = size_ix[axis] = 1
    try:
        common = np.broadcast_shapes(tuple(size_in), tuple(size_ix))
    except ValueError:
        raise ValueError(f"take_along_dim: input {tuple(input.shape)} and indices "
                         f"{tuple(indices.shape)} do not broadcast outside dimension "
                         f"{dim}") from None
    target_in = list(common)
    target_in[axis] = input.shape[axis]
    target_ix = list(common)
    target_ix[axis] = indices.shape[axis]
    return gather(shape.broadcast_to(input, tuple(target_in)), axis,
                  shape.broadcast_to(indices, tuple(target_ix)))


METHODS: dict = {
    "scatter": scatter, "scatter_add": scatter_add, "index_add": index_add,
    "index_copy": index_copy, "take": take, "take_along_dim": take_along_dim,
}
METHODS.update({name + "_": in_place_method(fn) for name, fn in (
    ("scatter", scatter), ("scatter_add", scatter_add), ("index_add", index_add),
    ("index_copy", index_copy))})
