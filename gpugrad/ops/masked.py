"""Selecting and writing by masks and index lists, as PyTorch spells it: ``masked_select``,
``masked_scatter``, ``index_fill``, ``index_put``, ``repeat_interleave``. Composites of the
indexing, set-item, scatter-add, where and broadcast records: their gradients, tangents and
batching rules are those records'.

Example::

    >>> x = gpugrad.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    >>> picked = gpugrad.masked_select(x, x > 0)
    >>> picked.tolist()
    [1.0, 4.0]
    >>> picked.sum().backward()
    >>> x.grad.tolist()
    [[1.0, 0.0], [0.0, 1.0]]
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend, creation
from ..autograd.batched import innermost_array
from ..autograd.capture_mode import refuse_host_sync
from ..tensor import Tensor
from . import cumulative, elementwise, indexing, shape, unary
from .indexing import ScatterAdd, normalize_index
from .inplace import in_place_method
from .record import apply
from .shape_errors import checked_dim
from .region_write import SetItem
from .selection import check_index_range, integer_index, masked_fill
from .shape_errors import DtypeError, ShapeError

__all__ = ["masked_select", "masked_scatter", "index_fill", "index_put", "repeat_interleave"]


def _bool_mask(mask, op: str) -> Tensor:
    if not isinstance(mask, Tensor) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise DtypeError(f"{op}: the mask must be a bool tensor, got {got} (compare first, "
                         f"e.g. {op}(x, x > 0, ...))")
    return mask


def _broadcast_pair(input, mask, op: str):
    """``input`` and ``mask`` broadcast to one shape (PyTorch's out-of-place mask ops)."""
    try:
        common = tuple(np.broadcast_shapes(tuple(input.shape), tuple(mask.shape)))
    except ValueError:
        raise ShapeError(f"{op}: the mask of shape {tuple(mask.shape)} does not broadcast "
                         f"with the input of shape {tuple(input.shape)}") from None
    return shape.expand_to(input, common), shape.expand_to(mask, common)


def masked_select(input, mask):
    """The elements of ``input`` where the bool tensor ``mask`` is true (the two broadcast
    together), in C order, as ``torch.masked_select``: a 1-d tensor (a copy).
    Differentiable in ``input``.

    Example::

        >>> x = gpugrad.tensor([[1, 2, 3], [4, 5, 6]])
        >>> gpugrad.masked_select(x, gpugrad.tensor([True, False, True])).tolist()
        [1, 3, 4, 6]
    """
    input, mask = _broadcast_pair(input, _bool_mask(mask, "masked_select"), "masked_select")
    if input.ndim == 0:
        input, mask = input.reshape(1), mask.reshape(1)
    return indexing.getitem(input, (mask,))


def masked_scatter(input, mask, source):
    """``input`` with the elements of ``source`` (read in C order) written where ``mask``
    is true (the mask and ``input`` broadcast together), as ``torch.masked_scatter``: the
    k-th true place takes ``source.flatten()[k]``. ``source`` needs ``input``'s dtype and
    at least as many elements as the mask has true places (under ``vmap``: as each
    example's mask has). That count is checked on CPU tensors only, and not in the replays
    of a compiled step: elsewhere (CuPy, replays) it would cost a device sync, so a source
    too short is not detected there; the places past its end take its last element (no
    read out of range). Differentiable in both.

    Example::

        >>> x = gpugrad.zeros(2, 3)
        >>> gpugrad.masked_scatter(x, gpugrad.tensor([True, False, True]),
        ...                        gpugrad.tensor([1.0, 2.0, 3.0, 4.0])).tolist()
        [[1.0, 0.0, 2.0], [3.0, 0.0, 4.0]]
    """
    mask = _bool_mask(mask, "masked_scatter")
    if not isinstance(source, Tensor) or source.dtype != input.dtype:
        got = source.dtype if isinstance(source, Tensor) else type(source).__name__
        raise DtypeError(f"masked_scatter: source must be a tensor of the input's dtype "
                         f"{input.dtype}, got {got}")
    input, mask = _broadcast_pair(input, mask, "masked_scatter")
    flat_mask = mask.reshape(-1)
    n = source.numel()
    array = innermost_array(flat_mask)             # (batch dimensions first, under vmap)
    if array.__class__ is np.ndarray and array.size:
        count = int(array.sum(axis=-1).max())       # the most true places of one example
        if count > n:
            raise ShapeError(f"masked_scatter: the mask has {count} true places but source "
                             f"has only {n} elements")
    if n == 0:                          # (nothing can be written: the mask must be all false)
        return unary.clone(input)
    # place i takes source[(number of true places up to i) - 1]: no host read of the count;
    # clipped to [0, n - 1], so that an unchecked short source reads nothing out of range
    # (CuPy wraps an index out of range around without an error)
    position = cumulative.cumsum(flat_mask.astype("int64"), 0) - 1
    position = unary.clamp(position, 0, n - 1)
    taken = indexing.getitem(source.reshape(-1), (position,)).reshape(tuple(input.shape))
    return elementwise.where(mask, taken, input)


def index_fill(input, dim: int, index, value):
    """``input`` with every slice at positions ``index`` (a 1-d or 0-d integer tensor;
    negative counts from the end) along ``dim`` set to ``value`` (a number or a 0-d
    tensor), as ``torch.index_fill``; the dtype stays ``input``'s. Differentiable in
    ``input`` (zero where filled) and in a tensor ``value``.

    Example::

        >>> x = gpugrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> gpugrad.index_fill(x, 1, gpugrad.tensor([0, 2]), -1.0).tolist()
        [[-1.0, 2.0, -1.0], [-1.0, 5.0, -1.0]]
    """
    axis = checked_dim(input, dim, "index_fill")
    index = integer_index(index, "index_fill")
    if index.ndim > 1:
        raise ShapeError(f"index_fill: the index must be 1-d or 0-d, got shape "
                         f"{tuple(index.shape)}")
    if isinstance(value, Tensor) and value.ndim:
        raise ShapeError(f"index_fill: value must be a number or a 0-d tensor, got shape "
                         f"{tuple(value.shape)}")
    n = input.shape[axis] if input.ndim else 1
    check_index_range(index, n, "index_fill", "negative ones count from the end", low=-n)
    filled = creation.zeros(n, dtype="bool", device=input.device)
    filled[index.reshape(-1)] = True
    filled = filled.reshape((n,) + (1,) * (input.ndim - axis - 1)) if input.ndim else \
        filled.reshape(())
    if not isinstance(value, Tensor) and input.dtype.kind in "iub" and \
            isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        value = int(value)                  # (PyTorch's: truncated into an integer tensor)
    return masked_fill(input, filled, value)


def _indexed_shape(input, parts) -> tuple:
    """The shape of ``input[parts]``, without reading ``input``."""
    array = innermost_array(input)
    xp = backend.xp_of(array)
    return tuple(xp.broadcast_to(xp.zeros((), dtype=np.int8), tuple(input.shape))[parts].shape)


def index_put(input, indices, values, accumulate: bool = False):
    """A copy of ``input`` with ``input[indices] = values`` (``indices``: a tuple of integer
    or bool tensors, one per leading dimension, as in ``x[i, j]``; ``values`` broadcast to
    the indexed shape), as ``torch.index_put``. With ``accumulate=True`` the values are
    added instead, and repeated places add up (otherwise one of them wins). Differentiable
    in ``input`` and ``values``.

    Example::

        >>> x = gpugrad.zeros(3)
        >>> i = gpugrad.tensor([0, 0, 2])
        >>> v = gpugrad.tensor([1.0, 2.0, 3.0])
        >>> gpugrad.index_put(x, (i,), v, accumulate=True).tolist()
        [3.0, 0.0, 3.0]
    """
    if isinstance(indices, Tensor):
        indices = (indices,)
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put: indices must be a tuple of tensors, got "
                        f"{type(indices).__name__}")
    if not isinstance(values, Tensor):
        values = creation.full((), values, dtype=input.dtype, device=input.device)
    elif values.dtype != input.dtype:
        raise DtypeError(f"index_put: values must have the input's dtype {input.dtype}, got "
                         f"{values.dtype} (cast with values.to(x.dtype))")
    parts, scatter_free = normalize_index(input, tuple(
        _integer_or_mask(i) if isinstance(i, Tensor) else i for i in indices))
    target = _indexed_shape(input, parts)
    try:
        np.broadcast_shapes(tuple(values.shape), target)
    except ValueError:
        raise ShapeError(f"index_put: values of shape {tuple(values.shape)} cannot be "
                         f"broadcast to the indexed shape {target}") from None
    if not accumulate:
        return apply(SetItem, input, values, index=parts, scatter_free=scatter_free)
    added = apply(ScatterAdd, shape.expand_to(values, target), shape=tuple(input.shape),
                  index=parts, scatter_free=False)
    return input + added


