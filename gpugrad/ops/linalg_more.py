"""More of ``torch.linalg``: ``cond``, the ``*_ex`` forms that report failures in an
``info`` tensor instead of raising (``solve_ex``, ``inv_ex``, ``cholesky_ex``,
``lu_factor_ex``), ``tensorinv``, ``tensorsolve`` and ``householder_product``. Composites
of the records of matrix_functions.py, matrix_lu.py and matrix_decompositions.py, so
differentiable where those are.

``info`` is int32 of the batch shape: 0 where the matrix succeeded, else LAPACK's 1-based
place of the failure (the first zero on U's diagonal; the order of the first leading minor
that is not positive-definite). Where a matrix failed, the result holds NaN (LAPACK leaves
partial values there, which PyTorch returns as they are; read ``info``, not them).
``check_errors=True`` raises ``LinAlgError`` instead. (``gpugrad.linalg`` gathers these
under torch.linalg's names.)

Example::

    >>> A = gpugrad.tensor([[[2.0, 0.0], [0.0, 4.0]], [[1.0, 2.0], [2.0, 4.0]]])
    >>> inverse, info = gpugrad.ops.linalg_more.inv_ex(A)
    >>> info.tolist(), inverse[0].tolist()
    ([0, 2], [[0.5, 0.0], [0.0, 0.25]])
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd.compile_mode import kernel, note_reads
from ..tensor import Tensor
from . import compare, extremes, reduce, unary
from .complex_parts import conj
from .elementwise import where
from .linalg import matmul
from .matrix_common import (LinAlgError, check_batches_broadcast, check_rhs_dtype,
                            checked_matrix, constant, eye, mT, on_the_batch)
from .matrix_decompositions import svdvals
from .matrix_functions import cholesky, inverse, solve
from .matrix_lu import lu_factor, lu_solve
from .record import Op, apply
from .shape import movedim, reshape

__all__ = ["cond", "solve_ex", "inv_ex", "cholesky_ex", "lu_factor_ex", "tensorinv",
           "tensorsolve", "householder_product"]

SolveExResult = namedtuple("linalg_solve_ex", ["result", "info"])
InvExResult = namedtuple("linalg_inv_ex", ["inverse", "info"])
CholeskyExResult = namedtuple("linalg_cholesky_ex", ["L", "info"])
LUFactorExResult = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])


class PivotInfo(Op):
    """info of each factored matrix (..., n, n) -> (...) int32: the 1-based place of the
    first diagonal entry that is zero (``test="zero"``: U of an LU) or not positive
    (``"not_positive"``: a Cholesky factor; NaN counts), else 0. Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(xp, a, test):
        d = xp.diagonal(a, axis1=-2, axis2=-1)
        bad = d == 0 if test == "zero" else ~(d.real > 0)
        return xp.where(bad.any(-1), bad.argmax(-1) + 1, 0).astype(np.int32)


PivotInfo.vmap = on_the_batch(PivotInfo)


def _first_zero_pivot(LU):
    """info from a compact LU: the 1-based place of U's first zero diagonal entry, or 0."""
    return apply(PivotInfo, LU.detach(), test="zero")


def _failed(info) -> bool:
    return bool(compare.any(info != 0).item())


def _nan_where(result, info, core: int):
    """``result`` with NaN in the matrices whose ``info`` is nonzero (batch shape + core)."""
    mask = reshape(info != 0, tuple(info.shape) + (1,) * core)
    return where(mask, math.nan, result)


def _identity_where_failed(A, info):
    """``A`` with the identity in place of the matrices that failed (so factoring again
    raises nothing; their results are replaced by NaN afterwards)."""
    mask = reshape(info != 0, tuple(info.shape) + (1, 1))
    return where(mask, eye(A, A.shape[-1]), A)


def lu_factor_ex(A, *, pivot: bool = True, check_errors: bool = False):
    """``(LU, pivots, info)``, as ``torch.linalg.lu_factor_ex``: ``linalg.lu_factor``'s
    result and, per matrix, 0 or the 1-based place of U's first zero diagonal entry.

    Shapes: (..., m, n) -> LU (..., m, n), pivots (..., min(m, n)), info (...).

    Example::

        >>> A = gpugrad.tensor([[1.0, 2.0], [2.0, 4.0]])
        >>> gpugrad.ops.linalg_more.lu_factor_ex(A).info.item()
        2
    """
    LU, pivots = lu_factor(A, pivot=pivot)
    info = _first_zero_pivot(LU)
    if check_errors and _failed(info):
        j = int(extremes.max(info).item())
        raise LinAlgError(f"torch.linalg.lu_factor_ex: U[{j},{j}] is zero and using it on "
                          f"lu_solve would result in a division by zero. If you still want "
                          f"to perform the factorization, call it with check_errors=False")
    return LUFactorExResult(LU, pivots, info)


