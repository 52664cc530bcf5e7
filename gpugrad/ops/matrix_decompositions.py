"""Matrix decompositions, as ``torch.linalg``'s: ``eigh`` and ``eigvalsh`` (symmetric
eigenproblems), ``svd`` and ``svdvals`` (``qr`` is in matrix_qr.py, the pseudo-inverse ``pinv`` in
matrix_pinv.py). Batches (..., m, n) as PyTorch's; the forward is ``xp.linalg``, the
rules are PyTorch's formulas written in gpugrad ops. Several results are one record
output, packed (matrix_common.py).

Eigenvectors and singular vectors are defined up to sign: a loss that depends on their
signs has no well-defined gradient. The gradients through eigenvectors (singular vectors)
divide by the gaps between eigenvalues (squared singular values) and are undefined where
two are equal: those pairs' terms are taken as 0 (PyTorch's give inf or NaN), so that a
function of the values alone (``eigh(a)[0].sum()``) has its gradient there too.

Example::

    >>> a = gpugrad.tensor([[2.0, 1.0], [1.0, 2.0]], dtype="float64", requires_grad=True)
    >>> values, vectors = gpugrad.linalg.eigh(a)
    >>> values.tolist()
    [1.0, 3.0]
    >>> values[1].backward()
    >>> a.grad.numpy().round(6).tolist()   # v v^T for the eigenvector v of 3
    [[0.5, 0.5], [0.5, 0.5]]
"""

from __future__ import annotations

from collections import namedtuple


from .complex_parts import conj, imag, real
from .diagonal import diag_embed, diagonal
from .einsum import einsum
from .elementwise import where
from .linalg import matmul
from .matrix_common import (check_phase_free, checked_matrix, eye, lapack, mH, on_the_batch,
                            pack, pack_tensors, unpack)
from .op_class import OWN_RULES
from .record import Op, apply, recording_backward
from .shape import unsqueeze
from .unary import astype

EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


def _over(x, d):
    """``x / d``, 0 where ``d`` is 0: where eigen- or singular values repeat (or a singular
    value is 0), the vectors' part of a rule is undefined, and with the vectors unused (a
    function of the values alone) their cotangent and this term are 0, not 0 / 0."""
    zero = d == 0
    return where(zero, 0.0, x / where(zero, 1.0, d))


def _gaps(values, n: int):
    """E with E[i, j] = values[j] - values[i] off the diagonal and 1 on it."""
    return unsqueeze(values, -2) - unsqueeze(values, -1) + eye(values, n)


class Eigh(Op):
    """(eigenvalues L ascending, eigenvectors V as columns) of Hermitian A (its ``UPLO``
    triangle read), packed: (..., n, n) -> (..., n + n * n) (complex A: L as complex numbers
    with zero imaginary parts). dL = Re diag(V^H dA V), dV = V ((V^H dA V) / E) off the
    diagonal, E[i, j] = L[j] - L[i]; the cotangent V (skew(V^H gV) / E + diag(gL)) V^H,
    skew(X) = (X - X^H) / 2 off the diagonal. A complex V's columns are defined up to a
    phase: a loss that depends on it is refused (PyTorch's linalg_eigh_backward)."""

    save = "ans"
    complex_grad = OWN_RULES        # written with conjugates: PyTorch's rules as they are

    @staticmethod
    def forward(xp, a, UPLO):
        values, vectors = lapack("linalg.eigh", "did not converge",
                                 lambda: xp.linalg.eigh(a, UPLO=UPLO), a.shape)
        return pack(xp, values, vectors, batch_ndim=a.ndim - 2)

    @staticmethod
    def vjp(ctx, g):
        n = ctx.shapes[0][-1]
        values, vectors = unpack(ctx.ans, [(n,), (n, n)])
        g_values, g_vectors = unpack(g, [(n,), (n, n)])
        vtg = matmul(mH(vectors), g_vectors)
        skew = 0.5 * (vtg - mH(vtg))
        if vtg.dtype.kind == "c":
            check_phase_free("linalg.eigh", "eigenvectors", imag(diagonal(vtg, 0, -2, -1)))
            skew = skew * (1.0 - eye(values, n))
            values, g_values = real(values), astype(real(g_values), vtg.dtype)
        inner = _over(skew, _gaps(values, n)) + diag_embed(g_values)
        return matmul(matmul(vectors, inner), mH(vectors))

    @staticmethod
    def jvp(ctx, t):
        n = ctx.shapes[0][-1]
        values, vectors = unpack(ctx.ans, [(n,), (n, n)])
        rotated = matmul(matmul(mH(vectors), t), vectors)
        off_diagonal = rotated * (1.0 - eye(rotated, n))
        d_values = diagonal(rotated, 0, -2, -1)
        if rotated.dtype.kind == "c":
            values, d_values = real(values), astype(real(d_values), rotated.dtype)
        d_vectors = matmul(vectors, _over(off_diagonal, _gaps(values, n)))
        return pack_tensors(d_values, d_vectors, batch_ndim=values.ndim - 1)


