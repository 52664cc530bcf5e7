"""PyTorch's type promotion (``torch.result_type``), and the operands of binary ops.

Dtypes fall in four categories, bool < integer < float < complex. Between two tensors:

- the higher category wins (``int64`` with ``float16`` is ``float16``, not NumPy's
  ``float64``); within one category the wider dtype wins (``uint8`` with ``int8`` is
  ``int16``, as NumPy);
- a 0-d tensor does not widen a tensor with dimensions of its category or a higher one:
  ``int32_tensor + tensor(1)`` is ``int32``, ``float16_tensor + tensor(1.0)`` is ``float16``
  (a 0-d tensor of a higher category does: ``int_tensor + tensor(1.5)`` is float32);
- a Python number never widens a tensor of its category (dtypes.scalar_result_dtype).

Example::

    >>> from gpugrad.ops.promotion import promote_types, result_type
    >>> x = gpugrad.tensor([1, 2], dtype=gpugrad.int32)
    >>> (x + gpugrad.tensor(1)).dtype, result_type(x, 2.5)
    (dtype('int32'), dtype('float32'))
    >>> promote_types(gpugrad.int64, gpugrad.float16)
    dtype('float16')
"""

from __future__ import annotations

import functools

import numpy as np

from .. import dtypes
from ..creation import as_tensor, full
from ..scalar_casts import wrapped_int
from .record import apply, apply_scalar
from .shape import expand_to
from .unary import _PYTHON_NUMBERS, _is_scalar, astype
from ..tensor import Tensor

__all__ = ["result_type", "promote_types", "can_cast", "is_complex"]

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote_types(type1, type2) -> np.dtype:
    """The smallest dtype both ``type1`` and ``type2`` convert to, as
    ``torch.promote_types``: the higher category wins, else the wider type.

    Example::

        >>> gpugrad.ops.promotion.promote_types(gpugrad.uint8, gpugrad.int8)
        dtype('int16')
    """
    a, b = dtypes.as_dtype(type1), dtypes.as_dtype(type2)
    if a == b:
        return a
    ca, cb = _CATEGORY.get(a.kind, 1), _CATEGORY.get(b.kind, 1)
    if ca == cb or {ca, cb} == {2, 3}:          # (float64 with complex64: complex128)
        return np.promote_types(a, b)
    return a if ca > cb else b


def tensor_pair_dtype(a: np.dtype, b: np.dtype, a_0d: bool, b_0d: bool) -> np.dtype:
    """The dtype two tensors of dtypes ``a`` and ``b`` meet in (``a_0d``: ``a`` has no
    dimensions), as ``torch.result_type`` of two tensors."""
    if a == b:
        return a
    if a_0d == b_0d:
        return promote_types(a, b)
    dim, zero = (b, a) if a_0d else (a, b)
    if dim.kind == "c":
        return dim
    if zero.kind == "c":                        # a float tensor keeps its width
        return np.dtype(np.complex128 if dim == dtypes.float64 else np.complex64) \
            if dim.kind == "f" else zero
    if dim.kind == "f":
        return dim
    if dim.kind == "b" or zero.kind == "f":     # the 0-d tensor's category is higher
        return promote_types(dim, zero)
    return dim


def _number_dtype(value) -> np.dtype:
    """The dtype of a tensor made from the Python number ``value`` alone."""
    if isinstance(value, (bool, np.bool_)):
        return dtypes.bool_
    if isinstance(value, (int, np.integer)):
        return dtypes.int64
    if isinstance(value, (float, np.floating)):
        return dtypes.get_default_dtype()
    return np.dtype(np.complex128 if dtypes.get_default_dtype() == dtypes.float64
                    else np.complex64)


