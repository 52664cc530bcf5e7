"""Diagonals: ``diagonal``, ``diag``, ``diag_embed`` and ``trace``, as PyTorch's (two
records, each the other's adjoint: taking a diagonal, and writing one into zeros).

A diagonal of ``x`` over ``dim1`` and ``dim2`` removes those two dimensions and appends one
holding ``x[..., i, ..., i + offset, ...]`` (offset > 0: above the main diagonal). As
PyTorch's, it is a view: ``m.diagonal().fill_(1.0)`` writes into ``m``.

Example::

    >>> m = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> gpugrad.trace(m).backward()
    >>> gpugrad.diagonal(m).tolist(), m.grad.tolist()
    ([1.0, 4.0], [[1.0, 0.0], [0.0, 1.0]])
"""

from __future__ import annotations

import numpy as np

from .op_class import HOLOMORPHIC
from .record import LINEAR, Op, apply
from .reduce import sum as reduce_sum
from .shape_errors import checked_dim

__all__ = ["diagonal", "diag", "diag_embed", "trace"]


def _length(shape: tuple, offset: int, axis1: int, axis2: int) -> int:
    rows, cols = shape[axis1], shape[axis2]
    return max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))


def _diagonal_start(x, offset: int, axis1: int, axis2: int):
    """A view of ``x`` starting at its diagonal's first element (for ``as_strided``)."""
    index = [slice(None)] * x.ndim
    index[axis1 if offset < 0 else axis2] = slice(abs(offset), None)
    return x[tuple(index)]


def _diagonal_positions(xp, length: int, offset: int) -> tuple:
    """Row and column indices of the diagonal's ``length`` elements."""
    k = xp.arange(length)
    return (k, k + offset) if offset >= 0 else (k - offset, k)


class Diagonal(Op):
    """The diagonal over ``axis1`` and ``axis2`` (non-negative, different), appended as the
    last dimension: a view of the input. (..., n, ..., m, ...) -> (..., length)."""

    view = True
    complex_grad = HOLOMORPHIC      # linear

    @staticmethod
    def forward(xp, x, offset, axis1, axis2):
        out = xp.diagonal(x, offset, axis1, axis2)
        if xp is np and not out.flags.writeable and x.flags.writeable:
            # NumPy's diagonal is read-only; the same strides give a writable view
            out = np.lib.stride_tricks.as_strided(
                _diagonal_start(x, offset, axis1, axis2), out.shape, out.strides)
        return out

    @staticmethod
    def vjp(ctx, g):
        return apply(DiagonalEmbed, g, shape=ctx.shapes[0], offset=ctx.offset,
                     axis1=ctx.axis1, axis2=ctx.axis2)

    jvp = LINEAR

    @staticmethod
    def vmap(xs, batched, offset, axis1, axis2):
        return apply(Diagonal, xs[0], offset=offset, axis1=axis1 + 1, axis2=axis2 + 1)


class DiagonalEmbed(Op):
    """Zeros of ``shape`` with ``g`` (..., length) written on the diagonal over ``axis1``
    and ``axis2``: the adjoint of ``Diagonal``. (..., length) -> shape."""

    complex_grad = HOLOMORPHIC      # linear

    @staticmethod
    def forward(xp, g, shape, offset, axis1, axis2):
        out = xp.zeros(shape, dtype=g.dtype)
        moved = xp.moveaxis(out, (axis1, axis2), (-2, -1))        # a view of out
        rows, cols = _diagonal_positions(xp, g.shape[-1], offset)
        moved[..., rows, cols] = g
        return out

    @staticmethod
    def vjp(ctx, g):
        return apply(Diagonal, g, offset=ctx.offset, axis1=ctx.axis1, axis2=ctx.axis2)

    jvp = LINEAR

    @staticmethod
    def vmap(xs, batched, shape, offset, axis1, axis2):
        g = xs[0]
        return apply(DiagonalEmbed, g, shape=(g.shape[0],) + tuple(shape), offset=offset,
                     axis1=axis1 + 1, axis2=axis2 + 1)


def _two_dims(input, dim1: int, dim2: int, name: str) -> tuple:
    if input.ndim < 2:
        raise ValueError(f"{name}: the input must have at least 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    axis1, axis2 = checked_dim(input, dim1, name), checked_dim(input, dim2, name)
    if axis1 == axis2:
        raise ValueError(f"{name}: dim1 and dim2 must be different dimensions, got {dim1} "
                         f"and {dim2}")
    return axis1, axis2


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The diagonal of ``input`` over ``dim1`` and ``dim2`` (``offset`` > 0 above the main
    one), as ``torch.diagonal``: a view (writing into it writes into ``input``).

    Shapes: (..., n, ..., m, ...) -> the other dimensions + (length,).

    Example::

        >>> gpugrad.diagonal(gpugrad.arange(9.0).reshape(3, 3), offset=1).tolist()
        [1.0, 5.0]
    """
    axis1, axis2 = _two_dims(input, dim1, dim2, "diagonal")
    return apply(Diagonal, input, offset=int(offset), axis1=axis1, axis2=axis2)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """Matrices with the last dimension of ``input`` on their diagonal over ``dim1`` and
    ``dim2`` of the result, zeros elsewhere, as ``torch.diag_embed``.

    Shapes: (..., n) -> (..., n + |offset|, n + |offset|) (for the default dims).

    Example::

        >>> gpugrad.diag_embed(gpugrad.tensor([1.0, 2.0])).tolist()
        [[1.0, 0.0], [0.0, 2.0]]
    """
    n = input.shape[-1] if input.ndim else 1
    size = n + abs(int(offset))
    ndim = input.ndim + 1
    axis1, axis2 = dim1 % ndim, dim2 % ndim
    if not (-ndim <= dim1 < ndim and -ndim <= dim2 < ndim) or axis1 == axis2:
        raise ValueError(f"diag_embed: dim1={dim1} and dim2={dim2} must be two different "
                         f"dimensions of the {ndim}-d result")
    rest = iter(input.shape[:-1])
    shape = tuple(size if i in (axis1, axis2) else next(rest) for i in range(ndim))
    return apply(DiagonalEmbed, input, shape=shape, offset=int(offset), axis1=axis1,
                 axis2=axis2)


def diag(input, diagonal: int = 0):
    """As ``torch.diag``: a 1-d ``input`` (n,) becomes the matrix with it on diagonal
    ``diagonal`` (n + |diagonal| square); a 2-d ``input`` gives a copy of that diagonal.

    Example::

        >>> gpugrad.diag(gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [1.0, 4.0]
    """
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:                 # (a copy, as torch.diag's: not diagonal()'s view)
        return apply(Diagonal, input, offset=int(diagonal), axis1=0, axis2=1).clone()
    raise ValueError(f"diag: the input must be 1-d or 2-d, got shape {tuple(input.shape)} "
                     f"(use diagonal or diag_embed for batches)")


def trace(input):
    """The sum of the main diagonal of a matrix, as ``torch.trace``. Shapes: (n, m) -> ().

    Example::

        >>> gpugrad.trace(gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])).item()
        5.0
    """
    if input.ndim != 2:
        raise ValueError(f"trace: the input must be a 2-d matrix, got shape "
                         f"{tuple(input.shape)}")
    return reduce_sum(apply(Diagonal, input, offset=0, axis1=0, axis2=1))
