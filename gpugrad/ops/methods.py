"""Operator sugar and methods of ``Tensor``, each a one-line call of an op.

Kept apart from tensor.py so that file stays about what a tensor is; ``install`` runs once
when gpugrad is imported.
"""

from __future__ import annotations

from . import activation, compare, elementwise, inplace, linalg, reduce, shape, unary


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _compare(fn):
    def method(self, other):
        if other is None:
            return NotImplemented
        return fn(self, other)
    return method


def _iop(fn):
    def method(self, other):
        fn(self, other)
        return self
    return method


def _getitem(self, index):
    return shape.getitem(self, index)


def _setitem(self, index, value):
    inplace.setitem(self, index, value)


def _shape_method(fn):
    return lambda self, *shape_args: fn(self, *shape_args)


METHODS = {
    # arithmetic operators
    "__add__": elementwise.add, "__radd__": _reflected(elementwise.add),
    "__sub__": elementwise.sub, "__rsub__": _reflected(elementwise.sub),
    "__mul__": elementwise.mul, "__rmul__": _reflected(elementwise.mul),
    "__truediv__": elementwise.div, "__rtruediv__": _reflected(elementwise.div),
    "__pow__": elementwise.pow, "__rpow__": _reflected(elementwise.pow),
    "__matmul__": linalg.matmul, "__rmatmul__": _reflected(linalg.matmul),
    "__neg__": unary.neg, "__pos__": lambda self: self, "__abs__": unary.abs,
    # comparisons and logic (not differentiable)
    "__lt__": _compare(compare.less), "__le__": _compare(compare.less_equal),
    "__gt__": _compare(compare.greater), "__ge__": _compare(compare.greater_equal),
    "__eq__": _compare(compare.equal), "__ne__": _compare(compare.not_equal),
    "__and__": compare.logical_and, "__or__": compare.logical_or,
    "__xor__": compare.logical_xor, "__invert__": compare.logical_not,
    # indexing and in-place operators
    "__getitem__": _getitem, "__setitem__": _setitem,
    "__iadd__": _iop(inplace.add_), "__isub__": _iop(inplace.sub_),
    "__imul__": _iop(inplace.mul_), "__itruediv__": _iop(inplace.div_),
    # element-wise
    "add": elementwise.add, "sub": elementwise.sub, "mul": elementwise.mul,
    "div": elementwise.div, "pow": elementwise.pow, "neg": unary.neg,
    "exp": unary.exp, "log": unary.log, "sqrt": unary.sqrt,
    "abs": unary.abs, "maximum": elementwise.maximum, "minimum": elementwise.minimum,
    "clamp": unary.clamp, "clip": unary.clip, "clone": unary.clone,
    "astype": unary.astype, "sign": compare.sign,
    "tanh": activation.tanh, "sigmoid": activation.sigmoid, "relu": activation.relu,
    "softmax": activation.softmax, "log_softmax": activation.log_softmax,
    # reductions
    "sum": reduce.sum, "mean": reduce.mean, "max": reduce.max, "min": reduce.min,
    "logsumexp": reduce.logsumexp, "argmax": compare.argmax, "argmin": compare.argmin,
    "any": compare.any, "all": compare.all,
    # shapes
    "reshape": _shape_method(shape.reshape), "view": _shape_method(shape.reshape),
    "permute": _shape_method(shape.permute), "transpose": shape.transpose,
    "squeeze": shape.squeeze, "unsqueeze": shape.unsqueeze, "flatten": shape.flatten,
    "broadcast_to": _shape_method(shape.broadcast_to),
    "expand": _shape_method(shape.broadcast_to), "matmul": linalg.matmul,
    # in place
    "add_": inplace.add_, "sub_": inplace.sub_, "mul_": inplace.mul_, "div_": inplace.div_,
    "zero_": inplace.zero_, "fill_": inplace.fill_, "copy_": inplace.copy_,
}


def install(cls) -> None:
    """Attach every entry of ``METHODS`` to the Tensor class."""
    for name, fn in METHODS.items():
        setattr(cls, name, fn)
    cls.__hash__ = object.__hash__      # defining __eq__ would otherwise make tensors unhashable