def result_type(tensor1, tensor2) -> np.dtype:
    """The dtype of an arithmetic op of ``tensor1`` and ``tensor2`` (tensors or Python
    numbers), as ``torch.result_type``.

    Example::

        >>> gpugrad.ops.promotion.result_type(gpugrad.tensor([1, 2]), 1.0)
        dtype('float32')
    """
    one, two = isinstance(tensor1, Tensor), isinstance(tensor2, Tensor)
    if one and two:
        return tensor_pair_dtype(tensor1.dtype, tensor2.dtype, tensor1.ndim == 0,
                                 tensor2.ndim == 0)
    if not one and not two:
        return promote_types(_number_dtype(tensor1), _number_dtype(tensor2))
    tensor, number = (tensor1, tensor2) if one else (tensor2, tensor1)
    return scalar_dtype(tensor.dtype, number)


def scalar_dtype(dtype: np.dtype, number) -> np.dtype:
    """The dtype a tensor of ``dtype`` meeting the Python ``number`` takes (a complex number
    makes a real tensor complex, keeping float64's width)."""
    if isinstance(number, (complex, np.complexfloating)) and dtype.kind != "c":
        return np.dtype(np.complex128 if dtype == dtypes.float64 else np.complex64)
    return dtypes.scalar_result_dtype(dtype, number)