def _square_info(A, name: str):
    """LAPACK's getrf info of each square matrix, real or complex (as PyTorch's)."""
    checked_matrix(name, A, complex_ok=True)
    return _first_zero_pivot(lu_factor(A.detach())[0])


def _solved(A, info, direct, via_lu):
    """``direct(A')``, A' = A with the identity in the failed matrices (LAPACK's inv or
    solve, fast). Where LAPACK still meets an exact zero pivot that gpugrad's LU (which
    gave ``info``) rounded to a tiny one, ``via_lu(LU, pivots)`` instead: the solve with
    that LU, the failed matrices' LU and pivots the identity's, so that the result and
    info come from one factorisation. No read of values: it runs under vmap."""
    try:
        return direct(_identity_where_failed(A, info))
    except LinAlgError:
        LU, pivots = lu_factor(A)
        failed, n = info != 0, A.shape[-1]
        LU = where(reshape(failed, tuple(info.shape) + (1, 1)), eye(A, n), LU)
        unpivoted = constant(pivots, lambda xp, dtype: xp.arange(1, n + 1, dtype=dtype))
        return via_lu(LU, where(reshape(failed, tuple(info.shape) + (1,)), unpivoted, pivots))


def inv_ex(A, *, check_errors: bool = False):
    """``(inverse, info)``, as ``torch.linalg.inv_ex``: the inverse of each matrix, info 0
    where it exists, else the 1-based place of the zero pivot (the inverse is then NaN).
    Never raises unless ``check_errors``. Differentiable in the inverse; runs under vmap.

    Shapes: (..., n, n) -> (..., n, n), (...).

    Example::

        >>> A = gpugrad.tensor([[2.0, 0.0], [0.0, 4.0]])
        >>> gpugrad.ops.linalg_more.inv_ex(A).inverse.tolist()
        [[0.5, 0.0], [0.0, 0.25]]
    """
    info = _square_info(A, "linalg.inv_ex")
    if check_errors and _failed(info):
        raise LinAlgError(f"linalg.inv_ex: The diagonal element {int(extremes.max(info).item())}"
                          f" is zero, the inversion could not be completed because the input "
                          f"matrix is singular.")
    eye_ = eye(A, A.shape[-1])
    result = _solved(A, info, inverse, lambda LU, pivots: lu_solve(LU, pivots, eye_))
    return InvExResult(_nan_where(result, info, 2), info)


def _checked_rhs(A, B, left: bool) -> bool:
    """linalg.solve's checks of B against A; True when B is a (batch of) vector(s)."""
    name = "linalg.solve_ex"
    check_rhs_dtype(name, A, B)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if not left and B.ndim < 2:
        raise ValueError(f"{name}: left=False needs B as matrices (..., k, n), got shape "
                         f"{tuple(B.shape)}")
    vector = vector and left
    n = A.shape[-1]
    rows = B.shape[-1] if vector or not left else B.shape[-2] if B.ndim >= 2 else None
    if rows != n:
        raise ValueError(f"{name}: B of shape {tuple(B.shape)} does not fit A of shape "
                         f"{tuple(A.shape)} (left={left}): B needs {n} "
                         f"{'rows' if left else 'columns'}")
    check_batches_broadcast(name, A, B, core=1 if vector else 2)
    return vector


def solve_ex(A, B, *, left: bool = True, check_errors: bool = False):
    """``(result, info)``, as ``torch.linalg.solve_ex``: ``linalg.solve(A, B, left=left)``
    with info 0 per matrix that is invertible, else the 1-based place of the zero pivot
    (whose result is NaN). Never raises unless ``check_errors``. Differentiable in the
    result; runs under vmap.

    Shapes: A (..., n, n), B (..., n, k) or (..., n) -> B's (batch broadcast), (...).

    Example::

        >>> A = gpugrad.tensor([[2.0, 0.0], [0.0, 4.0]])
        >>> gpugrad.ops.linalg_more.solve_ex(A, gpugrad.tensor([1.0, 1.0])).result.tolist()
        [0.5, 0.25]
    """
    info = _square_info(A, "linalg.solve_ex")
    vector = _checked_rhs(A, B, left)
    if check_errors and _failed(info):
        raise LinAlgError("torch.linalg.solve_ex: The solver failed because the input matrix "
                          "is singular.")

    def via_lu(LU, pivots):
        if vector:
            return lu_solve(LU, pivots, B.unsqueeze(-1))[..., 0]
        return lu_solve(LU, pivots, B, left=left)
    result = _solved(A, info, lambda A_: solve(A_, B, left=left), via_lu)
    return SolveExResult(_nan_where(result, info, 1 if vector else 2), info)


