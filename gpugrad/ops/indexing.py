"""Indexing: ``x[index]`` as PyTorch does it (ints, slices, None, ..., integer and boolean
arrays, ``range``; NumPy's rules except where the two differ, below) and its adjoint, adding
a gradient into zeros at the indexed places. Both are linear, so their forward rule is the
op itself.

Where PyTorch differs from NumPy: ints (and 0-d integer tensors) select first, as a view,
and only then do the index arrays index what is left, so ``x[0, :, i]`` keeps the ``:``
dimension in front, where NumPy puts ``i``'s first; a ``...`` that stands for no dimension
does not separate index arrays; and a ``uint8`` tensor or NumPy array is a mask (with
PyTorch's deprecation warning), not integer indices. ``normalize_index`` rewrites such an
index into the NumPy index that gives PyTorch's result, so every record built on it (the
reverse rule, ``x[index] = v``, in-place writes, vmap) follows the same rule.

Example::

    >>> x = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> x[[0, 0, 2]].sum().backward()
    >>> x.grad                          # index 0 taken twice: its gradient adds up
    tensor([2., 0., 1.], device='cpu', dtype=float32)
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import backend
from ..settings import alert_not_deterministic
from ..autograd.compile_mode import kernel, note_reads, refuse_in_compile
from ..autograd.batched import escaped_error
from ..tensor import Tensor
from . import batching as _batching
from .record import LINEAR, Op, apply
from .op_class import HOLOMORPHIC

__all__ = ["GetItem", "ScatterAdd", "getitem", "normalize_index"]


class GetItem(Op):
    """``x[index]``: basic indexing gives a view, integer/boolean arrays a copy."""

    view = True
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, index, scatter_free):
        out = x[index]
        if out.__class__ is not np.ndarray and isinstance(out, np.generic):
            out = x[index + (Ellipsis,)]    # one element: a 0-d view, as PyTorch's x[i] is
        return out

    @staticmethod
    def vjp(ctx, g):
        return apply(ScatterAdd, g, shape=ctx.shapes[0], index=ctx.index,
                     scatter_free=ctx.scatter_free)

    jvp = LINEAR

    @staticmethod
    def vmap(xs, batched, index, scatter_free):
        (x,) = xs
        size = x.shape[0] if batched[0] else _batching.mapped_size(index)
        index = _batching.batched_index(index, size, batched[0])
        return None if index is None else apply(GetItem, x, index=index,
                                                scatter_free=scatter_free)


class ScatterAdd(Op):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices add up); the
    adjoint of ``GetItem``."""
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, g, shape, index, scatter_free):
        out = xp.zeros(shape, dtype=g.dtype)
        if scatter_free:
            out[index] = g
        else:
            if xp is not np:                    # (CuPy adds repeated places with atomics)
                alert_not_deterministic("index_add, scatter_add and the gradient of "
                                        "indexing with repeated indices", "cuda")
            xp.add.at(out, index, g)
        return out

    @staticmethod
    def vjp(ctx, g):
        return apply(GetItem, g, index=ctx.index, scatter_free=ctx.scatter_free)

    jvp = LINEAR

    @staticmethod
    def vmap(xs, batched, shape, index, scatter_free):
        (g,) = xs
        size = g.shape[0] if batched[0] else _batching.mapped_size(index)
        index = _batching.batched_index(index, size)
        return None if index is None else apply(ScatterAdd, g, shape=(size,) + tuple(shape),
                                                index=index, scatter_free=scatter_free)


def _index_part(part, device, stacklevel):
    if isinstance(part, Tensor) and part._batched:        # a per-example index (vmap)
        if not part._level.active:
            raise escaped_error()
        if part.dtype.kind not in "iu":
            raise IndexError(
                f"vmap: indexing with a batched {part.dtype} index (a mask that differs per "
                f"example) would give each example a different shape; use "
                f"gpugrad.where(mask, x, 0.0) instead, or integer indices")
        return part
    if isinstance(part, Tensor):
        note_reads(part)
        part = part._array
    elif isinstance(part, (list, tuple, range)):
        part = np.asarray(part)
        if part.size == 0:
            part = part.astype(np.intp)
    if isinstance(part, np.generic):
        part = part.item()
    if hasattr(part, "dtype"):
        if part.dtype.char == "B":            # uint8 (tensor or array): PyTorch's old mask
            warnings.warn("indexing with dtype uint8 is now deprecated, please use a dtype "
                          "bool instead (as in PyTorch, the uint8 tensor is taken as a mask)",
                          UserWarning, stacklevel=stacklevel)
            part = part.astype(bool)
        if part.dtype.kind not in "biu":
            raise IndexError(f"arrays used as indices must be integer or bool, not {part.dtype}")
        if part.dtype.kind == "b":
            refuse_in_compile("indexing with a boolean mask (the result's shape depends on "
                              "the mask's values)", "use gpugrad.where(mask, x, 0.0), or "
                              "integer indices")
        moved = backend.to_device(part, device)
        # the rules keep it: no aliasing (a compiled step copies the replay's index)
        return kernel(_copy, moved) if moved is part else moved
    if not (part is None or part is Ellipsis or isinstance(part, (slice, numbers.Integral))):
        raise IndexError(f"unsupported index {part!r}: use ints, slices, None, ..., or "
                         f"integer/boolean tensors and arrays")
    return part


