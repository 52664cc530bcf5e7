"""The Moore-Penrose pseudo-inverse, as ``torch.linalg.pinv`` and ``torch.pinverse``: one
record whose forward is an SVD (or, for Hermitian input, an eigendecomposition) and whose
rules are PyTorch's (Golub and Pereyra), written in gpugrad ops.

Example::

    >>> a = gpugrad.tensor([[2.0, 0.0], [0.0, 4.0]], requires_grad=True)
    >>> p = gpugrad.linalg.pinv(a)
    >>> p.tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    >>> p.sum().backward()                   # -P^T 1 1^T P^T, as for the inverse
    >>> a.grad.tolist()
    [[-0.25, -0.125], [-0.125, -0.0625]]
"""

from __future__ import annotations

import numpy as np

from .linalg import matmul
from .matrix_common import checked_matrix, mT, on_the_batch
from .record import Op, apply

__all__ = ["pinverse"]


class Pinv(Op):
    """The Moore-Penrose pseudo-inverse P: (..., m, n) -> (..., n, m), singular values at
    most max(atol, rtol * largest) taken as zero (``hermitian``: eigenvalues by absolute
    value). Its rules (Golub and Pereyra 1973, as PyTorch's) hold where the rank is
    constant: dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P."""

    save = "x0 ans"

    @staticmethod
    def forward(xp, a, rtol, atol, hermitian):
        if hermitian:
            values, vectors = xp.linalg.eigh(a)
            magnitude = xp.abs(values)
            left = right = vectors
        else:
            left, values, right_t = xp.linalg.svd(a, full_matrices=False)
            magnitude, right = values, xp.swapaxes(right_t, -1, -2)
        largest = magnitude.max(axis=-1, keepdims=True) if magnitude.shape[-1] else magnitude
        kept = magnitude > xp.maximum(atol, rtol * largest)
        inverse = xp.where(kept, 1.0 / xp.where(kept, values, 1.0), 0.0).astype(a.dtype)
        return xp.matmul(right * inverse[..., None, :], xp.swapaxes(left, -1, -2))

    @staticmethod
    def vjp(ctx, g):
        return _pinv_vjp(ctx.xs[0], ctx.ans, g)

    @staticmethod
    def jvp(ctx, t):
        a, p = ctx.xs[0], ctx.ans
        tt = mT(t)
        return (-matmul(matmul(p, t), p)
                + matmul(matmul(p, mT(p)), tt - matmul(matmul(tt, a), p))
                + matmul(matmul(tt - matmul(matmul(p, a), tt), mT(p)), p))


def _pinv_vjp(a, p, g):
    """The adjoint of Pinv's jvp: -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)."""
    pt, gt = mT(p), mT(g)
    return (-matmul(matmul(pt, g), pt)
            + matmul(gt - matmul(matmul(a, p), gt), matmul(p, pt))
            + matmul(matmul(pt, p), gt - matmul(matmul(gt, p), a)))


Pinv.vmap = on_the_batch(Pinv)


def pinv(A, *, atol=None, rtol=None, hermitian: bool = False):
    """The Moore-Penrose pseudo-inverse, as ``torch.linalg.pinv``: singular values at most
    ``max(atol, rtol * largest)`` count as zero (by default rtol = eps * max(m, n), and 0
    when only ``atol`` is given); ``hermitian``: A symmetric, through ``eigh``. Its gradient
    holds where the rank does not change (as PyTorch's).

    Shapes: (..., m, n) -> (..., n, m).

    Example::

        >>> gpugrad.linalg.pinv(gpugrad.tensor([[1.0, 0.0], [0.0, 0.0]])).tolist()
        [[1.0, 0.0], [0.0, 0.0]]
    """
    checked_matrix("linalg.pinv", A, square=hermitian)
    if rtol is None:
        rtol = np.finfo(A.dtype).eps * max(A.shape[-2:]) if not atol else 0.0
    return apply(Pinv, A, rtol=float(rtol), atol=float(atol or 0.0), hermitian=bool(hermitian))


def pinverse(input, rcond: float = 1e-15):
    """The pseudo-inverse with singular values at most ``rcond`` times the largest taken as
    zero, as ``torch.pinverse``. Shapes: (..., m, n) -> (..., n, m).

    Example::

        >>> gpugrad.pinverse(gpugrad.tensor([[2.0], [0.0]])).tolist()
        [[0.5, 0.0]]
    """
    return pinv(input, rtol=rcond)


METHODS = {"pinverse": pinverse}
