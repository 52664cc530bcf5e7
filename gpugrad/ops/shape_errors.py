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


def dim_error(op: str, dim, ndim: int) -> DimError:
    """PyTorch's "Dimension out of range" for ``dim`` of a tensor with ``ndim`` dimensions
    (a 0-d tensor takes -1 and 0), naming ``op``."""
    ndim = max(ndim, 1)
    return DimError(f"{op}: dimension {dim} is out of range (expected to be in range of "
                    f"[{-ndim}, {ndim - 1}])")
