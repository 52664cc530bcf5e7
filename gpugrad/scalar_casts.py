"""PyTorch's two casts of a Python number into an integer tensor's dtype.

NumPy 2 refuses a Python int out of a dtype's range (``uint8_array - 4`` raises
``OverflowError``); PyTorch converts it, in one of two ways:

- ``wrapped_int``: an operand of arithmetic or a comparison (``u8 - 4``, ``u8 > -1``,
  ``u8 += 300``, ``u8 // 300``) wraps modulo 2**bits into the dtype, as C++ casts it:
  ``uint8([3]) - 4`` is ``[255]``, and ``uint8([3]) > -1`` is ``[False]`` (-1 is 255);
- ``checked_scalar``: a value written as it is (``full``, ``fill_``, ``x[i] = v``,
  ``where``'s number, ``masked_fill``, clamp bounds, a ``pow`` exponent) must fit, except
  that a negative int into an unsigned dtype wraps (``full((2,), -1, dtype=uint8)`` is
  ``[255, 255]``, while 256 or -256 raise), and a float is truncated toward zero when it
  lies within the dtype's range (-0.5 into ``uint8`` raises).

A Python int that fits in neither int64 nor uint64 raises in both (PyTorch cannot unpack
it). Both return the value unchanged for other dtypes and for other kinds of values.

``as_int`` reads an int argument (a dim, a ``k``, a size) as PyTorch does: a NumPy integer
or a 0-d integer tensor counts as an int; a bool or a float is refused.

Example::

    >>> from gpugrad.scalar_casts import checked_scalar, wrapped_int
    >>> wrapped_int(-4, np.dtype(np.uint8)), wrapped_int(200, np.dtype(np.int8))
    (252, -56)
    >>> checked_scalar(-1, np.dtype(np.uint8), "full")
    255
"""

from __future__ import annotations

import math
import operator

import numpy as np

__all__ = ["ScalarOverflowError", "NegativeIntegerPowerError", "wrapped_int", "checked_scalar",
           "checked_exponent", "NUMPY_INTS", "WRITTEN_NUMBERS", "as_int"]

_INT64_MIN, _UINT64_END = -(1 << 63), 1 << 64

# NumPy's integer scalar types (np.int64(-1)...): PyTorch takes them as Python ints, so
# callers turn them into ``int`` before the casts here (which leave other values alone)
NUMPY_INTS = frozenset(np.dtype(code).type for code in "bBhHiIlLqQnN")
NUMPY_NUMBERS = NUMPY_INTS | {np.float16, np.float32, np.float64}
WRITTEN_NUMBERS = NUMPY_NUMBERS | {int, float}      # (NumPy's scalars are written as Python's)


class ScalarOverflowError(RuntimeError, OverflowError, ValueError):
    """A Python number that does not fit the dtype it must be converted to (PyTorch raises
    RuntimeError or OverflowError there; NumPy raises OverflowError)."""


class NegativeIntegerPowerError(RuntimeError, ValueError):
    """An integer tensor raised to a negative Python int (PyTorch raises RuntimeError;
    a ValueError too, as gpugrad raised before)."""


_RANGES: dict = {}      # dtype -> (lowest, highest, 2**bits) of an integer dtype


def _range(dtype):
    found = _RANGES.get(dtype)
    if found is None:
        info = np.iinfo(dtype)
        found = _RANGES[dtype] = (int(info.min), int(info.max), 1 << info.bits)
    return found


def _check_64_bits(value: int, dtype, op: str) -> None:
    if not _INT64_MIN <= value < _UINT64_END:
        raise ScalarOverflowError(
            f"{op}: the Python integer {value} does not fit in 64 bits, so it cannot meet a "
            f"{dtype} tensor (PyTorch: 'Overflow when unpacking long'); use a value in "
            f"[-2**63, 2**64) or a float")


def wrapped_int(value, dtype, op: str = "arithmetic"):
    """``value`` as PyTorch converts a Python int operand of arithmetic or a comparison with
    a tensor of the integer ``dtype``: modulo 2**bits into its range (other values, and other
    dtypes, unchanged). ``op`` names the operation in the error for an int beyond 64 bits.

    Example::

        >>> gpugrad.scalar_casts.wrapped_int(256, np.dtype(np.uint8))
        0
    """
    if value.__class__ in NUMPY_INTS:       # (np.int64(300): a Python int, as PyTorch's)
        value = int(value)
    if value.__class__ is not int or dtype.kind not in "iu":
        return value
    low, high, modulus = _range(dtype)
    if low <= value <= high:
        return value
    _check_64_bits(value, dtype, op)
    return (value - low) % modulus + low


def checked_scalar(value, dtype, op: str):
    """``value`` as PyTorch writes a Python number into a tensor of the integer ``dtype``
    (``full``, ``fill_``, ``x[i] = v``...): an int within the dtype's range as it is, a
    negative int into an unsigned dtype wrapped when its magnitude fits (-1 is 255 in
    ``uint8``), a finite float within the range truncated toward zero; anything else raises
    ``ScalarOverflowError`` naming ``op``. Bools, other values and other dtypes unchanged.

    Example::

        >>> gpugrad.scalar_casts.checked_scalar(2.7, np.dtype(np.uint8), "fill_")
        2
    """
    if value.__class__ in NUMPY_NUMBERS:    # (np.int64(300), np.float64: Python numbers)
        value = value.item()
    kind = value.__class__
    if (kind is not int and kind is not float) or dtype.kind not in "iu":
        return value
    low, high, modulus = _range(dtype)
    if kind is int:
        if low <= value <= high:
            return value
        _check_64_bits(value, dtype, op)
        if low == 0 and -high <= value < 0:
            return value + modulus
    elif math.isfinite(value) and low <= value <= high:
        return int(value)
    raise ScalarOverflowError(
        f"{op}: the value {value} cannot be converted to {dtype} without overflow (its range "
        f"is [{low}, {high}]{', negative ints wrap' if low == 0 else ''}); use a value in "
        f"range, or a wider dtype")


def checked_exponent(c: int, dtype):
    """The int exponent ``c`` of a tensor of the integer ``dtype``, checked as PyTorch's: not
    negative, and fitting the dtype (``checked_scalar``)."""
    if c < 0:
        raise NegativeIntegerPowerError(
            f"pow: integers to negative integer powers are not allowed (a {dtype} tensor ** "
            f"{c}); convert the tensor to float first: x.float() ** {c}")
    return checked_scalar(c, dtype, "pow")


def as_int(value, op: str, name: str = "dim") -> int:
    """PyTorch's int argument ``value`` (a dim, a count, a size) as a Python int: an int, a
    NumPy integer (``np.int64(1)``) or a 0-d integer tensor, as PyTorch takes them; a bool,
    a float or anything else raises a TypeError naming ``op`` and ``name``.

    Example::

        >>> from gpugrad.scalar_casts import as_int
        >>> as_int(np.int64(1), "sum"), as_int(gpugrad.tensor(-1), "sum")
        (1, -1)
    """
    if value.__class__ is int:
        return value
    dtype = getattr(value, "dtype", None)
    if not isinstance(value, bool) and (dtype is None or getattr(dtype, "kind", "") in "iu"):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"{op}: {name} must be an int (or a NumPy integer, or a 0-d integer "
                    f"tensor), got {type(value).__name__}"
                    f"{'' if dtype is None else f' of dtype {dtype}'}")

