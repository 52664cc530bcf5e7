"""What det's and slogdet's rules (matrix_functions.py) use at a singular matrix: the
inverse when there is one (``inverse_or_none``), the cofactor matrix from the SVD when
there is not (``cofactors_svd``), and A^-T or C / det(A) (``inverse_transposed``). The
records they apply (``Inv``, ``Det``) are handed in, so this module imports none of
matrix_functions.py.

Example::

    >>> from gpugrad.ops.matrix_functions import Det
    >>> from gpugrad.ops.matrix_singular import cofactors_svd
    >>> a = gpugrad.tensor([[1.0, 2.0], [2.0, 4.0]], dtype="float64")     # singular
    >>> cofactors_svd(a, Det).numpy().round(6).tolist()                    # adj(A)^T
    [[4.0, -2.0], [-2.0, 1.0]]
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.batched import innermost_array
from ..autograd.capture_mode import is_step_capturing, refuse_host_sync
from .complex_parts import conj
from .elementwise import where
from .linalg import matmul
from .matrix_common import LinAlgError, eye, mT
from .matrix_decompositions import svd
from .product import prod
from .record import apply
from .shape import unsqueeze

__all__ = ["matrix_of", "inverse_or_none", "cofactors_svd", "inverse_transposed"]


def matrix_of(v):
    """(...) -> (..., 1, 1), to scale a batch of matrices."""
    return unsqueeze(unsqueeze(v, -1), -1)


def inverse_or_none(a, inv):
    """A^-1 (the record ``inv`` applied) for the rules, or None when a matrix of the batch
    is singular: NumPy's LAPACK raised, or the inverse is not finite (CuPy gives inf or
    NaN: reading that back waits for the device, as PyTorch's det backward does; skipped
    while a step is captured). Shapes: (..., n, n) -> (..., n, n) or None."""
    try:
        result = apply(inv, a)
    except LinAlgError:
        return None
    raw = innermost_array(result)
    xp = backend.xp_of(raw)
    if xp is not np:
        if is_step_capturing():
            return result
        refuse_host_sync("the singularity check of det's backward")
    return result if bool(xp.isfinite(raw).all()) else None


def cofactors_svd(a, det):
    """The cofactor matrix C = adj(A)^T of each A, singular ones included: with A = U S Vh,
    C = det(U) det(Vh) conj(U) diag(prod_{j != i} s_j) conj(Vh) (PyTorch's formula for a
    singular A; the conjugates only for a complex A; ``det``: the determinant record).
    Second derivatives through it need distinct singular values (the SVD's gradient).
    Shapes: (..., n, n) -> (..., n, n)."""
    u, s, vh = svd(a, full_matrices=False)
    n = a.shape[-1]
    others = where(eye(s, n) > 0, 1.0, unsqueeze(s, -2))      # row i: s with s_i made 1
    sign = apply(det, u.detach()) * apply(det, vh.detach())    # +-1 (a phase), constant nearby
    return matrix_of(sign) * matmul(conj(u) * unsqueeze(prod(others, -1), -2), conj(vh))


def inverse_transposed(a, inv, det):
    """A^-T, or C / det(A) where A is singular: infinite or NaN entries, as PyTorch's
    (their signs and where NaN falls are not PyTorch's, which come from its LU solve).
    Shapes: (..., n, n) -> (..., n, n)."""
    result = inverse_or_none(a, inv)
    if result is not None:
        return mT(result)
    with np.errstate(divide="ignore", invalid="ignore"):
        return cofactors_svd(a, det) / matrix_of(apply(det, a))