def _copy(array):
    return array.copy()


def _converted(x, index, stacklevel: int):
    """``index``'s parts on ``x``'s device, whether writing through them can hit one element
    twice, and their kinds (see ``_kind``) where PyTorch's rule differs from NumPy's (None
    where NumPy's own rule gives PyTorch's result). ``stacklevel``: the caller's frame."""
    parts = index if isinstance(index, tuple) else (index,)
    device = x.device
    converted = []
    for p in parts:                 # (a loop, not a generator: the warning's stacklevel)
        converted.append(_index_part(p, device, stacklevel))
    parts = tuple(converted)
    scatter_free = plain = True
    for p in parts:
        if p.__class__ not in _BASIC:
            plain = False
            if hasattr(p, "dtype") and p.dtype.kind != "b":
                scatter_free = False
    if plain or len(parts) < 2:
        return parts, scatter_free, None
    kinds = [_kind(p) for p in parts]
    if "" in kinds and any(p is Ellipsis for p in parts):
        # PyTorch drops a ``...`` that stands for no dimension; NumPy would still count it
        # as separating the index arrays around it
        dots = [n for n, p in enumerate(parts) if p is Ellipsis]
        if sum(_consumed(p, k) for p, k in zip(parts, kinds)) == x.ndim:
            parts = parts[:dots[0]] + parts[dots[0] + 1:]
            del kinds[dots[0]]
    if len(parts) > 2 and _numpy_moves_arrays(kinds):
        return parts, scatter_free, kinds
    return parts, scatter_free, None


def normalize_index(x, index) -> tuple:
    """``index`` as a tuple whose array parts live on ``x``'s device, plus whether writing
    through it can hit one element twice (integer arrays can; slices and masks cannot)."""
    parts, scatter_free, kinds = _converted(x, index, 6)
    if kinds is not None:
        parts = _torch_layout(parts, kinds, tuple(x.shape), x.device)
    return parts, scatter_free


def getitem(x, index):
    """``x[index]`` as PyTorch indexes: ints, slices, None, ..., ``range``, lists, integer
    and bool tensors or arrays (a ``uint8`` tensor or array is a deprecated mask). Ints
    select first, so ``x[0, :, i]`` of ``x`` (A, B, C) and ``i`` (K,) is (B, K), not NumPy's
    (K, B).

    Example::

        >>> x = gpugrad.arange(27.0).reshape(3, 3, 3)
        >>> x[0, :, [2, 0]].tolist()
        [[2.0, 0.0], [5.0, 3.0], [8.0, 6.0]]
    """
    parts, scatter_free, kinds = _converted(x, index, 5)
    if kinds is not None:
        if all(p.__class__ is int if k == "i" else not isinstance(p, Tensor)
               for p, k in zip(parts, kinds)):
            # as PyTorch: the ints select a view first (cheaper than _torch_layout's arange
            # arrays), and then NumPy's rule, without the ints, is PyTorch's (a per-example
            # index keeps _torch_layout, which vmap's batched_index covers)
            first, rest = _split_ints(parts, kinds)
            x = apply(GetItem, x, index=first, scatter_free=True)
            return apply(GetItem, x, index=rest, scatter_free=scatter_free)
        parts = _torch_layout(parts, kinds, tuple(x.shape), x.device)
    return apply(GetItem, x, index=parts, scatter_free=scatter_free)


# ---------------------------------------------------------------------------------------------
# PyTorch's placement of the index arrays' dimensions, written as a NumPy index


_BASIC = frozenset((int, slice, type(None), type(Ellipsis)))   # parts of a plain index


def _kind(part) -> str:
    """"i" for a part PyTorch selects with first (an int, a 0-d integer array), "a" for an
    index array (integer or bool, a bool, a per-example index), "" for slice, None, ...."""
    if part.__class__ is int:
        return "i"
    if part is None or part is Ellipsis or part.__class__ is slice:
        return ""
    if isinstance(part, bool):
        return "a"
    if isinstance(part, numbers.Integral):
        return "i"
    if not isinstance(part, Tensor) and part.ndim == 0 and part.dtype.kind in "iu":
        return "i"
    return "a"


def _adjacent(positions: list) -> bool:
    return positions[-1] - positions[0] + 1 == len(positions)


