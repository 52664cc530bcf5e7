"""PyTorch's older linear-algebra names, kept for code written against them:
``torch.triangular_solve``, ``torch.lu``, ``torch.lu_solve``, ``torch.qr`` and
``torch.svd`` (which returns V, not Vh, and takes ``some`` for the reduced form), and
``torch.cholesky_solve``, ``torch.cholesky_inverse`` and ``torch.orgqr``. Each
calls the ``gpugrad.linalg`` function that replaced it, so each is differentiable where that
one is. ``triangular_solve``, ``lu`` and ``qr`` warn that they are deprecated, as PyTorch's.

Example::

    >>> U, S, V = gpugrad.svd(gpugrad.tensor([[3.0, 0.0], [0.0, -2.0]]))
    >>> S.tolist(), (U @ gpugrad.diag(S) @ V.mT).tolist()
    ([3.0, 2.0], [[3.0, 0.0], [0.0, -2.0]])
"""

from __future__ import annotations

import warnings
from collections import namedtuple

from .. import creation
from .complex_parts import conj
from .linalg import matmul
from .matrix_common import checked_matrix, mH, mT
from .matrix_decompositions import svd as _linalg_svd
from .matrix_decompositions import svdvals
from .linalg_more import householder_product, lu_factor_ex
from .matrix_functions import inverse, solve
from .matrix_lu import lu_factor, lu_solve as _linalg_lu_solve
from .matrix_qr import qr as _linalg_qr
from .matrix_triangular import solve_triangular
from .unary import clone

__all__ = ["triangular_solve", "lu", "lu_solve", "qr", "svd", "cholesky_solve",
           "cholesky_inverse", "orgqr"]

TriangularSolveResult = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
SvdResult = namedtuple("svd", ["U", "S", "V"])
QrResult = namedtuple("qr", ["Q", "R"])


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"torch.{old} is deprecated in favor of torch.linalg.{new} and will be "
                  f"removed in a future PyTorch release.", UserWarning, stacklevel=3)


def triangular_solve(b, A, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """``(X, A.clone())`` with ``A @ X = b`` for a triangular ``A`` (``transpose``:
    ``A^T @ X = b``), as the deprecated ``torch.triangular_solve`` (note the order: b
    first; only A's triangle named by ``upper`` is read). Real or complex (``transpose`` is
    the plain transpose, not the conjugate one, as PyTorch's). Differentiable in both.

    Shapes: b (..., n, k), A (..., n, n) -> X (..., n, k), A's copy.

    Example::

        >>> A = gpugrad.tensor([[2.0, 1.0], [5.0, 4.0]])
        >>> gpugrad.triangular_solve(gpugrad.ones(2, 1), A).solution.tolist()
        [[0.375], [0.25]]
    """
    _deprecated("triangular_solve", "solve_triangular")
    if b.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, "
                           f"but it has {b.ndim} dimensions instead")
    checked_matrix("triangular_solve", A, complex_ok=True)
    coefficient = mT(A) if transpose else A
    solution = solve_triangular(coefficient, b, upper=bool(upper) != bool(transpose),
                                unitriangular=unitriangular)
    return TriangularSolveResult(solution, clone(A))


def lu(A, pivot: bool = True, get_infos: bool = False):
    """``(LU, pivots)`` (and ``infos`` with ``get_infos``: per matrix, 0 or the 1-based
    place of U's first zero on its diagonal), as the deprecated ``torch.lu``: the compact
    LU of ``gpugrad.linalg.lu_factor``. Differentiable in LU.

    Shapes: (..., m, n) -> LU (..., m, n), pivots (..., min(m, n)) int32, infos (...).

    Example::

        >>> LU, pivots = gpugrad.lu(gpugrad.tensor([[0.0, 1.0], [2.0, 3.0]]))
        >>> pivots.tolist()
        [2, 2]
    """
    _deprecated("lu", "lu_factor")
    if get_infos:
        return lu_factor_ex(A, pivot=pivot)
    return lu_factor(A, pivot=pivot)


def lu_solve(b, LU_data, LU_pivots):
    """X with ``A @ X = b`` for A given by ``lu``/``lu_factor``, as the deprecated
    ``torch.lu_solve`` (b first; ``gpugrad.linalg.lu_solve(LU, pivots, B)``).

    Shapes: b (..., n, k), LU (..., n, n), pivots (..., n) -> (..., n, k).

    Example::

        >>> LU, piv = gpugrad.linalg.lu_factor(gpugrad.tensor([[0.0, 1.0], [2.0, 3.0]]))
        >>> gpugrad.lu_solve(gpugrad.tensor([[1.0], [5.0]]), LU, piv).tolist()
        [[1.0], [1.0]]
    """
    return _linalg_lu_solve(LU_data, LU_pivots, b)


