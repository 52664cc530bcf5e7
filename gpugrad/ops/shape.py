"""Shape ops: reshape/view, permute/transpose, squeeze/unsqueeze, broadcast_to/expand,
concatenate/cat and stack (indexing is indexing.py). All are linear, so their forward rule
is the op itself.

Example::

    >>> x = gpugrad.arange(6.0).reshape(2, 3)
    >>> x.T.shape, x[:, 1].shape, gpugrad.stack([x, x]).shape
    ((3, 2), (2,), (2, 2, 3))
"""

from __future__ import annotations

import math

import numpy as np

from . import batching as _batching
from .indexing import GetItem, getitem  # noqa: F401  (getitem: also importable from here)
from .join_dtypes import in_common_dtype, without_legacy_empties
from .record import BROADCAST, LINEAR, Op, apply, zeros_with
from .op_class import HOLOMORPHIC
from .shape_errors import DimError, ShapeError, as_dims, as_int, checked_dim, dim_error
from . import reduce as _reduce  # reduce imports this module: use its names at call time

__all__ = ["alias", "reshape", "view", "permute", "movedim", "moveaxis", "transpose", "squeeze",
           "unsqueeze", "flatten", "broadcast_to", "expand", "getitem", "concatenate", "cat",
           "stack"]


class Alias(Op):
    """The same values under a new identity (a view): a dual tensor, a differentiable handle."""

    view = True
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x):
        return x.view()

    @staticmethod
    def vjp(ctx, g):
        return g

    jvp = LINEAR


class Reshape(Op):
    """The same elements in a new ``shape`` (a view when the memory layout allows)."""

    view = True
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, shape):
        return x.reshape(shape)

    @staticmethod
    def vjp(ctx, g):
        return reshape_to(g, ctx.shapes[0])

    jvp = LINEAR

    @staticmethod
    def vmap(xs, batched, shape):
        (x,) = xs
        return apply(Reshape, x, shape=(x.shape[0],) + tuple(shape))


class Permute(Op):
    """Axes reordered by ``axes`` (a view)."""

    view = True
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, axes):
        return x.transpose(axes)

    @staticmethod
    def vjp(ctx, g):
        return apply(Permute, g, axes=tuple(np.argsort(ctx.axes).tolist()))

    jvp = LINEAR

    @staticmethod
    def vmap(xs, batched, axes):
        return apply(Permute, xs[0], axes=(0,) + tuple(a + 1 for a in axes))


class BroadcastTo(Op):
    """``x`` broadcast to ``shape`` (a read-only view)."""

    view = True
    broadcasts = True
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, shape):
        return xp.broadcast_to(x, shape)

    @staticmethod
    def vjp(ctx, g):
        return _reduce.sum_to(g, ctx.shapes[0])

    jvp = LINEAR

    @staticmethod
    def vmap(xs, batched, shape):
        x = _batching.lift(xs[0], len(shape))
        return apply(BroadcastTo, x, shape=(x.shape[0],) + tuple(shape))


class Concatenate(Op):
    """Inputs joined along ``axis``."""
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, *xs, axis):
        return xp.concatenate(xs, axis=axis)

    @staticmethod
    def vjp(ctx, g):
        grads, start = [], 0
        for i, shape in enumerate(ctx.shapes):
            stop = start + shape[ctx.axis]
            if ctx.needs(i):
                index = (slice(None),) * ctx.axis + (slice(start, stop),)
                grads.append(apply(GetItem, g, index=index, scatter_free=True))
            else:
                grads.append(None)
            start = stop
        return tuple(grads)

    @staticmethod
    def jvp(ctx, *t):
        like = next(ti for ti in t if ti is not None)
        filled = [ti if ti is not None else zeros_with(like, ctx.shapes[i], ctx.dtypes[i])
                  for i, ti in enumerate(t)]
        return apply(Concatenate, *filled, axis=ctx.axis)

    @staticmethod
    def vmap(xs, batched, axis):
        return apply(Concatenate, *_batching.with_batches(xs, batched), axis=axis + 1)


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def alias(x):
    """A view of ``x`` with its own identity, differentiable with respect to ``x``."""
    return apply(Alias, x)


