"""Rounded division, as PyTorch's: ``floor_divide`` (the ``//`` operator), ``div`` with
``rounding_mode="floor"`` or ``"trunc"``, and the ``%`` operator (``remainder``).

- ``//`` rounds the quotient down (Python's rule): ``-7 // 2 == -4``; ``"trunc"`` rounds it
  toward zero: ``-3``. ``%`` takes the divisor's sign: ``-7 % 3 == 2``.
- Integer tensors stay integer (``int // int`` is int64; ``int // 2.5`` is float32); float
  division by 0 gives ±inf or NaN, and integer division by 0 raises (on the CPU, as PyTorch's).
- The gradient is zero everywhere (a piecewise-constant function), as ``torch.div``'s rounding
  modes; the gradient of ``%`` is remainder's.

Example::

    >>> a = gpugrad.tensor([-7, 7])
    >>> (a // 2).tolist(), (a % 3).tolist(), (7 // a).tolist()
    ([-4, 3], [2, 1], [-1, 1])
    >>> (gpugrad.tensor([-3.5, 3.0]) // 2).tolist()
    [-2.0, 1.0]
"""

from __future__ import annotations

from ..tensor import Tensor
from .pointwise_binary import IntegerDivisionByZero, refuse_zero_divisor, remainder
from .inplace import in_place_method
from .promotion import promote, reflected, tensor_pair
from .record import BROADCAST, Op, apply, zeros_with

__all__ = ["floor_divide", "IntegerDivisionByZero"]

_MODES = ("floor", "trunc")


class RoundedDiv(Op):
    """``a / b`` rounded down (``mode="floor"``, Python's ``//``) or toward zero
    (``"trunc"``); zero gradient, as PyTorch's."""

    broadcasts = True
    vmap = BROADCAST

    @staticmethod
    def forward(xp, a, b, mode):
        if mode == "floor":
            return xp.floor_divide(a, b)
        if a.dtype.kind in "fc":
            return xp.trunc(a / b)
        q = xp.floor_divide(a, b)           # integers: one up where floor went below zero
        up = (xp.remainder(a, b) != 0) & ((a < 0) != (b < 0))
        return q + up.astype(q.dtype)

    @staticmethod
    def vjp(ctx, g):
        return (zeros_with(g, ctx.shapes[0], ctx.dtypes[0]) if ctx.needs(0) else None,
                zeros_with(g, ctx.shapes[1], ctx.dtypes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        return zeros_with(ta if ta is not None else tb, ctx.out_shape, ctx.dtypes[0])


def _operands(name: str, input, other):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}: expected at least one tensor operand, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    a, b = promote(*tensor_pair(input, other))
    if a.dtype.kind == "b":
        raise TypeError(f"{name} is not defined for two bool tensors (as in PyTorch); "
                        f"convert first, e.g. x.long()")
    if a.dtype.kind in "iu":
        refuse_zero_divisor(name, other, b)
    return a, b


def rounded_divide(input, other, rounding_mode: str):
    """``div(input, other, rounding_mode=...)`` for the ``"floor"`` and ``"trunc"`` modes:
    the quotient rounded down or toward zero, integer tensors staying integer.

    Example::

        >>> from gpugrad.ops.division import rounded_divide
        >>> a = gpugrad.tensor([-7, 7])
        >>> rounded_divide(a, 2, "trunc").tolist(), rounded_divide(a, 2, "floor").tolist()
        ([-3, 3], [-4, 3])
    """
    if rounding_mode not in _MODES:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', not "
                         f"{rounding_mode!r}")
    return apply(RoundedDiv, *_operands("div", input, other), mode=rounding_mode)


def floor_divide(input, other):
    """``input / other`` rounded down, element-wise with broadcasting (the ``//`` operator),
    as ``torch.floor_divide``; either may be a Python number. Integer tensors stay integer.

    Example::

        >>> gpugrad.ops.division.floor_divide(gpugrad.tensor([-7, 7]), -2).tolist()
        [3, -4]
    """
    return apply(RoundedDiv, *_operands("floor_divide", input, other), mode="floor")


def modulo(input, other):
    """``input % other``: ``remainder`` (the result takes the divisor's sign, as Python's
    ``%``), refusing an integer 0 divisor. Either may be a number.

    Example::

        >>> from gpugrad.ops.division import modulo
        >>> modulo(gpugrad.tensor([-7, 7]), 3).tolist(), modulo(gpugrad.tensor([7]), -3).tolist()
        ([2, 1], [-2])
    """
    return remainder(input, other)             # (it refuses an integer 0 divisor)


METHODS: dict = {
    "floor_divide": floor_divide, "floor_divide_": in_place_method(floor_divide),
    "__floordiv__": floor_divide, "__rfloordiv__": reflected(floor_divide),
    "__ifloordiv__": in_place_method(floor_divide),
    "__mod__": modulo, "__rmod__": reflected(modulo),
    "__imod__": in_place_method(modulo, "remainder"),
}
