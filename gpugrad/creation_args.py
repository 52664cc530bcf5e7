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
from .scalar_casts import as_int, checked_scalar
from .tensor import Tensor

__all__ = ["device_or_default", "finish", "shape_from", "infer_dtype", "is_device_array",
           "checked_leaves", "integer_array", "fill_dtype"]


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
    if all([n.__class__ is int and n >= 0 for n in shape]):
        return tuple(shape)
    try:        # (NumPy ints and 0-d integer tensors are ints, as PyTorch takes them)
        sizes = tuple([as_int(n, "shape", "size") for n in shape])
    except TypeError:
        sizes = (-1,)
    if any(n < 0 for n in sizes):
        raise ValueError(f"a shape must be non-negative integers, got {shape}")
    return sizes


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
    if inferred == np.float64:          # (Python floats; a NumPy float64 keeps float64)
        return inferred if _brings_double(data) else get_default_dtype()
    if inferred == np.complex128:       # Python complex numbers: complex64 beside float32
        return inferred if _brings_double(data) else default_complex_dtype()
    if inferred.kind not in "biufc":
        raise TypeError(f"cannot make a tensor from {type(data).__name__} data of NumPy dtype "
                        f"{inferred}; use numbers, nested lists of numbers or arrays")
    return inferred


def fill_dtype(fill):
    """The dtype ``full`` gives a NumPy scalar ``fill``, as PyTorch's: the one of the Python
    number it stands for (a float the default dtype, an integer int64; a complex the default
    complex dtype), np.bool_ the default float dtype (as ``torch.full`` reads it).

    Example::

        >>> from gpugrad.creation_args import fill_dtype
        >>> fill_dtype(np.float64(1.5)), fill_dtype(np.int8(-1)), fill_dtype(np.bool_(True))
        (dtype('float32'), dtype('int64'), dtype('float32'))
    """
    kind = getattr(fill, "dtype", np.dtype("O")).kind
    if kind in "iu":
        return np.dtype(np.int64)
    if kind == "c":
        return default_complex_dtype()
    if kind in "fb":
        return get_default_dtype()
    raise TypeError(f"full: fill_value must be a number, got {type(fill).__name__}")


_INT64_MIN, _INT64_END = -(1 << 63), 1 << 63
_DOUBLES = (np.dtype(np.float64), np.dtype(np.complex128))
_SEQUENCES = (list, tuple)
_DOUBLE_SCALARS = frozenset((np.float64, np.complex128))
_PLAIN_LEAVES = frozenset((float, int, bool, complex, list, tuple))


def _brings_double(data) -> bool:
    """Whether nested lists ``data`` hold a leaf of double precision of its own (a NumPy
    float64 or complex128 scalar, or an array or tensor of that dtype): PyTorch then keeps
    float64 (``tensor([np.float64(1.5), 1])``), where Python floats give the default dtype.
    Looked at one level at a time, by the leaves' classes (~1 ms for 10^5 floats)."""
    level = data
    while level:
        kinds = set(map(type, level))
        if not kinds.isdisjoint(_DOUBLE_SCALARS):
            return True
        if not kinds <= _PLAIN_LEAVES and any([_is_double(item) for item in level]):
            return True
        if list not in kinds and tuple not in kinds:
            return False
        level = [leaf for item in level if item.__class__ in _SEQUENCES for leaf in item]
    return False


def _is_double(item) -> bool:
    dtype = getattr(item, "dtype", None)   # (not ``in _DOUBLES`` alone: NumPy has
    return dtype is not None and dtype in _DOUBLES     # dtype(float64) == None)


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


_EXACT_FLOAT = 1 << 53                  # floats below this hold every int exactly


def integer_array(data, dtype):
    """Nested lists ``data`` ready for an array of the integer ``dtype`` (a NumPy array, or
    the lists with their numbers converted), each number as PyTorch's ``tensor`` converts it
    (``checked_leaves``): ints wrap or raise, a float is truncated toward zero only within
    the dtype's range (``[-0.5]`` into uint8 raises, where NumPy gives 0; ``[300.5]`` raises,
    where NumPy gives 44), NumPy's scalars as Python's. Checked on the whole array at once;
    number by number only when a value needs it (or NumPy cannot read the lists: then
    ``backend.asarray`` does, as before).

    Example::

        >>> from gpugrad.creation_args import integer_array
        >>> np.asarray(integer_array([1.7, -1], np.dtype(np.uint8))).tolist()   # (-1: an int)
        [1, 255]
    """
    try:
        values = np.asarray(data)
    except (OverflowError, ValueError, TypeError):  # (an int beyond 64 bits; ragged lists)
        values = None
    if values is not None and values.size == 0:
        return values.astype(dtype)
    kind = None if values is None else values.dtype.kind
    if values is not None and (kind == "b" or values.dtype == dtype):   # (int64: no check)
        return values
    if kind in ("i", "u", "f"):
        info = np.iinfo(dtype)
        low, high = values.min(), values.max()
        if kind != "f" and info.min <= low and high <= info.max:
            return values.astype(dtype)
        if kind == "f" and np.isfinite(low) and np.isfinite(high) and \
                max(info.min, -_EXACT_FLOAT) <= low and high <= min(info.max, _EXACT_FLOAT):
            return values.astype(dtype)         # (truncates toward zero, as PyTorch)
    return checked_leaves(data, dtype)
