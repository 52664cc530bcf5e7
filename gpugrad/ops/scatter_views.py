"""Writes into the places a view would show, as PyTorch's out-of-place ``slice_scatter``,
``select_scatter`` and ``diagonal_scatter`` (``input`` with ``src`` written where
``input[start:end:step]``, ``input.select(dim, i)`` or ``input.diagonal(...)`` are), plus
``index_reduce`` and ``as_strided``. Composites of index_copy, scatter_reduce and take, so
differentiable in ``input`` and ``src`` to any order.

``as_strided`` returns a copy, not a view (writes into it do not reach the input), and reads
only the input's own elements: the input must be contiguous, and the elements it reaches
must lie within it (PyTorch may reach the rest of a view's storage; gpugrad refuses).

Example::

    >>> gpugrad.slice_scatter(gpugrad.zeros(4), gpugrad.ones(2), start=1, end=3).tolist()
    [0.0, 1.0, 1.0, 0.0]
    >>> gpugrad.diagonal_scatter(gpugrad.zeros(2, 2), gpugrad.tensor([1.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import creation
from ..tensor import Tensor
from .complex_parts import real
from .inplace import in_place_method
from .scatter_ops import index_copy, take
from .scatter_reduce import scatter_reduce
from .shape import broadcast_to, movedim, reshape
from .shape_errors import ShapeError, checked_dim
from .unary import astype

__all__ = ["slice_scatter", "select_scatter", "diagonal_scatter", "index_reduce",
           "as_strided"]


def _index(positions, device):
    return creation.tensor(np.asarray(positions, dtype=np.int64), device=device)


def _check_src(op: str, input, src, expected: tuple, what: str):
    """``src`` checked against the part of ``input`` it replaces, cast to input's dtype as
    PyTorch's copy does (differentiable between float dtypes)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}: src must be a tensor, got {type(src).__name__}")
    if tuple(src.shape) != tuple(expected):
        raise ShapeError(f"{op}: expected src to have a size equal to the {what} of self. "
                         f"src size = {list(src.shape)}, {what} size = {list(expected)}")
    if src.dtype == input.dtype:
        return src
    if src.dtype.kind == "c" and input.dtype.kind != "c":
        src = real(src)             # PyTorch warns and drops the imaginary part
    return astype(src, input.dtype)


def slice_scatter(input, src, dim: int = 0, start=None, end=None, step: int = 1):
    """``input`` with ``src`` written at ``input[start:end:step]`` along ``dim``, as
    ``torch.slice_scatter`` (a new tensor). Differentiable in both.

    Shapes: input (..., n, ...), src the slice's shape (..., len(range(start, end, step)),
    ...) -> input's.

    Example::

        >>> gpugrad.slice_scatter(gpugrad.zeros(2, 4), gpugrad.ones(2, 2), 1, 0, None,
        ...                       2).tolist()
        [[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.0]]
    """
    if not isinstance(step, numbers.Integral) or step <= 0:
        raise ValueError(f"slice_scatter: slice step must be positive, got {step!r}")
    axis = checked_dim(input, dim, "slice_scatter")
    positions = range(*slice(start, end, step).indices(input.shape[axis]))
    expected = tuple(input.shape[:axis]) + (len(positions),) + tuple(input.shape[axis + 1:])
    src = _check_src("slice_scatter", input, src, expected, "slice")
    return index_copy(input, axis, _index(list(positions), input.device), src)


def select_scatter(input, src, dim: int, index: int):
    """``input`` with ``src`` written at ``input.select(dim, index)``, as
    ``torch.select_scatter``. Differentiable in both.

    Shapes: input (..., n, ...), src input's shape without ``dim`` -> input's.

    Example::

        >>> gpugrad.select_scatter(gpugrad.zeros(2, 2), gpugrad.ones(2), 0, -1).tolist()
        [[0.0, 0.0], [1.0, 1.0]]
    """
    axis = checked_dim(input, dim, "select_scatter")
    n = input.shape[axis]
    if not isinstance(index, numbers.Integral) or not -n <= index < n:
        raise IndexError(f"select_scatter(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {dim}")
    expected = tuple(input.shape[:axis]) + tuple(input.shape[axis + 1:])
    src = _check_src("select_scatter", input, src, expected, "embedded slice")
    source = reshape(src, expected[:axis] + (1,) + expected[axis:])
    return index_copy(input, axis, _index([index % n], input.device), source)


