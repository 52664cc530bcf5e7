"""Views whose base changed in place: where a view's elements sit in its base, and the view's
graph made again from the base's (PyTorch's view replay and its ``AsStrided`` fallback).

A view (from indexing, reshape, transpose...) shares its base's memory. When an in-place op
writes through a view, the base takes a new node, ``base[region] = new values``
(``SetItem``, PyTorch's ``CopySlices``), and the view's node is made again as
``base[region]`` (``GetItem``) on top of it. A view taken before its base changed in place is
made again the same way when it is next used by a recorded op; so is a view taken of a
tensor that did not require grad, once that tensor takes a graph in place (``a.add_(w)``).
A view that does not require grad and was taken after its base had a graph (under
``no_grad()``) stays a constant. (PyTorch refuses to use a view taken under ``no_grad()``
before its base took a graph in place, as ambiguous; here it is made again.)

The region is read from the memory layout alone, so every view op is covered without
recording how the view was made: each element's offset from the base's first element is
split into the base's indices, largest stride first (exact when the base's dimensions nest,
as every array made by slicing and transposing a C or Fortran-ordered one does).

Example::

    >>> x = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = x * 1
    >>> v = y[1:]
    >>> y.mul_(2)                  # v's graph is made again from y's when v is used
    tensor([2., 4., 6.], device='cpu', dtype=float32, grad_fn=<MulScalarBackward>)
    >>> (v * v).sum().backward()
    >>> x.grad                     # d/dx of (2 x1)^2 + (2 x2)^2
    tensor([ 0., 16., 24.], device='cpu', dtype=float32)
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import dual_levels
from ..autograd.graph import stale_view_error
from ..autograd.mode import _state
from ..tensor import Tensor
from . import record as _record_module
from .indexing import GetItem
from .record import record

__all__ = ["region", "region_of", "regenerate", "note_graph_gained", "refresh_grown"]


def _address(array) -> int:
    """Where ``array``'s element ``[0, 0, ...]`` is in memory."""
    if isinstance(array, np.ndarray):
        return array.__array_interface__["data"][0]
    return array.data.ptr


def _nested_dims(base) -> list | None:
    """``(stride, length, dim, reversed)`` in elements for each dimension of ``base`` longer
    than 1, largest stride first; None when they do not nest (each stride must exceed the
    span of all smaller ones, so that an offset splits into indices one way only)."""
    item = base.itemsize
    dims = []
    for k, (n, s) in enumerate(zip(base.shape, base.strides)):
        if n > 1:
            if s == 0 or s % item:
                return None
            dims.append((abs(s) // item, n, k, s < 0))
    dims.sort(reverse=True)
    span = 0
    for stride, n, _, _ in reversed(dims):
        if stride <= span:
            return None
        span += stride * (n - 1)
    return dims


def region(view, base) -> tuple | None:
    """Index parts that pick ``view``'s elements out of ``base`` (raw arrays, ``view`` inside
    ``base``'s memory): ``base[parts]`` has ``view``'s shape and values. Integer arrays of
    ``view``'s shape, one per dimension of ``base``; None if the layout cannot be read."""
    xp = backend.xp_of(base)
    if view.dtype != base.dtype:
        return None
    if base.ndim == 0:
        return (Ellipsis,) if view.ndim == 0 else (None,) * view.ndim
    dims = _nested_dims(base)
    item = base.itemsize
    offset, rest = divmod(_address(view) - _address(base), item)
    if dims is None or rest or any(s % item for s in view.strides):
        return None
    # the base's reversed dimensions are counted from their far end: offsets are then >= 0
    start = offset + sum(stride * (n - 1) for stride, n, _, back in dims if back)
    low = start + sum(min(0, (n - 1) * s // item) for n, s in zip(view.shape, view.strides))
    high = start + sum(max(0, (n - 1) * s // item) for n, s in zip(view.shape, view.strides))
    if view.size and (low < 0 or high > sum(stride * (n - 1) for stride, n, _, _ in dims)):
        return None                     # not inside the base (its memory was replaced)
    at = xp.full(view.shape, start, dtype=np.intp)
    for d, (n, s) in enumerate(zip(view.shape, view.strides)):
        if n > 1:
            steps = xp.arange(n, dtype=np.intp) * (s // item)
            at = at + steps.reshape((n,) + (1,) * (view.ndim - d - 1))
    parts = [None] * base.ndim
    for stride, n, k, back in dims:
        index, at = xp.divmod(at, stride)
        parts[k] = (n - 1) - index if back else index
    zero = xp.zeros(view.shape, dtype=np.intp)
    return tuple(zero if p is None else p for p in parts)


def region_of(op_name: str, t) -> tuple:
    """``region(t, base)`` for view ``t`` of its base; the stale-view error if unreadable."""
    parts = region(t._array, t._base._array)
    if parts is None:
        raise stale_view_error(op_name, t)
    return parts


def regenerate(op_name: str, t, parts: tuple | None = None) -> None:
    """Make view ``t``'s node and tangents again from its base's current ones, as
    ``base[region]`` (``parts``, when the caller has them), the base having been modified in
    place since ``t``'s were made. Raises the stale-view error when that cannot be done."""
    base = t._base
    if t._requires_grad and not base._requires_grad:  # (the base was cut: detach_())
        raise stale_view_error(op_name, t)
    parts = region_of(op_name, t) if parts is None else parts
    distinct = _nested_dims(t._array) is not None   # (expand repeats elements: add them up)
    made = record(GetItem, (base,), Tensor._wrap(t._array),
                  {"index": parts, "scatter_free": distinct}, (base._array,))
    if dual_levels._state.levels:
        t._tangents = made._tangents
    if made.grad_fn is not None:
        t.grad_fn, t.output_nr, t._requires_grad = made.grad_fn, 0, True
    elif base._requires_grad:
        return                          # grad mode is off: only the tangents were made again
    t._view_epoch = t._version_counter.rebased


def note_graph_gained(t) -> None:
    """Note that ``t`` (no view), which did not require grad, has just taken a graph from an
    in-place op: the views taken of it before are made again when next used (``refresh_grown``).
    The counter keeps the ``rebased`` count this happened at; ``record.apply`` checks for such
    views only once this has happened at all."""
    t._version_counter.grew_at = t._version_counter.rebased
    _record_module.note_stale_views()


def refresh_grown(op_name: str, t) -> None:
    """Make view ``t`` (which does not require grad) again from its base's graph if it was
    taken before the base took a graph in place (see ``note_graph_gained``), so that
    ``op_name`` records it as PyTorch does rather than as a constant. Grad mode only."""
    if _state.grad_enabled and t._base._requires_grad and not t._batched and \
            t._view_epoch < getattr(t._version_counter, "grew_at", -1):
        regenerate(op_name, t)