def reshape(x, *shape):
    """The elements of ``x`` in a new shape; one dimension may be -1 (inferred).

    Example (``x.reshape((2, -1))`` is the same)::

        >>> gpugrad.reshape(gpugrad.arange(6.0), 2, -1)          # (6,) -> (2, 3)
        tensor([[0., 1., 2.],
                [3., 4., 5.]], device='cpu', dtype=float32)
    """
    shape = _shape_arg(shape)
    count = x.numel()                   # (the same shape: a new view all the same, its own
    if -1 in shape:                     # place in the graph)
        known = math.prod(n for n in shape if n != -1)
        if shape.count(-1) > 1 or known == 0 or count % known:
            raise _reshape_error(x, shape)
        shape = tuple(count // known if n == -1 else n for n in shape)
    elif math.prod(shape) != count:
        raise _reshape_error(x, shape)
    return apply(Reshape, x, shape=shape)


def _reshape_error(x, shape) -> ShapeError:
    return ShapeError(f"cannot reshape a tensor of shape {tuple(x.shape)} ({x.numel()} "
                      f"elements) to {shape}")


view = reshape


def permute(x, *axes):
    """``x`` with its axes reordered: ``permute(x, 2, 0, 1)``."""
    axes = _shape_arg(axes)
    if not all([a.__class__ is int for a in axes]):     # (np.int64, a 0-d tensor: ints)
        axes = tuple([as_int(a, "permute") for a in axes])
    ndim = x.ndim
    in_range = all(-ndim <= a < ndim for a in axes)         # (as normalize_axis checks)
    normalized = tuple([a % ndim for a in axes]) if ndim and in_range else axes
    if not in_range or len(normalized) != ndim or len(set(normalized)) != ndim:
        error = DimError if not in_range else ShapeError
        raise error(f"permute: {axes} is not a permutation of the {x.ndim} axes of a tensor "
                    f"of shape {tuple(x.shape)}: give each dimension once, from {-ndim} to "
                    f"{ndim - 1}")
    return apply(Permute, x, axes=normalized)


def movedim(x, source, destination):
    """``x`` with dimension(s) ``source`` moved to position(s) ``destination`` (ints or
    sequences of one length), the others in their order, as ``torch.movedim`` (a view).

    Example::

        >>> gpugrad.movedim(gpugrad.zeros(2, 3, 4), 2, 0).shape
        (4, 2, 3)
        >>> gpugrad.zeros(2, 3, 4).movedim((0, 1), (2, 0)).shape
        (3, 4, 2)
    """
    sources, destinations = as_dims(source), as_dims(destination)
    if len(sources) != len(destinations):
        raise ShapeError(f"movedim: source {source} and destination {destination} must name "
                         f"as many dimensions")
    sources = [checked_dim(x, d, "movedim") for d in sources]
    destinations = [checked_dim(x, d, "movedim") for d in destinations]
    for named, what in ((sources, "source"), (destinations, "destination")):
        if len(set(named)) != len(named):
            raise ShapeError(f"movedim: repeated dimension in {what} {named}")
    if x.ndim == 0:
        return alias(x)
    order = [None] * x.ndim
    for s, d in zip(sources, destinations):
        order[d] = s
    rest = iter(d for d in range(x.ndim) if d not in sources)
    return apply(Permute, x, axes=tuple(s if s is not None else next(rest) for s in order))


moveaxis = movedim


def transpose(x, dim0: int = -2, dim1: int = -1):
    """``x`` with axes ``dim0`` and ``dim1`` swapped (the last two by default; a view; a
    0-d or 1-d tensor is its own transpose, as a new view)."""
    if dim0.__class__ is not int or dim1.__class__ is not int:   # (np.int64: an int; a
        dim0, dim1 = as_int(dim0, "transpose"), as_int(dim1, "transpose")   # bool: refused)
    ndim = x.ndim
    if ndim < 2:
        if not (-2 <= dim0 <= 1 and -2 <= dim1 <= 1):   # (t.t() of a vector: (0, 1))
            raise dim_error("transpose", dim1 if -2 <= dim0 <= 1 else dim0, ndim)
        return alias(x)             # its own transpose, but a new tensor (as PyTorch)
    axes = list(range(ndim))
    try:
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    except (IndexError, TypeError):
        for d in (dim0, dim1):
            checked_dim(x, d, "transpose")
        raise
    return apply(Permute, x, axes=tuple(axes))


def squeeze(x, axis=None, *, dim=None):
    """``x`` without its size-1 axes (only those of ``dim``, an int or a tuple of ints, when
    given; the others stay, as ``torch.squeeze``). A view.

    Example::

        >>> x = gpugrad.zeros(2, 1, 3, 1)
        >>> x.squeeze().shape, x.squeeze(1).shape, x.squeeze((1, 3)).shape, x.squeeze(0).shape
        ((2, 3), (2, 3, 1), (2, 3), (2, 1, 3, 1))
    """
    axis = dim if dim is not None else axis
    shape = x.shape
    if axis is None:
        return apply(Reshape, x, shape=tuple([n for n in shape if n != 1]))
    ndim = len(shape)
    if axis.__class__ is int and -ndim <= axis < ndim:      # (the common case first)
        axis %= ndim
        if shape[axis] != 1:
            return apply(Reshape, x, shape=tuple(shape))
        return apply(Reshape, x, shape=tuple(shape[:axis]) + tuple(shape[axis + 1:]))
    axes = [checked_dim(x, a, "squeeze") for a in as_dims(axis)]
    if len(set(axes)) != len(axes):
        raise ShapeError(f"squeeze: a dimension appears more than once in {axis}")
    return apply(Reshape, x, shape=tuple(n for i, n in enumerate(shape)
                                         if i not in axes or n != 1))


def unsqueeze(x, axis: int = None, *, dim=None):
    """``x`` with a new size-1 axis at ``axis``: ``unsqueeze(x, 0)`` turns (3,) into (1, 3)."""
    axis = dim if dim is not None else axis
    if axis.__class__ is not int:
        if axis is None:
            raise TypeError("unsqueeze needs the position of the new axis, e.g. "
                            "unsqueeze(x, 0)")
        axis = as_int(axis, "unsqueeze")        # (np.int64(1), a 0-d tensor: ints)
    ndim = x.ndim
    position = axis if axis >= 0 else axis + ndim + 1
    if not 0 <= position <= ndim:
        raise dim_error("unsqueeze", axis, ndim + 1, x.shape)
    shape = x.shape
    return apply(Reshape, x, shape=tuple(shape[:position]) + (1,) + tuple(shape[position:]))


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """``x`` with axes ``start_dim``..``end_dim`` merged into one (a 0-d tensor becomes 1-d).

    Example::

        >>> gpugrad.zeros(2, 3, 4).flatten(1).shape
        (2, 12)
    """
    start, end = checked_dim(x, start_dim, "flatten"), checked_dim(x, end_dim, "flatten")
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                         f"tensor of shape {tuple(x.shape)}")
    if x.ndim == 0:
        return apply(Reshape, x, shape=(1,))
    merged = math.prod(x.shape[start:end + 1])
    return apply(Reshape, x, shape=tuple(x.shape[:start]) + (merged,) + tuple(x.shape[end + 1:]))


