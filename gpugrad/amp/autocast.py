"""``autocast``: float16 (or bfloat16) matrix products and float32 losses inside a block,
as PyTorch's ``torch.autocast``; the ops call ``cast_inputs`` / ``cast_inputs_float32``.
See gpugrad/amp/__init__.py for the whole picture.

Example::

    >>> from gpugrad.amp import autocast
    >>> with autocast("float16"):
    ...     logits = gpugrad.tensor([[1.0, 2.0]]) @ gpugrad.eye(2)   # a float16 matmul
    ...     loss = F.cross_entropy(logits, gpugrad.tensor([1]))       # a float32 loss
    >>> print(logits.dtype, loss.dtype)
    float16 float32
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from .. import backend
from ..ops.record import apply
from ..ops.unary import Cast
from ..tensor import Tensor

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype", "cast_inputs",
           "cast_inputs_float32"]

_LOW = ("float16", "bfloat16")
_FLOAT16 = np.dtype("float16")
_FLOAT32 = np.dtype("float32")


class _State(threading.local):
    def __init__(self):
        self.active = None          # the autocast dtype's name while enabled, else None
        self.dtype = "float16"      # the innermost autocast's dtype name (enabled or not)
        self.saved = []             # (active, dtype) to restore on each exit


_state = _State()


def _dtype_name(dtype) -> str:
    """'float16' or 'bfloat16' from a name or dtype, or a ValueError naming the fix."""
    if isinstance(dtype, str) and dtype == "bfloat16":
        return dtype
    try:
        name = np.dtype(dtype).name if dtype is not None else None
    except TypeError:
        name = None
    if name not in _LOW:
        if isinstance(dtype, str) and dtype.split(":")[0] in ("cpu", "cuda"):
            raise ValueError(f"autocast takes a dtype, not a device ({dtype!r}): the tensors' "
                             f"device decides; use autocast('float16')")
        raise ValueError(f"autocast: dtype {dtype!r} is not a lower-precision float autocast "
                         f"can use; pass 'float16' (or 'bfloat16' on a GPU whose CuPy has it). "
                         f"For float32 run without autocast, or with autocast(enabled=False)")
    return name


def _no_bfloat16_on_numpy() -> TypeError:
    return TypeError("autocast('bfloat16'): bfloat16 is not supported by NumPy (it has no "
                     "bfloat16 dtype), so it cannot run on the CPU; use autocast('float16') "
                     "there, or bfloat16 on a CUDA device whose CuPy supports it")


class autocast:
    """Inside, matrix products run in ``dtype`` and losses in float32 (module docstring).

    A context manager (nestable: ``autocast(enabled=False)`` inside turns it off) and a
    decorator. The state is per thread, as PyTorch's.

    Example::

        >>> from gpugrad.amp import autocast
        >>> x, w = gpugrad.ones(2, 3), gpugrad.ones(3, 4)       # float32
        >>> with autocast("float16"):
        ...     y = x @ w
        ...     with autocast(enabled=False):
        ...         z = x @ w
        >>> print(y.dtype, z.dtype, (x @ w).dtype)
        float16 float32 float32
    """

    def __init__(self, dtype="float16", enabled: bool = True):
        self.dtype = _dtype_name(dtype)
        self.enabled = bool(enabled)

    def __enter__(self):
        if self.enabled and self.dtype == "bfloat16" and not backend.is_cuda_usable():
            raise _no_bfloat16_on_numpy()
        _state.saved.append((_state.active, _state.dtype))
        _state.active = self.dtype if self.enabled else None
        _state.dtype = self.dtype
        return self

    def __exit__(self, *exc_info):
        _state.active, _state.dtype = _state.saved.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.dtype, self.enabled):
                return fn(*args, **kwargs)
        return wrapper


def is_autocast_enabled() -> bool:
    """True inside an enabled ``autocast`` (in this thread)."""
    return _state.active is not None


def get_autocast_dtype():
    """The innermost autocast's dtype: ``gpugrad.float16`` (also outside any autocast, as
    PyTorch's default), or the string ``"bfloat16"`` (NumPy has no bfloat16 dtype)."""
    return _FLOAT16 if _state.dtype == "float16" else _state.dtype


# ---------------------------------------------------------------------------------------------
# The casts the ops call on their inputs
# ---------------------------------------------------------------------------------------------

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
    name = _state.active
    if name is None:
        return xs
    return tuple(_to_low(x, name) if _castable(x) else x for x in xs)


def cast_inputs_float32(*xs):
    """``xs`` for a loss: inside an enabled autocast, float16 and bfloat16 tensors cast to
    float32; anything else, and everything outside autocast, as given (a tuple)."""
    if _state.active is None:
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


# ---------------------------------------------------------------------------------------------
# GradScaler
