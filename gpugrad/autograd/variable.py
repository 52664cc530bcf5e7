"""``Variable``, PyTorch's deprecated wrapper, for old code: every tensor is a Variable.

Example::

    >>> from gpugrad.autograd import Variable
    >>> v = Variable(gpugrad.ones(2), requires_grad=True)     # a leaf sharing the values
    >>> v.requires_grad, isinstance(gpugrad.ones(2), Variable)
    (True, True)
"""

from __future__ import annotations

__all__ = ["Variable"]


def _tensor_type() -> type:
    from ..tensor import Tensor         # (tensor.py imports this package)
    return Tensor


class _VariableType(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, _tensor_type())

    def __subclasscheck__(cls, sub) -> bool:
        return issubclass(sub, _tensor_type())


class Variable(metaclass=_VariableType):
    """``Variable(data, requires_grad=False)``: ``data`` (a Tensor) detached, sharing its
    values, as a leaf with ``requires_grad`` set, as PyTorch's (whose ``Variable`` became a
    plain tensor). ``volatile`` is accepted and ignored, as there."""

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        if not isinstance(data, _tensor_type()):
            raise TypeError(f"Variable data has to be a tensor, but got "
                            f"{type(data).__name__}; wrap it with gpugrad.tensor(...) (or "
                            f"drop Variable: every tensor is one)")
        return data.detach().requires_grad_(requires_grad)
