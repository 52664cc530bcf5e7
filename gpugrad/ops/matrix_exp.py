"""The matrix exponential, as ``torch.linalg.matrix_exp``: one record, ``MatrixExp``.

The forward is Higham's scaling and squaring with the [13/13] Padé approximant (N. J.
Higham, "The scaling and squaring method for the matrix exponential revisited", SIAM J.
Matrix Anal. Appl. 26(4), 2005): each matrix of the batch is scaled by its own 2^-s so that
its 1-norm is at most theta_13, and squared s times. The rules use the block-matrix identity
(Mathias 1996; PyTorch's differential_analytic_matrix_function):
exp([[X, E], [0, X]]) = [[exp(X), L(X, E)], [0, exp(X)]], L the Fréchet derivative, so
the tangent is the upper-right block for X = A, E = dA, and the cotangent for X = A^T,
E = g. Both are MatrixExp again: the rules can be differentiated again. exp is holomorphic:
a complex A's gradient is PyTorch's L(A^H, g) (complex_node.py's turn of the rule above).

Example::

    >>> A = gpugrad.tensor([[0.0, 1.0], [0.0, 0.0]], dtype="float64", requires_grad=True)
    >>> gpugrad.linalg.matrix_exp(A).numpy().round(12).tolist()   # I + A: A is nilpotent
    [[1.0, 1.0], [0.0, 1.0]]
    >>> gpugrad.linalg.matrix_exp(A)[0, 1].backward()
    >>> A.grad.numpy().round(6).tolist()
    [[0.5, 1.0], [0.166667, 0.5]]
"""

from __future__ import annotations

import numpy as np

from ..autograd.capture_mode import refuse_host_sync
from .matrix_common import checked_matrix, mT, on_the_batch
from .op_class import HOLOMORPHIC
from .record import Op, apply, zeros_with
from .shape import concatenate

__all__ = ["matrix_exp"]

_PADE_13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
            1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
            33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA_13 = 5.371920351148152


def _expm(xp, a):
    """exp of each matrix of ``a`` (..., n, n) by scaling, Padé [13/13] and squaring."""
    n = a.shape[-1]
    norm = xp.abs(a).sum(axis=-2).max(axis=-1) if n else xp.zeros(a.shape[:-2], a.real.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = xp.ceil(xp.log2(norm / _THETA_13))
    s = xp.where(xp.isfinite(s) & (s > 0), s, 0).astype(np.int64)
    x = a * (0.5 ** s).astype(a.dtype)[..., None, None]
    b = [xp.asarray(c, dtype=a.dtype) for c in _PADE_13]
    eye = xp.eye(n, dtype=a.dtype)
    x2 = xp.matmul(x, x)
    x4 = xp.matmul(x2, x2)
    x6 = xp.matmul(x4, x2)
    u = xp.matmul(x, xp.matmul(x6, b[13] * x6 + b[11] * x4 + b[9] * x2)
                  + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    v = (xp.matmul(x6, b[12] * x6 + b[10] * x4 + b[8] * x2)
         + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye)
    r = xp.linalg.solve(v - u, v + u) if n else v
    if xp is not np:            # (NumPy's read is free; a compiled CPU step reruns forward)
        refuse_host_sync("linalg.matrix_exp (how many squarings it needs is read on the "
                         "host)")
    for i in range(int(s.max()) if s.size else 0):
        r = xp.where((s > i)[..., None, None], xp.matmul(r, r), r)
    return r


def _upper_right_of_exp(x, e):
    """The upper-right block of exp([[X, E], [0, X]]): the Fréchet derivative L(X, E)."""
    n = x.shape[-1]
    zero = zeros_with(x, tuple(x.shape), x.dtype)
    block = concatenate([concatenate([x, e], -1), concatenate([zero, x], -1)], -2)
    return apply(MatrixExp, block)[..., :n, n:]


class MatrixExp(Op):
    """exp(A) = sum A^k / k!: (..., n, n) -> (..., n, n). The tangent L(A, dA) and the
    cotangent L(A^T, g), L the Fréchet derivative (the module docstring)."""

    save = "x0"
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, a):
        return _expm(xp, a)

    @staticmethod
    def vjp(ctx, g):
        return _upper_right_of_exp(mT(ctx.xs[0]), g)

    @staticmethod
    def jvp(ctx, t):
        return _upper_right_of_exp(ctx.xs[0], t)


MatrixExp.vmap = on_the_batch(MatrixExp)


def matrix_exp(A):
    """The matrix exponential of each square matrix, as ``torch.linalg.matrix_exp`` (and
    ``torch.matrix_exp``): scaling and squaring with a [13/13] Padé approximant (Higham
    2005); differentiable to any order. Real or complex (gradients in PyTorch's convention).

    Shapes: (..., n, n) -> (..., n, n).

    Example::

        >>> A = gpugrad.tensor([[0.0, -1.0], [1.0, 0.0]], dtype="float64")
        >>> gpugrad.linalg.matrix_exp(A * (np.pi / 2)).numpy().round(6).tolist()   # rotation
        [[0.0, -1.0], [1.0, 0.0]]
    """
    return apply(MatrixExp, checked_matrix("linalg.matrix_exp", A, complex_ok=True))


METHODS = {"matrix_exp": matrix_exp}
