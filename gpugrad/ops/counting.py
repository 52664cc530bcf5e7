"""Finding and counting values, as PyTorch spells it: ``nonzero``, ``argwhere``,
``count_nonzero``, ``bincount``, ``unique`` (of the flattened tensor, or of its slices along
``dim``) and ``unique_consecutive``. Not differentiable; all but ``count_nonzero`` give
results whose shape depends on the values, so they are refused inside vmap and compiled or
captured steps.

Example::

    >>> from gpugrad.ops.counting import unique
    >>> rows = gpugrad.tensor([[1, 2], [0, 5], [1, 2]])
    >>> values, inverse, counts = unique(rows, dim=0, return_inverse=True,
    ...                                  return_counts=True)
    >>> values.tolist(), inverse.tolist(), counts.tolist()
    ([[0, 5], [1, 2]], [1, 0, 1], [1, 2])
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..scalar_casts import as_int
from ..settings import alert_not_deterministic
from ..autograd.capture_mode import refuse_host_sync
from ..autograd.compile_mode import kernel, note_reads, refuse_in_compile
from ..tensor import Tensor
from . import compare, reduce
from .complex_node import refuse_complex
from .shape_errors import as_dims, checked_dim
from .selection import check_index_range

__all__ = ["nonzero", "argwhere", "count_nonzero", "bincount", "unique", "unique_consecutive"]


def _refuse_value_shaped(op: str, input) -> None:
    """The ops whose result's shape depends on the values: not in vmap, compile, capture."""
    if input._batched:
        raise RuntimeError(f"{op}: the result's shape depends on the values, so it differs "
                           f"per example inside vmap; use gpugrad.where or a mask instead")
    refuse_in_compile(f"{op} (the result's shape depends on the values)",
                      "use gpugrad.where or a mask of fixed shape")
    if backend.xp_of(input._array) is not np:
        refuse_host_sync(f"gpugrad.{op} (its shape depends on the values)")
    note_reads(input)


def _nonzero_raw(a):
    xp = backend.xp_of(a)
    return xp.stack(xp.nonzero(a), axis=1).astype(xp.int64) if a.ndim else \
        xp.zeros((int(bool(a)), 0), dtype=xp.int64)


def nonzero(input, *, as_tuple: bool = False):
    """Where ``input`` is non-zero, as ``torch.nonzero``: a (count, ndim) int64 tensor of
    the positions in C order, or with ``as_tuple=True`` one 1-d tensor per dimension (a
    0-d input counts as 1-d). Not differentiable.

    Example::

        >>> gpugrad.nonzero(gpugrad.tensor([[0, 1], [2, 0]])).tolist()
        [[0, 1], [1, 0]]
        >>> [t.tolist() for t in gpugrad.nonzero(gpugrad.tensor([0, 3, 4]), as_tuple=True)]
        [[1, 2]]
    """
    _refuse_value_shaped("nonzero", input)
    array = input._array
    if as_tuple:
        flat = array.reshape(1) if array.ndim == 0 else array
        xp = backend.xp_of(flat)
        return tuple(Tensor._wrap(kernel(_as_int64, p, xp)) for p in kernel(xp.nonzero, flat))
    return Tensor._wrap(kernel(_nonzero_raw, array))


def _as_int64(a, xp):
    return a.astype(xp.int64)


def argwhere(input):
    """The positions where ``input`` is non-zero, as ``torch.argwhere``: ``nonzero(input)``.

    Example::

        >>> gpugrad.argwhere(gpugrad.tensor([1, 0, 1])).tolist()
        [[0], [2]]
    """
    return nonzero(input)


def count_nonzero(input, dim=None):
    """The number of non-zero elements of ``input`` over ``dim`` (an int, a tuple, or None
    or an empty tuple for all), as ``torch.count_nonzero`` (int64).

    Example::

        >>> gpugrad.count_nonzero(gpugrad.tensor([[0, 1], [2, 3]]), dim=1).tolist()
        [1, 2]
    """
    nonzeros = compare.not_equal(input, 0).astype("int64")
    dims = None if dim is None else as_dims(dim)
    if not dims:                            # None or (): all, as PyTorch's
        return reduce.sum(nonzeros)
    return reduce.sum(nonzeros, axis=tuple(checked_dim(input, d, "count_nonzero")
                                           for d in dims))


def _bincount_raw(a, w, minlength, dtype):
    xp = backend.xp_of(a)
    if a.size == 0:
        return xp.zeros(minlength, dtype=dtype)
    if w is not None and xp is not np:      # (CuPy adds float weights with atomics)
        alert_not_deterministic("bincount with weights", "cuda")
    out = xp.bincount(a, weights=w, minlength=minlength)
    return out.astype(dtype, copy=False)


