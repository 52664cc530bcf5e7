"""Rounding, as PyTorch's: floor, ceil, round (to ``decimals`` places, halves to even) and
trunc (fix). Piecewise constant: zero gradient everywhere, the steps included (PyTorch's
convention). Float dtypes are kept; integer tensors are whole already and come back as
copies, dtype kept; bool tensors are refused, as PyTorch refuses them.

Example::

    >>> from gpugrad.ops.rounding import floor, round
    >>> x = gpugrad.tensor([-1.5, 2.5], requires_grad=True)
    >>> floor(x).tolist(), round(x).tolist()
    ([-2.0, 2.0], [-2.0, 2.0])
"""

from __future__ import annotations

import builtins

from ..creation import zeros_like
from .complex_node import refuse_complex
from .record import Op, apply
from .trigonometric import _Unary
from .unary import clone

__all__ = ["floor", "ceil", "round", "trunc", "fix"]


class _Stepwise(_Unary):
    """A piecewise-constant function: zero gradient everywhere (PyTorch's convention at the
    steps too)."""

    save = ""

    @staticmethod
    def vjp(ctx, g):
        return zeros_like(g)


class Floor(_Stepwise, Op):
    @staticmethod
    def forward(xp, x):
        return xp.floor(x)


class Ceil(_Stepwise, Op):
    @staticmethod
    def forward(xp, x):
        return xp.ceil(x)


class Trunc(_Stepwise, Op):
    @staticmethod
    def forward(xp, x):
        return xp.trunc(x)


class Round(_Stepwise, Op):
    """Round half to even at ``decimals`` decimal places, computed as PyTorch's
    (x * 10^d rounded, / 10^d; for d < 0, x / 10^-d rounded, * 10^-d)."""

    @staticmethod
    def forward(xp, x, decimals):
        if decimals == 0:
            return xp.rint(x)
        scale = x.dtype.type(10.0 ** builtins.abs(decimals))
        if decimals > 0:
            return xp.rint(x * scale) / scale
        return xp.rint(x / scale) * scale


def refuse_bool(name: str, x, also_int: bool = False):
    """Refuse bool tensors (and integer ones with ``also_int``) and complex ones, as
    PyTorch's floor/ceil/round/trunc/frac."""
    refuse_complex(name, x, hint=f"Apply it to the parts: gpugrad.complex(x.real.{name}(), "
                                 f"x.imag.{name}())")
    if x.dtype.kind == "b" or (also_int and x.dtype.kind in "iu"):
        kind = "float" if also_int else "number"
        raise TypeError(f"{name} is not defined for {x.dtype} tensors (as in PyTorch); it takes "
                        f"{kind} tensors: convert first, e.g. x.float()")


def _stepwise(name, op, x, **params):
    refuse_bool(name, x)
    if x.dtype.kind in "iu":        # integers are whole already: a copy, dtype kept
        return clone(x)
    return apply(op, x, **params)


def floor(input):
    """The largest integer <= x, element-wise (zero gradient); integer tensors are copied.

    Example::

        >>> gpugrad.ops.rounding.floor(gpugrad.tensor([-0.5, 1.5])).tolist()
        [-1.0, 1.0]
    """
    return _stepwise("floor", Floor, input)


def ceil(input):
    """The smallest integer >= x, element-wise (zero gradient); integer tensors are copied.

    Example::

        >>> gpugrad.ops.rounding.ceil(gpugrad.tensor([-0.5, 1.5])).tolist()
        [-0.0, 2.0]
    """
    return _stepwise("ceil", Ceil, input)


def trunc(input):
    """x rounded toward zero, element-wise (zero gradient); integer tensors are copied.

    Example::

        >>> gpugrad.ops.rounding.trunc(gpugrad.tensor([-1.5, 1.5])).tolist()
        [-1.0, 1.0]
    """
    return _stepwise("trunc", Trunc, input)


fix = trunc


def round(input, *, decimals: int = 0):
    """x rounded to ``decimals`` decimal places (negative: to tens, hundreds...), halves to
    even, element-wise (zero gradient). Integer tensors are copied (decimals must be 0).

    Example::

        >>> gpugrad.ops.rounding.round(gpugrad.tensor([0.5, 1.5, 2.5])).tolist()
        [0.0, 2.0, 2.0]
        >>> gpugrad.ops.rounding.round(gpugrad.tensor([1250.0, 1351.0]), decimals=-2)
        tensor([1200., 1400.], device='cpu', dtype=float32)
    """
    decimals = int(decimals)
    if decimals != 0 and input.dtype.kind in "iub":
        raise TypeError(f"round(decimals={decimals}) is not defined for {input.dtype} tensors "
                        f"(as in PyTorch); convert first, e.g. x.float()")
    return _stepwise("round", Round, input, decimals=decimals)
