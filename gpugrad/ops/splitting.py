"""Cutting and joining as PyTorch spells it: ``tensor_split``, ``hsplit``/``vsplit``/
``dsplit``, ``atleast_1d/2d/3d``, ``hstack``/``vstack``/``dstack``/``column_stack``,
``unflatten``, ``select``, ``narrow_copy``, and the ``t.H``/``t.mH`` properties. Composites
of the indexing, reshape, transpose and concatenate records: their gradients, tangents and
batching rules are those records'.

Example::

    >>> x = gpugrad.arange(7.0, requires_grad=True)
    >>> [p.tolist() for p in gpugrad.tensor_split(x, 3)]
    [[0.0, 1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    >>> gpugrad.hstack([x, x]).shape
    (14,)
"""

from __future__ import annotations

import math
import numbers
import operator

from ..scalar_casts import as_int
from ..tensor import Tensor
from . import indexing, shape, unary
from .complex_parts import conj
from .shape_errors import checked_dim
from .shape_errors import DimError, DtypeError, ShapeError

__all__ = ["tensor_split", "hsplit", "vsplit", "dsplit", "atleast_1d", "atleast_2d",
           "atleast_3d", "hstack", "vstack", "row_stack", "dstack", "column_stack",
           "unflatten", "select", "narrow_copy"]


def _split_points(indices_or_sections, n: int, op: str):
    """The start of each piece along a dimension of size ``n`` (Python slice bounds)."""
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.dtype.kind not in "iu" or spec.ndim > 1:
            raise DtypeError(f"{op}: a tensor of indices or sections must be a 0-d or 1-d "
                             f"integer tensor, got {spec.dtype} of shape {tuple(spec.shape)}")
        spec = spec.item() if spec.ndim == 0 else spec.tolist()
    if isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
        sections = int(spec)
        if sections <= 0:
            raise ShapeError(f"{op}: the number of sections must be positive, got {sections}")
        size, extra = divmod(n, sections)        # the first ``extra`` pieces one longer
        return [i * size + min(i, extra) for i in range(sections)] + [n]
    return [0] + [operator.index(i) for i in spec] + [None]


def tensor_split(input, indices_or_sections=None, dim: int = 0, *, sections=None,
                 indices=None) -> tuple:
    """Views of ``input`` along ``dim``, as ``torch.tensor_split``: an int ``sections``
    gives that many pieces of near-equal size (the first ``size % sections`` one longer);
    a list of ``indices`` gives the pieces between them (as Python slices, so indices may
    be negative, out of order or past the end: those pieces are empty or clipped).

    Example::

        >>> [p.tolist() for p in gpugrad.arange(7).tensor_split([1, 5])]
        [[0], [1, 2, 3, 4], [5, 6]]
    """
    spec = [s for s in (indices_or_sections, sections, indices) if s is not None]
    if len(spec) != 1:
        raise TypeError("tensor_split: give exactly one of indices_or_sections, sections "
                        "and indices")
    if input.ndim == 0:
        raise ShapeError("tensor_split: expects a tensor with at least 1 dimension, got a "
                         "0-d tensor")
    axis = checked_dim(input, dim, "tensor_split")
    bounds = _split_points(spec[0], input.shape[axis], "tensor_split")
    lead = (slice(None),) * axis
    return tuple(indexing.getitem(input, lead + (slice(start, stop),))
                 for start, stop in zip(bounds[:-1], bounds[1:]))


def _split_at(input, indices_or_sections, dim: int, op: str, least: int) -> tuple:
    if input.ndim < least:
        raise ShapeError(f"{op}: expects a tensor with at least {least} dimension(s), got "
                         f"shape {tuple(input.shape)}")
    spec = indices_or_sections
    if isinstance(spec, Tensor) and spec.ndim == 0:
        spec = as_int(spec, op, "sections")    # (a 0-d tensor: a number of sections)
    if isinstance(spec, numbers.Integral) and spec > 0 and input.shape[dim] % spec:
        raise ShapeError(f"{op}: dimension {dim} of size {input.shape[dim]} does not split "
                         f"into {spec} equal pieces (give split indices instead)")
    return tensor_split(input, spec, dim)