def _potrf_info(A):
    """NumPy only, after its batched Cholesky raised: per matrix, 0 if LAPACK's Cholesky
    (the one ``linalg.cholesky`` runs) factors it with a NaN-free diagonal, else the order
    of the first leading minor it cannot factor (bisection over the leading minors), so
    that info is LAPACK's own verdict and the matrices with info 0 factor again."""
    def factors(xp, m) -> bool:
        try:
            return bool((xp.linalg.cholesky(m).diagonal().real > 0).all())
        except np.linalg.LinAlgError:
            return False

    def first_failure(xp, m) -> int:
        n = m.shape[-1]
        if factors(xp, m):
            return 0
        good, bad = 0, n                # the leading minor of order `bad` fails
        while bad - good > 1:
            mid = (good + bad) // 2
            good, bad = (mid, bad) if factors(xp, m[:mid, :mid]) else (good, mid)
        return bad

    def raw(a):
        xp = backend.xp_of(a)
        n = a.shape[-1]
        info = [first_failure(xp, m) for m in a.reshape((-1, n, n))]
        return xp.asarray(info, dtype=np.int32).reshape(a.shape[:-2])
    note_reads(A)
    return Tensor._wrap(kernel(raw, A.detach()._array))


def cholesky_ex(A, *, upper: bool = False, check_errors: bool = False):
    """``(L, info)``, as ``torch.linalg.cholesky_ex``: ``linalg.cholesky(A, upper=upper)``
    with info 0 per matrix that is positive-definite, else the order of its first leading
    minor that is not, as LAPACK's Cholesky finds it (a NaN pivot counts, as LAPACK's); the
    factor of such a matrix is NaN. Never raises unless ``check_errors``. Differentiable
    in L.

    Shapes: (..., n, n) -> (..., n, n), (...).

    Example::

        >>> A = gpugrad.tensor([[4.0, 2.0], [2.0, 1.0]])
        >>> gpugrad.ops.linalg_more.cholesky_ex(A).info.item()
        2
    """
    checked_matrix("linalg.cholesky_ex", A, complex_ok=True)
    try:
        L = cholesky(A, upper=upper)
        # LAPACK flags NaN pivots (OpenBLAS's does not); cuSOLVER leaves the failed one
        info = apply(PivotInfo, L.detach(), test="not_positive")
    except LinAlgError:                 # NumPy: some matrix failed; find which, per matrix
        info = _potrf_info(A)
        L = cholesky(_identity_where_failed(A, info), upper=upper)
    if check_errors and _failed(info):
        raise LinAlgError(f"linalg.cholesky_ex: The factorization could not be completed "
                          f"because the input is not positive-definite (the leading minor of "
                          f"order {int(extremes.max(info).item())} is not positive-definite).")
    return CholeskyExResult(_nan_where(L, info, 2), info)


def _matrix_norm(A, p):
    """The ``p`` matrix norm of each matrix (p: "fro", 1, -1, inf, -inf)."""
    if p == "fro":
        return unary.sqrt(reduce.sum(unary.abs(A) ** 2, (-2, -1)))
    sums = reduce.sum(unary.abs(A), -2 if p in (1, -1) else -1)
    return extremes.max(sums, -1).values if p > 0 else extremes.min(sums, -1).values


def cond(A, p=None):
    """The condition number of each matrix in the ``p`` norm, as ``torch.linalg.cond``:
    None or 2 (the default): largest / smallest singular value; -2: smallest / largest
    (both for any shape); "fro", "nuc", 1, -1, inf, -inf: ``norm(A) * norm(A^-1)`` for
    square matrices, inf for the singular ones. Differentiable.

    Shapes: (..., m, n) -> (...), real.

    Example::

        >>> round(gpugrad.ops.linalg_more.cond(gpugrad.tensor([[2.0, 0.0], [0.0, 0.5]])).item(), 6)
        4.0
    """
    if p not in (None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf):
        raise ValueError(f"linalg.cond got an invalid norm type: {p!r}")
    if p in (None, 2, -2):
        checked_matrix("linalg.cond", A, square=False, complex_ok=True)
        s = svdvals(A)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    if p == "nuc":                      # (PyTorch's: from the singular values, as here)
        checked_matrix("linalg.cond", A, complex_ok=True)
        s = svdvals(A)
        return reduce.sum(s, -1) * reduce.sum(1 / s, -1)
    if A.ndim >= 2 and A.shape[-1] != A.shape[-2]:
        raise ValueError(f"linalg.cond(ord={p}): A must be batches of square matrices, but "
                         f"they are {A.shape[-2]} by {A.shape[-1]} matrices")
    inv, info = inv_ex(A)
    finite = _matrix_norm(A, p) * _matrix_norm(where(info.reshape(tuple(info.shape) + (1, 1))
                                                     != 0, 0.0, inv), p)
    return where(info != 0, math.inf, finite)


