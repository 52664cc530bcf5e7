"""PyTorch's arithmetic functions with their extra arguments, on top of the operators'
records (elementwise.py): ``add``/``sub`` with ``alpha``, ``div`` with ``rounding_mode`` and
the longer spellings (``divide``, ``multiply``, ``subtract``); ``addcmul`` and ``addcdiv``
(``input + value * t1 * t2`` and ``input + value * t1 / t2``): functions, Tensor methods and
in-place methods (``p.addcdiv_(m, d, value=-lr)``, the step of a hand-written optimizer).
Composites of ``* / + -``: their gradients are those.

Example::

    >>> from gpugrad.ops.arithmetic import addcdiv, addcmul
    >>> x, a, b = gpugrad.ones(2), gpugrad.tensor([2.0, 4.0]), gpugrad.tensor([4.0, 2.0])
    >>> addcmul(x, a, b, value=0.5).tolist(), addcdiv(x, a, b).tolist()
    ([5.0, 5.0], [1.5, 3.0])
    >>> p = gpugrad.zeros(2)
    >>> p.addcdiv_(a, b, value=-2).tolist()
    [-1.0, -4.0]
"""

from __future__ import annotations

import numpy as np

from ..scalar_casts import wrapped_int
from ..tensor import Tensor
from .elementwise import minus, mul, plus, true_divide
from .inplace import add_
from .promotion import is_integral, result_type
from .unary import _is_scalar

__all__ = ["add", "sub", "div", "divide", "multiply", "subtract", "addcmul", "addcdiv"]


def _scaled(name: str, term, value, operands):
    if value == 1:
        return term
    if isinstance(value, (float, np.floating)) and all(is_integral(v) for v in operands):
        raise TypeError(f"{name}: for integer tensors value must be an integer, not {value!r} "
                        f"(PyTorch would truncate it); convert the tensors first, e.g. x.float()")
    return mul(term, value)


def _quotient(name: str, tensor1, tensor2):
    if is_integral(tensor1) and is_integral(tensor2):
        raise TypeError(f"{name}: integer division is not supported (as in PyTorch, which "
                        f"refuses it); convert first, e.g. tensor1.float()")
    return true_divide(tensor1, tensor2)


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``, element-wise with broadcasting, as
    ``torch.addcmul``.

    Example::

        >>> gpugrad.ops.arithmetic.addcmul(gpugrad.ones(2), gpugrad.ones(2), 3.0).tolist()
        [4.0, 4.0]
    """
    operands = (input, tensor1, tensor2)
    return plus(input, _scaled("addcmul", mul(tensor1, tensor2), value, operands))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``, element-wise with broadcasting, as
    ``torch.addcdiv`` (integer ``tensor1 / tensor2`` is refused, as there).

    Example::

        >>> gpugrad.ops.arithmetic.addcdiv(gpugrad.zeros(2), gpugrad.ones(2), 4.0).tolist()
        [0.25, 0.25]
    """
    quotient = _quotient("addcdiv", tensor1, tensor2)
    return plus(input, _scaled("addcdiv", quotient, value, (input, quotient)))


def addcmul_(self, tensor1, tensor2, *, value=1):
    """``addcmul`` in place: ``self += value * tensor1 * tensor2``; returns ``self``.

    Example::

        >>> p = gpugrad.ones(2)
        >>> p.addcmul_(gpugrad.tensor([2.0, 3.0]), gpugrad.tensor([4.0, 5.0]), value=0.5).tolist()
        [5.0, 8.5]
    """
    return add_(self, _scaled("addcmul_", mul(tensor1, tensor2), value,
                              (self, tensor1, tensor2)))


def addcdiv_(self, tensor1, tensor2, *, value=1):
    """``addcdiv`` in place: ``self += value * tensor1 / tensor2``; returns ``self`` (the
    step of Adam-like optimizers: ``p.addcdiv_(m, v.sqrt() + eps, value=-lr)``).

    Example::

        >>> p = gpugrad.ones(2)
        >>> p.addcdiv_(gpugrad.tensor([2.0, 3.0]), gpugrad.tensor([4.0, 6.0]), value=-2).tolist()
        [0.0, 0.0]
    """
    quotient = _quotient("addcdiv_", tensor1, tensor2)
    return add_(self, _scaled("addcdiv_", quotient, value, (self, quotient)))


METHODS: dict = {"addcmul": addcmul, "addcdiv": addcdiv, "addcmul_": addcmul_,
                 "addcdiv_": addcdiv_}


def add(input, other, *, alpha=1):
    """``input + alpha * other`` with broadcasting; either may be a Python number, as
    ``torch.add`` (the ``+`` operator skips ``alpha``).

    Example::

        >>> gpugrad.add(gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([1.0, 1.0]), alpha=3).tolist()
        [4.0, 5.0]
    """
    return plus(input, other if alpha == 1 else _alpha_times(other, alpha, input, "add"))


def sub(input, other, *, alpha=1):
    """``input - alpha * other`` with broadcasting; either may be a Python number, as
    ``torch.sub`` (also ``subtract``).

    Example::

        >>> gpugrad.sub(gpugrad.tensor([1.0, 2.0]), 1, alpha=0.5).tolist()
        [0.5, 1.5]
    """
    return minus(input, other if alpha == 1 else _alpha_times(other, alpha, input, "sub"))


def _alpha_times(other, alpha, input, name):
    """``alpha * other``; for a bool result, as PyTorch's, ``other and bool(alpha)``."""
    if all(isinstance(v, Tensor) or _is_scalar(v) for v in (input, other)) and \
            result_type(input, other).kind == "b":
        return other & bool(alpha) if isinstance(other, Tensor) else bool(other and alpha)
    integral = all(not isinstance(v, Tensor) or v.dtype.kind in "biu" for v in (input, other))
    if integral and isinstance(alpha, (float, np.floating)):
        raise TypeError(f"{name}: for integer tensors alpha must be an integer, not {alpha!r} "
                        f"(as PyTorch); convert the tensors first, e.g. x.float()")
    if _is_scalar(other) and integral and isinstance(input, Tensor):   # (wrapped first, as
        other = wrapped_int(other, input.dtype, name)                  # PyTorch's)
    return other * alpha if _is_scalar(other) else mul(other, alpha)


def div(input, other, *, rounding_mode=None):
    """``input / other`` with broadcasting, as ``torch.div``: true division (integers give
    float32) when ``rounding_mode`` is None; ``"trunc"`` rounds the quotient toward zero and
    ``"floor"`` down (Python's ``//``), keeping integer dtypes, with zero gradient.

    Example::

        >>> a = gpugrad.tensor([-7, 7])
        >>> gpugrad.div(a, 2).tolist(), gpugrad.div(a, 2, rounding_mode="trunc").tolist()
        ([-3.5, 3.5], [-3, 3])
        >>> gpugrad.div(a, 2, rounding_mode="floor").tolist()
        [-4, 3]
    """
    if rounding_mode is None:
        return true_divide(input, other)
    from .division import rounded_divide            # (division builds on this module's kin)
    return rounded_divide(input, other, rounding_mode)


divide, multiply, subtract = div, mul, sub          # PyTorch's longer spellings
