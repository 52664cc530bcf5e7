"""``prod``: the product of elements over a dimension (or all), as ``torch.prod`` (one
record). Its gradient is exact where elements are zero, as PyTorch's: the product of the
others, which is not ``ans / x`` there.

Example::

    >>> x = gpugrad.tensor([2.0, 0.0, 5.0], requires_grad=True)
    >>> y = x.prod()
    >>> y.backward()
    >>> y.item(), x.grad.tolist()          # only the zero's neighbours' product survives
    (0.0, [0.0, 10.0, 0.0])
"""

from __future__ import annotations

from . import compare
from .elementwise import where
from .op_class import HOLOMORPHIC
from .record import AXIS, Op, apply
from .reduce import Sum, accumulating, expand_reduced
from .shape_errors import checked_dim

__all__ = ["prod"]


def _others(x, axis):
    """For each element, the product of the other elements it was multiplied with, written
    so that its own derivatives are exact too (second derivatives of ``prod`` through
    zeros, as PyTorch's): at a non-zero element, (the product of the slice's zeros) times
    (the product of its non-zeros) / the element, which is ``ans / x`` where the slice has
    no zero; at a zero, the product of the non-zeros times the product of the slice's other
    zeros: 1 for a slice's only zero, the other zero's value for two (0, with slope 1),
    and 0 for three or more (exact to the second derivative of ``prod``)."""
    zero = compare.equal(x, 0)
    zeros = apply(Sum, zero.astype(x.dtype), axis=axis, keepdims=True)
    nonzeros_product = apply(Prod, where(zero, 1.0, x), axis=axis, keepdims=True)
    zeros_product = apply(Prod, where(zero, x, 1.0), axis=axis, keepdims=True)
    at_nonzero = zeros_product * nonzeros_product / where(zero, 1.0, x)
    zeros_sum = apply(Sum, where(zero, x, 0.0), axis=axis, keepdims=True)
    other_zeros = where(zeros == 1, 1.0, where(zeros == 2, zeros_sum - x, 0.0))
    return where(zero, nonzeros_product * other_zeros, at_nonzero)


class Prod(Op):
    """The product over ``axis`` (a tuple, or None for all). (...) -> reduced shape."""

    save = "x0"
    vmap = AXIS
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, axis, keepdims):
        return x.prod(axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        return expand_reduced(g, x.shape, ctx.axis, ctx.keepdims) * \
            _others(x, ctx.axis)

    @staticmethod
    def jvp(ctx, t):
        x = ctx.xs[0]
        return apply(Sum, t * _others(x, ctx.axis), axis=ctx.axis,
                     keepdims=ctx.keepdims)


def prod(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The product of ``input``'s elements over ``dim`` (all by default), as ``torch.prod``:
    float and complex tensors keep their dtype, integer and bool ones give int64 (or
    ``dtype``).

    Shapes: (...) -> () or the shape without ``dim`` (kept as 1 with ``keepdim``).

    Example::

        >>> gpugrad.tensor([[1, 2], [3, 4]]).prod(1).tolist()
        [2, 12]
    """
    input = accumulating(input, dtype)
    if dim is None or input.ndim == 0:
        if dim is not None:
            checked_dim(input, dim, "prod")
        return apply(Prod, input, axis=None, keepdims=keepdim)
    return apply(Prod, input, axis=(checked_dim(input, dim, "prod"),), keepdims=keepdim)