def _numpy_moves_arrays(kinds: list) -> bool:
    """Whether NumPy puts the index arrays' dimensions first where PyTorch does not: NumPy
    counts the ints with the arrays, so a slice between them separates the group; PyTorch
    has selected with the ints already, so only the arrays themselves need be adjacent."""
    if "i" not in kinds or "a" not in kinds:
        return False
    if _adjacent([n for n, k in enumerate(kinds) if k]):
        return False
    rest = [k for k in kinds if k != "i"]
    return _adjacent([n for n, k in enumerate(rest) if k == "a"])


def _is_mask(part) -> bool:
    return isinstance(part, bool) or part.dtype.kind == "b"


def _consumed(part, kind: str) -> int:
    """How many of ``x``'s dimensions ``part`` (of ``kind``) indexes."""
    if part is None or part is Ellipsis or isinstance(part, bool):
        return 0
    if kind != "a":
        return 1
    return part.ndim if part.dtype.kind == "b" else 1


def _split_ints(parts: tuple, kinds: list) -> tuple:
    """``parts`` (Python ints for the ints) as two indices, PyTorch's order: the ints alone
    (a view), then the rest on what the ints left."""
    first, rest = [], []
    for p, k in zip(parts, kinds):
        if k == "i" or p is Ellipsis:
            first.append(p)
        else:
            first.extend((slice(None),) * _consumed(p, k))
        if k != "i":
            rest.append(p)
    return tuple(first), tuple(rest)


def _reshaped(array, shape: tuple):
    return array.reshape(shape)


def _placed(array, at: int, ndim: int):
    """``array`` with its dimensions at ``at``.. of ``ndim``, and 1s around them."""
    shape = (1,) * at + tuple(array.shape) + (1,) * (ndim - at - array.ndim)
    if isinstance(array, Tensor):                       # a per-example index (vmap)
        return array.reshape(shape)
    return kernel(_reshaped, array, shape)


def _int_array(value, shape: tuple, device):
    """The int ``value`` (or a 0-d integer array) as an integer array of ``shape`` (1s, or a
    0 where a False takes no element)."""
    if value.__class__ is int:
        return backend.asarray(np.full(shape, value, dtype=np.intp), device=device)
    return kernel(_sized, value, shape)


def _sized(array, shape: tuple):
    return array.reshape((1,) * len(shape))[tuple(slice(n) for n in shape)]


def _torch_layout(parts: tuple, kinds: list, shape: tuple, device) -> tuple:
    """``parts`` (of ``kinds``) rewritten so that NumPy's rule gives PyTorch's result: from
    the first int or array to the last, a slice becomes an ``arange`` and None a dimension
    of size 1 of the broadcast index, each at the place PyTorch gives its dimension; the
    arrays take their broadcast dimensions where PyTorch keeps them. The index arrays are
    then adjacent, and NumPy leaves their dimensions there."""
    dots = [n for n, p in enumerate(parts) if p is Ellipsis]
    if dots:
        at = dots[0]
        fill = (slice(None),) * (len(shape) - sum(map(_consumed, parts, kinds)))
        parts = parts[:at] + fill + parts[at + 1:]
        kinds = kinds[:at] + [""] * len(fill) + kinds[at + 1:]
    marked = [n for n, k in enumerate(kinds) if k]
    first, last = marked[0], marked[-1]
    width = max(1 if _is_mask(p) else p.ndim
                for p, k in zip(parts, kinds) if k == "a")   # the arrays' broadcast ndim
    region = list(zip(parts[first:last + 1], kinds[first:last + 1]))
    ndim = width + sum(1 for p, k in region if not k)
    dim = sum(map(_consumed, parts[:first], kinds[:first]))
    out, slot, block, ints, empty = list(parts[:first]), 0, None, [], False
    for p, k in region:
        if k == "i":
            ints.append(len(out))
            out.append(p)
            dim += 1
        elif p is None:
            slot += 1
        elif not k:
            steps = np.arange(*p.indices(shape[dim]), dtype=np.intp)
            out.append(_placed(backend.asarray(steps, device=device), slot, ndim))
            slot, dim = slot + 1, dim + 1
        else:
            if block is None:
                block, slot = slot, slot + width
            if not _is_mask(p):
                out.append(_placed(p, block + width - p.ndim, ndim))
                dim += 1
            elif isinstance(p, bool) or p.ndim == 0:    # a bool: a dimension of 1 (or 0)
                empty = empty or not bool(p)
            else:                                       # a mask: its nonzero positions
                out.extend(_placed(a, block + width - 1, ndim) for a in p.nonzero())
                dim += p.ndim
    if empty or len(out) - first == len(ints):
        # no array carries the broadcast shape (only ints, None and bools): the first int
        # does, with a 0 at the place of a False (the int's place then takes no element)
        size = [1] * ndim
        if empty:
            size[block + width - 1] = 0
        out[ints[0]] = _int_array(out[ints[0]], tuple(size), device)
    return tuple(out) + parts[last + 1:]