Eigh.vmap = on_the_batch(Eigh)


class Eigvalsh(Op):
    """The (real) eigenvalues L of Hermitian A: (..., n, n) -> (..., n). dL = Re diag(V^H dA
    V); the cotangent V diag(g) V^H, with the eigenvectors V the forward found (``aux``), or
    found again (differentiably) when the backward is recorded."""

    save = "x0 aux"
    complex_grad = OWN_RULES        # written with conjugates: PyTorch's rules as they are

    @staticmethod
    def forward(xp, a, UPLO):
        return lapack("linalg.eigvalsh", "did not converge",
                      lambda: xp.linalg.eigh(a, UPLO=UPLO), a.shape)

    @staticmethod
    def vjp(ctx, g):
        vectors = _eigenvectors(ctx)
        return matmul(vectors * unsqueeze(g, -2), mH(vectors))

    @staticmethod
    def jvp(ctx, t):
        vectors = _eigenvectors(ctx)
        return real(einsum("...ji,...jk,...ki->...i", conj(vectors), t, vectors))


Eigvalsh.vmap = on_the_batch(Eigvalsh)


def _eigenvectors(ctx):
    if ctx.aux is not None and not recording_backward():
        return ctx.aux
    n = ctx.shapes[0][-1]
    return unpack(apply(Eigh, ctx.xs[0], UPLO=ctx.UPLO), [(n,), (n, n)])[1]


def _svd_shapes(shape, full_matrices: bool) -> list:
    m, n = shape[-2:]
    k = min(m, n)
    return [(m, m), (k,), (n, n)] if full_matrices else [(m, k), (k,), (k, n)]


def _square_gaps(s, k: int):
    """E with E[i, j] = s[j]^2 - s[i]^2 off the diagonal and 1 on it."""
    return _gaps(s * s, k)


class Svd(Op):
    """(U, S, Vh) with A = U diag(S) Vh, S descending, packed: (..., m, n) ->
    (..., m*k + k + k*n), k = min(m, n) (``full_matrices``: U (m, m), Vh (n, n)). The
    rules are PyTorch's (svd_backward, linalg_svd_jvp); with ``full_matrices`` and m != n
    the cotangents of U's last m - k columns and Vh's last n - k rows are ignored (they are
    any basis of a subspace), as PyTorch's, and forward mode is refused. A complex A: S
    packed as complex numbers with zero imaginary parts; the singular vectors are defined up
    to a common phase per pair, and a loss that depends on it is refused (as PyTorch's)."""

    save = "ans"
    complex_grad = OWN_RULES        # written with conjugates: PyTorch's rules as they are

    @staticmethod
    def forward(xp, a, full_matrices):
        u, s, vh = lapack("linalg.svd", "did not converge",
                          lambda: xp.linalg.svd(a, full_matrices=full_matrices), a.shape)
        return pack(xp, u, s, vh, batch_ndim=a.ndim - 2)

    @staticmethod
    def vjp(ctx, g):
        shapes = _svd_shapes(ctx.shapes[0], ctx.full_matrices)
        (u, s, vh), (gu, gs, gvh) = unpack(ctx.ans, shapes), unpack(g, shapes)
        m, n = ctx.shapes[0][-2:]
        k = min(m, n)
        if ctx.full_matrices and m != n:
            u, gu, vh, gvh = u[..., :k], gu[..., :k], vh[..., :k, :], gvh[..., :k, :]
        uhgu, vhgv = matmul(mH(u), gu), matmul(vh, mH(gvh))
        uhgu, vhgv = uhgu - mH(uhgu), vhgv - mH(vhgv)
        if u.dtype.kind == "c":
            diag_u = diagonal(uhgu, 0, -2, -1)
            check_phase_free("linalg.svd", "singular vectors",
                             imag(diag_u + diagonal(vhgv, 0, -2, -1)))
            s, gs = real(s), real(gs)
        s_row, s_col = unsqueeze(s, -2), unsqueeze(s, -1)
        inner = _over(uhgu * s_row + s_col * vhgv, _square_gaps(s, k)) + diag_embed(gs)
        if u.dtype.kind == "c":     # i Im diag(U^H gU) / S
            inner = inner + diag_embed(_over(diag_u, 2.0 * s))
        if m > k:       # (I - U U^H) gU S^-1 Vh
            gu_s = _over(gu, s_row)
            ga = matmul(u, inner) + gu_s - matmul(u, matmul(mH(u), gu_s))
            return matmul(ga, vh)
        if n > k:       # U S^-1 gVh (I - V Vh)
            gvh_s = _over(gvh, s_col)
            ga = matmul(inner, vh) + gvh_s - matmul(matmul(gvh_s, mH(vh)), vh)
            return matmul(u, ga)
        return matmul(matmul(u, inner), vh)

    @staticmethod
    def jvp(ctx, t):
        m, n = ctx.shapes[0][-2:]
        if ctx.full_matrices and m != n:
            raise NotImplementedError(
                f"linalg.svd: forward-mode derivatives with full_matrices=True are not "
                f"defined for non-square matrices (shape {tuple(ctx.shapes[0])}); use "
                f"full_matrices=False")
        u, s, vh = unpack(ctx.ans, _svd_shapes(ctx.shapes[0], False))
        s = real(s)
        if m >= n:
            du, ds, dv = _svd_jvp_tall(u, s, mH(vh), t)
        else:
            dv, ds, du = _svd_jvp_tall(mH(vh), s, u, mH(t))
        return pack_tensors(du, astype(ds, u.dtype), mH(dv), batch_ndim=s.ndim - 1)


