"""The LU decomposition with partial pivoting, as ``torch.linalg.lu``, ``lu_factor``,
``lu_solve`` and ``torch.lu_unpack``.

NumPy has no LU, so the forward is written here against ``xp``: Gaussian elimination over
the columns, vectorised over the batch, the pivot of each column the entry of largest
absolute value on or below the diagonal (the first such on ties), as LAPACK's getrf picks
it. The record ``Lu`` gives (pivots, P, L, U) packed (matrix_common.py); its rules are
PyTorch's linalg_lu_backward / linalg_lu_jvp (square, wide and tall), written with
``SolveTriangular`` (matrix_triangular.py), so they can be differentiated again. The
pivots and P are constant (no gradient), and the gradient is that of the LU at fixed
pivots: it does not exist where two pivot candidates tie.

Example::

    >>> A = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64")
    >>> P, L, U = gpugrad.linalg.lu(A)
    >>> P.tolist(), L.tolist(), U.numpy().round(6).tolist()
    ([[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.333333...
    >>> (P @ L @ U).numpy().round(6).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..tensor import Tensor
from .linalg import matmul
from .complex_parts import real
from .matrix_common import (check_batches_broadcast, check_rhs_dtype, checked_matrix, constant,
                            empty, mH, mT, on_the_batch, pack, pack_tensors, tril_mask, unpack)
from .matrix_triangular import solve_triangular_raw
from .op_class import HOLOMORPHIC
from .record import Op, apply, zeros_with
from .shape import concatenate
from .unary import astype

__all__ = ["lu_unpack"]

LUResult = namedtuple("LUResult", ["P", "L", "U"])
LUFactorResult = namedtuple("LUFactorResult", ["LU", "pivots"])


def _lu_shapes(shape) -> list:
    m, n = shape[-2:]
    k = min(m, n)
    return [(k,), (m, m), (m, k), (k, n)]


def _eliminate(xp, a):
    """(packed LU (nb, m, n), 0-based pivot rows (nb, k), row order (nb, m)) of the matrices
    ``a`` (nb, m, n): LU[perm] = L U, the swaps of LAPACK's getrf (complex: the pivot of
    largest |Re| + |Im|, as LAPACK's izamax)."""
    lu = xp.array(a, copy=True)
    nb, m, n = lu.shape
    k = min(m, n)
    rows = xp.arange(nb)
    perm = xp.array(xp.broadcast_to(xp.arange(m), (nb, m)), copy=True)
    pivots = xp.zeros((nb, k), dtype=np.int64)
    for j in range(k):
        column = lu[:, j:, j]
        size = xp.abs(column) if column.dtype.kind != "c" else \
            xp.abs(column.real) + xp.abs(column.imag)           # LAPACK's |Re| + |Im|
        p = j + xp.argmax(size, axis=1)
        pivots[:, j] = p
        row_j, perm_j = lu[rows, j], perm[rows, j]
        lu[rows, j], perm[rows, j] = lu[rows, p], perm[rows, p]
        lu[rows, p], perm[rows, p] = row_j, perm_j
        pivot = lu[:, j, j]
        multipliers = lu[:, j + 1:, j] / xp.where(pivot == 0, 1, pivot)[:, None]
        lu[:, j + 1:, j] = multipliers
        lu[:, j + 1:, j + 1:] -= multipliers[:, :, None] * lu[:, j, None, j + 1:]
    return lu, pivots, perm


def _permutation(xp, perm, dtype):
    """P (nb, m, m) with P[perm[i], i] = 1, so that A = P L U."""
    nb, m = perm.shape
    p = xp.zeros((nb, m, m), dtype=dtype)
    p[xp.arange(nb)[:, None], perm, xp.arange(m)[None, :]] = 1
    return p


