"""What the number types and shapes can hold, as PyTorch names it: ``finfo(dtype)`` (eps,
max, min, tiny, resolution, bits of a float type), ``iinfo(dtype)`` (max, min, bits of an
integer type), and ``Size``, a shape tuple with ``numel()``.

Example::

    >>> gpugrad.finfo(gpugrad.float32).eps, gpugrad.iinfo(gpugrad.int8).max
    (1.1920928955078125e-07, 127)
    >>> gpugrad.Size([2, 3]).numel()
    6
"""

from __future__ import annotations

import math

import numpy as np

from .dtypes import as_dtype, get_default_dtype

__all__ = ["finfo", "iinfo", "Size"]


class finfo:  # noqa: N801  (PyTorch's name)
    """The limits of a floating-point dtype (the default float dtype if none), as
    ``torch.finfo``: ``bits``, ``eps`` (the gap between 1 and the next number), ``max``,
    ``min`` (the most negative), ``tiny`` = ``smallest_normal``, ``resolution``
    (10 ** -digits), ``dtype`` (its name); all Python numbers.

    Example::

        >>> f = gpugrad.finfo(gpugrad.float16)
        >>> f.bits, f.max, f.tiny, f.resolution, f.dtype
        (16, 65504.0, 6.103515625e-05, 0.001, 'float16')
    """

    def __init__(self, type=None):  # noqa: A002  (PyTorch's argument name)
        dtype = get_default_dtype() if type is None else as_dtype(type)
        if dtype.kind != "f":
            raise TypeError(f"finfo takes a floating-point dtype, got {dtype}; use "
                            f"gpugrad.iinfo for integer types")
        info = np.finfo(dtype)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = float(10.0 ** -math.floor(info.precision))
        self.dtype = dtype.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801  (PyTorch's name)
    """The limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min`` (Python
    ints) and ``dtype`` (its name). bool is refused, as PyTorch does.

    Example::

        >>> i = gpugrad.iinfo(gpugrad.uint8)
        >>> i.bits, i.min, i.max, i.dtype
        (8, 0, 255, 'uint8')
    """

    def __init__(self, type):  # noqa: A002  (PyTorch's argument name)
        dtype = as_dtype(type)
        if dtype.kind not in "iu":
            raise TypeError(f"iinfo takes an integer dtype, got {dtype}"
                            + ("" if dtype.kind == "b" else "; use gpugrad.finfo for floats"))
        info = np.iinfo(dtype)
        self.bits, self.max, self.min = int(info.bits), int(info.max), int(info.min)
        self.dtype = dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


class Size(tuple):
    """A shape: a tuple of ints with ``numel()``, as ``torch.Size``; factories and ``view``
    take it wherever they take a tuple.

    Example::

        >>> s = gpugrad.Size([2, 3])
        >>> s, s.numel(), gpugrad.zeros(s).shape
        (gpugrad.Size([2, 3]), 6, (2, 3))
    """

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for n in sizes:
            if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)):
                raise TypeError(f"Size takes ints, got {type(n).__name__} {n!r} in {sizes!r}")
        return super().__new__(cls, (int(n) for n in sizes))

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        return math.prod(self)

    def __repr__(self) -> str:
        return f"gpugrad.Size({list(self)})"
