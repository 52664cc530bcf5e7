"""Functions of square matrices, as ``torch.linalg``'s: ``det``, ``slogdet``, ``logdet``,
``inv``, ``solve``, ``cholesky`` and ``matrix_power`` (``eigh``, ``svd``, ``qr`` and
``pinv`` are in matrix_decompositions.py). Every function takes batches
(..., n, n), as PyTorch's; the forward is ``xp.linalg`` (NumPy's LAPACK or CuPy's cuSOLVER),
the rules are the standard matrix-calculus formulas written in gpugrad ops, so they can be
differentiated again, and the batching rule runs the record on the whole batch at once.

``slogdet``'s record gives its two results packed in one output (matrix_common.py).

On NumPy a singular matrix (``inv``, ``solve``) or one that is not positive definite
(``cholesky``) raises ``LinAlgError`` naming the function and the shape, as PyTorch does;
CuPy does not check (no host sync): it gives NaN or infinite values there.

Example::

    >>> a = gpugrad.tensor([[2.0, 1.0], [1.0, 3.0]], dtype="float64", requires_grad=True)
    >>> d = gpugrad.det(a)
    >>> d.backward()
    >>> round(d.item(), 6), a.grad.numpy().round(6).tolist()   # det(A) inv(A)^T: cofactors
    (5.0, [[3.0, -1.0], [-1.0, 2.0]])
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from . import batching as _batching
from .elementwise import where
from .linalg import matmul
from .matrix_common import (check_batches_broadcast, check_rhs_dtype, checked_matrix, eye,
                            lapack, mH, mT, on_the_batch, trace_of_product, tril_mask)
from .matrix_singular import cofactors_svd, inverse_or_none, inverse_transposed
from .matrix_singular import matrix_of as _matrix_of
from .complex_parts import conj, imag, real
from .op_class import HOLOMORPHIC, OWN_RULES
from .record import Op, apply, zeros_with
from .reduce import sum_to
from .shape import concatenate, unsqueeze
from .unary import astype, log

__all__ = ["det", "logdet", "slogdet", "inverse", "cholesky", "matrix_power"]

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])   # (torch.return_types)


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------

class Det(Op):
    """det(A): (..., n, n) -> (...). d det = tr(C^T dA), C = det A^-T the cofactor matrix;
    its cotangent g C. A singular A: C from the SVD (``cofactors_svd``; the finite
    differences agree; PyTorch 2.13 gives zeros there, which is wrong). Holomorphic: a
    complex A's gradient is PyTorch's g conj(C)."""

    save = "x0 ans"
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, a):
        return xp.linalg.det(a)

    @staticmethod
    def vjp(ctx, g):
        inv = inverse_or_none(ctx.xs[0], Inv)
        if inv is None:
            return _matrix_of(g) * cofactors_svd(ctx.xs[0], Det)
        return _matrix_of(g * ctx.ans) * mT(inv)

    @staticmethod
    def jvp(ctx, t):
        inv = inverse_or_none(ctx.xs[0], Inv)
        if inv is None:
            return trace_of_product(mT(cofactors_svd(ctx.xs[0], Det)), t)
        return ctx.ans * trace_of_product(inv, t)


Det.vmap = on_the_batch(Det)


class Slogdet(Op):
    """(sign, log|det A|) packed: (..., n, n) -> (..., 2) (complex A: a complex sign, and
    log|det| as a complex number with a zero imaginary part). With tr = tr(A^-1 dA):
    d log|det| = Re tr, d sign = sign i Im tr (0 for a real A); the cotangent
    (g_log - i Im(conj(g_sign) sign)) A^-H (PyTorch's slogdet_backward). At a singular A,
    C^T / 0: infinite or NaN, as PyTorch's (no error; matrix_singular.py)."""

    save = "x0 ans"
    complex_grad = OWN_RULES        # the sign is not holomorphic: PyTorch's rules, written

    @staticmethod
    def forward(xp, a):
        sign, log = lapack("linalg.slogdet", "failed", lambda: xp.linalg.slogdet(a), a.shape)
        return xp.stack([sign, log.astype(sign.dtype)], axis=-1)

    @staticmethod
    def vjp(ctx, g):
        a = ctx.xs[0]
        if a.dtype.kind != "c":
            return _matrix_of(g[..., 1]) * inverse_transposed(a, Inv, Det)
        turn = real(g[..., 1]) - 1j * imag(conj(g[..., 0]) * ctx.ans[..., 0])
        return _matrix_of(turn) * conj(inverse_transposed(a, Inv, Det))

    @staticmethod
    def jvp(ctx, t):
        a = ctx.xs[0]
        trace = trace_of_product(mT(inverse_transposed(a, Inv, Det)), t)
        if a.dtype.kind != "c":
            zero = zeros_with(trace, tuple(trace.shape), trace.dtype)
            return concatenate([unsqueeze(zero, -1), unsqueeze(trace, -1)], -1)
        d_sign = ctx.ans[..., 0] * (1j * imag(trace))
        d_log = astype(real(trace), trace.dtype)
        return concatenate([unsqueeze(d_sign, -1), unsqueeze(d_log, -1)], -1)


Slogdet.vmap = on_the_batch(Slogdet)


class Inv(Op):
    """A^-1: (..., n, n) -> (..., n, n). dX = -X dA X; the cotangent -X^T g X^T."""

    save = "ans"
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, a):
        return lapack("linalg.inv", "is singular", lambda: xp.linalg.inv(a), a.shape)

    @staticmethod
    def vjp(ctx, g):
        xt = mT(ctx.ans)
        return -matmul(matmul(xt, g), xt)

    @staticmethod
    def jvp(ctx, t):
        x = ctx.ans
        return -matmul(matmul(x, t), x)


