"""Data types: NumPy dtypes under short names, the default float type, and promotion rules.

gpugrad's dtypes are NumPy's (CuPy uses the same objects), so ``gpugrad.float32`` is
``numpy.dtype("float32")``. Promotion follows PyTorch where it differs from NumPy:

- a Python scalar never widens a tensor (``float32_tensor * 2.0`` is float32);
- mixing an integer or bool tensor with a float tensor gives the float tensor's dtype
  (NumPy would give float64 for ``int64 + float32``);
- an integer tensor with a Python float gives the default float dtype (float32).

Example::

    >>> gpugrad.float32
    dtype('float32')
    >>> (gpugrad.ones(2) * 2.0).dtype                         # float32 tensor * Python float
    dtype('float32')
    >>> (gpugrad.arange(2) + gpugrad.ones(2)).dtype           # int64 tensor + float32 tensor
    dtype('float32')
    >>> (gpugrad.arange(3) * 0.5)                             # int64 tensor * Python float
    tensor([0. , 0.5, 1. ], device='cpu', dtype=float32)
"""

from __future__ import annotations

import builtins

import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")
complex64 = np.dtype("complex64")
complex128 = np.dtype("complex128")
# PyTorch's other spellings (gpugrad.long is int64 ...); they shadow the builtins in this
# module, which therefore says builtins.float, builtins.int and builtins.bool
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
bool = bool_  # noqa: A001
cfloat, cdouble = complex64, complex128
# NumPy has no bfloat16: the name exists (autocast("bfloat16") takes it, on a GPU), but a
# tensor of it cannot be made on the CPU (as_dtype says so)
bfloat16 = "bfloat16"

_default_float = float32
_FLOAT_DEFAULTS = (float16, float32, float64)


def get_default_dtype() -> np.dtype:
    """The dtype of tensors made from Python floats: float32 unless ``set_default_dtype``
    said otherwise.

    Example::

        >>> gpugrad.get_default_dtype()
        dtype('float32')
    """
    return _default_float


def set_default_dtype(dtype) -> None:
    """Make ``dtype`` (float16, float32 or float64) the dtype of new float tensors: Python
    floats in ``tensor``, ``zeros``, ``rand``, ``arange(0.5)``, ..., an int tensor meeting a
    Python float, as ``torch.set_default_dtype``. One setting for the whole process.
    Python complex numbers become complex128 under float64, else complex64 (gpugrad has no
    complex32, PyTorch's under float16).

    Example::

        >>> gpugrad.set_default_dtype(gpugrad.float64)
        >>> gpugrad.zeros(2).dtype, gpugrad.tensor([1.5]).dtype
        (dtype('float64'), dtype('float64'))
        >>> gpugrad.set_default_dtype(gpugrad.float32)          # back to the usual
    """
    global _default_float
    wanted = as_dtype(dtype)
    if wanted not in _FLOAT_DEFAULTS:
        raise TypeError(f"set_default_dtype: only floating-point types can be the default "
                        f"(float16, float32 or float64), got {wanted}")
    _default_float = wanted


def default_complex_dtype() -> np.dtype:
    """complex64 while the default float dtype is float32 or float16, else complex128."""
    return complex128 if _default_float == float64 else complex64


def as_dtype(dtype) -> np.dtype | None:
    """``dtype`` (a NumPy dtype, type, or name such as ``"float32"``) as a NumPy dtype."""
    if dtype is None:
        return None
    # (refused even where a package, such as JAX's ml_dtypes, has given NumPy a bfloat16)
    if dtype.__class__ is str and dtype == "bfloat16":
        raise TypeError("bfloat16 tensors cannot be made: NumPy has no bfloat16 dtype; "
                        "use gpugrad.float16 or float32 (autocast('bfloat16') runs "
                        "matrix products in bfloat16 on a GPU)")
    try:
        return np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(
            f"{dtype!r} is not a dtype; use e.g. gpugrad.float32, 'float64' or 'int64'") from exc


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def round_to_float32(value) -> builtins.float:
    """``value`` rounded to float32, as a Python float: the scalars PyTorch keeps in float32
    (GradScaler's scale, ASGD's eta and mu).

    Example::

        >>> from gpugrad.dtypes import round_to_float32
        >>> round_to_float32(0.1)
        0.10000000149011612
    """
    return builtins.float(np.float32(value))


def scalar_result_dtype(dtype: np.dtype, scalar) -> np.dtype:
    """The dtype a tensor of ``dtype`` must have before it meets the Python ``scalar``.

    Float tensors keep their dtype; integer and bool tensors meeting a float become float32,
    and bool tensors meeting an int become int64.
    """
    kind = dtype.kind
    if kind in "fc":
        return dtype
    if isinstance(scalar, builtins.float) or (isinstance(scalar, np.floating)):
        return _default_float
    if kind == "b" and not isinstance(scalar, (builtins.bool, np.bool_)):
        return int64
    return dtype


def pair_result_dtypes(a: np.dtype, b: np.dtype, a_ndim: int = 1,
                       b_ndim: int = 1) -> tuple[np.dtype, np.dtype]:
    """The dtypes two tensors are cast to before a binary op: float beats int/bool, and
    between two floats a 0-d tensor does not widen a tensor with dimensions (as PyTorch)."""
    if a == b:
        return a, b
    a_float, b_float = a.kind == "f", b.kind == "f"
    if a_float and not b_float:
        return a, a
    if b_float and not a_float:
        return b, b
    if a_float and b_float and (a_ndim == 0) != (b_ndim == 0):
        return (b, b) if a_ndim == 0 else (a, a)
    return a, b