def bincount(input, weights=None, minlength: int = 0):
    """How often each value 0, 1, ... occurs in the 1-d non-negative integer ``input``
    (summing ``weights`` instead of counting ones when given), as ``torch.bincount``: length
    ``max(input) + 1`` or ``minlength``. int64, or the weights' dtype (float32 weights stay
    float32; others give float64). Not differentiable.

    Example::

        >>> gpugrad.bincount(gpugrad.tensor([0, 1, 1, 3])).tolist()
        [1, 2, 0, 1]
    """
    if input.ndim != 1 or input.dtype.kind not in "iub":
        raise ValueError(f"bincount: the input must be a 1-d integer tensor, got "
                         f"{input.dtype} of shape {tuple(input.shape)}")
    minlength = as_int(minlength, "bincount", "minlength")
    if minlength < 0:
        raise ValueError(f"bincount: minlength must be a non-negative int, got {minlength!r}")
    check_index_range(input, np.iinfo(np.int64).max, "bincount", "non-negative")
    dtype = np.dtype(np.int64)
    w = None
    if weights is not None:
        if tuple(weights.shape) != tuple(input.shape):
            raise ValueError(f"bincount: weights {tuple(weights.shape)} must have the "
                             f"input's shape {tuple(input.shape)}")
        dtype = np.dtype(np.float32 if weights.dtype == np.float32 else np.float64)
        w = weights._array
        note_reads(weights)
    _refuse_value_shaped("bincount", input)
    return Tensor._wrap(kernel(_bincount_raw, input._array, w, int(minlength), dtype))


def _groups(rows, consecutive: bool):
    """The distinct rows of the 2-d array ``rows`` (sorted, or runs of equal rows in order
    with ``consecutive``), where each row's value sits among them, and how often each
    occurs. NaNs are all distinct, as PyTorch's."""
    xp = backend.xp_of(rows)
    n = rows.shape[0]
    if consecutive or n == 0:
        order = xp.arange(n)
    else:                                       # lexicographic, first column first; stable
        order = xp.lexsort(rows.T[::-1])
    ordered = rows[order]
    starts = xp.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = xp.any(ordered[1:] != ordered[:-1], axis=1)
    inverse = xp.empty(n, dtype=xp.int64)
    inverse[order] = xp.cumsum(starts) - 1
    first = xp.nonzero(starts)[0]
    counts = xp.diff(xp.concatenate([first, xp.asarray([n], dtype=first.dtype)]))
    return ordered[first], inverse, counts.astype(xp.int64)


def _unique_raw(a, axis, consecutive):
    """``(values, inverse, counts)`` of ``a`` flattened (``axis`` None) or of its slices
    along ``axis``."""
    xp = backend.xp_of(a)
    if axis is None:
        values, inverse, counts = _groups(a.reshape(-1, 1), consecutive)
        return values.reshape(-1), inverse.reshape(a.shape), counts
    moved = xp.moveaxis(a, axis, 0)
    width = int(np.prod(moved.shape[1:]))
    values, inverse, counts = _groups(moved.reshape(moved.shape[0], width), consecutive)
    values = xp.moveaxis(values.reshape((values.shape[0],) + moved.shape[1:]), 0, axis)
    return xp.ascontiguousarray(values), inverse, counts


def _unique(op: str, input, consecutive, return_inverse, return_counts, dim):
    axis = None
    if dim is not None:
        if input.ndim == 0:
            raise IndexError(f"{op}: dim={dim} given for a 0-d tensor (it has no "
                             f"dimensions); leave dim=None")
        axis = checked_dim(input, dim, op)
        if 0 in input.shape and input.shape[axis] != 0:
            raise ValueError(f"{op}: input of shape {tuple(input.shape)} has a zero-sized "
                             f"dimension other than dim={dim}: its slices are all empty; "
                             f"pick that dimension, or drop it first")
        if list(input.shape).count(0) > 1:
            raise ValueError(f"{op}: input of shape {tuple(input.shape)} has more than one "
                             f"zero-sized dimension")
    _refuse_value_shaped(op, input)
    values, inverse, counts = kernel(_unique_raw, input._array, axis, bool(consecutive))
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse))
    if return_counts:
        out.append(Tensor._wrap(counts))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    """The distinct values of ``input`` (flattened), sorted, as ``torch.unique``; with
    ``dim``, the distinct slices along ``dim`` (``input[i]`` for ``dim=0``: rows), sorted
    lexicographically. With ``return_inverse``, also where each element (the input's
    shape) or each slice (``(input.shape[dim],)``) sits among them (int64); with
    ``return_counts``, how often each occurs (int64). The result is sorted whatever
    ``sorted`` says (PyTorch's may be too). NaNs are all distinct. Not differentiable.

    Example::

        >>> from gpugrad.ops.counting import unique
        >>> values, counts = unique(gpugrad.tensor([3, 1, 3]), return_counts=True)
        >>> values.tolist(), counts.tolist()
        ([1, 3], [1, 2])
        >>> unique(gpugrad.tensor([[2, 1, 2], [0, 3, 0]]), dim=1).tolist()   # columns
        [[1, 2], [3, 0]]
    """
    if input.dtype.kind == "c":
        refuse_complex("unique", input)
    return _unique("unique", input, False, return_inverse, return_counts, dim)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,
                       dim=None):
    """``input`` (flattened, or its slices along ``dim``) with each run of equal
    consecutive values (slices) kept once, as ``torch.unique_consecutive``; with
    ``return_inverse``, which run each element (input's shape) or slice belongs to, with
    ``return_counts`` each run's length (both int64). Not differentiable.

    Example::

        >>> from gpugrad.ops.counting import unique_consecutive
        >>> values, counts = unique_consecutive(gpugrad.tensor([1, 1, 2, 1]),
        ...                                     return_counts=True)
        >>> values.tolist(), counts.tolist()
        ([1, 2, 1], [2, 1, 1])
    """
    return _unique("unique_consecutive", input, True, return_inverse, return_counts, dim)


METHODS: dict = {
    "nonzero": nonzero, "argwhere": argwhere, "count_nonzero": count_nonzero,
    "bincount": bincount, "unique": unique, "unique_consecutive": unique_consecutive,
}
