"""What a tensor is, as PyTorch's Tensor methods say it: ``t.type()``, ``t.stride()``,
``t.data_ptr()``, ``t.storage_offset()``, ``t.element_size()``, ``t.nelement()``,
``t.is_complex()``, ``t.is_signed()``, ``t.is_nonzero()``, and the
properties ``t.is_cuda``, ``t.itemsize``, ``t.nbytes``. Strides and offsets count elements.

Example::

    >>> x = gpugrad.zeros(2, 3)
    >>> x.stride(), x[1].storage_offset(), x.nbytes, x.is_cuda
    ((3, 1), 3, 24, False)
"""

from __future__ import annotations

import numpy as np

from ..autograd.batched import innermost_array
from . import unary
from .promotion import is_complex
from .reduce import normalize_axis

__all__: list = []          # Tensor methods only (METHODS)

_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
               "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
               "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
               "complex128": "ComplexDouble"}


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """With no argument, the tensor's type name, as PyTorch's ``t.type()``
    (``'gpugrad.FloatTensor'``, ``'gpugrad.cuda.LongTensor'``); with a dtype (or a type name
    such as ``'torch.DoubleTensor'``, or a legacy type with a ``dtype``), the tensor as that
    dtype (itself if it already is). A type name also says the device, as PyTorch's:
    ``'torch.cuda.FloatTensor'`` moves the tensor to the GPU (CudaUnavailableError without
    one), ``'torch.FloatTensor'`` to the CPU.

    Example::

        >>> x = gpugrad.ones(2)
        >>> x.type(), x.type(gpugrad.float64).dtype, x.type("torch.LongTensor").dtype
        ('gpugrad.FloatTensor', dtype('float64'), dtype('int64'))
    """
    if dtype is None:
        where = ".cuda" if self.device.type == "cuda" else ""
        return f"gpugrad{where}.{_TYPE_NAMES.get(str(self.dtype), str(self.dtype))}Tensor"
    if isinstance(dtype, str) and dtype.endswith("Tensor"):
        prefix, name = dtype[:-len("Tensor")].rsplit(".", 1) if "." in dtype else \
            ("", dtype[:-len("Tensor")])
        by_name = {v: k for k, v in _TYPE_NAMES.items()}
        if name not in by_name:
            raise ValueError(f"t.type({dtype!r}): unknown tensor type; use a dtype, e.g. "
                             f"gpugrad.float64, or a name such as 'torch.DoubleTensor'")
        out = unary.astype(self, by_name[name])
        cuda = prefix.split(".")[-1] == "cuda"
        if cuda != (self.device.type == "cuda"):
            out = unary.to_device(out, "cuda" if cuda else "cpu")
        return out
    elif not isinstance(dtype, str) and hasattr(dtype, "dtype"):
        dtype = dtype.dtype
    return unary.astype(self, dtype)


def _stride(self, dim=None):
    """The step in elements between neighbours along each dimension, as PyTorch's
    ``t.stride()`` (a tuple), or along ``dim``.

    Example::

        >>> x = gpugrad.zeros(2, 3)
        >>> x.stride(), x.t().stride(), x.stride(-1)
        ((3, 1), (1, 3), 1)
    """
    array = innermost_array(self)
    steps = tuple(s // array.itemsize for s in array.strides[array.ndim - self.ndim:])
    if dim is None:
        return steps
    (axis,) = normalize_axis(dim, self.ndim) or (0,)
    return steps[axis] if steps else 1


def _data_ptr(self) -> int:
    """The address of the first element in device memory, as PyTorch's ``t.data_ptr()``
    (two tensors sharing memory from the same element have the same one)."""
    array = innermost_array(self)
    pointer = getattr(array.data, "ptr", None)          # (a device array's memory pointer)
    return int(pointer if pointer is not None else array.ctypes.data)


def _element_size(self) -> int:
    """Bytes per element, as PyTorch's ``t.element_size()`` (4 for float32)."""
    return self.dtype.itemsize


def _nelement(self) -> int:
    """The number of elements, as PyTorch's ``t.nelement()`` (``t.numel()``)."""
    return self.numel()


def _is_signed(self) -> bool:
    """Whether the dtype holds negative numbers, as PyTorch's ``t.is_signed()``."""
    return self.dtype.kind in "ifc"


def _storage_offset(self) -> int:
    """Elements between the start of the memory this tensor views and its first element,
    as PyTorch's ``t.storage_offset()`` (0 for a tensor that owns its memory)."""
    array = innermost_array(self)
    data = array.data
    if hasattr(data, "mem"):                            # (a device array: its allocation)
        start, first = data.mem.ptr, data.ptr
    else:
        root = array
        while isinstance(root.base, np.ndarray):
            root = root.base
        start, first = root.ctypes.data, array.ctypes.data
    return (first - start) // array.itemsize


def _is_nonzero(self) -> bool:
    """Whether the one element of this tensor is nonzero, as PyTorch's ``t.is_nonzero()``
    (a tensor of any other size is refused)."""
    if self.numel() != 1:
        raise RuntimeError(f"is_nonzero: the tensor must have exactly one element, not "
                           f"{self.numel()} (shape {tuple(self.shape)}); use t.any() or t.all()")
    return bool(self.item())


METHODS: dict = {
    "type": _type, "stride": _stride, "data_ptr": _data_ptr, "storage_offset": _storage_offset,
    "element_size": _element_size, "nelement": _nelement, "is_signed": _is_signed,
    "is_complex": is_complex,
    "is_nonzero": _is_nonzero,
    "is_cuda": property(lambda self: self.device.type == "cuda",
                        doc="Whether the tensor is on a CUDA device, as PyTorch's t.is_cuda."),
    "itemsize": property(_element_size, doc="Bytes per element, as PyTorch's t.itemsize."),
    "nbytes": property(lambda self: self.numel() * self.dtype.itemsize,
                       doc="Bytes of the elements, as PyTorch's t.nbytes."),
}
