"""Autocast mode: inside ``autocast(dtype)`` matrix products run in float16 (or bfloat16)
and losses in float32, as PyTorch's ``torch.autocast``.

A mode like ``no_grad``: thread-local state that the ops read (through
``gpugrad/ops/autocast_casts.py``, which applies the casts) and ``gpugrad.amp`` re-exports.
The whole picture, with ``GradScaler``, is gpugrad/amp/__init__.py.

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

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype", "active_dtype_name"]

_LOW = ("float16", "bfloat16")
_FLOAT16 = np.dtype("float16")


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


def active_dtype_name():
    """The enabled autocast's dtype name ('float16' or 'bfloat16'), or None outside one."""
    return _state.active