Inv.vmap = on_the_batch(Inv)


def _times(m, x, vector: bool):
    """m @ x, x a batch of vectors (..., n) when ``vector``, else of matrices."""
    return matmul(m, unsqueeze(x, -1))[..., 0] if vector else matmul(m, x)


class Solve(Op):
    """X = A^-1 B: A (..., n, n), B (..., n, k), or (..., n) when ``vector``; the batch
    dimensions broadcast. dX = A^-1 (dB - dA X); the cotangents gB = A^-T g, gA = -gB X^T."""

    save = "x0 ans"
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, a, b, vector):
        rhs = b[..., None] if vector else b
        batch = np.broadcast_shapes(a.shape[:-2], rhs.shape[:-2])
        a_full = xp.broadcast_to(a, batch + a.shape[-2:])
        rhs = xp.broadcast_to(rhs, batch + rhs.shape[-2:])
        x = lapack("linalg.solve", f"(A) is singular (B has shape {b.shape})",
                   lambda: xp.linalg.solve(a_full, rhs), a.shape)
        return x[..., 0] if vector else x

    @staticmethod
    def vjp(ctx, g):
        a, x = ctx.xs[0], ctx.ans
        gb = apply(Solve, mT(a), g, vector=ctx.vector)
        ga = None
        if ctx.needs(0):
            ga = unsqueeze(gb, -1) * unsqueeze(x, -2) if ctx.vector else matmul(gb, mT(x))
            ga = sum_to(-ga, ctx.shapes[0])
        return ga, sum_to(gb, ctx.shapes[1]) if ctx.needs(1) else None

    @staticmethod
    def jvp(ctx, ta, tb):
        a, x = ctx.xs[0], ctx.ans
        rhs = tb
        if ta is not None:
            moved = _times(ta, x, ctx.vector)
            rhs = -moved if rhs is None else rhs - moved
        return apply(Solve, a, rhs, vector=ctx.vector)

    @staticmethod
    def vmap(xs, batched, vector):
        a, b = xs
        core = 1 if vector else 2
        batch_ndim = max(a.ndim - batched[0] - 2, b.ndim - batched[1] - core)
        a = _batching.lift(a, batch_ndim + 2) if batched[0] else a
        b = _batching.lift(b, batch_ndim + core) if batched[1] else b
        return apply(Solve, a, b, vector=vector)


def _phi(x, n: int):
    """The lower triangle of x with its diagonal halved (Murray 2016's Phi)."""
    return x * (tril_mask(x, n, -1) + 0.5 * eye(x, n))


