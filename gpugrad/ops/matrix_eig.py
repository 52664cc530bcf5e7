"""The eigen-decomposition of general (non-symmetric) matrices, as ``torch.linalg.eig`` and
``eigvals``: complex eigenvalues L and unit-norm eigenvectors V (the columns), complex
also for a real input (float32 gives complex64, float64 complex128), A V = V diag(L).

The rules are PyTorch's (linalg_eig_backward, linalg_eig_jvp) and give its complex
gradients directly (``complex_grad = OWN_RULES``, complex_node.py): for a real loss of
L and V, A.grad = dL/dRe A + i dL/dIm A, its real part for a real A. They need solves with
complex V, which gpugrad's ``solve`` does not differentiate yet, so each rule is itself a
record on raw arrays (``EigVjp``, ``EigJvp``): first derivatives in either mode, on both
backends; a second derivative through them is refused with an error.

Each eigenvector is defined up to a phase (times e^{i phi}): only losses that do not
depend on it have a gradient (|V|^2, V V^H, ratios of entries of a column...); the
backward of a loss that does depend on it raises, as PyTorch's. Where two eigenvalues are
equal, the eigenvector terms that divide by their gap are taken as 0 (as ``eigh``'s in
matrix_decompositions.py; PyTorch's give inf or NaN).

On CUDA the decomposition is computed on the host (NumPy's LAPACK geev) and its results
moved back (``backend.to_device``), as PyTorch's does (MAGMA's geev runs on the CPU): CuPy
before 14 has no ``linalg.eig``, and CuPy 14's (cuSOLVER's) orders the eigenvalues and
phases the eigenvectors its own way, so results would differ between devices. The rules'
solves and products run on the device.

Example::

    >>> A = gpugrad.tensor([[0.0, -1.0], [1.0, 0.0]], dtype="float64", requires_grad=True)
    >>> L, V = gpugrad.linalg.eig(A)                    # a rotation: eigenvalues +-i
    >>> L.tolist()
    [1j, -1j]
    >>> L.imag.sum().backward()                         # sum of Im(L): 0 for every A nearby
    >>> A.grad.numpy().round(6).tolist()
    [[0.0, 0.0], [0.0, 0.0]]
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import backend
from ..tensor import Tensor
from .batching import with_batches
from .matrix_common import lapack, on_the_batch, unpack
from .op_class import OWN_RULES
from .record import Op, apply

__all__ = ["eig", "eigvals"]

EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])

PHASE_TOLERANCE = 1e-2      # PyTorch's: |Im diag(V^H gV)| above it means a phase-dependent loss


# ---------------------------------------------------------------------------------------------
# Raw-array helpers (xp: numpy or cupy)
# ---------------------------------------------------------------------------------------------

def _decompose(xp, a):
    """(L, V) of the matrices ``a``, complex, V's columns of unit norm, as LAPACK's geev
    gives them; a CUDA array's on the host (module docstring)."""
    if xp is not np:
        values, vectors = _decompose(np, backend.to_device(a, backend.CPU))
        device = backend.device_of(a)
        return backend.to_device(values, device), backend.to_device(vectors, device)
    values, vectors = lapack("linalg.eig", "did not converge", lambda: np.linalg.eig(a),
                             a.shape)
    complex_dtype = np.result_type(a.dtype, np.complex64)   # (NumPy: real for real spectra)
    return values.astype(complex_dtype, copy=False), vectors.astype(complex_dtype, copy=False)


def _mH(xp, x):
    return xp.conj(xp.swapaxes(x, -1, -2))


def _diagonal(xp, x):
    return xp.diagonal(x, 0, -2, -1)


def _over(xp, x, d):
    """x / d, 0 where d is 0 (the diagonal of the gap matrices, and repeated eigenvalues)."""
    zero = d == 0
    return xp.where(zero, 0, x / xp.where(zero, 1, d))


def _vjp_arrays(xp, values, vectors, g_values, g_vectors):
    """PyTorch's linalg_eig_backward: the cotangent of A (complex) from those of L and V.
    (With gV = 0, as from ``eigvals``, it is its shortcut V^-H diag(gL) V^H.)"""
    vh = _mH(xp, vectors)
    vhgv = vh @ g_vectors
    diag = _diagonal(xp, vhgv)
    worst = float(xp.max(xp.abs(diag.imag))) if diag.size else 0.0
    if worst > PHASE_TOLERANCE:
        raise RuntimeError(
            f"linalg.eig backward: the eigenvectors are defined only up to a phase (each "
            f"column times e^(i phi)), and this loss depends on that phase (Im diag(V^H gV) "
            f"reaches {worst:.3g} > {PHASE_TOLERANCE}), so its gradient is ill-defined. Use "
            f"a phase-invariant function of the eigenvectors: V.abs(), V * V.conj(), "
            f"ratios of entries of one column...")
    vhgv = vhgv - vh @ (vectors * diag.real[..., None, :])
    lconj = xp.conj(values)
    inner = _over(xp, vhgv, lconj[..., None, :] - lconj[..., :, None])
    n = values.shape[-1]
    eye = xp.eye(n, dtype=bool)
    inner = xp.where(eye, g_values[..., None, :], inner)   # the diagonal: gL
    return xp.linalg.solve(vh, inner @ vh)


