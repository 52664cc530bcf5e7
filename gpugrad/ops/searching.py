"""Searching and index arithmetic, as PyTorch spells it: ``isin``, ``searchsorted``,
``bucketize``, ``unravel_index``, ``tril_indices``, ``triu_indices`` and ``histc``. Not
differentiable (integer or bool results; ``histc`` counts), as PyTorch's. Their results'
shapes do not depend on the values, so they run in compiled steps; inside vmap they are
refused (loop over the examples instead).

Example::

    >>> from gpugrad.ops.searching import bucketize, isin
    >>> bucketize(gpugrad.tensor([0.5, 2.0, 7.0]), gpugrad.tensor([1.0, 2.0, 5.0])).tolist()
    [0, 1, 3]
    >>> isin(gpugrad.tensor([1, 2, 3]), gpugrad.tensor([2, 9])).tolist()
    [False, True, False]
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd.capture_mode import refuse_host_sync
from ..autograd.compile_mode import kernel, note_reads
from ..creation import tensor as _new_tensor
from ..scalar_casts import as_int
from ..tensor import Tensor
from .complex_node import refuse_complex

__all__ = ["isin", "searchsorted", "bucketize", "unravel_index", "tril_indices",
           "triu_indices", "histc"]


def _arrays(op: str, *values):
    """The arrays of ``values`` (tensors, or numbers kept as they are), refused in vmap."""
    out = []
    for v in values:
        if isinstance(v, Tensor):
            if v._batched:
                raise RuntimeError(f"{op} is not supported inside vmap; call it on each "
                                   f"example (or on the whole batch outside vmap)")
            note_reads(v)
            out.append(v._array)
        else:
            out.append(v)
    return out


def _isin_raw(elements, test, assume_unique, invert):
    xp = backend.xp_of(elements if hasattr(elements, "shape") else test)
    return xp.isin(xp.asarray(elements), xp.asarray(test), assume_unique=assume_unique,
                   invert=invert)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """Whether each element of ``elements`` is in ``test_elements``, as ``torch.isin``: a
    bool tensor of ``elements``' shape (either may be a number, not both; ``invert``: not
    in).

    Example::

        >>> gpugrad.isin(gpugrad.tensor([[1, 2], [3, 4]]), gpugrad.tensor([4, 1])).tolist()
        [[True, False], [False, True]]
    """
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin: elements or test_elements must be a tensor (at most one may "
                        "be a number)")
    a, b = _arrays("isin", elements, test_elements)
    if isinstance(elements, Tensor) and isinstance(test_elements, Tensor):
        backend.check_same_device("isin", [a, b])
    return Tensor._wrap(kernel(_isin_raw, a, b, bool(assume_unique), bool(invert)))


def _searchsorted_raw(sequence, values, side, sorter):
    xp = backend.xp_of(sequence)
    if sorter is not None:
        sequence = xp.take_along_axis(sequence, sorter, axis=-1)
    if sequence.ndim == 1:      # (asarray: a 0-d query gives a NumPy scalar)
        return xp.asarray(xp.searchsorted(sequence, values, side=side)).astype(xp.int64)
    if sequence.size == 0:      # no rows, or empty rows: every place is 0
        return xp.zeros(values.shape, dtype=xp.int64)
    rows = sequence.reshape(-1, sequence.shape[-1])
    queries = values.reshape(rows.shape[0], -1)
    return _batched_search(xp, rows, queries, side).reshape(values.shape)


def _batched_search(xp, rows, queries, side):
    """np.searchsorted of each row of ``queries`` in the same row of ``rows``, all rows at
    once: a binary search of ceil(log2(m + 1)) vectorised steps (no loop over the rows), NaN
    ordered last as NumPy's."""
    m = rows.shape[-1]
    low = xp.zeros(queries.shape, dtype=xp.int64)
    high = xp.full(queries.shape, m, dtype=xp.int64)
    query_nan = queries != queries
    for _ in range(int(m).bit_length()):
        middle = (low + high) // 2
        value = xp.take_along_axis(rows, xp.minimum(middle, m - 1), axis=-1)
        below = (value < queries) if side == "left" else (value <= queries)
        below |= query_nan & (value == value)           # (NaN sorts after every number)
        if side == "right":
            below |= query_nan & (value != value)
        below &= low < high
        low = xp.where(below, middle + 1, low)
        high = xp.where(below | (low >= high), high, middle)
    return low


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False,
                 side=None, sorter=None):
    """Where each value of ``input`` would be inserted in ``sorted_sequence`` (sorted along
    its last dimension) to keep it sorted, as ``torch.searchsorted``: the first such place,
    or with ``right=True`` / ``side="right"`` the last. ``sorted_sequence`` is 1-d (any
    ``input`` shape) or (..., m) with ``input`` (..., k) sharing the leading dimensions;
    ``sorter``: indices that sort an unsorted ``sorted_sequence`` along its last dimension.
    ``input`` may be a number (a 0-d result). int64, int32 with ``out_int32``.

    Example::

        >>> seq = gpugrad.tensor([1.0, 3.0, 5.0, 7.0])
        >>> gpugrad.searchsorted(seq, gpugrad.tensor([3.0, 6.0])).tolist()
        [1, 3]
        >>> gpugrad.searchsorted(seq, gpugrad.tensor([3.0, 6.0]), right=True).tolist()
        [2, 3]
    """
    if side is not None and side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if side is not None and (side == "right") != bool(right) and right:
        raise ValueError(f"searchsorted: side and right can't be set to opposites, got side "
                         f"of {side} while right was True")
    side = side or ("right" if right else "left")
    values = input
    if not isinstance(values, Tensor):
        if not isinstance(values, numbers.Number):
            raise TypeError(f"searchsorted: input must be a tensor or a number, not "
                            f"{type(values).__name__}")
        values = _new_tensor(values, device=sorted_sequence.device)
    seq_shape, shape = tuple(sorted_sequence.shape), tuple(values.shape)
    if len(seq_shape) == 0 or (len(seq_shape) > 1 and seq_shape[:-1] != shape[:-1]):
        raise ValueError(f"searchsorted: sorted_sequence must be 1-d, or (..., m) with input "
                         f"(..., k) sharing its leading dimensions; got shapes {seq_shape} "
                         f"and {shape}")
    if sorter is not None and tuple(sorter.shape) != seq_shape:
        raise ValueError(f"searchsorted: sorter must have sorted_sequence's shape {seq_shape}, "
                         f"got {tuple(sorter.shape)}")
    if sorted_sequence.dtype.kind == "c" or values.dtype.kind == "c":
        refuse_complex("searchsorted", sorted_sequence, values)
    seq, vals, order = _arrays("searchsorted", sorted_sequence, values, sorter)
    out = Tensor._wrap(kernel(_searchsorted_raw, seq, vals, side, order))
    return out.astype("int32") if out_int32 else out


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False):
    """The bucket of each value of ``input`` given the sorted 1-d ``boundaries``, as
    ``torch.bucketize``: i with boundaries[i-1] < x <= boundaries[i] (``right=True``:
    boundaries[i-1] <= x < boundaries[i]); ``searchsorted(boundaries, input, right=right)``.

    Example::

        >>> gpugrad.bucketize(gpugrad.tensor([1, 5, 9]), gpugrad.tensor([1, 3, 5, 7, 9])).tolist()
        [0, 2, 4]
    """
    if boundaries.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-d, got shape "
                         f"{tuple(boundaries.shape)} (use searchsorted for rows of "
                         f"boundaries)")
    refuse_complex("bucketize", input, boundaries)
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def unravel_index(indices, shape):
    """The coordinates of flat (C-order) ``indices`` in a tensor of ``shape``, as
    ``torch.unravel_index``: a tuple of int64 tensors, one per dimension, each of
    ``indices``' shape (an index outside [0, numel) wraps around, as there).

    Example::

        >>> [t.tolist() for t in gpugrad.unravel_index(gpugrad.tensor([4, 5]), (2, 3))]
        [[1, 1], [1, 2]]
    """
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    shape = tuple(int(n) for n in shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"unravel_index: shape must not hold negative sizes, got {shape}")
    if not isinstance(indices, Tensor):
        indices = _new_tensor(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: indices must be an integer tensor, got "
                        f"{indices.dtype}")
    if math.prod(shape) == 0:
        raise ValueError(f"unravel_index: shape {shape} has no elements")
    out, stride = [], math.prod(shape)
    flat = indices.astype("int64")
    for size in shape:
        stride //= size
        out.append((flat // stride) % size)
    return tuple(out)


def _triangle_indices(name, row, col, offset, dtype, device):
    xp = backend.array_module(backend.Device(device or backend.get_default_device()))
    lower = name == "tril_indices"
    rows, cols = (xp.tril_indices if lower else xp.triu_indices)(int(row), int(offset),
                                                                   int(col))
    return _new_tensor(xp.stack([rows, cols]).astype(dtype or "int64"), device=device)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None):
    """The (row, column) coordinates of the lower triangle of a (row, col) matrix (on and
    below the ``offset``-th diagonal), as ``torch.tril_indices``: a (2, N) int64 tensor in
    row-major order.

    Example::

        >>> gpugrad.tril_indices(3, 3).tolist()
        [[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]]
    """
    return _triangle_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None):
    """The (row, column) coordinates of the upper triangle of a (row, col) matrix (on and
    above the ``offset``-th diagonal), as ``torch.triu_indices``: a (2, N) int64 tensor.

    Example::

        >>> gpugrad.triu_indices(2, 3, 1).tolist()
        [[0, 0, 1], [1, 2, 2]]
    """
    return _triangle_indices("triu_indices", row, col, offset, dtype, device)


