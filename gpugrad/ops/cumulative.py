"""Running sums along a dimension: ``cumsum``, as ``torch.cumsum`` (one record).

float16 scans run in float32 and are rounded back once, as PyTorch's (its acc_type): a
float16 running sum would stop growing once each term is below half a unit of its last
place (the sum of 3000 ones would be 2048). The gradient is the running sums from the end,
found as such (not as ``total - cumsum + g``, which loses small terms next to large ones).

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

from .op_class import HOLOMORPHIC
from .record import AXIS, LINEAR, Op, apply
from .indexing import getitem
from .inplace import in_place_method
from .reduce import accumulating
from .shape_errors import checked_dim

__all__ = ["cumsum"]


def scan_dtype(xp, dtype):
    """The dtype a running sum or product of ``dtype`` accumulates in: float32 for
    float16 (PyTorch's acc_type), else ``dtype`` itself."""
    return xp.float32 if dtype == xp.float16 else dtype


def reversed_cumsum(v, axis: int):
    """For rules: the running sums of tensor ``v`` from the end of ``axis`` (an int >= 0):
    ``out_i = sum_{j >= i} v_j`` (PyTorch's reversed_cumsum, the vjp of cumsum)."""
    flip = (slice(None),) * axis + (slice(None, None, -1),)
    return getitem(apply(CumSum, getitem(v, flip), axis=axis), flip)


class CumSum(Op):
    """Running sums along ``axis`` (an int). (...) -> the same shape."""

    vmap = AXIS
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, axis):
        # (in x's dtype: NumPy's own choice would turn int32 into int64)
        out = xp.cumsum(x, axis=axis, dtype=scan_dtype(xp, x.dtype))
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx, g):
        return reversed_cumsum(g, ctx.axis)

    jvp = LINEAR


def cumsum(input, dim: int, *, dtype=None):
    """The running sums of ``input`` along ``dim``, as ``torch.cumsum``: float and complex
    tensors keep their dtype (float16 sums in float32, rounded back); integer and bool ones
    give int64 (or ``dtype``, which is kept: ``dtype=gpugrad.int32`` gives int32).

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


METHODS: dict = {"cumsum_": in_place_method(cumsum)}
