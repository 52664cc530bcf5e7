"""Writing into positions and finding them, as PyTorch spells it: ``scatter``,
``scatter_add``, ``index_add``, ``index_copy``, ``take``, ``take_along_dim`` (composites of
the indexing and set-item records: their gradients, tangents and batching rules are those
records'), and the non-differentiable ``nonzero``, ``argwhere``, ``count_nonzero``,
``bincount`` and ``unique``.

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

from .. import backend, creation
from ..autograd.capture_mode import refuse_host_sync
from ..autograd.compile_mode import kernel, note_reads, refuse_in_compile
from ..tensor import Tensor
from . import compare, indexing, reduce, shape
from .indexing import ScatterAdd, normalize_index
from .inplace import SetItem, in_place_method
from .record import apply
from .reduce import checked_dim
from .selection import check_index_range, gather, integer_index

__all__ = ["scatter", "scatter_add", "index_add", "index_copy", "take", "take_along_dim",
           "nonzero", "argwhere", "count_nonzero", "bincount", "unique"]


def _grid(index, dim: int, device) -> tuple:
    """The full advanced index ``out[i][j]... at index[i][j]... along dim`` of ``index``."""
    parts = []
    for d, n in enumerate(index.shape):
        if d == dim:
            parts.append(index)
        else:
            lined = [1] * index.ndim
            lined[d] = n
            parts.append(creation.arange(n, device=device).reshape(*lined))
    return tuple(parts)


def _checked_scatter(op: str, input, dim, index, src=None):
    """``(axis, index)`` after PyTorch's checks of a scatter/gather-like call."""
    axis = checked_dim(input, dim, op)
    index = integer_index(index, op)
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise ValueError(f"{op}: the index must have as many dimensions as the input; got "
                         f"index of shape {tuple(index.shape)} for input of shape "
                         f"{tuple(input.shape)}")
    for d in range(index.ndim):
        if d != axis and index.shape[d] > input.shape[d]:
            raise ValueError(f"{op}: the index {tuple(index.shape)} is larger than the input "
                             f"{tuple(input.shape)} in dimension {d}")
        if src is not None and index.shape[d] > src.shape[d]:
            raise ValueError(f"{op}: the index {tuple(index.shape)} is larger than src "
                             f"{tuple(src.shape)} in dimension {d}")
    check_index_range(index, input.shape[axis] if input.ndim else 1, op,
                      f"dimension {dim}'s size")
    return axis, index


def _same_dtype(op: str, input, src) -> None:
    if src.dtype != input.dtype:
        raise TypeError(f"{op}: src must have the input's dtype ({input.dtype}), got "
                        f"{src.dtype}; convert it first (src.to(input.dtype))")


def _src_part(src, index):
    """The leading ``index.shape`` block of ``src`` (PyTorch reads only that much)."""
    if tuple(src.shape) == tuple(index.shape):
        return src
    return indexing.getitem(src, tuple(slice(0, n) for n in index.shape))


def scatter(input, dim: int, index, src=None, *, value=None, reduce=None):
    """A copy of ``input`` with ``src[i][j]`` written at ``out[index[i][j]][j]`` (``dim=0``;
    and so on for the other dims), as ``torch.scatter``; ``src`` may be a number (or pass
    ``value=``). Where ``index`` repeats a place, which write wins is unspecified, as in
    PyTorch. Differentiable in ``input`` (zero where written) and in a tensor ``src``
    (``gather`` of the gradient). ``reduce`` is not supported.

    Example::

        >>> x = gpugrad.zeros(2, 3)
        >>> gpugrad.scatter(x, 1, gpugrad.tensor([[2], [0]]), 5.0).tolist()
        [[0.0, 0.0, 5.0], [5.0, 0.0, 0.0]]
    """
    if reduce is not None:
        raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported; use "
                                  f"scatter_add for sums")
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter needs src (a tensor) or value (a number)")
    if isinstance(src, Tensor):
        axis, index = _checked_scatter("scatter", input, dim, index, src)
        _same_dtype("scatter", input, src)
        v = _src_part(src, index)
    else:
        axis, index = _checked_scatter("scatter", input, dim, index)
        v = creation.full((), src, dtype=input.dtype, device=input.device)
    if input.ndim == 0:
        return scatter(input.reshape(1), 0, index.reshape(-1), v.reshape(-1)
                       if v.ndim else v).reshape(())
    parts, scatter_free = normalize_index(input, _grid(index, axis, input.device))
    return apply(SetItem, input, v, index=parts, scatter_free=scatter_free)


