"""The QR decomposition, as ``torch.linalg.qr`` (one record, its two results packed as in
matrix_common.py). Batches (..., m, n); differentiable for every shape, with
the rules of M. Seeger et al. / PyTorch's linalg_qr_backward written in gpugrad ops (wide
matrices through their square left block, as PyTorch's).

Example::

    >>> a = gpugrad.tensor([[1.0, 2.0], [0.0, 3.0]], dtype="float64", requires_grad=True)
    >>> Q, R = gpugrad.linalg.qr(a)
    >>> R.diagonal().abs().tolist()
    [1.0, 3.0]
"""

from __future__ import annotations

from collections import namedtuple

from .complex_parts import imag
from .diagonal import diag_embed, diagonal
from .linalg import matmul
from .matrix_common import (checked_matrix, empty, mH, mT, on_the_batch, pack,
                            pack_tensors, tril_mask, unpack)
from .matrix_functions import Solve
from .op_class import OWN_RULES
from .record import Op, apply
from .shape import concatenate

__all__: list = []

QRResult = namedtuple("QRResult", ["Q", "R"])


def _qr_shapes(shape, mode: str) -> list:
    m, n = shape[-2:]
    k = min(m, n)
    if mode == "r":
        return [(k, n)]
    return [(m, m), (m, n)] if mode == "complete" else [(m, k), (k, n)]


def _qr_differentiable(shape, mode: str) -> None:
    m, n = shape[-2:]
    if mode == "r":
        raise RuntimeError("linalg.qr: the derivative of linalg.qr depends on Q, which is "
                           "not computed when mode='r'; use linalg.qr(A, mode='reduced')")
    if mode == "complete" and m > n:
        raise RuntimeError(f"linalg.qr: the QR decomposition is not differentiable when "
                           f"mode='complete' and nrows > ncols (shape {tuple(shape)}); "
                           f"use mode='reduced'")


class Qr(Op):
    """(Q, R) with A = Q R, Q orthonormal columns, R upper triangular (with a real diagonal,
    as LAPACK's), packed (``mode`` "reduced", "complete" or "r": R alone). Differentiable
    for square and tall A (m >= n): with X = Q^H dA R^-1 and the skew-Hermitian
    C = tril(X, -1) - tril(X, -1)^H + i Im diag(X), dR = (X - C) R and dQ = dA R^-1 - Q (X - C);
    the cotangent (gQ + Q herm(R gR^H - gQ^H Q)) R^-H, herm(M) the Hermitian matrix with M's
    strict lower triangle and Re diag(M). Wide A = [X | Y] (m < n), R = [U | V]: X = Q U is
    square, V = Q^H Y, so dV = Q^H (dY - dQ V), and the cotangents are X's with gQ + Y gV^H
    for gQ, and gY = Q gV (PyTorch's linalg_qr_backward; ^H is ^T for a real A)."""

    save = "ans"
    complex_grad = OWN_RULES        # written with conjugates: PyTorch's rules as they are

    @staticmethod
    def forward(xp, a, mode):
        if mode == "r":
            return xp.linalg.qr(a, mode="r")
        q, r = xp.linalg.qr(a, mode=mode)
        return pack(xp, q, r, batch_ndim=a.ndim - 2)

    @staticmethod
    def vjp(ctx, g):
        _qr_differentiable(ctx.shapes[0], ctx.mode)
        m, n = ctx.shapes[0][-2:]
        (q, r), (gq, gr) = unpack(ctx.ans, _qr_shapes(ctx.shapes[0], "reduced")), \
            unpack(g, _qr_shapes(ctx.shapes[0], "reduced"))
        if m >= n:
            return _tall_vjp(q, r, gq, gr)
        y, gv = matmul(q, r[..., m:]), gr[..., m:]       # Y = Q V: no need to save A
        gx = _tall_vjp(q, r[..., :m], gq + matmul(y, mH(gv)), gr[..., :m])
        return concatenate([gx, matmul(q, gv)], -1)

    @staticmethod
    def jvp(ctx, t):
        _qr_differentiable(ctx.shapes[0], ctx.mode)
        m, n = ctx.shapes[0][-2:]
        q, r = unpack(ctx.ans, _qr_shapes(ctx.shapes[0], "reduced"))
        if m >= n:
            dq, dr = _tall_jvp(q, r, t)
        else:
            dq, du = _tall_jvp(q, r[..., :m], t[..., :m])
            dv = matmul(mH(q), t[..., m:] - matmul(dq, r[..., m:]))
            dr = concatenate([du, dv], -1)
        return pack_tensors(dq, dr, batch_ndim=r.ndim - 2)


def _tall_vjp(q, r, gq, gr):
    """The cotangent of A (m, n), m >= n, from those of its reduced Q and R."""
    n = r.shape[-1]
    m = matmul(r, mH(gr)) - matmul(mH(gq), q)
    lower = m * tril_mask(m, n, -1)
    diag = diagonal(m, 0, -2, -1)
    if diag.dtype.kind == "c":
        diag = diag - 1j * imag(diag)
    b = gq + matmul(q, lower + mH(lower) + diag_embed(diag))
    return mH(_solve(r, mH(b)))


def _tall_jvp(q, r, t):
    """(dQ, dR) of the reduced QR of A (m, n), m >= n, along tangent t."""
    n = r.shape[-1]
    t_rinv = mT(_solve(mT(r), mT(t)))
    x = matmul(mH(q), t_rinv)
    lower = x * tril_mask(x, n, -1)
    x_c = x - lower + mH(lower)
    if x.dtype.kind == "c":
        x_c = x_c - 1j * diag_embed(imag(diagonal(x, 0, -2, -1)))
    return t_rinv - matmul(q, x_c), matmul(x_c, r)


Qr.vmap = on_the_batch(Qr)


def _solve(a, b):
    return apply(Solve, a, b, vector=False)


def qr(A, mode: str = "reduced"):
    """``(Q, R)`` with ``A = Q @ R``, Q with orthonormal columns and R upper triangular, as
    ``torch.linalg.qr``: ``mode`` "reduced" (Q (m, k), R (k, n)), "complete" (Q (m, m),
    R (m, n)) or "r" (R alone, Q empty). Differentiable, but not with mode "r" (as
    PyTorch's) nor "complete" for tall matrices (m > n). For wide ones (m < n) the gradient
    needs the left square block of A to be invertible (as PyTorch's).

    Shapes: (..., m, n) -> Q and R as above, k = min(m, n).

    Example::

        >>> Q, R = gpugrad.linalg.qr(gpugrad.tensor([[3.0, 1.0], [4.0, 2.0]]))
        >>> (Q @ R).numpy().round(5).tolist()
        [[3.0, 1.0], [4.0, 2.0]]
    """
    checked_matrix("linalg.qr", A, square=False, complex_ok=True)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    packed = apply(Qr, A, mode=mode)
    if mode == "r":
        return QRResult(empty(A), packed)
    return QRResult(*unpack(packed, _qr_shapes(A.shape, mode)))
