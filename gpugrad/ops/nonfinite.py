"""Non-finite values, as PyTorch's: isinf, isposinf, isneginf (bool results, not
differentiable) and nan_to_num. gpugrad.ops.pointwise exports them.

Example::

    >>> from gpugrad.ops.nonfinite import isinf, nan_to_num
    >>> x = gpugrad.tensor([float("nan"), -float("inf"), 2.0])
    >>> isinf(x).tolist(), nan_to_num(x, neginf=-1.0).tolist()
    ([False, True, False], [0.0, -1.0, 2.0])
"""

from __future__ import annotations

from . import compare
from .elementwise import where
from .record import BROADCAST, ELEMENTWISE, Op, apply

__all__ = ["nan_to_num", "isinf", "isposinf", "isneginf"]


class NanToNum(Op):
    """NaN, +inf and -inf replaced by numbers; gradient 1 at finite values, 0 elsewhere."""

    save = "xs"
    vmap = BROADCAST
    jvp = ELEMENTWISE

    @staticmethod
    def forward(xp, x, nan, posinf, neginf):
        return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def vjp(ctx, g):
        return where(compare.isfinite(ctx.xs[0]), g, 0.0)


def nan_to_num(input, nan: float = 0.0, posinf=None, neginf=None):
    """NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (default: the
    largest and smallest finite values of the dtype), element-wise; the gradient passes at
    finite values only. Integer tensors are copied.

    Example::

        >>> x = gpugrad.tensor([float("nan"), float("inf"), -float("inf"), 1.0])
        >>> gpugrad.ops.nonfinite.nan_to_num(x, posinf=9.0).tolist()
        [0.0, 9.0, -3.4028234663852886e+38, 1.0]
    """
    return apply(NanToNum, input, nan=nan, posinf=posinf, neginf=neginf)


def isinf(input):
    """Whether each element is +inf or -inf (a bool tensor; not differentiable).

    Example::

        >>> gpugrad.ops.nonfinite.isinf(gpugrad.tensor([1.0, float("inf"), -float("inf")]))
        tensor([False,  True,  True], device='cpu', dtype=bool)
    """
    return compare._unary("isinf", input)


def isposinf(input):
    """Whether each element is +inf (a bool tensor; not differentiable).

    Example::

        >>> gpugrad.ops.nonfinite.isposinf(gpugrad.tensor([float("inf"), -float("inf")]))
        tensor([ True, False], device='cpu', dtype=bool)
    """
    return compare.logical_and(isinf(input), compare.greater(input, 0))


def isneginf(input):
    """Whether each element is -inf (a bool tensor; not differentiable).

    Example::

        >>> gpugrad.ops.nonfinite.isneginf(gpugrad.tensor([float("inf"), -float("inf")]))
        tensor([False,  True], device='cpu', dtype=bool)
    """
    return compare.logical_and(isinf(input), compare.less(input, 0))