def scatter_add(input, dim: int, index, src):
    """``input`` plus ``src[i][j]`` added at ``out[index[i][j]][j]`` (``dim=0``; and so on),
    as ``torch.scatter_add``: repeated places add up. Differentiable in both.

    Example::

        >>> gpugrad.scatter_add(gpugrad.zeros(3), 0, gpugrad.tensor([1, 1]),
        ...                     gpugrad.tensor([1.0, 2.0])).tolist()
        [0.0, 3.0, 0.0]
    """
    axis, index = _checked_scatter("scatter_add", input, dim, index, src)
    _same_dtype("scatter_add", input, src)
    if input.ndim == 0:
        return scatter_add(input.reshape(1), 0, index.reshape(-1),
                           src.reshape(-1)).reshape(())
    parts, _ = normalize_index(input, _grid(index, axis, input.device))
    added = apply(ScatterAdd, _src_part(src, index), shape=tuple(input.shape), index=parts,
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
    _same_dtype(op, input, source)
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
    check_index_range(index + n, 2 * n, "take", f"from {-n} to {n - 1}")
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
    for all), as ``torch.count_nonzero`` (int64).

    Example::

        >>> gpugrad.count_nonzero(gpugrad.tensor([[0, 1], [2, 3]]), dim=1).tolist()
        [1, 2]
    """
    nonzeros = compare.not_equal(input, 0).astype("int64")
    if dim is None:
        return reduce.sum(nonzeros)
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    return reduce.sum(nonzeros, axis=tuple(checked_dim(input, d, "count_nonzero")
                                           for d in dims))


def _bincount_raw(a, w, minlength, dtype):
    xp = backend.xp_of(a)
    if a.size == 0:
        return xp.zeros(minlength, dtype=dtype)
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
    if not isinstance(minlength, numbers.Integral) or minlength < 0:
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


def _unique_raw(a, return_inverse, return_counts):
    xp = backend.xp_of(a)
    out = xp.unique(a.reshape(-1), return_inverse=return_inverse,
                    return_counts=return_counts)
    return out if isinstance(out, tuple) else (out,)


def unique(input, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    """The distinct values of ``input`` (flattened), sorted, as ``torch.unique``; with
    ``return_inverse``, also where each element's value sits among them (input's shape,
    int64); with ``return_counts``, how often each occurs. Not differentiable; ``dim`` must
    be None.

    Example::

        >>> values, counts = gpugrad.unique(gpugrad.tensor([3, 1, 3]), return_counts=True)
        >>> values.tolist(), counts.tolist()
        ([1, 3], [1, 2])
    """
    if dim is not None:
        raise NotImplementedError("unique: dim= is not supported; call it on the flattened "
                                  "tensor (dim=None)")
    _refuse_value_shaped("unique", input)
    parts = kernel(_unique_raw, input._array, bool(return_inverse), bool(return_counts))
    values = Tensor._wrap(parts[0])
    if not (return_inverse or return_counts):
        return values
    out = [values]
    rest = list(parts[1:])
    if return_inverse:
        inverse = rest.pop(0).astype(np.int64).reshape(input.shape)
        out.append(Tensor._wrap(inverse))
    if return_counts:
        out.append(Tensor._wrap(rest.pop(0).astype(np.int64)))
    return tuple(out)


METHODS: dict = {
    "scatter": scatter, "scatter_add": scatter_add, "index_add": index_add,
    "index_copy": index_copy, "take": take, "take_along_dim": take_along_dim,
    "nonzero": nonzero, "argwhere": argwhere, "count_nonzero": count_nonzero,
    "bincount": bincount, "unique": unique,
}
METHODS.update({name + "_": in_place_method(fn) for name, fn in (
    ("scatter", scatter), ("scatter_add", scatter_add), ("index_add", index_add),
    ("index_copy", index_copy))})
