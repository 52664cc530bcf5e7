"""Picking and arranging elements as PyTorch spells it: ``gather``, ``index_select``,
``masked_fill``, ``chunk``, ``split``, ``repeat``, ``mm``, ``bmm``. Composites of the
indexing, where, reshape, broadcast and matmul records: their gradients, tangents and
batching rules are those records'.

Example::

    >>> x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> picked = gpugrad.gather(x, 1, gpugrad.tensor([[1], [0]]))    # x[i, index[i, 0]]
    >>> picked.tolist()
    [[2.0], [3.0]]
    >>> picked.sum().backward()
    >>> x.grad.tolist()
    [[0.0, 1.0], [1.0, 0.0]]
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend, creation
from ..scalar_casts import as_int, checked_scalar
from ..tensor import Tensor
from ..autograd.batched import innermost_array
from ..autograd.capture_mode import is_step_capturing
from ..autograd.compile_mode import is_compiling
from . import elementwise, indexing, linalg, shape, unary
from .shape_errors import checked_dim
from .shape_errors import DimError, DtypeError, IndexRangeError, ShapeError

__all__ = ["gather", "index_select", "masked_fill", "chunk", "split", "repeat", "mm", "bmm"]


def integer_index(index, op: str) -> Tensor:
    """``index`` as an integer tensor, or a TypeError naming ``op``."""
    if not isinstance(index, Tensor):
        index = creation.as_tensor(np.asarray(index))
    if index.dtype.kind not in "iu":
        raise DtypeError(f"{op}: the index must be an integer tensor, got {index.dtype}")
    return index


def check_index_range(index, size: int, op: str, what: str, *, low: int = 0) -> None:
    """Every value of the integer tensor ``index`` in [low, size), or an IndexError naming
    ``op`` and the values given (``low=-size`` where negative indices count from the end;
    otherwise a negative index would count from the end, as NumPy's do). Read only where
    it costs no device sync, on NumPy arrays, outside a captured or compiled step;
    elsewhere an index out of range is undefined."""
    array = innermost_array(index)
    if array.__class__ is not np.ndarray or not array.size or is_step_capturing() or \
            is_compiling():
        return
    least, most = int(array.min()), int(array.max())
    if least < low or most >= size:
        raise IndexRangeError(f"{op}: indices must be in [{low}, {size}) ({what}), got values "
                              f"from {least} to {most}")


def gather(input, dim: int, index):
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (``input[i][index[i][j]]`` for
    ``dim=1``, and so on), as ``torch.gather``. ``index``: an integer tensor with
    ``input``'s number of dimensions, no larger than ``input`` in any dimension but
    ``dim``; the result has its shape. Differentiable in ``input`` (the gradient adds up
    where an index repeats).

    Example::

        >>> x = gpugrad.tensor([[1, 2], [3, 4]])
        >>> gpugrad.gather(x, 0, gpugrad.tensor([[1, 0], [1, 1]])).tolist()
        [[3, 2], [3, 4]]
    """
    dim = checked_dim(input, dim, "gather")
    index = integer_index(index, "gather")
    if index.ndim != input.ndim:
        raise ShapeError(f"gather: the index must have as many dimensions as the input; got "
                         f"index of shape {tuple(index.shape)} for input of shape "
                         f"{tuple(input.shape)}")
    for d, (n, m) in enumerate(zip(index.shape, input.shape)):
        if d != dim and n > m:
            raise ShapeError(f"gather: the index is larger than the input in dimension {d} "
                             f"(index {tuple(index.shape)}, input {tuple(input.shape)}); "
                             f"only dimension {dim} may differ")
    check_index_range(index, input.shape[dim], "gather", f"dimension {dim}'s size")
    return gather_checked(input, dim, index)


def gather_checked(input, axis: int, index):
    """``gather(input, axis, index)`` for an ``axis`` already normalised (an int in
    [0, ndim)) and an integer ``index`` tensor known to be in range and of a valid shape, as
    the argmax/argsort results of ``max(x, dim)``, ``sort`` and ``topk`` are: it skips the
    checks (and the range check's read of the index)."""
    xp = backend.array_module(input.device)
    parts = []
    for d, n in enumerate(index.shape):
        if d == axis:
            parts.append(index)
        else:                       # arange(n) along d, broadcast against the others
            grid = [1] * index.ndim
            grid[d] = n
            parts.append(xp.arange(n).reshape(grid))
    return indexing.getitem(input, tuple(parts))


def index_select(input, dim: int, index):
    """The entries of ``input`` at positions ``index`` (a 1-d integer tensor) along ``dim``,
    as ``torch.index_select``: shape ``input.shape`` with ``dim`` of size ``len(index)``.

    Example::

        >>> x = gpugrad.tensor([[1, 2, 3], [4, 5, 6]])
        >>> gpugrad.index_select(x, 1, gpugrad.tensor([2, 0])).tolist()
        [[3, 1], [6, 4]]
    """
    dim = checked_dim(input, dim, "index_select")
    index = integer_index(index, "index_select")
    if index.ndim > 1:
        raise DimError(f"index_select: the index must be 1-d (or 0-d), got shape "
                         f"{tuple(index.shape)}")
    check_index_range(index, input.shape[dim] if input.ndim else 1, "index_select",
                      f"dimension {dim}'s size")
    if input.ndim == 0:                 # (PyTorch's: a 0-d input is its own selection)
        return indexing.getitem(input.reshape(1), index.reshape(-1)).reshape(())
    return indexing.getitem(input, (slice(None),) * dim + (index.reshape(-1),))


def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or a 0-d tensor) where the bool tensor ``mask``
    (broadcast to ``input``'s shape) is true, as ``torch.masked_fill``; the dtype stays
    ``input``'s. Differentiable in ``input`` (zero where filled) and in a tensor ``value``.

    Example::

        >>> x = gpugrad.tensor([1.0, 2.0, 3.0])
        >>> x.masked_fill(x > 1.5, 0.0).tolist()
        [1.0, 0.0, 0.0]
    """
    if not isinstance(mask, Tensor) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise DtypeError(f"masked_fill: the mask must be a bool tensor, got {got} (compare "
                        f"first, e.g. x.masked_fill(x < 0, 0.0))")
    try:
        full = np.broadcast_shapes(tuple(mask.shape), tuple(input.shape))
    except ValueError:
        full = None
    if full != tuple(input.shape):      # (stricter than PyTorch, which broadcasts the input)
        raise ShapeError(f"masked_fill: a mask of shape {tuple(mask.shape)} does not "
                         f"broadcast to the input's shape {tuple(input.shape)}")
    if not isinstance(value, Tensor):
        value = _check_fits(value, input.dtype)
    else:
        if value.ndim:
            raise ShapeError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                             f"{tuple(value.shape)}")
        if value.dtype != input.dtype:
            value = value.astype(input.dtype)
    out = elementwise.where(mask, value, input)
    return out if out.dtype == input.dtype else out.astype(input.dtype)


def _check_fits(value, dtype):
    """A Python number ``value`` as PyTorch writes it into ``dtype``: representable (a
    negative int wraps into an unsigned dtype, -1 is 255 in uint8), or refused rather than
    overflowed; returns the value to write."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    if dtype.kind in "iu":
        return checked_scalar(value, dtype, "masked_fill")
    if dtype.kind == "f" and np.isfinite(value) and abs(value) > float(np.finfo(dtype).max):
        raise ValueError(f"masked_fill: value {value} cannot be converted to {dtype} "
                         f"without overflow")
    return value


def split(tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Views of ``tensor`` along ``dim``: pieces of ``split_size_or_sections`` (an int; the
    last piece may be smaller) or of the given sizes (a list summing to the dimension's
    size), as ``torch.split``.

    Example::

        >>> [p.tolist() for p in gpugrad.arange(5).split(2)]
        [[0, 1], [2, 3], [4]]
        >>> [p.tolist() for p in gpugrad.arange(5).split([1, 4])]
        [[0], [1, 2, 3, 4]]
    """
    dim = checked_dim(tensor, dim, "split")
    n = tensor.shape[dim]
    spec = split_size_or_sections
    if isinstance(spec, numbers.Integral) or getattr(spec, "ndim", None) == 0:
        size = as_int(spec, "split", "split_size")     # (a NumPy int, a 0-d tensor too)
        if size <= 0 and n:
            raise ShapeError(f"split: the split size must be positive, got {size}")
        sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
    else:
        sizes = [as_int(s, "split", "split_size_or_sections[i]") for s in spec]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ShapeError(f"split: sections {sizes} must be non-negative and sum to the "
                             f"size of dimension {dim}, {n}")
    pieces, start = [], 0
    for size in sizes:
        index = (slice(None),) * dim + (slice(start, start + size),)
        pieces.append(indexing.getitem(tensor, index))
        start += size
    return tuple(pieces)


def chunk(input, chunks: int, dim: int = 0) -> tuple:
    """``input`` cut into ``chunks`` views along ``dim`` (each of ceil(size / chunks), the
    last smaller; fewer when the size is too small), as ``torch.chunk``.

    Example::

        >>> [len(c) for c in gpugrad.arange(10).chunk(4)]
        [3, 3, 3, 1]
    """
    chunks = as_int(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise ShapeError(f"chunk: chunks must be a positive int, got {chunks}")
    n = input.shape[checked_dim(input, dim, "chunk")]
    if n == 0:                          # (PyTorch's: ``chunks`` empty pieces)
        return split(input, [0] * chunks, dim)
    return split(input, -(-n // chunks), dim)


def repeat(input, *sizes):
    """``input`` tiled ``sizes[d]`` times along each dimension, as ``torch.Tensor.repeat``
    (NumPy's ``tile``): ``sizes`` has at least ``input.ndim`` entries; extra ones are new
    leading dimensions. Differentiable (the gradient sums the copies).

    Example::

        >>> gpugrad.tensor([1, 2]).repeat(2, 2).tolist()
        [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(as_int(s, "repeat", "sizes[i]") for s in sizes)
    if len(sizes) < input.ndim or any(s < 0 for s in sizes):
        raise ShapeError(f"repeat: give one non-negative count per dimension (at least "
                         f"{input.ndim} for shape {tuple(input.shape)}), got {sizes}")
    dims = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
    interleaved = [s for n in dims for s in (1, n)]             # (1, n0, 1, n1, ...)
    spread = [s for count, n in zip(sizes, dims) for s in (count, n)]
    out = shape.broadcast_to(input.reshape(*interleaved), tuple(spread))
    # a copy, as PyTorch's: the broadcast is a view of ``input`` (or read-only)
    return unary.clone(out).reshape(*(count * n for count, n in zip(sizes, dims)))


def mm(input, mat2):
    """The matrix product of two 2-d tensors, as ``torch.mm``: (n, m) @ (m, p) -> (n, p).

    Example::

        >>> gpugrad.mm(gpugrad.ones(2, 3), gpugrad.ones(3, 4)).shape
        (2, 4)
    """
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"mm: both operands must be 2-d matrices, got shapes "
                         f"{tuple(input.shape)} and {tuple(mat2.shape)} (use matmul for "
                         f"batches and vectors)")
    return linalg.matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix products of two 3-d tensors with the same batch size, as
    ``torch.bmm``: (b, n, m) @ (b, m, p) -> (b, n, p).

    Example::

        >>> gpugrad.bmm(gpugrad.ones(5, 2, 3), gpugrad.ones(5, 3, 4)).shape
        (5, 2, 4)
    """
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: both operands must be 3-d with the same batch size, got "
                         f"shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return linalg.matmul(input, mat2)