def _jvp_arrays(xp, values, vectors, t):
    """PyTorch's linalg_eig_jvp: (dL, dV) from the tangent ``t`` of A."""
    dp = xp.linalg.solve(vectors, t.astype(vectors.dtype, copy=False) @ vectors)
    d_values = _diagonal(xp, dp).copy()
    n = values.shape[-1]
    off = xp.where(xp.eye(n, dtype=bool), 0, dp)
    dx = vectors @ _over(xp, off, values[..., None, :] - values[..., :, None])
    d_vectors = dx - vectors * _diagonal(xp, _mH(xp, vectors) @ dx).real[..., None, :]
    return d_values, d_vectors


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------

def _no_second_order(ctx, *args):
    raise NotImplementedError(
        "linalg.eig / linalg.eigvals: second derivatives (create_graph=True, hessians, "
        "forward-over-reverse, jvp of a jvp) are not supported: the first derivative is "
        "computed on raw arrays. Take first derivatives only, or differentiate "
        "eigenvalues of a symmetric matrix with linalg.eigh")


class Eig(Op):
    """(L, V) of general A, packed: (..., n, n) -> (..., n + n * n), complex. The rules:
    ``EigVjp`` and ``EigJvp`` (module docstring)."""

    save = "ans"
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, a):
        return _pack(xp, *_decompose(xp, a))

    @staticmethod
    def vjp(ctx, g):
        real = ctx.dtypes[0].kind != "c"
        return apply(EigVjp, ctx.ans, g, real_input=real)

    @staticmethod
    def jvp(ctx, t):
        return apply(EigJvp, ctx.ans, t)


Eig.vmap = on_the_batch(Eig)


def _pack(xp, values, vectors):
    """L (..., n) and V (..., n, n) joined as (..., n + n * n) (matrix_common.pack's
    reshape to -1 cannot take an empty batch)."""
    n = values.shape[-1]
    return xp.concatenate([values, vectors.reshape(values.shape[:-1] + (n * n,))], axis=-1)


def _split(xp, packed):
    """(L, V) of an ``Eig`` output (..., n + n * n)."""
    n = int(round((np.sqrt(1 + 4 * packed.shape[-1]) - 1) / 2))
    batch = packed.shape[:-1]
    return packed[..., :n], packed[..., n:].reshape(batch + (n, n))


class EigVjp(Op):
    """The cotangent of A from the packed ``Eig`` output and its cotangent g, as PyTorch's
    linalg_eig_backward; its real part for a real A (``real_input``). Not differentiable again."""

    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, packed, g, real_input):
        values, vectors = _split(xp, packed)
        g_values, g_vectors = _split(xp, g.astype(packed.dtype, copy=False))
        out = _vjp_arrays(xp, values, vectors, g_values, g_vectors)
        return xp.ascontiguousarray(out.real) if real_input else out

    vjp = staticmethod(_no_second_order)
    jvp = staticmethod(_no_second_order)

    @staticmethod
    def vmap(xs, batched, real_input):
        return apply(EigVjp, *with_batches(xs, batched), real_input=real_input)


class EigJvp(Op):
    """The tangent of the packed ``Eig`` output from the tangent t of A, as PyTorch's
    linalg_eig_jvp. Not differentiable again."""

    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, packed, t):
        values, vectors = _split(xp, packed)
        return _pack(xp, *_jvp_arrays(xp, values, vectors, t))

    vjp = staticmethod(_no_second_order)
    jvp = staticmethod(_no_second_order)

    @staticmethod
    def vmap(xs, batched):
        return apply(EigJvp, *with_batches(xs, batched))


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

_DTYPES = (np.float32, np.float64, np.complex64, np.complex128)


def _checked(name: str, A):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}: expected a tensor, got {type(A).__name__}")
    if A.dtype not in _DTYPES:
        raise TypeError(f"{name}: expected a float32, float64, complex64 or complex128 "
                        f"tensor, got {A.dtype}; convert it first (A.double() or A.float())")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"{name}: A must be batches of square matrices (..., n, n), got "
                         f"shape {tuple(A.shape)}")
    return A


def eig(A):
    """``(eigenvalues, eigenvectors)`` of each square matrix, as ``torch.linalg.eig``:
    complex also for a real A (float32 -> complex64, float64 -> complex128), in LAPACK's
    order, the eigenvectors the columns of V, of unit norm (A V = V diag(L)). Each
    eigenvector is defined up to a phase: the gradient exists only for losses that do not
    depend on it (module docstring); use ``eigvals`` when only the values are needed.

    Shapes: (..., n, n) -> (..., n) and (..., n, n).

    Example::

        >>> L, V = gpugrad.linalg.eig(gpugrad.tensor([[2.0, 1.0], [0.0, 3.0]]))
        >>> L.tolist(), L.dtype
        ([(2+0j), (3+0j)], dtype('complex64'))
    """
    _checked("linalg.eig", A)
    n = A.shape[-1]
    return EigResult(*unpack(apply(Eig, A), [(n,), (n, n)]))


def eigvals(A):
    """The eigenvalues of each square matrix, complex, as ``torch.linalg.eigvals``: ``eig``'s
    first result (the eigenvectors are computed too, for the gradient V^-H diag(gL) V^H,
    as PyTorch does when a gradient may be needed).

    Shapes: (..., n, n) -> (..., n).

    Example::

        >>> gpugrad.linalg.eigvals(gpugrad.tensor([[1.0, -2.0], [2.0, 1.0]])).tolist()
        [(1+2j), (1-2j)]
    """
    _checked("linalg.eigvals", A)
    n = A.shape[-1]
    return unpack(apply(Eig, A), [(n,), (n, n)])[0]