def _integer_or_mask(index: Tensor) -> Tensor:
    if index.dtype.kind not in "biu":
        raise DtypeError(f"index_put: indices must be integer or bool tensors, got "
                         f"{index.dtype}")
    return index


def _repeat_counts(repeats, n: int, op: str):
    """``repeats`` (an int, or a 0-d, 1-element or ``n``-element integer tensor) as an
    ``n``-element integer array on the host or the device."""
    if isinstance(repeats, Tensor):
        if repeats.dtype.kind not in "iu":
            raise DtypeError(f"{op}: repeats must be an int or an integer tensor, got "
                             f"{repeats.dtype}")
        if repeats.ndim > 1 or repeats.numel() not in (1, n):
            raise ShapeError(f"{op}: repeats must have one count, or one per element along "
                             f"the dimension ({n}), got shape {tuple(repeats.shape)}")
        # the result's size and the positions it reads come from the counts, read on the
        # host: a compiled step or a captured graph would replay the first call's counts
        refuse_host_sync(f"{op} with a tensor of repeats (its size depends on them)")
        counts = innermost_array(repeats).reshape(-1)
        xp = backend.xp_of(counts)
        if counts.size and int(counts.min()) < 0:
            raise ShapeError(f"{op}: repeats must be non-negative, got {counts.tolist()}")
        return xp.broadcast_to(counts, (n,)) if counts.size == 1 else counts
    if isinstance(repeats, bool) or not isinstance(repeats, numbers.Integral):
        raise TypeError(f"{op}: repeats must be an int or an integer tensor, got "
                        f"{type(repeats).__name__}")
    if repeats < 0:
        raise ShapeError(f"{op}: repeats must be non-negative, got {repeats}")
    return int(repeats)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) of ``input`` repeated ``repeats`` times in
    place, as ``torch.repeat_interleave``: ``repeats`` is an int or an integer tensor with
    one count per element along ``dim``; ``dim=None`` works on the flattened input.
    ``repeat_interleave(counts)`` alone gives ``arange(len(counts))`` repeated by
    ``counts``. Differentiable in ``input`` (the copies' gradients add up).

    Shapes: (..., n, ...) -> (..., sum of repeats, ...).

    Example::

        >>> x = gpugrad.tensor([[1, 2], [3, 4]])
        >>> x.repeat_interleave(2).tolist()
        [1, 1, 2, 2, 3, 3, 4, 4]
        >>> x.repeat_interleave(gpugrad.tensor([1, 2]), dim=0).tolist()
        [[1, 2], [3, 4], [3, 4]]
    """
    if repeats is None:                                 # repeat_interleave(counts)
        counts = integer_index(input, "repeat_interleave")
        if counts.ndim != 1:
            raise ShapeError(f"repeat_interleave: the counts must be 1-d, got shape "
                             f"{tuple(counts.shape)}")
        positions = creation.arange(counts.shape[0], device=counts.device)
        return repeat_interleave(positions, counts, 0, output_size=output_size)
    if dim is None or input.ndim == 0:
        input, dim = shape.reshape(input, -1), 0
    axis = checked_dim(input, dim, "repeat_interleave")
    n = input.shape[axis]
    counts = _repeat_counts(repeats, n, "repeat_interleave")
    if isinstance(counts, int):
        total = n * counts
    else:
        xp = backend.xp_of(counts)
        ends = xp.cumsum(counts)
        known = output_size is not None and counts.__class__ is not np.ndarray
        total = output_size if known else (int(ends[-1]) if n else 0)
    if output_size is not None and output_size != total:
        raise ShapeError(f"repeat_interleave: output_size {output_size} differs from the "
                         f"repeated size {total}")
    if isinstance(counts, int):                         # a broadcast: the gradient is a sum
        sizes = tuple(input.shape)
        spread = shape.broadcast_to(shape.unsqueeze(input, axis + 1),
                                    sizes[:axis + 1] + (counts,) + sizes[axis + 1:])
        return unary.clone(spread).reshape(sizes[:axis] + (total,) + sizes[axis + 1:])
    which = xp.searchsorted(ends, xp.arange(total), side="right")
    return indexing.getitem(input, (slice(None),) * axis + (which,))


METHODS: dict = {
    "masked_select": masked_select, "masked_scatter": masked_scatter,
    "index_fill": index_fill, "index_put": index_put,
    "repeat_interleave": repeat_interleave,
    "masked_scatter_": in_place_method(masked_scatter), "index_fill_": in_place_method(index_fill),
    "index_put_": in_place_method(index_put),
}