def broadcast_to(x, *shape):
    """``x`` repeated along size-1 (or missing leading) axes to ``shape``, without copying."""
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    if -1 in shape:
        if any(n == -1 for n in shape[:lead]):
            raise ShapeError(f"expand: -1 (keep the size) is not allowed in a new leading "
                             f"dimension: {shape} for a tensor of shape {tuple(x.shape)}")
        shape = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    if shape == tuple(x.shape):
        return alias(x)             # a new (writable) view with its own place in the graph
    if lead < 0 or any(n != 1 and n != shape[lead + i] for i, n in enumerate(x.shape)):
        raise ShapeError(f"broadcast_to: cannot broadcast a tensor of shape {tuple(x.shape)} "
                         f"to {shape}: each dimension must equal the target's or be 1, and the "
                         f"target must have at least as many dimensions")
    return apply(BroadcastTo, x, shape=shape)


expand = broadcast_to


def expand_to(x, shape):
    """For rules: ``x`` broadcast to ``shape``, or ``x`` itself if it has it (``broadcast_to``,
    for user code, always gives a new tensor). ``expand_to(t, t.shape) is t``."""
    return x if tuple(x.shape) == tuple(shape) else broadcast_to(x, shape)


def reshape_to(x, shape):
    """For rules: ``x`` in ``shape`` (no -1), or ``x`` itself if it has it (as ``expand_to``)."""
    return x if tuple(x.shape) == tuple(shape) else apply(Reshape, x, shape=tuple(shape))


def concatenate(tensors, axis: int = 0, *, dim=None):
    """The tensors joined along an existing ``axis``: shapes must match on the others. A 1-d
    empty tensor (``tensor([])``) next to tensors of other ranks is skipped (its dtype still
    counts), as PyTorch's legacy rule: ``cat([tensor([]), x])`` is ``x``.

    Example::

        >>> gpugrad.cat([gpugrad.ones(2, 3), gpugrad.zeros(1, 3), gpugrad.tensor([])]).shape
        (3, 3)
    """
    axis = dim if dim is not None else axis
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    if len(tensors) > 1 and any(t.ndim == 1 and t.shape[0] == 0 for t in tensors):
        kept = without_legacy_empties(tensors)
        if kept is not None:
            return concatenate(kept, axis)
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ShapeError("cannot concatenate 0-d tensors; use stack")
    axis = checked_dim(tensors[0], axis, "cat")
    for t in tensors[1:]:
        if t.ndim != ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, tensors[0].shape))
                                 if i != axis):
            raise ShapeError(f"concatenate along axis {axis}: shapes {tuple(tensors[0].shape)} "
                             f"and {tuple(t.shape)} differ outside that axis")
    return apply(Concatenate, *in_common_dtype(tensors), axis=axis)


cat = concatenate


def stack(tensors, axis: int = 0, *, dim=None):
    """The tensors (all the same shape) joined along a new ``axis``."""
    axis = dim if dim is not None else axis
    if axis.__class__ is not int:
        axis = as_int(axis, "stack")
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("stack needs at least one tensor")
    shape = tuple(tensors[0].shape)
    for t in tensors[1:]:
        if tuple(t.shape) != shape:
            raise ShapeError(f"stack needs tensors of one shape, got {shape} and {tuple(t.shape)}")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis=axis % (len(shape) + 1))