def hsplit(input, indices_or_sections) -> tuple:
    """``input`` split horizontally (along dimension 1, or 0 for 1-d input) into equal
    pieces or at the given indices, as ``torch.hsplit`` (views).

    Example::

        >>> [p.shape for p in gpugrad.zeros(2, 4).hsplit(2)]
        [(2, 2), (2, 2)]
    """
    return _split_at(input, indices_or_sections, 0 if input.ndim == 1 else 1, "hsplit", 1)


def vsplit(input, indices_or_sections) -> tuple:
    """``input`` (at least 2-d) split along dimension 0, as ``torch.vsplit`` (views).

    Example::

        >>> [p.shape for p in gpugrad.zeros(4, 2).vsplit([1])]
        [(1, 2), (3, 2)]
    """
    return _split_at(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections) -> tuple:
    """``input`` (at least 3-d) split along dimension 2, as ``torch.dsplit`` (views).

    Example::

        >>> [p.shape for p in gpugrad.zeros(1, 2, 4).dsplit(2)]
        [(1, 2, 2), (1, 2, 2)]
    """
    return _split_at(input, indices_or_sections, 2, "dsplit", 3)


def _at_least(tensors, ndim: int, grow):
    """``grow(t)`` for each tensor with fewer than ``ndim`` dimensions (others as they
    are): one tensor for one tensor argument, a tuple otherwise (as PyTorch's)."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        t = tensors[0]
        return grow(t) if t.ndim < ndim else t
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return tuple(grow(t) if t.ndim < ndim else t for t in tensors)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension (0-d becomes (1,)), as ``torch.atleast_1d``.

    Example::

        >>> gpugrad.atleast_1d(gpugrad.tensor(3.0)).shape
        (1,)
    """
    return _at_least(tensors, 1, lambda t: shape.reshape(t, 1))


def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions: () -> (1, 1), (n,) -> (1, n), as
    ``torch.atleast_2d``.

    Example::

        >>> gpugrad.atleast_2d(gpugrad.zeros(3)).shape
        (1, 3)
    """
    return _at_least(tensors, 2, lambda t: shape.reshape(t, (1, t.numel())))


def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions: () -> (1, 1, 1), (n,) -> (1, n, 1),
    (m, n) -> (m, n, 1), as ``torch.atleast_3d``.

    Example::

        >>> gpugrad.atleast_3d(gpugrad.zeros(2, 3)).shape
        (2, 3, 1)
    """
    def grow(t):
        if t.ndim == 2:
            return shape.unsqueeze(t, 2)
        return shape.reshape(t, (1, t.numel(), 1))
    return _at_least(tensors, 3, grow)


def _listed(tensors, op: str) -> list:
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op} needs at least one tensor")
    return tensors