Svd.vmap = on_the_batch(Svd)


def _svd_jvp_tall(u, s, v, t):
    """(dU, dS, dV) of the reduced SVD A = U diag(S) V^H of a tall or square A (m >= n);
    complex: i Im diag(U^H dA V) / (2S) added to U^H dU and taken from V^H dV (PyTorch's
    choice of phases)."""
    k = s.shape[-1]
    dp = matmul(matmul(mH(u), t), v)
    off = dp * (1.0 - eye(s, k))
    s_row, s_col = unsqueeze(s, -2), unsqueeze(s, -1)
    gaps = _square_gaps(s, k)
    inner_u = _over(off * s_row + s_col * mH(off), gaps)
    inner_v = _over(s_col * off + mH(off) * s_row, gaps)
    ds = diagonal(dp, 0, -2, -1)
    if dp.dtype.kind == "c":
        phase = diag_embed(_over(ds - astype(real(ds), dp.dtype), 2.0 * s))
        inner_u, inner_v, ds = inner_u + phase, inner_v - phase, real(ds)
    du, dv = matmul(u, inner_u), matmul(v, inner_v)
    if u.shape[-2] > k:
        du = du + _over(matmul(t, v) - matmul(u, dp), s_row)
    return du, ds, dv


class Svdvals(Op):
    """The (real) singular values S of A, descending: (..., m, n) -> (..., k). dS = Re
    diag(U^H dA V); the cotangent U diag(g) Vh, with U and Vh the forward found (``aux``), or
    found again (differentiably) when the backward is recorded."""

    save = "x0 aux"
    complex_grad = OWN_RULES        # written with conjugates: PyTorch's rules as they are

    @staticmethod
    def forward(xp, a):
        u, s, vh = lapack("linalg.svdvals", "did not converge",
                          lambda: xp.linalg.svd(a, full_matrices=False), a.shape)
        return s, pack(xp, u, vh, batch_ndim=a.ndim - 2)

    @staticmethod
    def vjp(ctx, g):
        u, vh = _singular_vectors(ctx)
        return matmul(u * unsqueeze(g, -2), vh)

    @staticmethod
    def jvp(ctx, t):
        u, vh = _singular_vectors(ctx)
        return real(einsum("...ji,...jk,...ik->...i", conj(u), t, conj(vh)))


Svdvals.vmap = on_the_batch(Svdvals)


def _singular_vectors(ctx):
    (u_shape, _, vh_shape) = _svd_shapes(ctx.shapes[0], False)
    if ctx.aux is not None and not recording_backward():
        return unpack(ctx.aux, [u_shape, vh_shape])
    u, _, vh = unpack(apply(Svd, ctx.xs[0], full_matrices=False),
                      _svd_shapes(ctx.shapes[0], False))
    return u, vh


