"""``Tensor.size``: the number of elements (an int, as NumPy's ``size``) that can be called
for the shape (as PyTorch's ``size()``).

Example::

    >>> count = gpugrad.zeros(2, 3).size        # an ElementCount
    >>> count + 0, count(), count(-1)
    (6, (2, 3), 3)
"""

from __future__ import annotations

import operator

__all__ = ["ElementCount"]


class ElementCount(int):
    """``Tensor.size``: an int (the number of elements) that can be called for the shape."""

    def __new__(cls, count: int, shape: tuple):
        self = int.__new__(cls, count)
        self._shape = shape
        return self

    def __call__(self, dim: int | None = None):
        if dim is None:
            return self._shape
        ndim = len(self._shape)
        dim = operator.index(dim)
        if not -ndim <= dim < ndim:
            valid = f"valid: {-ndim} to {ndim - 1}" if ndim else "it has no dimensions"
            raise IndexError(f"size(dim): dimension {dim!r} is out of range for a tensor with "
                             f"{ndim} dimensions ({valid})")
        return self._shape[dim]

    def __reduce__(self):
        return (int, (int(self),))          # pickled and copied as the plain count
