"""The Hurwitz zeta function zeta(x, q) = sum over k >= 0 of (q + k)^-x, element-wise in two
broadcast inputs, as ``torch.special.zeta``: inf at x = 1 and at q a non-positive integer,
NaN for x < 1 (and for q < 0 with x not an integer). Its gradient with respect to q is
-x zeta(x + 1, q); with respect to x it is not implemented (an error at backward, as in
PyTorch).

Cephes' zeta.c (3-clause BSD, as PyTorch's): the first terms summed directly until q + i > 9
(stopping early where a term falls below 1.1e-16 of the sum), then Euler-Maclaurin's tail
with up to 12 Bernoulli terms. Evaluated in float64 (float32 results are rounded from it).

Example::

    >>> from gpugrad.ops.special_zeta import zeta
    >>> x = gpugrad.tensor([2.0, 4.0], dtype="float64")
    >>> [round(v, 12) for v in zeta(x, 1.0).tolist()]           # pi^2/6, pi^4/90
    [1.644934066848, 1.082323233711]
"""

from __future__ import annotations

import math

import numpy as np

from .pointwise_binary import operands
from .promotion import tangent_sum
from .record import BROADCAST, Op, apply
from .reduce import sum_to

__all__ = ["zeta"]

_MACHEP = 1.11022302462515654042e-16
# (2j)! / B_2j, the divisors of Euler-Maclaurin's terms (Cephes' A)
_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
      -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
      1.8152105401943546773e17, -7.1661652561756670113e18)
_MOST_DIRECT_TERMS = 1 << 20         # a cap: q below 9 - 2^20 gets only this partial sum


def _hurwitz(xp, x, q):
    """zeta(x, q) on broadcast float64 arrays."""
    s = q ** -x
    active = xp.ones(s.shape, dtype=bool)
    finite_q = q[xp.isfinite(q)]
    lowest = float(finite_q.min()) if finite_q.size else 9.0
    terms = max(9, min(_MOST_DIRECT_TERMS, math.floor(9.0 - lowest) + 1))
    a, b = q, s
    for _ in range(terms):
        a = a + 1.0
        b = a ** -x
        s = xp.where(active, s + b, s)
        active = active & ~((-_MACHEP * s < b) & (b < _MACHEP * s))
    if terms == _MOST_DIRECT_TERMS:
        active = active & (a > 9.0)
    w = a
    s = xp.where(active, s + b * w / (x - 1.0) - 0.5 * b, s)
    rising, k = 1.0, 0.0
    for divisor in _A:
        rising = rising * (x + k)
        b = b / w
        t = rising * b / divisor
        s = xp.where(active, s + t, s)
        active = active & ~(xp.abs(t / s) < _MACHEP)
        k += 1.0
        rising = rising * (x + k)
        b = b / w
        k += 1.0
    non_positive = q <= 0
    pole = non_positive & (q == xp.floor(q))
    s = xp.where(non_positive & (x != xp.floor(x)), xp.nan, s)
    s = xp.where(pole, xp.inf, s)
    s = xp.where(x < 1.0, xp.nan, s)
    return xp.where(x == 1.0, xp.inf, s)


class Zeta(Op):
    """zeta(x, q); d/dq = -x zeta(x + 1, q), d/dx refused (as PyTorch's)."""

    save = "xs"
    broadcasts = True
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x, q):
        x_b, q_b = xp.broadcast_arrays(x.astype(np.float64), q.astype(np.float64))
        with np.errstate(all="ignore"):
            return _hurwitz(xp, x_b, q_b).astype(np.result_type(x.dtype, q.dtype), copy=False)

    @staticmethod
    def vjp(ctx, g):
        x, q = ctx.xs
        _refuse_x(ctx.needs(0))
        return None, sum_to(g * _q_derivative(x, q), ctx.shapes[1]) if ctx.needs(1) else None

    @staticmethod
    def jvp(ctx, tx, tq):
        _refuse_x(tx is not None)
        x, q = ctx.xs
        return tangent_sum(ctx, None, tq * _q_derivative(x, q))


def _q_derivative(x, q):
    return -x * apply(Zeta, x + 1.0, q)


def _refuse_x(needed: bool) -> None:
    if needed:
        raise NotImplementedError(
            "the derivative for 'zeta' is not implemented with respect to its first argument "
            "x (as in PyTorch; only d/dq = -x zeta(x + 1, q) is). Detach x (x.detach()) or "
            "pass it as a number to differentiate with respect to q.")


def zeta(input, other):
    """The Hurwitz zeta function zeta(x, q) = sum_k (q + k)^-x, element-wise
    (``torch.special.zeta``; zeta(x, 1) is Riemann's): ``input`` (x) and ``other`` (q)
    broadcast, either may be a Python number; integers give float32. Differentiable with
    respect to q only (-x zeta(x + 1, q)); a gradient for x raises NotImplementedError at
    backward, as PyTorch's.

    Example::

        >>> from gpugrad.ops.special_zeta import zeta
        >>> q = gpugrad.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
        >>> [round(v, 12) for v in zeta(2.0, q).tolist()]
        [1.644934066848, 0.644934066848]
        >>> zeta(2.0, q).sum().backward()
        >>> [round(v, 12) for v in q.grad.tolist()]              # -2 zeta(3, q)
        [-2.404113806319, -0.404113806319]
    """
    return apply(Zeta, *operands("zeta", input, other))