def qr(input, some: bool = True):
    """``(Q, R)``, as the deprecated ``torch.qr``: ``some=True`` the reduced factors,
    ``some=False`` the complete ones (``gpugrad.linalg.qr(A, "reduced"/"complete")``).

    Shapes: (..., m, n) -> Q (..., m, k), R (..., k, n); k = min(m, n), or m if not some.

    Example::

        >>> Q, R = gpugrad.qr(gpugrad.ones(3, 2), some=False)
        >>> Q.shape, R.shape
        ((3, 3), (3, 2))
    """
    _deprecated("qr", "qr")
    Q, R = _linalg_qr(input, "reduced" if some else "complete")
    return QrResult(Q, R)


def svd(input, some: bool = True, compute_uv: bool = True):
    """``(U, S, V)`` with ``input = U @ diag(S) @ V^H``, as ``torch.svd``: V itself (not
    ``linalg.svd``'s Vh), the reduced factors unless ``some=False``; with
    ``compute_uv=False`` only S, and U, V zero matrices (..., m, m) and (..., n, n).
    Differentiable as ``gpugrad.linalg.svd``.

    Shapes: (..., m, n) -> U (..., m, k), S (..., k), V (..., n, k); k = min(m, n)
    (``some=False``: U (..., m, m), V (..., n, n)).

    Example::

        >>> U, S, V = gpugrad.svd(gpugrad.ones(3, 2))
        >>> U.shape, S.shape, V.shape
        ((3, 2), (2,), (2, 2))
    """
    checked_matrix("svd", input, square=False, complex_ok=True)
    if not compute_uv:
        S = svdvals(input)
        batch, (m, n) = tuple(input.shape[:-2]), tuple(input.shape[-2:])
        zeros = [creation.zeros(batch + (k, k), dtype=input.dtype, device=input.device)
                 for k in (m, n)]
        return SvdResult(zeros[0], S, zeros[1])
    U, S, Vh = _linalg_svd(input, full_matrices=not some)
    V = mT(conj(Vh) if input.dtype.kind == "c" else Vh)
    return SvdResult(U, S, V)


def _from_factor(name: str, L, upper: bool):
    """A = L L^H (``upper``: U^H U) from a Cholesky factor, from all of L, as PyTorch's
    gradients read it (L is expected triangular, as ``linalg.cholesky`` gives it)."""
    checked_matrix(name, L, complex_ok=True)
    Lh = mH(L)
    return matmul(Lh, L) if upper else matmul(L, Lh)


def cholesky_solve(B, L, upper: bool = False):
    """X with ``A @ X = B``, A given by its Cholesky factor (``A = L @ L.mH``; ``upper``:
    ``A = U.mH @ U``), as ``torch.cholesky_solve`` (note the order: B first). Batch
    dimensions broadcast; real or complex; differentiable in both (PyTorch's gradients).

    Shapes: B (..., n, k), L (..., n, n) -> (..., n, k).

    Example::

        >>> from gpugrad.ops.legacy_linalg import cholesky_solve
        >>> L = gpugrad.tensor([[2.0, 0.0], [1.0, 1.0]])        # A = [[4, 2], [2, 2]]
        >>> cholesky_solve(gpugrad.tensor([[6.0], [4.0]]), L).tolist()
        [[1.0], [1.0]]
    """
    if B.ndim < 2:
        raise RuntimeError(f"torch.cholesky_solve: Expected b to have at least 2 dimensions, "
                           f"but it has {B.ndim} dimensions instead")
    if B.dtype != L.dtype:
        raise RuntimeError(f"torch.cholesky_solve: Expected b and A to have the same dtype, "
                           f"but b has dtype {B.dtype} and A has dtype {L.dtype}")
    return solve(_from_factor("cholesky_solve", L, upper), B)


def cholesky_inverse(L, upper: bool = False):
    """The inverse of ``A = L @ L.mH`` (``upper``: ``A = U.mH @ U``) from its Cholesky
    factor, as ``torch.cholesky_inverse``; real or complex, differentiable (PyTorch's
    gradient).

    Shapes: (..., n, n) -> (..., n, n).

    Example::

        >>> from gpugrad.ops.legacy_linalg import cholesky_inverse
        >>> cholesky_inverse(gpugrad.tensor([[2.0, 0.0], [0.0, 0.5]])).tolist()
        [[0.25, 0.0], [0.0, 4.0]]
    """
    return inverse(_from_factor("cholesky_inverse", L, upper))


def orgqr(input, tau):
    """``linalg.householder_product(input, tau)``, under LAPACK's name, as ``torch.orgqr``.

    Shapes: input (..., m, n), tau (..., k) -> (..., m, n).

    Example::

        >>> from gpugrad.ops.legacy_linalg import orgqr
        >>> orgqr(gpugrad.tensor([[1.0], [1.0]]), gpugrad.tensor([1.0])).tolist()
        [[0.0], [-1.0]]
    """
    return householder_product(input, tau)


METHODS = {"triangular_solve": triangular_solve, "lu": lu, "lu_solve": lu_solve,
           "qr": qr, "svd": svd, "cholesky_solve": cholesky_solve,
           "cholesky_inverse": cholesky_inverse, "orgqr": orgqr}
