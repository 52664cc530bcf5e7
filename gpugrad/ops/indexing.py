"""Indexing: ``x[index]`` with NumPy semantics (ints, slices, None, ..., integer and boolean
arrays) and its adjoint, adding a gradient into zeros at the indexed places. Both are
linear, so their forward rule is the op itself.

Example::

    >>> x = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> x[[0, 0, 2]].sum().backward()
    >>> x.grad                          # index 0 taken twice: its gradient adds up
    tensor([2., 0., 1.], device='cpu', dtype=float32)
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..settings import alert_not_deterministic
from ..autograd.compile_mode import kernel, note_reads, refuse_in_compile
from ..autograd.batched import escaped_error
from ..tensor import Tensor
from . import batching as _batching
from .record import LINEAR, Op, apply

__all__ = ["GetItem", "ScatterAdd", "getitem", "normalize_index"]


class GetItem(Op):
    """``x[index]``: basic indexing gives a view, integer/boolean arrays a copy."""

    view = True

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


def _index_part(part, device):
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
    elif isinstance(part, (list, tuple)):
        part = np.asarray(part)
        if part.size == 0:
            part = part.astype(np.intp)
    if isinstance(part, np.generic):
        part = part.item()
    if hasattr(part, "dtype"):
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


def normalize_index(x, index) -> tuple:
    """``index`` as a tuple whose array parts live on ``x``'s device, plus whether writing
    through it can hit one element twice (integer arrays can; slices and masks cannot)."""
    parts = index if isinstance(index, tuple) else (index,)
    device = x.device
    parts = tuple(_index_part(p, device) for p in parts)
    scatter_free = all(not hasattr(p, "dtype") or p.dtype.kind == "b" for p in parts)
    return parts, scatter_free


def getitem(x, index):
    """``x[index]`` with NumPy semantics (ints, slices, None, ..., integer and bool arrays)."""
    parts, scatter_free = normalize_index(x, index)
    return apply(GetItem, x, index=parts, scatter_free=scatter_free)