def hstack(tensors):
    """The tensors joined horizontally: along dimension 1, or 0 for 1-d (and 0-d) ones, as
    ``torch.hstack``.

    Example::

        >>> gpugrad.hstack([gpugrad.zeros(2, 1), gpugrad.ones(2, 2)]).tolist()
        [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
    """
    tensors = atleast_1d(_listed(tensors, "hstack"))
    return shape.concatenate(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """The tensors joined vertically (along dimension 0; 1-d ones become rows), as
    ``torch.vstack``.

    Example::

        >>> gpugrad.vstack([gpugrad.zeros(3), gpugrad.ones(3)]).shape
        (2, 3)
    """
    return shape.concatenate(atleast_2d(_listed(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors):
    """The tensors joined depth-wise (along dimension 2, after ``atleast_3d``), as
    ``torch.dstack``.

    Example::

        >>> gpugrad.dstack([gpugrad.zeros(3), gpugrad.ones(3)]).shape
        (1, 3, 2)
    """
    return shape.concatenate(atleast_3d(_listed(tensors, "dstack")), 2)


def column_stack(tensors):
    """The tensors joined as columns (0-d and 1-d ones become columns (n, 1); the others
    join along dimension 1), as ``torch.column_stack``.

    Example::

        >>> gpugrad.column_stack([gpugrad.zeros(3), gpugrad.ones(3, 2)]).shape
        (3, 3)
    """
    tensors = [shape.reshape(t, (t.numel(), 1)) if t.ndim < 2 else t
               for t in _listed(tensors, "column_stack")]
    return shape.concatenate(tensors, 1)


def unflatten(input, dim: int, sizes):
    """``input`` with dimension ``dim`` split into ``sizes`` (one of them may be -1, worked
    out from the others), as ``torch.unflatten`` (a view; ``nn.Unflatten``'s function).

    Shapes: (..., n, ...) -> (..., *sizes, ...) with prod(sizes) == n.

    Example::

        >>> gpugrad.zeros(2, 6).unflatten(1, (3, -1)).shape
        (2, 3, 2)
    """
    axis = checked_dim(input, dim, "unflatten")
    sizes = tuple(as_int(s, "unflatten", "sizes[i]") for s in sizes)
    n = input.shape[axis] if input.ndim else 1
    if not sizes:
        raise ShapeError("unflatten: sizes must be non-empty")
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1 or (-1 in sizes and (known == 0 or n % known)) or \
            (-1 not in sizes and known != n):
        raise ShapeError(f"unflatten: sizes {sizes} do not multiply up to the size {n} of "
                         f"dimension {dim} (shape {tuple(input.shape)}; at most one -1)")
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    lead, rest = tuple(input.shape[:axis]), tuple(input.shape[axis + 1:])
    return shape.reshape(input, lead + sizes + rest)


def select(input, dim: int, index: int):
    """The slice of ``input`` at ``index`` (negative counts from the end) along ``dim``,
    without that dimension, as ``torch.select`` (a view; ``x.select(1, 0)`` is
    ``x[:, 0]``).

    Example::

        >>> gpugrad.tensor([[1, 2], [3, 4]]).select(1, -1).tolist()
        [2, 4]
    """
    if input.ndim == 0:
        raise DimError("select: cannot be applied to a 0-d tensor")
    axis = checked_dim(input, dim, "select")
    index, n = operator.index(index), input.shape[axis]
    if not -n <= index < n:
        raise DimError(f"select: index {index} is out of range for dimension {dim} of size "
                       f"{n} (shape {tuple(input.shape)})")
    return indexing.getitem(input, (slice(None),) * axis + (index,))


def narrow_copy(input, dim: int, start, length: int):
    """``narrow`` as a new tensor rather than a view, as ``torch.narrow_copy``.

    Example::

        >>> gpugrad.arange(6).narrow_copy(0, 1, 2).tolist()
        [1, 2]
    """
    from .rearrange import narrow       # (rearrange imports this module for its methods)
    return unary.clone(narrow(input, dim, start, length))


def _adjoint(self):
    """The conjugate transpose of the matrices in this tensor, as PyTorch's ``t.mH`` and
    ``t.adjoint()`` (real tensors: ``t.mT``; complex: ``conj(t.mT)``): (..., m, n) ->
    (..., n, m).

    Example::

        >>> gpugrad.zeros(5, 2, 3).mH.shape
        (5, 3, 2)
        >>> gpugrad.tensor([[1 + 2j, 3j]]).mH.tolist()
        [[(1-2j)], [-3j]]
    """
    if self.ndim == 0:
        return _conj(shape.alias(self))
    if self.ndim < 2:
        raise ShapeError(f"t.mH works on matrices or batches of matrices; this tensor has "
                         f"shape {tuple(self.shape)}")
    return _conj(shape.transpose(self, -2, -1))


def _conjugate_transpose(self):
    """The conjugate transpose of a matrix, as PyTorch's ``t.H`` (real tensors: ``t.T``;
    complex: ``conj(t.T)``; a 0-d tensor is its own conjugate)."""
    if self.ndim not in (0, 2):
        raise ShapeError(f"t.H works on matrices (2-d tensors); this tensor has shape "
                         f"{tuple(self.shape)}: use t.mH for batches of matrices")
    return _conj(shape.transpose(self, 0, 1))        # (alias(self) for 0-d)


def _conj(t):
    """``t`` conjugated when complex (a real ``t`` is returned as it is, a view)."""
    return conj(t) if t.dtype.kind == "c" else t


METHODS: dict = {
    "tensor_split": tensor_split, "hsplit": hsplit, "vsplit": vsplit, "dsplit": dsplit,
    "unflatten": unflatten, "select": select, "narrow_copy": narrow_copy,
    "movedim": shape.movedim, "moveaxis": shape.movedim,
    "H": property(_conjugate_transpose), "mH": property(_adjoint), "adjoint": _adjoint,
}
