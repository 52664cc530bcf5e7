"""How the factories (creation.py, random_sampling.py) read their arguments: the device
(None: the default one), the shape (PyTorch's three spellings), the dtype that data implies
and the finished tensor.

Example::

    >>> from gpugrad.creation_args import shape_from
    >>> shape_from((2, 3)), shape_from(((2, 3),)), shape_from((), size=[2, 3])
    ((2, 3), (2, 3), (2, 3))
"""

from __future__ import annotations

import numbers

import numpy as np

from . import backend
from .dtypes import as_dtype, default_complex_dtype, get_default_dtype
from .scalar_casts import checked_scalar
from .tensor import Tensor

__all__ = ["device_or_default", "finish", "shape_from", "infer_dtype", "is_device_array",
           "checked_leaves"]


def device_or_default(device) -> backend.Device:
    """``device`` as a Device; None means the default device."""
    return backend.get_default_device() if device is None else backend.Device(device)


def finish(array, requires_grad: bool) -> Tensor:
    """A new leaf tensor around ``array``, requiring grad if asked."""
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def shape_from(shape: tuple, size=None) -> tuple:
    """The shape from a factory's varargs and ``size=``: ``zeros(2, 3)``, ``zeros((2, 3))``,
    ``zeros([2, 3])`` or ``zeros(size=(2, 3))`` (NumPy ints count as ints)."""
    if size is not None:
        if shape:
            raise TypeError(f"give the shape either positionally {shape} or as size={size!r}, "
                            f"not both")
        shape = (size,)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0
               for n in shape):
        raise ValueError(f"a shape must be non-negative integers, got {shape}")
    return tuple(int(n) for n in shape)


_PYTHON_SCALARS = (float, int, bool)


def is_device_array(data) -> bool:
    """Whether ``data`` is a GPU array (CuPy's, or any with ``__cuda_array_interface__``)."""
    return data.__class__ not in _PYTHON_SCALARS and not isinstance(data, np.ndarray) and \
        hasattr(data, "__cuda_array_interface__")


def infer_dtype(data, dtype):
    """The dtype of a tensor made from ``data`` (``dtype`` when given), as PyTorch infers it:
    Python floats (and lists of them) the default float dtype, ints int64 (one that does not
    fit raises, as PyTorch), bools bool; None for arrays, which keep theirs."""
    if dtype is not None:
        return as_dtype(dtype)
    kind = data.__class__
    if kind is float:                   # (exact Python numbers first: the abstract checks
        return get_default_dtype()      # below are slow)
    if kind is int:
        if not _INT64_MIN <= data < _INT64_END:
            raise _overflow(data)
        return np.dtype(np.int64)
    if kind is bool:
        return np.dtype(bool)
    if isinstance(data, (np.ndarray, np.generic)) or is_device_array(data):
        return None
    if isinstance(data, bool):
        return np.dtype(bool)
    if isinstance(data, numbers.Integral):
        return np.dtype(np.int64)
    if isinstance(data, numbers.Real):
        return get_default_dtype()
    if isinstance(data, complex):
        return default_complex_dtype()
    inferred = np.asarray(data).dtype   # nested lists
    if inferred.kind in "uOf":          # (NumPy's ways around an int too big for int64:
        _refuse_big_ints(data)          # uint64, object, or float64 beside smaller ints)
    if inferred == np.float64:
        return get_default_dtype()
    if inferred == np.complex128:       # Python complex numbers: complex64 beside float32
        return default_complex_dtype()
    if inferred.kind not in "biufc":
        raise TypeError(f"cannot make a tensor from {type(data).__name__} data of NumPy dtype "
                        f"{inferred}; use numbers, nested lists of numbers or arrays")
    return inferred


_INT64_MIN, _INT64_END = -(1 << 63), 1 << 63


def _overflow(value) -> ValueError:
    return ValueError(f"Overflow: the int {value} does not fit int64, the dtype of Python "
                      f"ints (as PyTorch); pass it as a float, or dtype=gpugrad.float64")


def _refuse_big_ints(data) -> None:
    """Raise when ``data`` (nested lists) holds only ints and bools (an int64 tensor, as
    PyTorch infers it) and one of the ints does not fit int64."""
    stack, big = [data], None
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif item.__class__ is int:
            if big is None and not _INT64_MIN <= item < _INT64_END:
                big = item
        elif not isinstance(item, (bool, np.bool_, np.integer)):
            return                      # a float (or an array): a float tensor, as PyTorch
    if big is not None:
        raise _overflow(big)


def checked_leaves(data, dtype):
    """Nested lists ``data`` with each Python number converted to the integer ``dtype`` as
    PyTorch's ``tensor`` converts it (``scalar_casts.checked_scalar``: -1 into uint8 is 255,
    256 raises)."""
    if data.__class__ is list or data.__class__ is tuple:
        return [checked_leaves(item, dtype) for item in data]
    return checked_scalar(data, dtype, "tensor")
