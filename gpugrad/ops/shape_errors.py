"""The errors of the shape and selection ops, with PyTorch's classes: PyTorch raises
RuntimeError for shapes that do not fit and IndexError for a dimension out of range, where
gpugrad raised ValueError. Each class derives from both, so that code written for either
library catches it.

Example::

    >>> from gpugrad.ops.shape_errors import ShapeError
    >>> try:
    ...     gpugrad.ones(2, 3).reshape(4, 2)
    ... except RuntimeError as error:            # (a ValueError too)
    ...     isinstance(error, ValueError)
    True
"""

from __future__ import annotations

import numbers

from ..scalar_casts import as_int

__all__: list = []


class ShapeError(RuntimeError, ValueError):
    """Shapes or sizes that do not fit the op (PyTorch's RuntimeError)."""


class DimError(IndexError, ValueError):
    """A dimension or an index out of range (PyTorch's IndexError)."""


class IndexRangeError(IndexError, RuntimeError):
    """An index value out of range (PyTorch's IndexError for index_select, RuntimeError for
    gather and scatter)."""


class DtypeError(TypeError, RuntimeError):
    """A dtype that does not fit: a float index, a source of another dtype (PyTorch's
    RuntimeError; gpugrad's TypeError)."""


def dim_error(op: str, dim, ndim: int, shape=None) -> DimError:
    """PyTorch's "Dimension out of range" for ``dim`` of a tensor with ``ndim`` dimensions
    (a 0-d tensor takes -1 and 0), naming ``op`` (and the tensor's ``shape`` when given)."""
    ndim = max(ndim, 1)
    of = f" for a tensor of shape {tuple(shape)}" if shape is not None else ""
    return DimError(f"{op}: dim {dim} is out of range{of} (expected to be in range of "
                    f"[{-ndim}, {ndim - 1}])")


def checked_dim(x, dim, op: str) -> int:
    """PyTorch's one dimension ``dim`` of ``x`` as a non-negative axis (a 0-d tensor takes
    0 and -1), or a TypeError (not an int) or DimError (out of range) naming ``op``: the
    one dimension check of the shape, selection and reduction ops.

    Example::

        >>> from gpugrad.ops.shape_errors import checked_dim
        >>> checked_dim(gpugrad.zeros(2, 3), -1, "sum")
        1
        >>> try:
        ...     checked_dim(gpugrad.zeros(2, 3), 2, "sum")
        ... except IndexError as error:         # (a DimError)
        ...     print(error)
        sum: dim 2 is out of range for a tensor of shape (2, 3) (expected to be in range of [-2, 1])
    """
    ndim = x.ndim or 1
    if dim.__class__ is not int:
        dim = as_int(dim, op)
    if not -ndim <= dim < ndim:
        raise dim_error(op, dim, x.ndim, x.shape)
    return dim % ndim


def as_dims(dims) -> tuple:
    """``dims``, one dimension or a sequence of them, as a tuple (a NumPy integer and a 0-d
    tensor or array are one dimension, as an int is). Example: ``as_dims(1) == (1,)``."""
    if dims.__class__ is tuple:
        return dims
    if isinstance(dims, numbers.Integral) or getattr(dims, "ndim", None) == 0 or \
            not hasattr(dims, "__iter__"):
        return (dims,)
    return tuple(dims)