class Cholesky(Op):
    """L, lower triangular with A = L L^H: (..., n, n) -> (..., n, n) (A Hermitian
    positive definite; its lower triangle is read). dL = L Phi(L^-1 dA L^-H); the
    cotangent L^-H Phi'(L^H g) L^-1 made Hermitian (I. Murray, arXiv:1602.07527, as
    PyTorch's cholesky_backward; ^H is ^T for a real A)."""

    save = "ans"
    complex_grad = OWN_RULES        # written with conjugates: PyTorch's rules as they are

    @staticmethod
    def forward(xp, a):
        return lapack("linalg.cholesky", "is not positive-definite",
                      lambda: xp.linalg.cholesky(a), a.shape)

    @staticmethod
    def vjp(ctx, g):
        lower, n = ctx.ans, ctx.shapes[0][-1]
        p = matmul(mH(lower), g) * tril_mask(g, n)
        s = 0.5 * (p + mH(p * tril_mask(g, n, -1)))
        inverse_l = apply(Inv, lower)
        return matmul(matmul(mH(inverse_l), s), inverse_l)

    @staticmethod
    def jvp(ctx, t):
        lower, n = ctx.ans, ctx.shapes[0][-1]
        inverse_l = apply(Inv, lower)
        return matmul(lower, _phi(matmul(matmul(inverse_l, t), mH(inverse_l)), n))


Cholesky.vmap = on_the_batch(Cholesky)


# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------

def det(A):
    """The determinant of each square matrix, as ``torch.linalg.det`` / ``torch.det``, real
    or complex. Its gradient is the cofactor matrix ``adj(A)^T`` (``det(A) A^-T``; complex:
    its conjugate, PyTorch's convention), singular A included (found from the SVD there;
    PyTorch 2.13 gives zeros at a singular A).

    Shapes: (..., n, n) -> (...).

    Example::

        >>> round(gpugrad.det(gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])).item(), 5)
        -2.0
    """
    return apply(Det, checked_matrix("linalg.det", A, complex_ok=True))


def slogdet(A):
    """``(sign, logabsdet)``: the sign of each determinant and the log of its absolute
    value, as ``torch.linalg.slogdet`` (sign 0 and logabsdet -inf for a singular matrix).
    A complex A gives a complex sign ``det / |det|`` and a real logabsdet. Differentiable
    (d logabsdet = Re tr(A^-1 dA); infinite or NaN at a singular matrix, as PyTorch's, but
    the signs of the infinities and where NaN falls differ: PyTorch's come from its LU
    solve, gpugrad's from cofactors / det); a real sign is constant, a complex one moves
    (d sign = sign i Im tr(A^-1 dA), as PyTorch's).

    Shapes: (..., n, n) -> two (...) tensors.

    Example::

        >>> sign, logabsdet = gpugrad.slogdet(gpugrad.tensor([[-2.0, 0.0], [0.0, 3.0]]))
        >>> sign.item(), round(logabsdet.item(), 6)
        (-1.0, 1.791759)
        >>> gpugrad.slogdet(gpugrad.tensor([[2j]])).sign.item()
        1j
    """
    packed = apply(Slogdet, checked_matrix("linalg.slogdet", A, complex_ok=True))
    return SlogdetResult(packed[..., 0], real(packed[..., 1]))


def logdet(input):
    """log(det(A)), as ``torch.logdet``: NaN where a real determinant is negative, -inf
    where it is zero; a complex A gives the complex log, log(sign) + logabsdet.

    Shapes: (..., n, n) -> (...).

    Example::

        >>> round(gpugrad.logdet(gpugrad.tensor([[2.0, 0.0], [0.0, 3.0]])).item(), 6)
        1.791759
        >>> round(gpugrad.logdet(gpugrad.tensor([[-1.0 + 0j]])).imag.item(), 6)   # log(-1) = i pi
        3.141593
    """
    sign, logabsdet = slogdet(checked_matrix("logdet", input, complex_ok=True))
    if input.dtype.kind == "c":
        return log(sign) + logabsdet
    return where(sign < 0, float("nan"), logabsdet)


def inverse(A):
    """The inverse of each square matrix, as ``torch.linalg.inv`` / ``torch.inverse``; a
    singular one raises ``LinAlgError`` (on NumPy). Real or complex (gradients in PyTorch's
    convention).

    Shapes: (..., n, n) -> (..., n, n).

    Example::

        >>> gpugrad.inverse(gpugrad.tensor([[2.0, 0.0], [0.0, 4.0]])).tolist()
        [[0.5, 0.0], [0.0, 0.25]]
    """
    return apply(Inv, checked_matrix("linalg.inv", A, complex_ok=True))


