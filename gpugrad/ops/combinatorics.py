"""Tensors built from pieces, as PyTorch spells them: ``block_diag``, ``cartesian_prod``,
``combinations``, ``diagflat``, ``vander`` (and ``gpugrad.linalg.vander``), and the matrix
products ``addr``, ``addbmm`` and ``chain_matmul``. All are composites of differentiable
ops (cat, index_select, cumprod, matmul...), so differentiable to any order.

Example::

    >>> gpugrad.block_diag(gpugrad.ones(1, 1), gpugrad.tensor([2.0, 3.0])).tolist()
    [[1.0, 0.0, 0.0], [0.0, 2.0, 3.0]]
    >>> gpugrad.combinations(gpugrad.tensor([1, 2, 3])).tolist()
    [[1, 2], [1, 3], [2, 3]]
"""

from __future__ import annotations

import itertools
import numbers
import warnings

from .. import creation
from ..tensor import Tensor
from . import unary
from .diagonal import diag
from .inplace import in_place_method
from .linalg import matmul
from .matrix_products import _added
from .promotion import promote_types
from .rearrange import meshgrid
from .selection import bmm, index_select
from .shape import cat, flatten, reshape, stack
from .shape_errors import ShapeError
from .statistics import cumprod

__all__ = ["block_diag", "cartesian_prod", "combinations", "diagflat", "vander",
           "linalg_vander", "addr", "addbmm", "chain_matmul"]


def block_diag(*tensors):
    """The tensors (0-d, 1-d or 2-d; a 1-d one is a row) along the diagonal of one matrix,
    zeros elsewhere, as ``torch.block_diag``; dtypes promoted. Differentiable.

    Shapes: (r_i, c_i) each -> (sum r_i, sum c_i); no tensors -> (1, 0).

    Example::

        >>> gpugrad.block_diag(gpugrad.tensor(5.0), gpugrad.ones(2, 1)).shape
        (3, 2)
    """
    blocks = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"block_diag: argument {i} is a {type(t).__name__}, not a tensor")
        if t.ndim > 2:
            raise ValueError(f"torch.block_diag: Input tensors must have 2 or fewer "
                             f"dimensions. Input {i} has {t.ndim} dimensions")
        blocks.append(reshape(t, (1, -1) if t.ndim < 2 else tuple(t.shape)))
    if not blocks:
        return creation.zeros((1, 0))
    dtype = blocks[0].dtype
    for b in blocks[1:]:
        dtype = promote_types(dtype, b.dtype)
    width = sum(b.shape[1] for b in blocks)
    device = blocks[0].device
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        pieces = [creation.zeros((r, left), dtype=dtype, device=device),
                  unary.astype(b, dtype),
                  creation.zeros((r, width - left - c), dtype=dtype, device=device)]
        rows.append(cat(pieces, 1))
        left += c
    return cat(rows, 0)