def diagonal_scatter(input, src, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """``input`` with ``src`` written on its diagonal ``input.diagonal(offset, dim1,
    dim2)``, as ``torch.diagonal_scatter``. Differentiable in both.

    Shapes: input (..., m, ..., n, ...), src the diagonal's shape (the other dims, then its
    length) -> input's.

    Example::

        >>> gpugrad.diagonal_scatter(gpugrad.zeros(2, 3), gpugrad.ones(2), 1).tolist()
        [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    d1 = checked_dim(input, dim1, "diagonal_scatter")
    d2 = checked_dim(input, dim2, "diagonal_scatter")
    if d1 == d2:
        raise ValueError(f"diagonal_scatter: dim1 and dim2 cannot be the same dimension "
                         f"({dim1} and {dim2})")
    m, n = input.shape[d1], input.shape[d2]
    if offset >= 0:
        length = max(0, min(m, n - offset))
        positions = [i * n + i + offset for i in range(length)]
    else:
        length = max(0, min(m + offset, n))
        positions = [(i - offset) * n + i for i in range(length)]
    moved = movedim(input, (d1, d2), (-2, -1))
    batch = tuple(moved.shape[:-2])
    src = _check_src("diagonal_scatter", input, src, batch + (length,), "diagonal")
    flat = reshape(moved, batch + (m * n,))
    written = index_copy(flat, flat.ndim - 1, _index(positions, input.device), src)
    return movedim(reshape(written, batch + (m, n)), (-2, -1), (d1, d2))


def index_reduce(input, dim: int, index, source, reduce: str, *, include_self: bool = True):
    """``input`` with the slices of ``source`` reduced into the places ``index`` names along
    ``dim``, as ``torch.index_reduce``: ``reduce`` is "prod", "mean", "amax" or "amin";
    with ``include_self=False`` the places written reduce ``source``'s slices alone.
    Differentiable in both (as ``scatter_reduce``, which it calls).

    Shapes: input (..., n, ...), index (k,), source (..., k, ...) -> input's.

    Example::

        >>> x = gpugrad.ones(3)
        >>> gpugrad.index_reduce(x, 0, gpugrad.tensor([0, 0, 2]),
        ...                      gpugrad.tensor([2.0, 3.0, 4.0]), "prod").tolist()
        [6.0, 1.0, 4.0]
    """
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise ValueError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                         f"amin but got {reduce!r}")
    if not isinstance(index, Tensor) or index.ndim > 1:
        raise ValueError(f"index_reduce(): Index is supposed to be a vector (a 1-d integer "
                         f"tensor), got {getattr(index, 'shape', type(index).__name__)}")
    if input.ndim == 0:
        return index_reduce(reshape(input, (1,)), 0, index, reshape(source, (-1,)), reduce,
                            include_self=include_self).reshape(())
    axis = checked_dim(input, dim, "index_reduce")
    index = reshape(index, (-1,))
    expected = tuple(input.shape[:axis]) + (index.shape[0],) + tuple(input.shape[axis + 1:])
    if tuple(source.shape) != expected:
        raise ShapeError(f"index_reduce(): source of shape {tuple(source.shape)} must have "
                         f"the input's shape {tuple(input.shape)} with dimension {dim} of "
                         f"the index's length, {expected}")
    along = [1] * input.ndim
    along[axis] = index.shape[0]
    full = broadcast_to(reshape(index, tuple(along)), expected)
    return scatter_reduce(input, axis, full, source, reduce, include_self=include_self)


def as_strided(input, size, stride, storage_offset=None):
    """The elements of ``input`` (contiguous, read as its flat storage) at
    ``storage_offset + sum_k i_k * stride[k]`` for each index ``i`` of ``size``, as
    ``torch.as_strided``, but a copy (see the module docstring). Differentiable: an element
    read twice gets both gradients.

    Shapes: input (...) -> ``size``.

    Example::

        >>> x = gpugrad.arange(6.0)
        >>> gpugrad.as_strided(x, (2, 3), (1, 2)).tolist()     # overlapping windows
        [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]
    """
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise ValueError(f"as_strided: mismatch in length of strides and shape ({len(stride)} "
                         f"strides, {len(size)} sizes)")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise ValueError(f"as_strided: negative sizes or strides are not supported, got size "
                         f"{size} and stride {stride}")
    if not input.is_contiguous():
        raise RuntimeError(f"as_strided: gpugrad reads the input's own elements in C order, "
                           f"so the input must be contiguous (stride {input.stride()}); call "
                           f"input.contiguous() first")
    if storage_offset is None:
        storage_offset = 0
    elif input.storage_offset() != 0:
        raise RuntimeError(f"as_strided: this input is a view starting {input.storage_offset()}"
                           f" elements into its storage, whose other elements gpugrad does "
                           f"not read; pass no storage_offset (it counts from the input's "
                           f"first element) or call input.clone() first")
    offset = int(storage_offset)
    positions = np.full(size, offset, dtype=np.int64)
    for k, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[k] = n
        positions = positions + (np.arange(n, dtype=np.int64) * s).reshape(shape)
    needed = int(positions.max()) + 1 if positions.size else 0
    if offset < 0 or needed > input.numel():
        raise RuntimeError(f"as_strided: size {list(size)}, stride {list(stride)} and storage "
                           f"offset {offset} need {needed} elements, but the input has "
                           f"{input.numel()} (shape {tuple(input.shape)})")
    return take(input, creation.tensor(positions, device=input.device))


METHODS = {
    "slice_scatter": slice_scatter, "select_scatter": select_scatter,
    "diagonal_scatter": diagonal_scatter, "index_reduce": index_reduce,
    "index_reduce_": in_place_method(index_reduce), "as_strided": as_strided,
}