class Lu(Op):
    """(pivots, P, L, U) with A = P L U, packed: pivots (k,) as LAPACK's (1-based, as
    floats), P (m, m), L (m, k) unit lower, U (k, n) upper, k = min(m, n). With
    dX = L^-1 P^T dA U^-1 (square A): dL = L tril(dX, -1), dU = triu(dX) U; the cotangent
    P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T. Wide and tall A: the square block, and
    the rest through it (PyTorch's linalg_lu_backward). Holomorphic at fixed pivots: a
    complex A's gradient is the conjugated rule's, PyTorch's."""

    save = "ans"
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, a):
        m, n = a.shape[-2:]
        k, batch = min(m, n), a.shape[:-2]
        lu, pivots, perm = _eliminate(xp, a.reshape((-1, m, n)))
        lower = xp.tril(lu[:, :, :k], -1) + xp.eye(m, k, dtype=a.dtype)
        upper = xp.triu(lu[:, :k, :])
        parts = [(pivots + 1).astype(a.dtype), _permutation(xp, perm, a.dtype), lower, upper]
        packed = pack(xp, *parts, batch_ndim=1)
        return packed.reshape(batch + (packed.shape[-1],))      # (an empty batch too)

    @staticmethod
    def vjp(ctx, g):
        m, n = ctx.shapes[0][-2:]
        _, p, lower, upper = unpack(ctx.ans, _lu_shapes(ctx.shapes[0]))
        _, _, gl, gu = unpack(g, _lu_shapes(ctx.shapes[0]))
        if m > n:           # tall: L = [L1; L2], L2 = A2 U^-1
            l1, l2, gl1, gl2 = lower[..., :n, :], lower[..., n:, :], gl[..., :n, :], \
                gl[..., n:, :]
            g1 = _square_cotangent(l1, upper, gl1, gu, None, matmul(mT(l2), gl2))
            g2 = _right_solve_t(gl2, upper)
            return matmul(p, concatenate([g1, g2], -2))
        if m < n:           # wide: U = [U1 | U2], U2 = L^-1 A2
            u1, u2, gu1, gu2 = upper[..., :m], upper[..., m:], gu[..., :m], gu[..., m:]
            g2 = solve_triangular_raw(mT(lower), gu2, True, True)
            g1 = _square_cotangent(lower, u1, gl, gu1, matmul(gu2, mT(u2)), None)
            return matmul(p, concatenate([g1, g2], -1))
        return matmul(p, _square_cotangent(lower, upper, gl, gu, None, None))

    @staticmethod
    def jvp(ctx, t):
        m, n = ctx.shapes[0][-2:]
        k = min(m, n)
        pivots, p, lower, upper = unpack(ctx.ans, _lu_shapes(ctx.shapes[0]))
        moved = matmul(mT(p), t)
        l1, u1 = lower[..., :k, :], upper[..., :, :k]
        dx = solve_triangular_raw(l1, _right_solve(moved[..., :k, :k], u1), False, True)
        dl = matmul(l1, _tril(dx, k, -1))
        du = matmul(_triu(dx, k), u1)
        if m > n:
            dl2 = _right_solve(moved[..., n:, :] - matmul(lower[..., n:, :], du), upper)
            dl = concatenate([dl, dl2], -2)
        if m < n:
            du2 = solve_triangular_raw(l1, moved[..., :, m:] - matmul(dl, upper[..., m:]),
                                       False, True)
            du = concatenate([du, du2], -1)
        return pack_tensors(zeros_with(pivots, tuple(pivots.shape), pivots.dtype),
                            zeros_with(p, tuple(p.shape), p.dtype), dl, du,
                            batch_ndim=pivots.ndim - 1)


Lu.vmap = on_the_batch(Lu)


def _tril(x, k: int, diagonal: int):
    return x * tril_mask(x, k, diagonal)


def _triu(x, k: int):
    return x * (1 - tril_mask(x, k, -1))


def _right_solve(b, upper):
    """B U^-1, U upper triangular."""
    return mT(solve_triangular_raw(mT(upper), mT(b), False))


def _right_solve_t(b, upper):
    """B U^-T, U upper triangular."""
    return mT(solve_triangular_raw(upper, mT(b), True))