def cartesian_prod(*tensors):
    """Every tuple of one element from each 1-d tensor, in order (the first tensor
    slowest), as ``torch.cartesian_prod``; one tensor is returned as it is.

    Shapes: (n_1,), ..., (n_k,) -> (n_1 * ... * n_k, k).

    Example::

        >>> gpugrad.cartesian_prod(gpugrad.tensor([1, 2]), gpugrad.tensor([3, 4])).tolist()
        [[1, 3], [1, 4], [2, 3], [2, 4]]
    """
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor) or t.ndim != 1:
            raise ValueError(f"cartesian_prod: expected 1-d tensors, argument {i} has shape "
                             f"{tuple(getattr(t, 'shape', ()))}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([flatten(g) for g in grids], 1)


def combinations(input, r: int = 2, with_replacement: bool = False):
    """The length-``r`` combinations of the elements of a 1-d tensor, as
    ``torch.combinations`` (itertools' order; ``with_replacement``: an element may repeat).
    Differentiable.

    Shapes: (n,) -> (C(n, r), r) (``r`` = 0: (0,)).

    Example::

        >>> gpugrad.combinations(gpugrad.tensor([1, 2]), 2, with_replacement=True).tolist()
        [[1, 1], [1, 2], [2, 2]]
    """
    if input.ndim != 1:
        raise ValueError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if not isinstance(r, numbers.Integral) or r < 0:
        raise ValueError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return creation.zeros((0,), dtype=input.dtype, device=input.device)
    pick = (itertools.combinations_with_replacement if with_replacement
            else itertools.combinations)
    rows = list(pick(range(input.shape[0]), r))
    index = creation.tensor([i for row in rows for i in row], dtype="int64",
                            device=input.device)
    return reshape(index_select(input, 0, index), (len(rows), r))


def diagflat(input, offset: int = 0):
    """A 2-d tensor with the flattened ``input`` on its ``offset``-th diagonal, as
    ``torch.diagflat``.

    Shapes: (...) of n elements -> (n + |offset|, n + |offset|).

    Example::

        >>> gpugrad.diagflat(gpugrad.tensor([[1, 2]]), 1).tolist()
        [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    """
    return diag(flatten(input), offset)


def _powers(x, N: int, name: str):
    """x^0, x^1, ..., x^(N-1) along a new last dimension (a cumulative product, so the
    gradient at x = 0 is the polynomial's, with no 0 * inf)."""
    if not isinstance(N, numbers.Integral) or N < 0:
        raise ValueError(f"{name}: N must be non-negative, got {N!r}")
    if x.dtype.kind == "b" or x.dtype.kind in "iu":
        x = unary.astype(x, "int64")
    shape = tuple(x.shape) + (1,)
    if N == 0:
        return creation.zeros(shape[:-1] + (0,), dtype=x.dtype, device=x.device)
    ones = creation.ones(shape, dtype=x.dtype, device=x.device)
    if N == 1:
        return ones
    columns = cat([ones] + [reshape(x, shape)] * (N - 1), -1)
    return cumprod(columns, -1)


def vander(x, N=None, increasing: bool = False):
    """The Vandermonde matrix of a 1-d tensor, as ``torch.vander``: column j is
    ``x ** (N - 1 - j)`` (``increasing``: ``x ** j``); integer inputs give int64.

    Shapes: (n,) -> (n, N) (N defaults to n).

    Example::

        >>> gpugrad.vander(gpugrad.tensor([2, 3]), 3).tolist()
        [[4, 2, 1], [9, 3, 1]]
    """
    if x.ndim != 1:
        raise ValueError(f"x must be a one-dimensional tensor, got shape {tuple(x.shape)}")
    out = _powers(x, x.shape[0] if N is None else N, "vander")
    return out if increasing or out.shape[-1] < 2 else out[:, ::-1]


def linalg_vander(x, *, N=None):
    """``torch.linalg.vander``: the Vandermonde matrices of the vectors of ``x``, columns of
    increasing powers ``x ** 0, ..., x ** (N - 1)``; integer inputs give int64.

    Shapes: (..., n) -> (..., n, N) (N defaults to n; N must be > 1).

    Example::

        >>> from gpugrad.ops.combinatorics import linalg_vander   # gpugrad.linalg.vander
        >>> linalg_vander(gpugrad.tensor([2.0, 3.0])).tolist()
        [[1.0, 2.0], [1.0, 3.0]]
    """
    if x.ndim < 1:
        raise ValueError("linalg.vander: x must have at least one dimension")
    N = x.shape[-1] if N is None else N
    if not isinstance(N, numbers.Integral) or N <= 1:
        raise ValueError(f"linalg.vander: N must be greater than 1, got {N!r}")
    return _powers(x, N, "linalg.vander")


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``, as ``torch.addr``: input broadcast to
    (n, m); with beta=0 input is not read (its NaNs do not show).

    Shapes: input (n, m) or broadcastable, vec1 (n,), vec2 (m,) -> (n, m).

    Example::

        >>> gpugrad.addr(gpugrad.ones(2, 2), gpugrad.tensor([1.0, 2.0]),
        ...              gpugrad.tensor([3.0, 4.0]), alpha=2).tolist()
        [[7.0, 9.0], [13.0, 17.0]]
    """
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise ShapeError(f"addr: vec1 and vec2 must be 1-d, got shapes {tuple(vec1.shape)} "
                         f"and {tuple(vec2.shape)}")
    product = matmul(reshape(vec1, (-1, 1)), reshape(vec2, (1, -1)))
    return _added("addr", input, product, beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``, as ``torch.addbmm``.

    Shapes: input (n, p) or broadcastable, batch1 (b, n, m), batch2 (b, m, p) -> (n, p).

    Example::

        >>> gpugrad.addbmm(gpugrad.zeros(2, 2), gpugrad.ones(3, 2, 4),
        ...                gpugrad.ones(3, 4, 2)).tolist()
        [[12.0, 12.0], [12.0, 12.0]]
    """
    return _added("addbmm", input, bmm(batch1, batch2).sum(0), beta, alpha)


def chain_matmul(*matrices):
    """The product of 2-d matrices, left to right, as ``torch.chain_matmul`` (deprecated
    there, with a UserWarning, as here: use ``gpugrad.linalg.multi_dot``).

    Shapes: (n_0, n_1), (n_1, n_2), ... -> (n_0, n_k).

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     gpugrad.chain_matmul(gpugrad.ones(2, 3), gpugrad.ones(3, 1)).tolist()
        [[3.0], [3.0]]
    """
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two "
                  "or more tensors rather than multiple parameters.", UserWarning,
                  stacklevel=2)
    if not matrices:
        raise ValueError("chain_matmul(): Expected one or more matrices")
    for i, m in enumerate(matrices):
        if not isinstance(m, Tensor) or m.ndim != 2:
            raise ShapeError(f"chain_matmul(): Tensor dimension is "
                             f"{getattr(m, 'ndim', None)}, expected 2 instead (argument {i})")
    out = matrices[0]
    for m in matrices[1:]:
        if out.shape[1] != m.shape[0]:
            raise ShapeError(f"chain_matmul: shapes {tuple(out.shape)} and "
                             f"{tuple(m.shape)} cannot be multiplied")
        out = matmul(out, m)
    return out


METHODS = {"diagflat": diagflat, "addr": addr, "addr_": in_place_method(addr),
           "addbmm": addbmm, "addbmm_": in_place_method(addbmm)}
