"""Running sums along a dimension: ``cumsum``, as ``torch.cumsum`` (one record).

Example::

    >>> x = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = gpugrad.cumsum(x, dim=0)
    >>> y.tolist()
    [1.0, 3.0, 6.0]
    >>> y.sum().backward()
    >>> x.grad.tolist()            # element i counts in the sums i.. n-1
    [3.0, 2.0, 1.0]
"""

from __future__ import annotations

from .record import AXIS, LINEAR, Op, apply
from .reduce import Sum, accumulating
from .shape_errors import checked_dim

__all__ = ["cumsum"]


class CumSum(Op):
    """Running sums along ``axis`` (an int). (...) -> the same shape."""

    vmap = AXIS

    @staticmethod
    def forward(xp, x, axis):
        return xp.cumsum(x, axis=axis, dtype=x.dtype if x.dtype.kind in "fc" else None)

    @staticmethod
    def vjp(ctx, g):
        # the running sums from the end: total - (sums up to i) + g_i
        total = apply(Sum, g, axis=(ctx.axis,), keepdims=True)
        return total - apply(CumSum, g, axis=ctx.axis) + g

    jvp = LINEAR


def cumsum(input, dim: int, *, dtype=None):
    """The running sums of ``input`` along ``dim``, as ``torch.cumsum``: float tensors keep
    their dtype; integer and bool ones give int64 (or ``dtype``).

    Shapes: (...) -> the same.

    Example::

        >>> gpugrad.tensor([[1, 2], [3, 4]]).cumsum(1).tolist()
        [[1, 3], [3, 7]]
    """
    axis = checked_dim(input, dim, "cumsum")
    input = accumulating(input, dtype)
    if input.ndim == 0:
        return apply(CumSum, input.reshape(1), axis=0).reshape(())
    return apply(CumSum, input, axis=axis)