def _solve_is_vector(A, B) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) when 1-D or shaped as A without its last
    dimension."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A, B, *, left: bool = True):
    """X with ``A @ X = B`` (``left=False``: ``X @ A = B``), as ``torch.linalg.solve``:
    B a batch of matrices (..., n, k) or of vectors (..., n) (1-D, or shaped as A without
    its last dimension); the batch dimensions broadcast. Differentiable in A and B, real or
    complex (PyTorch's convention: gB = A^-H g, gA = -gB X^H).

    Shapes: A (..., n, n), B (..., n, k) or (..., n) -> X of B's shape (batch broadcast).

    Example::

        >>> A = gpugrad.tensor([[2.0, 0.0], [0.0, 4.0]])
        >>> gpugrad.linalg.solve(A, gpugrad.tensor([1.0, 1.0])).tolist()
        [0.5, 0.25]
    """
    checked_matrix("linalg.solve", A, complex_ok=True)
    check_rhs_dtype("linalg.solve", A, B)
    if not left:
        if B.ndim < 2:
            raise ValueError(f"linalg.solve: left=False needs B as matrices (..., k, n), got "
                             f"shape {tuple(B.shape)}")
        return mT(solve(mT(A), mT(B)))
    vector = _solve_is_vector(A, B)
    n = A.shape[-1]
    rows = B.shape[-1] if vector else (B.shape[-2] if B.ndim >= 2 else None)
    if rows != n:
        raise ValueError(f"linalg.solve: B of shape {tuple(B.shape)} does not fit A of shape "
                         f"{tuple(A.shape)}: B needs {n} rows ((..., {n}, k) or (..., {n}))")
    check_batches_broadcast("linalg.solve", A, B, core=1 if vector else 2)
    return apply(Solve, A, B, vector=vector)


def cholesky(A, upper: bool = False):
    """The Cholesky factor of each Hermitian (real: symmetric) positive-definite matrix, as
    ``torch.linalg.cholesky`` (and ``torch.cholesky``): lower L with ``A = L @ L.mH``, or
    upper U = L.mH with ``A = U.mH @ U`` when ``upper``. Only the lower triangle of A is
    read; the gradient is Hermitian off the diagonal (as PyTorch's). A matrix that is not
    positive definite raises ``LinAlgError`` (on NumPy).

    Shapes: (..., n, n) -> (..., n, n).

    Example::

        >>> gpugrad.cholesky(gpugrad.tensor([[4.0, 2.0], [2.0, 5.0]])).tolist()
        [[2.0, 0.0], [1.0, 2.0]]
    """
    lower = apply(Cholesky, checked_matrix("linalg.cholesky", A, complex_ok=True))
    return mH(lower) if upper else lower


def matrix_power(A, n: int):
    """A to the integer power ``n`` (repeated squaring; n < 0: of the inverse; n = 0: the
    identity), as ``torch.linalg.matrix_power``; real or complex (PyTorch's convention).

    Shapes: (..., m, m) -> (..., m, m).

    Example::

        >>> gpugrad.matrix_power(gpugrad.tensor([[1.0, 1.0], [0.0, 1.0]]), 3).tolist()
        [[1.0, 3.0], [0.0, 1.0]]
        >>> gpugrad.matrix_power(gpugrad.tensor([[2j]]), -2).tolist()      # (2i)^-2
        [[(-0.25+0j)]]
    """
    checked_matrix("linalg.matrix_power", A, complex_ok=True)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {n!r}")
    n = int(n)
    if n == 0:              # the identity, with a zero gradient (as PyTorch's)
        return A * 0.0 + eye(A, A.shape[-1])
    base = inverse(A) if n < 0 else A
    result, n = None, abs(n)
    while True:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if not n:
            return result
        base = matmul(base, base)


METHODS = {
    "det": det, "logdet": logdet, "slogdet": slogdet, "inverse": inverse,
    "cholesky": cholesky, "matrix_power": matrix_power,
}
