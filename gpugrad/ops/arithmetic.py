"""``addcmul`` and ``addcdiv`` (``input + value * t1 * t2`` and ``input + value * t1 / t2``),
as PyTorch's: functions, Tensor methods and in-place methods (``p.addcdiv_(m, d, value=-lr)``,
the step of a hand-written optimizer). Composites of ``* / +``: their gradients are those.

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

from ..tensor import Tensor
from .elementwise import _add, mul, true_divide
from .inplace import add_

__all__ = ["addcmul", "addcdiv"]


def _integral(value) -> bool:
    if isinstance(value, Tensor):
        return value.dtype.kind in "biu"
    return isinstance(value, (int, np.integer))


def _scaled(name: str, term, value, operands):
    if value == 1:
        return term
    if isinstance(value, (float, np.floating)) and all(_integral(v) for v in operands):
        raise TypeError(f"{name}: for integer tensors value must be an integer, not {value!r} "
                        f"(PyTorch would truncate it); convert the tensors first, e.g. x.float()")
    return mul(term, value)


def _quotient(name: str, tensor1, tensor2):
    if _integral(tensor1) and _integral(tensor2):
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
    return _add(input, _scaled("addcmul", mul(tensor1, tensor2), value, operands))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``, element-wise with broadcasting, as
    ``torch.addcdiv`` (integer ``tensor1 / tensor2`` is refused, as there).

    Example::

        >>> gpugrad.ops.arithmetic.addcdiv(gpugrad.zeros(2), gpugrad.ones(2), 4.0).tolist()
        [0.25, 0.25]
    """
    quotient = _quotient("addcdiv", tensor1, tensor2)
    return _add(input, _scaled("addcdiv", quotient, value, (input, quotient)))


def addcmul_(self, tensor1, tensor2, *, value=1):
    """``addcmul`` in place: ``self += value * tensor1 * tensor2``; returns ``self``."""
    return add_(self, _scaled("addcmul_", mul(tensor1, tensor2), value,
                              (self, tensor1, tensor2)))


def addcdiv_(self, tensor1, tensor2, *, value=1):
    """``addcdiv`` in place: ``self += value * tensor1 / tensor2``; returns ``self``."""
    quotient = _quotient("addcdiv_", tensor1, tensor2)
    return add_(self, _scaled("addcdiv_", quotient, value, (self, quotient)))


METHODS: dict = {"addcmul": addcmul, "addcdiv": addcdiv, "addcmul_": addcmul_,
                 "addcdiv_": addcdiv_}