def _histc_raw(a, bins, low, high):
    xp = backend.xp_of(a)
    flat = a.reshape(-1)
    if low == high == 0 and flat.size:
        low, high = float(flat.min()), float(flat.max())
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"histc: range of [{low}, {high}] is not finite (the input "
                             f"holds inf or NaN); pass a finite min and max")
    if low == high:
        low, high = low - 1, high + 1
    inside = (flat >= low) & (flat <= high)             # (NaN: outside)
    kept = xp.where(inside, flat, low)
    position = ((kept - low) * bins / (high - low)).astype(xp.int64)
    position = xp.where(inside, xp.minimum(position, bins - 1), bins)   # bin `bins`: dropped
    counts = xp.zeros(bins + 1, dtype=a.dtype)          # no boolean mask, no bincount: no
    xp.add.at(counts, position, 1)                      # host read (CUDA graphs)
    return counts[:bins]


def histc(input, bins: int = 100, min=0, max=0):
    """A histogram of ``input``'s elements in ``bins`` equal bins over [min, max] (both 0:
    the data's smallest and largest values), as ``torch.histc``: elements outside are left
    out, the last bin includes ``max``. The input's (float) dtype; not differentiable.

    Example::

        >>> gpugrad.histc(gpugrad.tensor([1.0, 2.0, 1.0, 5.0]), bins=4, min=0, max=3).tolist()
        [0.0, 2.0, 1.0, 0.0]
    """
    if input.dtype.kind != "f":
        raise TypeError(f"histc: input must be a floating-point tensor, got {input.dtype}")
    bins = as_int(bins, "histc", "bins")
    if bins <= 0:
        raise ValueError(f"histc: bins must be a positive int, got {bins!r}")
    if min > max:
        raise ValueError(f"histc: max must be larger than min, got min={min}, max={max}")
    if not (np.isfinite(min) and np.isfinite(max)):
        raise ValueError(f"histc: range of [{min}, {max}] is not finite")
    (array,) = _arrays("histc", input)
    if min == max == 0 and backend.xp_of(array) is not np:
        refuse_host_sync("gpugrad.histc with min=max=0 (reads the data's range)")
    return Tensor._wrap(kernel(_histc_raw, array, int(bins), float(min), float(max)))


METHODS = {"histc": histc}
