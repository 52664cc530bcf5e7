"""The Moore-Penrose pseudo-inverse, as ``torch.linalg.pinv`` and ``torch.pinverse``: one
record whose forward is an SVD (or, for Hermitian input, an eigendecomposition) and whose
rules are PyTorch's (Golub and Pereyra), written in gpugrad ops. Complex A: the same rules
with conjugate transposes, which give PyTorch's gradients as they are (``OWN_RULES``).

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

from .. import backend
from ..autograd.mode import is_grad_enabled
from ..tensor import Tensor
from . import batching as _batching
from .linalg import matmul
from .matrix_common import checked_matrix, mH
from .op_class import OWN_RULES
from .record import Op, apply
from .shape import broadcast_to

__all__ = ["pinverse"]


class Pinv(Op):
    """The Moore-Penrose pseudo-inverse P: (..., m, n) -> (..., n, m), singular values at
    most max(atol, rtol * largest) taken as zero (``hermitian``: eigenvalues by absolute
    value). Its rules (Golub and Pereyra 1973, as PyTorch's) hold where the rank is
    constant: dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P (^H: ^T when
    real); the cotangent, the adjoint of that map under Re tr(X^H Y), is PyTorch's."""

    save = "x0 ans"
    complex_grad = OWN_RULES        # written with conjugates: PyTorch's rules as they are

    @staticmethod
    def forward(xp, a, *limits, rtol, atol, hermitian):
        # limits: none (rtol, atol: numbers), or the arrays (atol, rtol), one per matrix of
        # a's batch (broadcast to it by ``pinv``)
        if hermitian:
            values, vectors = xp.linalg.eigh(a)
            magnitude = xp.abs(values)
            left = right = vectors
        else:
            left, values, right_h = xp.linalg.svd(a, full_matrices=False)
            magnitude, right = values, _adjoint(right_h)
        largest = magnitude.max(axis=-1, keepdims=True) if magnitude.shape[-1] else magnitude
        if limits:
            atol, rtol = limits[0][..., None], limits[1][..., None]
        kept = magnitude > xp.maximum(atol, rtol * largest)
        inverse = xp.where(kept, 1.0 / xp.where(kept, values, 1.0), 0.0).astype(a.dtype)
        return xp.matmul(right * inverse[..., None, :], _adjoint(left))

    @staticmethod
    def vjp(ctx, g):
        grad = _pinv_vjp(ctx.xs[0], ctx.ans, g)
        return grad if len(ctx.shapes) == 1 else (grad,) + (None,) * (len(ctx.shapes) - 1)

    @staticmethod
    def jvp(ctx, t, *limits):           # (the tolerances: constants, no tangent)
        if t is None:
            return None
        a, p = ctx.xs[0], ctx.ans
        tt = mH(t)
        return (-matmul(matmul(p, t), p)
                + matmul(matmul(p, mH(p)), tt - matmul(matmul(tt, a), p))
                + matmul(matmul(tt - matmul(matmul(p, a), tt), mH(p)), p))

    @staticmethod
    def vmap(xs, batched, **params):
        a, *limits = xs
        if not batched[0]:              # (a tolerance differs per example: so does P)
            size = next(x.shape[0] for x, b in zip(limits, batched[1:]) if b)
            a = _batching.with_batch(a, False, size)
        return apply(Pinv, a, *limits, **params)


def _adjoint(m):
    """The conjugate transpose of the last two dimensions of a raw array (a real one: its
    transpose, a view)."""
    m = m.swapaxes(-1, -2)
    return m.conj() if m.dtype.kind == "c" else m


def _pinv_vjp(a, p, g):
    """The adjoint of Pinv's jvp: -P^H g P^H + (I - A P) g^H P P^H + P^H P g^H (I - P A)."""
    pt, gt = mH(p), mH(g)
    return (-matmul(matmul(pt, g), pt)
            + matmul(gt - matmul(matmul(a, p), gt), matmul(p, pt))
            + matmul(matmul(pt, p), gt - matmul(matmul(gt, p), a)))


def pinv(A, *, atol=None, rtol=None, hermitian: bool = False):
    """The Moore-Penrose pseudo-inverse, as ``torch.linalg.pinv``: singular values at most
    ``max(atol, rtol * largest)`` count as zero (by default rtol = eps * max(m, n), and 0
    where ``atol`` > 0); ``hermitian``: A Hermitian (real: symmetric), through ``eigh``.
    Real or complex (gradients in PyTorch's convention). Its gradient holds
    where the rank does not change (as PyTorch's). ``atol`` and ``rtol`` are numbers or
    tensors of one tolerance per matrix, which broadcast with A's batch shape (as
    PyTorch's; they are constants: one that requires grad is refused, as PyTorch's).

    Shapes: A (..., m, n), atol and rtol () or broadcasting with (...) -> (..., n, m).

    Example::

        >>> gpugrad.linalg.pinv(gpugrad.tensor([[1.0, 0.0], [0.0, 0.0]])).tolist()
        [[1.0, 0.0], [0.0, 0.0]]
        >>> A = gpugrad.tensor([[[1.0, 0.0], [0.0, 0.1]]] * 2)             # (2, 2, 2)
        >>> gpugrad.linalg.pinv(A, rtol=gpugrad.tensor([0.5, 0.05]))[:, 1, 1].tolist()
        [0.0, 10.0]
    """
    checked_matrix("linalg.pinv", A, square=hermitian, complex_ok=True)
    if isinstance(atol, Tensor) or isinstance(rtol, Tensor):
        return _pinv_with_tensors(A, atol, rtol, bool(hermitian))
    if rtol is None:
        rtol = np.finfo(A.dtype).eps * max(A.shape[-2:]) if not atol else 0.0
    return apply(Pinv, A, rtol=float(rtol), atol=float(atol or 0.0), hermitian=bool(hermitian))


def _pinv_with_tensors(A, atol, rtol, hermitian: bool):
    """``pinv`` where ``atol`` or ``rtol`` is a tensor: A and both tolerances broadcast to
    one batch shape, the tolerances as tensors of it (PyTorch's defaults, per matrix)."""
    atol = _tolerance(A, 0.0 if atol is None else atol, "atol")
    if rtol is None:                    # (eps * max(m, n) where atol is not > 0)
        default = np.finfo(A.dtype).eps * max(A.shape[-2:])
        rtol = (atol <= 0).astype("float64") * default
    rtol = _tolerance(A, rtol, "rtol")
    try:
        batch = np.broadcast_shapes(tuple(A.shape[:-2]), tuple(atol.shape),
                                    tuple(rtol.shape))
    except ValueError:
        raise ValueError(
            f"linalg.pinv: the tolerances (atol of shape {tuple(atol.shape)}, rtol of shape "
            f"{tuple(rtol.shape)}) must broadcast with the batch shape "
            f"{tuple(A.shape[:-2])} of A (shape {tuple(A.shape)}): give one tolerance per "
            f"matrix, or a number") from None
    if tuple(A.shape[:-2]) != batch:
        A = broadcast_to(A, batch + tuple(A.shape[-2:]))
    atol, rtol = broadcast_to(atol, batch), broadcast_to(rtol, batch)
    return apply(Pinv, A, atol, rtol, rtol=None, atol=None, hermitian=hermitian)


def _tolerance(A, value, name: str):
    """``value`` (a number or tensor) as a real tensor on A's device, outside the graph."""
    if not isinstance(value, Tensor):
        return Tensor._wrap(backend.asarray(float(value), dtype=np.float64, device=A.device))
    if value.dtype.kind not in "biuf":
        raise TypeError(f"linalg.pinv: {name} must be real, got a {value.dtype} tensor")
    if value.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function 'linalg_pinv' is not differentiable with respect "
                           f"to argument '{name}'. This input cannot have requires_grad "
                           f"True (as PyTorch's); pass {name}.detach()")
    return value.detach()


def pinverse(input, rcond: float = 1e-15):
    """The pseudo-inverse with singular values at most ``rcond`` times the largest taken as
    zero, as ``torch.pinverse``. Shapes: (..., m, n) -> (..., n, m).

    Example::

        >>> gpugrad.pinverse(gpugrad.tensor([[2.0], [0.0]])).tolist()
        [[0.5, 0.0]]
    """
    return pinv(input, rtol=rcond)


METHODS = {"pinverse": pinverse}
