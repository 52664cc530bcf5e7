"""Rearranging elements as PyTorch spells it: ``unbind``, ``narrow``, ``flip``, ``roll``,
``tril``/``triu``, ``tile``, ``rot90``, ``meshgrid``, ``broadcast_tensors``... Composites of
the indexing, shape, concatenate and where records: their gradients, tangents and batching
rules are those records'.

Example::

    >>> x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = gpugrad.roll(x, 1, 1)               # each row rotated one place to the right
    >>> y.tolist()
    [[2.0, 1.0], [4.0, 3.0]]
    >>> (y * gpugrad.tensor([10.0, 1.0])).sum().backward()
    >>> x.grad.tolist()
    [[1.0, 10.0], [1.0, 10.0]]
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from .. import creation
from ..tensor import Tensor
from . import elementwise, indexing, inplace, masked, selection, shape, splitting, unary
from .shape_errors import ShapeError, as_dims, checked_dim
from ..scalar_casts import as_int

__all__ = ["unbind", "narrow", "flip", "fliplr", "flipud", "roll", "tril", "triu", "tile",
           "expand_as", "reshape_as", "broadcast_tensors", "broadcast_shapes", "meshgrid",
           "swapaxes", "swapdims", "rot90"]


def _dims(dims, x, op: str) -> tuple:
    """``dims`` (an int, a NumPy int, a 0-d integer tensor, or a sequence of them) as
    distinct non-negative axes of ``x``."""
    dims = as_dims(dims)
    axes = tuple(checked_dim(x, d, op) for d in dims)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{op}: dims {dims} name a dimension twice")
    return axes


def unbind(input, dim: int = 0) -> tuple:
    """The slices of ``input`` along ``dim``, as ``torch.unbind`` (views).

    Shapes: (..., n, ...) -> n tensors without that dimension.

    Example::

        >>> [t.tolist() for t in gpugrad.unbind(gpugrad.tensor([[1, 2], [3, 4]]), 1)]
        [[1, 3], [2, 4]]
    """
    if input.ndim == 0:
        raise IndexError("unbind: a 0-d tensor has no dimension to unbind")
    axis = checked_dim(input, dim, "unbind")
    lead = (slice(None),) * axis
    return tuple(indexing.getitem(input, lead + (i,)) for i in range(input.shape[axis]))


def narrow(input, dim: int, start, length: int):
    """``length`` elements of ``input`` along ``dim`` from ``start`` (negative counts from
    the end; an int or a 0-d integer tensor), as ``torch.narrow`` (a view).

    Example::

        >>> gpugrad.arange(6).narrow(0, 2, 3).tolist()
        [2, 3, 4]
    """
    if input.ndim == 0:
        raise IndexError("narrow: a 0-d tensor cannot be narrowed")
    axis = checked_dim(input, dim, "narrow")
    if isinstance(start, Tensor):
        if start.ndim or start.dtype.kind not in "iu":
            raise TypeError(f"narrow: start must be an int or a 0-d integer tensor, got "
                            f"{start.dtype} of shape {tuple(start.shape)}")
        start = start.item()
    start, length = operator.index(start), operator.index(length)
    n = input.shape[axis]
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dimension {dim} of size "
                         f"{n} (expected {-n} to {n})")
    start = start % n if start < 0 else start
    if length < 0 or start + length > n:
        raise ShapeError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                         f"{dim}'s size {n} (or length is negative)")
    index = (slice(None),) * axis + (slice(start, start + length),)
    return indexing.getitem(input, index)


def flip(input, dims):
    """``input`` with the order of elements reversed along ``dims`` (an int or a sequence),
    as ``torch.flip`` (a copy, as PyTorch's).

    Example::

        >>> gpugrad.flip(gpugrad.tensor([[1, 2], [3, 4]]), (0, 1)).tolist()
        [[4, 3], [2, 1]]
    """
    axes = _dims(dims, input, "flip")
    if input.ndim == 0:
        return unary.clone(input)
    index = tuple(slice(None, None, -1) if d in axes else slice(None)
                  for d in range(input.ndim))
    return unary.clone(indexing.getitem(input, index))


def fliplr(input):
    """``input`` flipped left to right (dimension 1), as ``torch.fliplr``; at least 2-d.

    Example::

        >>> gpugrad.fliplr(gpugrad.tensor([[1, 2], [3, 4]])).tolist()
        [[2, 1], [4, 3]]
    """
    if input.ndim < 2:
        raise ShapeError(f"fliplr: the input must have at least 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    return flip(input, 1)


def flipud(input):
    """``input`` flipped upside down (dimension 0), as ``torch.flipud``; at least 1-d.

    Example::

        >>> gpugrad.flipud(gpugrad.tensor([[1, 2], [3, 4]])).tolist()
        [[3, 4], [1, 2]]
    """
    if input.ndim < 1:
        raise ShapeError("flipud: the input must have at least 1 dimension, got a 0-d tensor")
    return flip(input, 0)


def _roll_one(x, shift: int, axis: int):
    n = x.shape[axis]
    shift = shift % n if n else 0
    if shift == 0:
        return x
    lead = (slice(None),) * axis
    tail = indexing.getitem(x, lead + (slice(n - shift, None),))
    head = indexing.getitem(x, lead + (slice(0, n - shift),))
    return shape.concatenate([tail, head], axis=axis)


def roll(input, shifts, dims=None):
    """``input`` rotated by ``shifts`` places along ``dims`` (ints or tuples of one length;
    with ``dims=None``, the flattened tensor, shape restored), as ``torch.roll``.

    Example::

        >>> gpugrad.roll(gpugrad.arange(5), 2).tolist()
        [3, 4, 0, 1, 2]
        >>> gpugrad.roll(gpugrad.tensor([[1, 2], [3, 4]]), (1, 1), (0, 1)).tolist()
        [[4, 3], [2, 1]]
    """
    shifts = tuple(as_int(s, "roll", "shifts") for s in as_dims(shifts))
    if dims is None:
        if len(shifts) != 1:
            raise ShapeError(f"roll: without dims, give one shift (the flattened tensor is "
                             f"rolled), got {shifts}")
        flat = shape.reshape(input, -1)
        return shape.reshape(unary.clone(_roll_one(flat, shifts[0], 0)), input.shape)
    dims = as_dims(dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    out = input
    for s, d in zip(shifts, dims):
        out = _roll_one(out, s, checked_dim(input, d, "roll"))
    return unary.clone(out) if out is input else out


def _triangle(input, diagonal: int, lower: bool, op: str):
    if input.ndim < 2:
        raise ShapeError(f"{op}: the input must have at least 2 dimensions (matrices or "
                         f"batches of them), got shape {tuple(input.shape)}")
    rows, cols = input.shape[-2:]
    i = creation.arange(rows, device=input.device).reshape(rows, 1)
    j = creation.arange(cols, device=input.device).reshape(1, cols)
    offset = j - i                                      # (rows, cols): column - row
    diagonal = as_int(diagonal, op, "diagonal")
    keep = offset <= diagonal if lower else offset >= diagonal
    zero = creation.zeros((), dtype=input.dtype, device=input.device)
    return elementwise.where(keep, input, zero)


def tril(input, diagonal: int = 0):
    """The lower triangle of the matrices in ``input`` (``column - row <= diagonal``), zeros
    elsewhere, as ``torch.tril``. Shapes: (..., m, n) -> the same.

    Example::

        >>> gpugrad.tril(gpugrad.ones(3, 3)).tolist()
        [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    """
    return _triangle(input, diagonal, True, "tril")


def triu(input, diagonal: int = 0):
    """The upper triangle of the matrices in ``input`` (``column - row >= diagonal``), zeros
    elsewhere, as ``torch.triu``. Shapes: (..., m, n) -> the same.

    Example::

        >>> gpugrad.triu(gpugrad.ones(2, 3), diagonal=1).tolist()
        [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
    """
    return _triangle(input, diagonal, False, "triu")


def tile(input, dims):
    """``input`` repeated ``dims[d]`` times along each dimension, as ``torch.tile``: fewer
    counts than dimensions are padded with leading 1s (unlike ``repeat``).

    Example::

        >>> gpugrad.tile(gpugrad.tensor([[1, 2]]), (2,)).tolist()
        [[1, 2, 1, 2]]
    """
    dims = as_dims(dims)
    dims = (1,) * (input.ndim - len(dims)) + dims
    return selection.repeat(input, *dims)


def expand_as(input, other):
    """``input`` broadcast to ``other``'s shape, as ``Tensor.expand_as`` (a view).

    Example::

        >>> gpugrad.tensor([1, 2]).expand_as(gpugrad.zeros(3, 2)).shape
        (3, 2)
    """
    return shape.broadcast_to(input, tuple(other.shape))


def reshape_as(input, other):
    """``input`` in ``other``'s shape, as ``Tensor.reshape_as``.

    Example::

        >>> gpugrad.arange(6).reshape_as(gpugrad.zeros(2, 3)).shape
        (2, 3)
    """
    return shape.reshape(input, tuple(other.shape))


def broadcast_shapes(*shapes) -> tuple:
    """The shape that ``shapes`` (tuples, or ints for 1-d shapes) broadcast to, as
    ``torch.broadcast_shapes`` (NumPy's rules), or a ValueError naming them.

    Example::

        >>> gpugrad.broadcast_shapes((2, 1), (3,), 1)
        (2, 3)
    """
    shapes = [(s,) if isinstance(s, numbers.Integral) else tuple(s) for s in shapes]
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        listed = ", ".join(str(s) for s in shapes)
        raise ShapeError(f"broadcast_shapes: shapes {listed} cannot be broadcast together "
                         f"(aligned from the right, each dimension must be equal or 1)"
                         ) from None


def broadcast_tensors(*tensors) -> tuple:
    """The tensors broadcast to one shape, as ``torch.broadcast_tensors`` (views).

    Example::

        >>> a, b = gpugrad.broadcast_tensors(gpugrad.zeros(2, 1), gpugrad.zeros(3))
        >>> a.shape, b.shape
        ((2, 3), (2, 3))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    target = broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(shape.broadcast_to(t, target) for t in tensors)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-d (or 0-d) tensors, as ``torch.meshgrid``: with
    ``indexing='ij'`` (the default) output ``k`` varies along dimension ``k``; with
    ``'xy'`` the first two dimensions are swapped (NumPy's default). Views.

    Shapes: (n0,), (n1,), ... -> each (n0, n1, ...) ('xy': (n1, n0, ...)).

    Example::

        >>> xs, ys = gpugrad.meshgrid(gpugrad.tensor([1, 2]), gpugrad.tensor([3, 4, 5]))
        >>> xs.tolist(), ys.shape
        ([[1, 1, 1], [2, 2, 2]], (2, 3))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise ShapeError("meshgrid needs at least one tensor")
    for t in tensors:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-d or 1-d tensors, got shape "
                             f"{tuple(t.shape)}")
    flat = [shape.reshape(t, -1) for t in tensors]
    sizes = tuple(t.shape[0] for t in flat)
    grids = []
    for k, t in enumerate(flat):
        lined = [1] * len(flat)
        lined[k] = sizes[k]
        grids.append(shape.broadcast_to(shape.reshape(t, tuple(lined)), sizes))
    if indexing == "xy" and len(flat) >= 2:
        grids = [shape.transpose(g, 0, 1) for g in grids]
    return tuple(grids)


def swapaxes(input, axis0: int, axis1: int):
    """``input`` with dimensions ``axis0`` and ``axis1`` swapped, as ``torch.swapaxes`` (an
    alias of ``transpose``; a view).

    Example::

        >>> gpugrad.swapaxes(gpugrad.zeros(2, 3, 4), 0, 2).shape
        (4, 3, 2)
    """
    a0, a1 = checked_dim(input, axis0, "swapaxes"), checked_dim(input, axis1, "swapaxes")
    return shape.transpose(input, a0, a1)


def swapdims(input, dim0: int, dim1: int):
    """``input`` with dimensions ``dim0`` and ``dim1`` swapped, as ``torch.swapdims``.

    Example::

        >>> gpugrad.swapdims(gpugrad.zeros(2, 3), 0, 1).shape
        (3, 2)
    """
    return swapaxes(input, dim0, dim1)


def rot90(input, k: int = 1, dims=(0, 1)):
    """``input`` rotated by 90 degrees ``k`` times in the plane of ``dims``, from the first
    towards the second, as ``torch.rot90`` (a copy).

    Example::

        >>> gpugrad.rot90(gpugrad.tensor([[1, 2], [3, 4]])).tolist()
        [[2, 4], [1, 3]]
    """
    dims = tuple(dims)
    if len(dims) != 2:
        raise ShapeError(f"rot90: dims must name two dimensions, got {dims}")
    if input.ndim < 2:
        raise ShapeError(f"rot90: the input must have at least 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    d0, d1 = _dims(dims, input, "rot90")
    k = as_int(k, "rot90", "k") % 4
    if k == 1:
        return shape.transpose(flip(input, d1), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return shape.transpose(flip(input, d0), d0, d1)
    return unary.clone(input)


def _flip_method(self, *dims):
    """``torch.Tensor.flip``: dims as one sequence or as separate ints."""
    return flip(self, as_dims(dims[0]) if len(dims) == 1 else dims)


def _tile_method(self, *dims):
    """``torch.Tensor.tile``: counts as one sequence or as separate ints."""
    return tile(self, as_dims(dims[0]) if len(dims) == 1 else dims)


METHODS: dict = {
    "unbind": unbind, "narrow": narrow, "flip": _flip_method, "fliplr": fliplr,
    "flipud": flipud, "roll": roll, "tril": tril, "triu": triu, "tile": _tile_method,
    "expand_as": expand_as, "reshape_as": reshape_as, "swapaxes": swapaxes,
    "swapdims": swapdims, "rot90": rot90,
    "tril_": inplace.in_place_method(tril), "triu_": inplace.in_place_method(triu),
}
METHODS.update(masked.METHODS)          # (methods.py installs this module's METHODS only)
METHODS.update(splitting.METHODS)
