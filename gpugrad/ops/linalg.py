"""Matrix products: ``matmul`` (the ``@`` operator), batched and broadcasting as NumPy's.

Shapes: (n,k) @ (k,m) -> (n,m); (..., n, k) @ (..., k, m) -> (..., n, m) with the batch
dimensions broadcast; a 1-D left operand is a row vector and a 1-D right operand a column
vector, their added axis removed from the result.

Example::

    >>> a = gpugrad.ones(2, 3, requires_grad=True)
    >>> (a @ gpugrad.ones(3, 4)).sum().backward()
    >>> a.grad.tolist()
    [[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]
"""

from __future__ import annotations

from .record import Op, apply
from .reduce import sum_to

__all__ = ["matmul"]


class MatMul(Op):
    save = "xs"

    def forward(xp, a, b):
        return xp.matmul(a, b)

    def vjp(ctx, g):
        a, b = ctx.xs
        return (_grad_left(g, b, ctx.shapes[0]) if ctx.needs(0) else None,
                _grad_right(g, a, ctx.shapes[1]) if ctx.needs(1) else None)

    def jvp(ctx, ta, tb):
        a, b = ctx.xs
        left = None if ta is None else matmul(ta, b)
        right = None if tb is None else matmul(a, tb)
        return right if left is None else left if right is None else left + right


def _as_matrix_cotangent(g, a_ndim: int, b_ndim: int):
    """``g`` with the axes that 1-D operands dropped put back, so both rules see matrices."""
    from .shape import unsqueeze
    if a_ndim == 1:
        g = unsqueeze(g, -2 if b_ndim > 1 else 0)
    if b_ndim == 1:
        g = unsqueeze(g, -1)
    return g


def _grad_left(g, b, a_shape):
    """d(a @ b)/da applied to g: g @ b^T, summed over broadcast batch axes."""
    from .shape import reshape, transpose, unsqueeze
    a_ndim = len(a_shape)
    g = _as_matrix_cotangent(g, a_ndim, b.ndim)
    bm = unsqueeze(b, -1) if b.ndim == 1 else b
    ga = matmul(g, transpose(bm))
    if a_ndim == 1:
        return reshape(sum_to(ga, (1, a_shape[0]) if ga.ndim >= 2 else a_shape), a_shape)
    return sum_to(ga, a_shape)


def _grad_right(g, a, b_shape):
    """d(a @ b)/db applied to g: a^T @ g, summed over broadcast batch axes."""
    from .shape import reshape, transpose, unsqueeze
    b_ndim = len(b_shape)
    g = _as_matrix_cotangent(g, a.ndim, b_ndim)
    am = unsqueeze(a, 0) if a.ndim == 1 else a
    gb = matmul(transpose(am), g)
    if b_ndim == 1:
        return reshape(sum_to(gb, (b_shape[0], 1)), b_shape)
    return sum_to(gb, b_shape)


def matmul(a, b):
    """The matrix product ``a @ b`` (see the module docstring for shapes)."""
    from ..tensor import Tensor
    from .elementwise import _promote, as_operand
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    if not isinstance(b, Tensor):
        b = as_operand(b, a)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}; use * for scalars")
    k_left = a.shape[-1]
    k_right = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_left != k_right:
        raise ValueError(f"matmul: cannot multiply shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}: the inner dimensions {k_left} and {k_right} differ")
    a, b = _promote(a, b)
    return apply(MatMul, a, b)
