"""Autocast mode: inside ``autocast(device_type, dtype)`` matrix products run in float16 (or
bfloat16) and losses in float32, as PyTorch's ``torch.autocast``.

PyTorch's signature ``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``
is taken (``autocast("cuda", dtype=gpugrad.float16)``), and gpugrad's older
``autocast("float16")`` still is: a first argument that names a dtype is the dtype. The
dtype defaults to float16 on both device types (PyTorch's CPU default, bfloat16, cannot run
on NumPy). Unlike PyTorch's, the region casts the ops of tensors on any device: the
``device_type`` is checked, and ``autocast("cuda")`` without a usable GPU warns and
disables itself, as PyTorch's does. ``cache_enabled`` is accepted (no cast cache is kept).

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
import warnings

import numpy as np

from .. import backend

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype", "active_dtype_name"]

_LOW = ("float16", "bfloat16")
_FLOAT16 = np.dtype("float16")


class _State(threading.local):
    def __init__(self):
        self.active = None          # the autocast dtype's name while enabled, else None
        self.dtype = "float16"      # the innermost autocast's dtype name (enabled or not)
        self.device = None          # the innermost autocast's device_type (None: any)
        self.saved = []             # (active, dtype, device) to restore on each exit


_state = _State()


_DEVICE_TYPES = ("cpu", "cuda")


def _is_device_type(value) -> bool:
    return isinstance(value, str) and value.split(":")[0] in _DEVICE_TYPES


def _dtype_name(dtype) -> str:
    """'float16' or 'bfloat16' from a name or dtype (gpugrad's, NumPy's or PyTorch's), or a
    ValueError naming the fix."""
    if type(dtype).__module__.startswith("torch"):          # torch.float16 -> "float16"
        dtype = str(dtype).rpartition(".")[2]
    if isinstance(dtype, str) and dtype == "bfloat16":
        return dtype
    try:
        name = np.dtype(dtype).name if dtype is not None else None
    except TypeError:
        name = None
    if name not in _LOW:
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

    ``autocast(device_type=None, dtype=None, enabled=True, cache_enabled=None)``, as
    PyTorch's (module docstring); ``autocast("float16")`` (a dtype first) still works.
    A context manager (nestable: ``autocast(enabled=False)`` inside turns it off) and a
    decorator. The state is per thread, as PyTorch's.

    Example::

        >>> from gpugrad.amp import autocast
        >>> x, w = gpugrad.ones(2, 3), gpugrad.ones(3, 4)       # float32
        >>> with autocast("cpu", dtype=gpugrad.float16):
        ...     y = x @ w
        ...     with autocast("cpu", enabled=False):
        ...         z = x @ w
        >>> print(y.dtype, z.dtype, (x @ w).dtype)
        float16 float32 float32
        >>> @autocast("float16")                              # gpugrad's older spelling
        ... def product(a, b):
        ...     return a @ b
        >>> print(product(x, w).dtype)
        float16
    """

    def __init__(self, device_type=None, dtype=None, enabled: bool = True,
                 cache_enabled=None):
        if device_type is not None and not _is_device_type(device_type):
            if dtype is not None and not isinstance(dtype, bool):
                raise ValueError(f"autocast: device_type must be 'cpu' or 'cuda', got "
                                 f"{device_type!r}")
            if isinstance(dtype, bool):         # gpugrad's older autocast(dtype, enabled)
                enabled = dtype
            device_type, dtype = None, device_type
        self.device_type = None if device_type is None else device_type.split(":")[0]
        self.dtype = _dtype_name("float16" if dtype is None else dtype)
        self.enabled = bool(enabled)
        self.cache_enabled = cache_enabled
        if self.enabled and self.device_type == "cuda" and not backend.is_cuda_usable():
            warnings.warn("autocast: device_type 'cuda' was given but CUDA is not usable "
                          "here; autocast is disabled (as PyTorch does). Use "
                          "autocast('cpu', dtype=gpugrad.float16) to cast on the CPU",
                          UserWarning, stacklevel=2)
            self.enabled = False

    def __enter__(self):
        if self.enabled and self.dtype == "bfloat16" and not backend.is_cuda_usable():
            raise _no_bfloat16_on_numpy()
        _state.saved.append((_state.active, _state.dtype, _state.device))
        _state.active = self.dtype if self.enabled else None
        _state.dtype = self.dtype
        _state.device = self.device_type
        return self

    def __exit__(self, *exc_info):
        _state.active, _state.dtype, _state.device = _state.saved.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.device_type, dtype=self.dtype, enabled=self.enabled,
                          cache_enabled=self.cache_enabled):
                return fn(*args, **kwargs)
        return wrapper


def _check_device_type(device_type) -> None:
    if device_type is not None and not _is_device_type(device_type):
        raise ValueError(f"autocast: device_type must be 'cpu' or 'cuda', got {device_type!r}")


def is_autocast_enabled(device_type=None) -> bool:
    """True inside an enabled ``autocast`` (in this thread); with ``device_type`` ("cpu" or
    "cuda", as PyTorch >= 2.4 takes it), inside one made for that device type or for any
    (``autocast("float16")``).

    Example::

        >>> from gpugrad.amp import autocast, is_autocast_enabled
        >>> with autocast("cpu", dtype="float16"):
        ...     print(is_autocast_enabled(), is_autocast_enabled("cpu"),
        ...           is_autocast_enabled("cuda"))
        True True False
    """
    _check_device_type(device_type)
    if _state.active is None:
        return False
    return device_type is None or _state.device in (None, device_type.split(":")[0])


def get_autocast_dtype(device_type=None):
    """The innermost autocast's dtype: ``gpugrad.float16`` (also outside any autocast, as
    PyTorch's default), or the string ``"bfloat16"`` (NumPy has no bfloat16 dtype).
    ``device_type`` ("cpu" or "cuda") is accepted, as PyTorch's takes it."""
    _check_device_type(device_type)
    return _FLOAT16 if _state.dtype == "float16" else _state.dtype


def active_dtype_name():
    """The enabled autocast's dtype name ('float16' or 'bfloat16'), or None outside one."""
    return _state.active