def tensorinv(A, ind: int = 2):
    """The inverse of ``A`` read as a matrix (its first ``ind`` dimensions the rows, the
    others the columns), as ``torch.linalg.tensorinv``; differentiable.

    Shapes: (i_1..i_ind, j_1..j_k) with prod(i) = prod(j) -> (j_1..j_k, i_1..i_ind).

    Example::

        >>> gpugrad.ops.linalg_more.tensorinv(gpugrad.eye(4).reshape(4, 2, 2), ind=1).shape
        (2, 2, 4)
    """
    if not isinstance(ind, int) or ind <= 0:
        raise ValueError(f"Expected a strictly positive integer for 'ind', but got {ind!r}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if math.prod(rows) != math.prod(cols):
        raise ValueError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                         f"prod(self.shape[:ind]), but got {math.prod(cols)} != "
                         f"{math.prod(rows)}")
    n = math.prod(rows)
    return reshape(inverse(reshape(A, (n, n))), cols + rows)


def tensorsolve(A, B, dims=None):
    """X with ``tensordot(A, X, X.ndim) = B``, as ``torch.linalg.tensorsolve`` (``dims``:
    dimensions of A moved to the end first); differentiable.

    Shapes: A (B's shape + X's shape) with prod of X's = B.numel() -> X's shape.

    Example::

        >>> A = gpugrad.eye(6).reshape(2, 3, 6)
        >>> gpugrad.ops.linalg_more.tensorsolve(A, gpugrad.ones(2, 3)).shape
        (6,)
    """
    if dims is not None:
        dims = [dims] if isinstance(dims, int) else list(dims)
        A = movedim(A, dims, list(range(A.ndim - len(dims), A.ndim)))
    x_shape = tuple(A.shape[B.ndim:])
    n = B.numel()
    if tuple(A.shape[:B.ndim]) != tuple(B.shape) or math.prod(x_shape) != n:
        raise ValueError(f"linalg.tensorsolve: A of shape {tuple(A.shape)} must start with "
                         f"B's shape {tuple(B.shape)} and its other dimensions hold "
                         f"{n} elements")
    return reshape(solve(reshape(A, (n, n)), reshape(B, (n,))), x_shape)


def householder_product(A, tau):
    """The first n columns of ``H_1 @ ... @ H_k``, ``H_i = I - tau_i v_i v_i^H`` with v_i
    column i of A below the diagonal and 1 on it, as ``torch.linalg.householder_product``
    (LAPACK's orgqr: Q from ``geqrf``'s output). Differentiable in both.

    Shapes: A (..., m, n), tau (..., k), k <= n <= m -> (..., m, n).

    Example::

        >>> A = gpugrad.tensor([[1.0], [1.0]])
        >>> gpugrad.ops.linalg_more.householder_product(A, gpugrad.tensor([1.0])).tolist()
        [[0.0], [-1.0]]
    """
    name = "torch.linalg.householder_product"
    if A.ndim < 2:
        raise ValueError(f"{name}: input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    if m < n:
        raise ValueError(f"{name}: input.shape[-2] must be greater than or equal to "
                         f"input.shape[-1]")
    k = tau.shape[-1] if tau.ndim else 0
    if tau.ndim != A.ndim - 1 or k > n:
        raise ValueError(f"{name}: input.shape[-1] must be greater than or equal to "
                         f"tau.shape[-1] (and tau of shape (..., k)), got {tuple(A.shape)} "
                         f"and {tuple(tau.shape)}")
    complex_ = A.dtype.kind == "c"
    Q = constant(A, lambda xp, dtype: xp.eye(m, n, dtype=dtype))
    for i in range(k - 1, -1, -1):          # Q = H_i Q, from the last reflector back
        below = constant(A, lambda xp, dtype: (xp.arange(m) > i).astype(dtype))
        on = constant(A, lambda xp, dtype: (xp.arange(m) == i).astype(dtype))
        v = (A[..., :, i] * below + on).unsqueeze(-1)                       # (..., m, 1)
        vh = mT(conj(v)) if complex_ else mT(v)
        Q = Q - tau[..., i, None, None] * matmul(v, matmul(vh, Q))
    return Q


METHODS: dict = {}