def _square_cotangent(lower, upper, gl, gu, extra_l, extra_u):
    """L^-T (tril(L^T gL - El, -1) + triu(gU U^T - Eu)) U^-T (El, Eu: 0 when None): the
    square LU's cotangent, with a wide (El) or tall (Eu) LU's coupling term."""
    k = lower.shape[-1]
    inner_l = matmul(mT(lower), gl)
    inner_u = matmul(gu, mT(upper))
    if extra_l is not None:
        inner_l = inner_l - extra_l
    if extra_u is not None:
        inner_u = inner_u - extra_u
    phi = _tril(inner_l, k, -1) + _triu(inner_u, k)
    return solve_triangular_raw(mT(lower), _right_solve_t(phi, upper), True, True)


def _lu_parts(A, name: str, pivot: bool):
    checked_matrix(name, A, square=False, complex_ok=True)
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented in gpugrad (on "
                           f"any device; PyTorch has it on CUDA only); use pivot=True")
    return unpack(apply(Lu, A), _lu_shapes(A.shape))


def lu(A, *, pivot: bool = True):
    """``(P, L, U)`` with ``A = P @ L @ U``, as ``torch.linalg.lu``: partial pivoting (the
    pivots LAPACK picks), P a permutation matrix, L unit lower triangular, U upper
    triangular. Differentiable in L and U (P is constant) for any shape, as PyTorch's.

    Shapes: (..., m, n) -> P (..., m, m), L (..., m, k), U (..., k, n), k = min(m, n).

    Example::

        >>> P, L, U = gpugrad.linalg.lu(gpugrad.tensor([[0.0, 1.0], [2.0, 3.0]]))
        >>> P.tolist(), L.tolist(), U.tolist()
        ([[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[2.0, 3.0], [0.0, 1.0]])
    """
    _, p, lower, upper = _lu_parts(A, "linalg.lu", pivot)
    return LUResult(p.detach(), lower, upper)


def lu_factor(A, *, pivot: bool = True):
    """``(LU, pivots)``, the compact LU of ``torch.linalg.lu_factor``: L's strictly lower
    part and U in one matrix, and the rows swapped at each step (1-based, int32, as
    LAPACK's). Differentiable in LU.

    Shapes: (..., m, n) -> LU (..., m, n), pivots (..., min(m, n)).

    Example::

        >>> LU, pivots = gpugrad.linalg.lu_factor(gpugrad.tensor([[0.0, 1.0], [2.0, 3.0]]))
        >>> LU.tolist(), pivots.tolist()
        ([[2.0, 3.0], [0.0, 1.0]], [2, 2])
    """
    pivots, _, lower, upper = _lu_parts(A, "linalg.lu_factor", pivot)
    m, n = A.shape[-2:]
    wide = constant(A, lambda xp, dtype: xp.eye(m, n, dtype=dtype))
    if m >= n:          # L (m, n) and U (n, n): [U; 0] = I(m, n) U
        packed = lower - wide + matmul(wide, upper)
    else:               # L (m, m) and U (m, n): [L - I | 0] = (L - I) I(m, n)
        packed = matmul(lower - constant(A, lambda xp, dtype: xp.eye(m, dtype=dtype)),
                        wide) + upper
    return LUFactorResult(packed, astype(real(pivots.detach()), "int32"))