def eigh(A, UPLO: str = "L"):
    """``(eigenvalues, eigenvectors)`` of each Hermitian (real: symmetric) matrix, as
    ``torch.linalg.eigh``: real eigenvalues ascending, eigenvectors the columns (defined up
    to sign, complex ones up to a phase: a loss that depends on it is refused). Only the
    ``UPLO`` triangle ("L" or "U") is read; the gradient is symmetric, and undefined where
    two eigenvalues are equal (use ``eigvalsh`` when only the values are needed).

    Shapes: (..., n, n) -> (..., n) and (..., n, n).

    Example::

        >>> values, vectors = gpugrad.linalg.eigh(gpugrad.tensor([[2.0, 0.0], [0.0, 1.0]]))
        >>> values.tolist(), vectors.abs().tolist()
        ([1.0, 2.0], [[0.0, 1.0], [1.0, 0.0]])
    """
    checked_matrix("linalg.eigh", A, complex_ok=True)
    _check_uplo("linalg.eigh", UPLO)
    n = A.shape[-1]
    values, vectors = unpack(apply(Eigh, A, UPLO=UPLO), [(n,), (n, n)])
    return EighResult(real(values), vectors)


def eigvalsh(A, UPLO: str = "L"):
    """The (real) eigenvalues of each Hermitian matrix, ascending, as ``torch.linalg.eigvalsh``
    (the ``UPLO`` triangle read). Shapes: (..., n, n) -> (..., n).

    Example::

        >>> gpugrad.linalg.eigvalsh(gpugrad.tensor([[2.0, 1.0], [1.0, 2.0]])).tolist()
        [1.0, 3.0]
    """
    checked_matrix("linalg.eigvalsh", A, complex_ok=True)
    _check_uplo("linalg.eigvalsh", UPLO)
    return apply(Eigvalsh, A, UPLO=UPLO)


def _check_uplo(name: str, UPLO) -> None:
    if UPLO not in ("L", "U"):
        raise ValueError(f"{name}: UPLO must be 'L' or 'U', got {UPLO!r}")


def svd(A, full_matrices: bool = True, *, driver=None):
    """``(U, S, Vh)`` with ``A = U @ diag(S) @ Vh``, S descending, as ``torch.linalg.svd``
    (singular vectors defined up to sign; complex A: up to a phase per pair, a loss that
    depends on it is refused, as PyTorch's). ``full_matrices`` (the default, as PyTorch's):
    U (m, m) and Vh (n, n), whose last columns (rows) are any basis of a subspace: their
    gradients are ignored, as PyTorch's; differentiate with ``full_matrices=False``. The
    gradient through U and Vh is undefined where two singular values are equal (or, for
    non-square A, one is zero): use ``svdvals`` when only S is needed. ``driver``: accepted
    and ignored (PyTorch uses it on CUDA only).

    Shapes: (..., m, n) -> U (..., m, k), S (..., k), Vh (..., k, n), k = min(m, n)
    (U (..., m, m) and Vh (..., n, n) with ``full_matrices``).

    Example::

        >>> U, S, Vh = gpugrad.linalg.svd(gpugrad.tensor([[3.0, 0.0], [0.0, -4.0]]))
        >>> S.tolist(), (U @ gpugrad.diag(S) @ Vh).tolist()
        ([4.0, 3.0], [[3.0, 0.0], [0.0, -4.0]])
    """
    checked_matrix("linalg.svd", A, square=False, complex_ok=True)
    full = bool(full_matrices) and A.shape[-1] != A.shape[-2]     # square: the same
    packed = apply(Svd, A, full_matrices=full)
    u, s, vh = unpack(packed, _svd_shapes(A.shape, full))
    return SVDResult(u, real(s), vh)


def svdvals(A, *, driver=None):
    """The singular values of each matrix, descending, as ``torch.linalg.svdvals``; its
    gradient ``U diag(g) Vh`` is defined everywhere.

    Shapes: (..., m, n) -> (..., min(m, n)).

    Example::

        >>> gpugrad.linalg.svdvals(gpugrad.tensor([[3.0, 0.0], [0.0, -4.0]])).tolist()
        [4.0, 3.0]
    """
    return apply(Svdvals, checked_matrix("linalg.svdvals", A, square=False, complex_ok=True))


