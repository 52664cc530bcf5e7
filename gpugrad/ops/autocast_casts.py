"""The casts the ops make on their inputs under autocast (``gpugrad/autograd/autocast_mode.py``):
matrix products take the autocast dtype, losses float32.

Example (a loss's first line)::

    >>> from gpugrad.amp import autocast, cast_inputs_float32
    >>> logits = gpugrad.ones(2, 3, dtype=gpugrad.float16)
    >>> with autocast("float16"):
    ...     (logits32,) = cast_inputs_float32(logits)
    >>> print(logits32.dtype)
    float32
"""

from __future__ import annotations

import numpy as np

from ..autograd.autocast_mode import _no_bfloat16_on_numpy, active_dtype_name
from ..tensor import Tensor
from .record import apply
from .unary import Cast

__all__ = ["cast_inputs", "cast_inputs_float32"]

_FLOAT16 = np.dtype("float16")
_FLOAT32 = np.dtype("float32")


def cast_inputs(*xs):
    """``xs`` for a matrix-product op: inside an enabled autocast, float32 (and the other
    half type's) tensors cast to the autocast dtype; anything else, and everything outside
    autocast, as given. Returns a tuple, one entry per argument.

    Example (the first line of ``linear``)::

        >>> from gpugrad.amp import autocast, cast_inputs
        >>> x, w = gpugrad.ones(2, 3), gpugrad.ones(3, 4, dtype=gpugrad.float64)
        >>> with autocast("float16"):
        ...     x16, w64 = cast_inputs(x, w)      # float64 is never cast
        >>> print(x16.dtype, w64.dtype)
        float16 float64
    """
    name = active_dtype_name()
    if name is None:
        return xs
    return tuple(_to_low(x, name) if _castable(x) else x for x in xs)


def cast_inputs_float32(*xs):
    """``xs`` for a loss: inside an enabled autocast, float16 and bfloat16 tensors cast to
    float32; anything else, and everything outside autocast, as given (a tuple)."""
    if active_dtype_name() is None:
        return xs
    return tuple(_cast(x, _FLOAT32) if _castable(x) and x.dtype != _FLOAT32 else x
                 for x in xs)


def _castable(x) -> bool:
    """A tensor of float16, bfloat16 or float32 (never float64, ints, or non-tensors)."""
    return isinstance(x, Tensor) and (x.dtype in (_FLOAT16, _FLOAT32)
                                      or x.dtype.name == "bfloat16")


def _to_low(x, name: str):
    target = _FLOAT16 if name == "float16" else _bfloat16_for(x._xp())
    return x if x.dtype == target else _cast(x, target)


def _cast(x, dtype):
    # The Cast record directly, not astype: astype treats bfloat16 (ml_dtypes' kind 'V') as
    # not a float and would cut the graph. For float16/float32 the two are the same.
    return apply(Cast, x, dtype=dtype)


_BFLOAT16 = {}          # array module name -> its bfloat16 dtype, probed once


def _bfloat16_for(xp):
    """The bfloat16 dtype of array module ``xp`` (UNVERIFIED on a GPU), or a clear error."""
    if xp is np:
        raise _no_bfloat16_on_numpy()
    key = xp.__name__
    if key not in _BFLOAT16:
        dtype = getattr(xp, "bfloat16", None)
        try:
            if dtype is None:
                import ml_dtypes                # CuPy >= 14 takes bfloat16 from ml_dtypes
                dtype = np.dtype(ml_dtypes.bfloat16)
            probe = xp.ones((2, 2), dtype=dtype)
            probe @ probe
        except Exception as exc:
            raise TypeError(f"autocast('bfloat16'): this {key} "
                            f"{getattr(xp, '__version__', '')} has no usable bfloat16 dtype "
                            f"({type(exc).__name__}: {exc}); use autocast('float16'), or "
                            f"CuPy >= 14 with ml_dtypes installed") from exc
        _BFLOAT16[key] = np.dtype(dtype)
    return _BFLOAT16[key]