class LuPermutation(Op):
    """The permutation matrix P (..., m, m) of LAPACK pivots (..., k) (1-based): the rows
    swapped in turn, so that A = P L U. Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(xp, pivots, m, dtype):
        batch, k = pivots.shape[:-1], pivots.shape[-1]
        flat = pivots.reshape((-1, k)).astype(np.int64) - 1
        nb = flat.shape[0]
        rows = xp.arange(nb)
        perm = xp.array(xp.broadcast_to(xp.arange(m), (nb, m)), copy=True)
        for j in range(k):
            p = flat[:, j]
            perm_j = perm[rows, j]
            perm[rows, j] = perm[rows, p]
            perm[rows, p] = perm_j
        return _permutation(xp, perm, np.dtype(dtype)).reshape(batch + (m, m))


LuPermutation.vmap = on_the_batch(LuPermutation)


def _checked_pivots(name: str, LU, pivots):
    checked_matrix(name, LU, square=False, complex_ok=True)
    k = min(LU.shape[-2:])
    if not isinstance(pivots, Tensor) or pivots.dtype.kind not in "iu":
        raise TypeError(f"{name}: pivots must be an integer tensor (int32, from "
                        f"linalg.lu_factor), got {getattr(pivots, 'dtype', type(pivots))}")
    if tuple(pivots.shape) != tuple(LU.shape[:-2]) + (k,):
        raise ValueError(f"{name}: pivots of shape {tuple(pivots.shape)} do not fit LU of "
                         f"shape {tuple(LU.shape)}: expected {tuple(LU.shape[:-2]) + (k,)}")


def lu_unpack(LU_data, LU_pivots, unpack_data: bool = True, unpack_pivots: bool = True):
    """``(P, L, U)`` from ``lu_factor``'s compact form, as ``torch.lu_unpack``
    (differentiable in ``LU_data``; an output not unpacked is empty).

    Shapes: LU (..., m, n), pivots (..., k) -> P (..., m, m), L (..., m, k), U (..., k, n).

    Example::

        >>> from gpugrad.ops.matrix_lu import lu_unpack         # also gpugrad.lu_unpack
        >>> LU, piv = gpugrad.linalg.lu_factor(gpugrad.tensor([[0.0, 1.0], [2.0, 3.0]]))
        >>> lu_unpack(LU, piv).P.tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """
    _checked_pivots("lu_unpack", LU_data, LU_pivots)
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    nothing = empty(LU_data)
    p = (apply(LuPermutation, LU_pivots, m=m, dtype=str(LU_data.dtype)) if unpack_pivots
         else nothing)
    if not unpack_data:
        return LUResult(p, nothing, nothing)
    lower = LU_data[..., :, :k] * tril_mask(LU_data, m, -1, k)
    lower = lower + constant(LU_data, lambda xp, dtype: xp.eye(m, k, dtype=dtype))
    upper = LU_data[..., :k, :] * (1 - tril_mask(LU_data, k, -1, n))
    return LUResult(p, lower, upper)


def lu_solve(LU, pivots, B, *, left: bool = True, adjoint: bool = False):
    """X with ``A @ X = B`` for A given by ``lu_factor`` (``adjoint``: ``A^H @ X = B``;
    ``left=False``: ``X @ A = B``), as ``torch.linalg.lu_solve``; differentiable in LU
    and B, batch dimensions broadcast.

    Shapes: LU (..., n, n), pivots (..., n), B (..., n, k) (``left=False``: (..., k, n)).

    Example::

        >>> A = gpugrad.tensor([[0.0, 1.0], [2.0, 3.0]])
        >>> LU, pivots = gpugrad.linalg.lu_factor(A)
        >>> gpugrad.linalg.lu_solve(LU, pivots, gpugrad.tensor([[1.0], [5.0]])).tolist()
        [[1.0], [1.0]]
    """
    name = "linalg.lu_solve"
    checked_matrix(name, LU, complex_ok=True)
    _checked_pivots(name, LU, pivots)
    check_rhs_dtype(name, LU, B, "LU")
    if B.ndim < 2:
        raise ValueError(f"{name}: B must have at least 2 dimensions (..., n, k), got shape "
                         f"{tuple(B.shape)}; for a vector b use b.unsqueeze(-1)")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise ValueError(f"{name}: B of shape {tuple(B.shape)} does not fit LU of shape "
                         f"{tuple(LU.shape)} (left={left})")
    check_batches_broadcast(name, LU, B)
    if not left:        # X A = B  <=>  A^H X^H = B^H
        return mH(lu_solve(LU, pivots, mH(B), adjoint=not adjoint))
    p = apply(LuPermutation, pivots, m=n, dtype=str(LU.dtype))
    if adjoint:         # A^H = U^H L^H P^T
        y = solve_triangular_raw(mH(LU), B, False)
        return matmul(p, solve_triangular_raw(mH(LU), y, True, True))
    y = solve_triangular_raw(LU, matmul(mT(p), B), False, True)
    return solve_triangular_raw(LU, y, True)


METHODS: dict = {}