def can_cast(from_, to) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` into ``to`` (in-place results): not
    into a lower category (float into int, int into bool...).

    Example::

        >>> from gpugrad.ops.promotion import can_cast
        >>> can_cast(gpugrad.float32, gpugrad.int32), can_cast("int64", "int8")
        (False, True)
    """
    a, b = dtypes.as_dtype(from_), dtypes.as_dtype(to)
    return _CATEGORY.get(a.kind, 1) <= _CATEGORY.get(b.kind, 1)


def is_complex(input) -> bool:
    """Whether ``input``'s dtype is a complex type, as ``torch.is_complex``.

    Example::

        >>> gpugrad.ops.promotion.is_complex(gpugrad.ones(2))
        False
    """
    return input.dtype.kind == "c"


# ---------------------------------------------------------------------------------------------
# Operands and plumbing of binary ops (elementwise.py and the ops built like it)
# ---------------------------------------------------------------------------------------------

_FLOAT_SCALARS = (float, int)       # a float tensor meets these without changing dtype


def as_operand(value, like):
    """A non-tensor operand (NumPy/CuPy array) as a tensor on its own device."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (list, tuple)):
        return as_tensor(value, device=like.device)
    return as_tensor(value)


def promote(a, b):
    """Tensors ``a`` and ``b`` cast to the dtype they meet in (``tensor_pair_dtype``).

    Example::

        >>> from gpugrad.ops.promotion import promote
        >>> [t.dtype for t in promote(gpugrad.tensor([1, 2]), gpugrad.tensor(0.5))]
        [dtype('float32'), dtype('float32')]
    """
    if a.dtype == b.dtype:
        return a, b
    target = tensor_pair_dtype(a.dtype, b.dtype, a.ndim == 0, b.ndim == 0)
    return (a if a.dtype == target else astype(a, target)), \
        (b if b.dtype == target else astype(b, target))


def scalar_operand(x, c):
    """``(x, c)``: the tensor ``x`` cast to the dtype it takes on meeting the Python number
    ``c`` (PyTorch's rules), and ``c`` as a plain Python number (an int meeting an integer
    dtype wrapped into its range, as PyTorch's: ``scalar_casts.wrapped_int``).

    Example::

        >>> from gpugrad.ops.promotion import scalar_operand
        >>> x, c = scalar_operand(gpugrad.tensor([1, 2]), 0.5)
        >>> x.dtype, c
        (dtype('float32'), 0.5)
    """
    if c.__class__ in _PYTHON_NUMBERS and x.dtype.kind in "fc":
        return x, c                         # (the common case: a float tensor keeps its dtype)
    target = dtypes.scalar_result_dtype(x.dtype, c)
    if isinstance(c, np.generic):
        c = c.item()
    elif c.__class__ not in _PYTHON_NUMBERS:        # subclasses (t.size, IntEnum...) as such
        c = next((kind(c) for kind in (int, float, complex) if isinstance(c, kind)), c)
    if c.__class__ is int and not 0 <= c <= 127:    # (in every integer dtype's range)
        c = wrapped_int(c, target)          # u8 - 4: -4 wraps to 252, as PyTorch's
    return (x if target == x.dtype else astype(x, target)), c


def tensor_pair(a, b):
    """``a`` and ``b`` as tensors: a Python number becomes a 0-d tensor of the dtype its
    tensor partner takes on meeting it, an int wrapped into an integer dtype as PyTorch's
    (``u8 // 300`` divides by 44); arrays and lists become tensors too.

    Example::

        >>> from gpugrad.ops.promotion import tensor_pair
        >>> a, b = tensor_pair(gpugrad.tensor([1, 2], dtype=gpugrad.int32), 3)
        >>> b.shape, b.dtype
        ((), dtype('int32'))
    """
    if _is_scalar(b):
        dtype = scalar_dtype(a.dtype, b)
        b = full((), wrapped_int(b, dtype), dtype=dtype, device=a.device)
    if _is_scalar(a):
        dtype = scalar_dtype(b.dtype, a)
        a = full((), wrapped_int(a, dtype), dtype=dtype, device=b.device)
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    if not isinstance(b, Tensor):
        b = as_operand(b, a)
    return a, b


def is_integral(value) -> bool:
    """Whether ``value`` (a tensor, or a Python or NumPy number) is of the bool or integer
    categories (an op on such operands alone keeps an integer result).

    Example::

        >>> from gpugrad.ops.promotion import is_integral
        >>> is_integral(gpugrad.tensor([True])), is_integral(3), is_integral(gpugrad.ones(1))
        (True, True, False)
    """
    if isinstance(value, Tensor):
        return value.dtype.kind in "biu"
    return isinstance(value, (int, np.integer, np.bool_))


def reflected(fn):
    """The reflected operator method of the binary ``fn`` (``__radd__`` from ``add``...):
    ``self.__rop__(other)`` is ``fn(other, self)``."""
    return lambda self, other: fn(other, self)


def number_pair(a, b, device):
    """Two Python numbers as 0-d tensors on ``device`` of the dtype they meet in (``where``
    with two numbers: ``where(c, 1, 0)`` is int64, ``where(c, 1.0, 0)`` float32)."""
    dtype = promote_types(_number_dtype(a), _number_dtype(b))
    return full((), a, dtype=dtype, device=device), full((), b, dtype=dtype, device=device)


def tangent_sum(ctx, ta, tb):
    """``ta + tb`` broadcast to the output's shape (``ctx.out_shape``), either possibly None
    (zero); None when both are: the forward-mode rule of a broadcasting binary op."""
    if ta is None and tb is None:
        return None
    t = tb if ta is None else ta if tb is None else ta + tb
    return expand_to(t, ctx.out_shape)


def binary(op, a, b):
    """``apply(op, a, b)`` on tensors of one dtype: arrays become tensors on the other's
    device, then both are cast to the dtype they meet in (``promote``)."""
    if not isinstance(b, Tensor):
        b = as_operand(b, a)
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    return apply(op, *promote(a, b))


def common_cases_first(op, scalar_op, negate=False, floats_only=False):
    """Decorates the general form of ``+ - * / **`` with the common cases, tried first in the
    same frame (no extra call on them): two tensors of one dtype (``floats_only``: of one
    float dtype) go to ``op``, a float tensor and a Python float or int to ``scalar_op``
    (``negate``: with the number's negation)."""
    def decorate(general):
        def common_cases_first(a, b):
            if isinstance(a, Tensor):
                if isinstance(b, Tensor):
                    if a.dtype == b.dtype and (not floats_only or a.dtype.kind in "fc"):
                        return apply(op, a, b)
                elif b.__class__ in _FLOAT_SCALARS and a.dtype.kind == "f":
                    return apply_scalar(scalar_op, a, -b if negate else b)
            return general(a, b)
        return functools.wraps(general)(common_cases_first)
    return decorate

