"""Bitwise ops on integer and bool tensors, as PyTorch's: ``& | ^ ~ << >>`` and
bitwise_and/or/xor/not, bitwise_left_shift/right_shift. Not differentiable.

On integers they act on the bits (two's complement: ``~6 == -7``); on bool tensors ``& | ^ ~``
are the logical ops (a mask stays a bool mask). Float tensors are refused, as PyTorch
refuses them. Dtypes follow PyTorch's promotion (``int32_tensor & 1`` is int32, a bool tensor
with a Python int is int64). A shift by the width of the type or more, or by a negative count,
gives 0 (or -1 for a negative number shifted right), as PyTorch's, on every device: the count
is clipped and the result masked (C's shifts, which CuPy's kernels are, leave it undefined).

Example::

    >>> a, b = gpugrad.tensor([6, 3]), gpugrad.tensor([3, 5])
    >>> (a & b).tolist(), (a | b).tolist(), (~a).tolist(), (a << 1).tolist()
    ([2, 1], [7, 7], [-7, -4], [12, 6])
    >>> m = gpugrad.tensor([True, False])
    >>> (m & True).tolist(), (~m).tolist()
    ([True, False], [False, True])
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import compare
from .inplace import in_place_method
from .promotion import promote, reflected

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
           "bitwise_right_shift"]


class BitwiseDtypeError(TypeError, NotImplementedError):
    """A bitwise op on a float or complex tensor (PyTorch raises TypeError for ``~`` and
    NotImplementedError, a RuntimeError, for the rest: either ``except`` catches it)."""


_SYMBOLS = {"bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "^", "bitwise_not": "~",
            "left_shift": "<<", "right_shift": ">>"}


def _check(name: str, value) -> None:
    kind = value.dtype.kind if isinstance(value, Tensor) else \
        "b" if isinstance(value, (bool, np.bool_)) else \
        "i" if isinstance(value, (int, np.integer)) else None
    if kind is None and hasattr(value, "dtype"):
        kind = np.dtype(value.dtype).kind
    if kind not in ("b", "i", "u"):
        what = value.dtype if hasattr(value, "dtype") else type(value).__name__
        raise BitwiseDtypeError(
            f"{_SYMBOLS[name]} ({name}) is only defined for integer and bool tensors (and "
            f"Python ints), not {what}; compare first for a mask (x > 0), or convert with "
            f"x.long()")


def _binary(name: str, input, other):
    _check(name, input)
    _check(name, other)
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input.dtype != other.dtype:
        input, other = promote(input, other)
    if name in _SHIFTS:
        return compare.binary_with(name, _SHIFTS[name], input, other)
    return compare._binary(name, input, other)


def masked_shift(xp, x, count, left: bool):
    """``x << count`` (``left``) or ``x >> count`` on arrays (or one of them a Python int) of
    the array library ``xp``, with PyTorch's result where ``count`` is outside [0, bits):
    0, or the sign (0 or -1) shifted right. The count is clipped into range before the
    shift, so nothing depends on what the library does with such counts.

    Example::

        >>> import numpy as np
        >>> from gpugrad.ops.bitwise import masked_shift
        >>> x = np.array([1, -8], dtype=np.int32)
        >>> masked_shift(np, x, 32, True).tolist(), masked_shift(np, x, 40, False).tolist()
        ([0, 0], [0, -1])
    """
    if not hasattr(x, "dtype"):         # (a Python int shifted: count's dtype, as torch;
        x = xp.full(count.shape, x,         # int64 beside a bool count, as int + bool)
                    dtype=np.int64 if count.dtype.kind == "b" else count.dtype)
    array = x
    shift = xp.left_shift if left else xp.right_shift
    if array.dtype.kind == "b":
        return shift(x, count)
    bits = array.dtype.itemsize * 8
    outside = (count < 0) | (count >= bits)
    fills_sign = not left and array.dtype.kind == "i"      # the answer there is x >> (bits-1)
    if not isinstance(outside, xp.ndarray):     # (a Python count: one answer for all)
        if not outside:
            return shift(x, count)
        return shift(x, bits - 1) if fills_sign else xp.zeros_like(shift(x, 0))
    out = shift(x, xp.clip(count, 0, bits - 1))
    if fills_sign:
        return xp.where(outside, xp.right_shift(x, bits - 1), out)
    return out * ~outside                       # (times a bool: out's dtype is kept)


def _left_shift(x, count):
    return masked_shift(backend.xp_of(x if hasattr(x, "dtype") else count), x, count, True)


def _right_shift(x, count):
    return masked_shift(backend.xp_of(x if hasattr(x, "dtype") else count), x, count, False)


_SHIFTS = {"left_shift": _left_shift, "right_shift": _right_shift}


def bitwise_and(input, other):
    """Bitwise AND (logical AND for bool tensors), the ``&`` operator; shapes broadcast.

    Example::

        >>> gpugrad.ops.bitwise.bitwise_and(gpugrad.tensor([12, 10]), 6).tolist()
        [4, 2]
    """
    return _binary("bitwise_and", input, other)


def bitwise_or(input, other):
    """Bitwise OR (logical OR for bool tensors), the ``|`` operator; shapes broadcast.

    Example::

        >>> gpugrad.ops.bitwise.bitwise_or(gpugrad.tensor([12, 10]), 1).tolist()
        [13, 11]
    """
    return _binary("bitwise_or", input, other)


def bitwise_xor(input, other):
    """Bitwise XOR (logical XOR for bool tensors), the ``^`` operator; shapes broadcast.

    Example::

        >>> gpugrad.ops.bitwise.bitwise_xor(gpugrad.tensor([12, 10]), 6).tolist()
        [10, 12]
    """
    return _binary("bitwise_xor", input, other)


def bitwise_not(input):
    """Bitwise NOT (``-x - 1`` for signed integers; logical NOT for bool), the ``~`` operator.

    Example::

        >>> gpugrad.ops.bitwise.bitwise_not(gpugrad.tensor([0, 5])).tolist()
        [-1, -6]
    """
    _check("bitwise_not", input)
    return compare._unary("invert", input)


def bitwise_left_shift(input, other):
    """``input`` shifted left by ``other`` bits (``input * 2**other``), the ``<<`` operator.

    Example::

        >>> gpugrad.ops.bitwise.bitwise_left_shift(gpugrad.tensor([1, 3]), 2).tolist()
        [4, 12]
    """
    return _binary("left_shift", input, other)


def bitwise_right_shift(input, other):
    """``input`` shifted right by ``other`` bits (arithmetic: the sign is kept), ``>>``.

    Example::

        >>> gpugrad.ops.bitwise.bitwise_right_shift(gpugrad.tensor([-8, 8]), 1).tolist()
        [-4, 4]
    """
    return _binary("right_shift", input, other)


def _invert(self):
    try:                                # (the array library refuses floats with a TypeError)
        return compare._unary("invert", self)
    except TypeError:
        if self.dtype.kind in "biu":
            raise
    raise BitwiseDtypeError(f"~ (bitwise_not) is only implemented on integer and bool "
                            f"tensors, not {self.dtype}; for a mask use x == 0 or "
                            f"logical_not(x)")


def _operator(name: str):
    """The operator method (``__and__``...): two tensors of one dtype go straight to the op
    (a mask & a mask costs about what it did as logical_and); the array library refuses
    floats with a TypeError, and ``_binary`` then says why."""
    def method(self, other):
        if other.__class__ is Tensor and self.__class__ is Tensor and \
                self._array.dtype == other._array.dtype:
            try:
                return compare._binary(name, self, other)
            except TypeError:
                pass
        return _binary(name, self, other)
    method.__name__ = method.__qualname__ = f"__{name.replace('bitwise_', '')}__"
    return method


METHODS: dict = {name: globals()[name] for name in __all__}
METHODS.update({name + "_": in_place_method(globals()[name], name) for name in __all__})
METHODS.update({
    "__and__": _operator("bitwise_and"), "__rand__": reflected(bitwise_and),
    "__or__": _operator("bitwise_or"), "__ror__": reflected(bitwise_or),
    "__xor__": _operator("bitwise_xor"), "__rxor__": reflected(bitwise_xor),
    "__lshift__": bitwise_left_shift, "__rlshift__": reflected(bitwise_left_shift),
    "__rshift__": bitwise_right_shift, "__rrshift__": reflected(bitwise_right_shift),
    "__invert__": _invert,
    "__iand__": METHODS["bitwise_and_"], "__ior__": METHODS["bitwise_or_"],
    "__ixor__": METHODS["bitwise_xor_"], "__ilshift__": METHODS["bitwise_left_shift_"],
    "__irshift__": METHODS["bitwise_right_shift_"],
})
