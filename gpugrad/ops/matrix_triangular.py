"""Triangular solves, as ``torch.linalg.solve_triangular``: one record, ``SolveTriangular``,
which the LU functions (matrix_lu.py) build on too.

Only the triangle of A that ``upper`` names is read (and not its diagonal when
``unitriangular``: ones are taken there), so the gradient of A lies in that triangle, as
PyTorch's. The forward is ``xp.linalg.solve`` on the triangle (NumPy has no triangular
solver: LAPACK's LU on a triangular matrix is as backward stable); where the triangle is
singular it falls back to substitution, which gives infinite or NaN values as PyTorch's
does (no error).

Example::

    >>> A = gpugrad.tensor([[2.0, 0.0], [1.0, 4.0]], dtype="float64", requires_grad=True)
    >>> X = gpugrad.linalg.solve_triangular(A, gpugrad.eye(2, dtype="float64"), upper=False)
    >>> X.numpy().tolist()
    [[0.5, 0.0], [-0.125, 0.25]]
    >>> X.sum().backward()
    >>> (A.grad.numpy() + 0.0).tolist()          # lower triangular, as A's triangle
    [[-0.1875, 0.0], [-0.125, -0.03125]]
"""

from __future__ import annotations

import numpy as np

from . import batching as _batching
from .linalg import matmul
from .matrix_common import (check_batches_broadcast, check_rhs_dtype, checked_matrix, constant,
                            mT)
from .op_class import HOLOMORPHIC
from .record import Op, apply
from .reduce import sum_to

__all__: list = []


def _triangle_mask(xp, n: int, upper: bool, unitriangular: bool):
    """Booleans (n, n): True on the triangle read (its diagonal unless ``unitriangular``)."""
    lower = xp.tri(n, n, -1 if unitriangular else 0, dtype=bool)
    return lower.T if upper else lower


def triangle_of(xp, a, upper: bool, unitriangular: bool):
    """The triangular matrix the solve sees: A's triangle, ones on the diagonal if unit."""
    n = a.shape[-1]
    t = xp.where(_triangle_mask(xp, n, upper, unitriangular), a, xp.zeros((), a.dtype))
    return t + xp.eye(n, dtype=a.dtype) if unitriangular else t


def _substitution(xp, t, b, upper: bool):
    """T^-1 B row by row (T triangular, its batch broadcast as B's): zero pivots give inf or
    NaN, as LAPACK's trsm does."""
    n = t.shape[-1]
    x = xp.zeros(b.shape, dtype=np.result_type(t, b))
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        known = xp.matmul(t[..., i:i + 1, :], x)[..., 0, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            x[..., i, :] = (b[..., i, :] - known) / t[..., i, i:i + 1]
    return x


def _mask_tensor(like, n: int, upper: bool, unitriangular: bool):
    return constant(like, lambda xp, dtype: _triangle_mask(xp, n, upper, unitriangular)
                    .astype(dtype))


class SolveTriangular(Op):
    """X = T^-1 B, T the ``upper`` (else lower) triangle of A, with ones on its diagonal if
    ``unitriangular``: A (..., n, n), B (..., n, k), batch dimensions broadcast.
    dX = T^-1 (dB - dT X); the cotangents gB = T^-T g and gA = -(gB X^T) on T's triangle
    (strictly, if unitriangular)."""

    save = "x0 ans"
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, a, b, upper, unitriangular):
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        t = xp.broadcast_to(triangle_of(xp, a, upper, unitriangular), batch + a.shape[-2:])
        b = xp.broadcast_to(b, batch + b.shape[-2:])
        try:
            return xp.linalg.solve(t, b)
        except np.linalg.LinAlgError:           # a zero on the diagonal
            return _substitution(xp, t, b, upper)

    @staticmethod
    def vjp(ctx, g):
        a, x = ctx.xs[0], ctx.ans
        gb = apply(SolveTriangular, mT(a), g, upper=not ctx.upper,
                   unitriangular=ctx.unitriangular)
        ga = None
        if ctx.needs(0):
            mask = _mask_tensor(gb, a.shape[-1], ctx.upper, ctx.unitriangular)
            ga = sum_to(-matmul(gb, mT(x)) * mask, ctx.shapes[0])
        return ga, sum_to(gb, ctx.shapes[1]) if ctx.needs(1) else None

    @staticmethod
    def jvp(ctx, ta, tb):
        a, x = ctx.xs[0], ctx.ans
        rhs = tb
        if ta is not None:
            mask = _mask_tensor(ta, a.shape[-1], ctx.upper, ctx.unitriangular)
            moved = matmul(ta * mask, x)
            rhs = -moved if rhs is None else rhs - moved
        return apply(SolveTriangular, a, rhs, upper=ctx.upper, unitriangular=ctx.unitriangular)

    @staticmethod
    def vmap(xs, batched, upper, unitriangular):
        a, b = xs
        batch_ndim = max(a.ndim - batched[0] - 2, b.ndim - batched[1] - 2)
        a = _batching.lift(a, batch_ndim + 2) if batched[0] else a
        b = _batching.lift(b, batch_ndim + 2) if batched[1] else b
        return apply(SolveTriangular, a, b, upper=upper, unitriangular=unitriangular)


def solve_triangular_raw(A, B, upper: bool, unitriangular: bool = False):
    """T^-1 B for tensors already checked (the LU functions' helper)."""
    return apply(SolveTriangular, A, B, upper=bool(upper), unitriangular=bool(unitriangular))


def solve_triangular(A, B, *, upper: bool, left: bool = True, unitriangular: bool = False):
    """X with ``T @ X = B`` (``left=False``: ``X @ T = B``), T the upper (``upper=True``) or
    lower triangle of A, as ``torch.linalg.solve_triangular``; ``unitriangular``: the
    diagonal is taken as ones (not read). The batch dimensions broadcast; differentiable in
    A (its triangle) and B, real or complex (PyTorch's convention).

    Shapes: A (..., n, n), B (..., n, k) (``left=False``: (..., k, n)) -> X of B's shape
    (batch broadcast).

    Example::

        >>> U = gpugrad.tensor([[2.0, 1.0], [0.0, 4.0]])
        >>> B = gpugrad.tensor([[3.0], [4.0]])
        >>> gpugrad.linalg.solve_triangular(U, B, upper=True).tolist()
        [[1.0], [1.0]]
    """
    name = "linalg.solve_triangular"
    checked_matrix(name, A, complex_ok=True)
    check_rhs_dtype(name, A, B)
    if B.ndim < 2:
        raise ValueError(f"{name}: B must have at least 2 dimensions (..., n, k), got shape "
                         f"{tuple(B.shape)}; for a vector b use b.unsqueeze(-1)")
    n = A.shape[-1]
    rows = B.shape[-2] if left else B.shape[-1]
    if rows != n:
        want = f"(..., {n}, k)" if left else f"(..., k, {n})"
        raise ValueError(f"{name}: B of shape {tuple(B.shape)} does not fit A of shape "
                         f"{tuple(A.shape)}: with left={left} B must be {want}")
    check_batches_broadcast(name, A, B)
    if not left:        # X T = B  <=>  T^T X^T = B^T
        return mT(solve_triangular_raw(mT(A), mT(B), not upper, unitriangular))
    return solve_triangular_raw(A, B, upper, unitriangular)


METHODS: dict = {}
