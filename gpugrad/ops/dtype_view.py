"""``x.view(dtype)``: the same bytes read as another dtype, as PyTorch's ``Tensor.view(dtype)``
(``view_dtype``), and ``view``, PyTorch's method that takes either a shape or a dtype.

The same item size keeps the shape; a smaller one (by a factor k) makes the last dimension k
times longer, a larger one k times shorter, under PyTorch's rules and errors: not on a 0-d
tensor, the last dimension contiguous, and (larger items) its size and the other strides
divisible by k. The result shares memory and the version counter with ``x`` (writes go both
ways) and is not differentiable (``requires_grad`` False, as PyTorch's). Under ``vmap`` each
example is viewed as PyTorch's ``vmap`` does (the whole batch in one view).

Example::

    >>> from gpugrad.ops.dtype_view import view
    >>> view(gpugrad.tensor([1.0, 2.0]), gpugrad.int32).tolist()      # x.view(gpugrad.int32)
    [1065353216, 1073741824]
    >>> view(gpugrad.zeros(2, 4), gpugrad.float64).shape
    (2, 2)
"""

from __future__ import annotations

import numpy as np

from ..autograd.batched import BatchedTensor, escaped_error
from ..dtypes import as_dtype
from ..tensor import Tensor
from . import shape

__all__ = ["view_dtype"]


def _is_dtype(arg) -> bool:
    return isinstance(arg, (np.dtype, str)) or (isinstance(arg, type) and
                                                issubclass(arg, np.generic))


def view_dtype(input, dtype):
    """``input``'s bytes as ``dtype``, as PyTorch's ``x.view(dtype)`` (module docstring).

    Shapes: (..., n) -> (..., n * input.itemsize // dtype.itemsize).

    Example::

        >>> from gpugrad.ops.dtype_view import view_dtype
        >>> view_dtype(gpugrad.tensor([1.0], dtype="float16"), "int16").tolist()
        [15360]
    """
    new = as_dtype(dtype)
    if input._batched:                  # (the batch is the leading dimension: the same rule)
        return _view_batched(input, new)
    array = input._array
    old = array.dtype
    if new.itemsize != old.itemsize:
        what = f"to view {old} as {new} (different element sizes)"
        if input.ndim == 0:
            raise RuntimeError(f"view: self.dim() cannot be 0 {what}; reshape it to (1,) "
                               f"first")
        if input.shape[-1] != 1 and array.strides[-1] != old.itemsize:
            raise RuntimeError(f"view: self.stride(-1) must be 1 {what}, but got "
                               f"{array.strides[-1] // old.itemsize}; call .contiguous() "
                               f"first")
        if new.itemsize > old.itemsize:
            k = new.itemsize // old.itemsize
            if input.shape[-1] % k:
                raise RuntimeError(f"view: self.size(-1) must be divisible by {k} {what}, "
                                   f"but got {input.shape[-1]}")
            for i, (n, s) in enumerate(zip(input.shape[:-1], array.strides[:-1])):
                if n > 1 and s % new.itemsize:
                    raise RuntimeError(f"view: self.stride({i}) must be divisible by {k} "
                                       f"{what}, but got {s // old.itemsize}")
    try:
        out = Tensor._wrap(array.view(new))
    except ValueError as exc:                     # (NumPy's own layout rules)
        raise RuntimeError(f"view: cannot view the tensor of shape {tuple(input.shape)} as "
                           f"{new} ({exc}); call .contiguous() first") from None
    out._version_counter = input._version_counter
    return out


def _view_batched(input, new):
    """``view_dtype`` of a tensor batched by vmap: the whole batch viewed at once (its batch
    dimension leads, so the last dimension's rule is the example's)."""
    if not input._level.active:
        raise escaped_error()
    if input.ndim == 0 and new.itemsize != input.dtype.itemsize:
        raise RuntimeError(f"view: self.dim() cannot be 0 to view {input.dtype} as {new} "
                           f"(different element sizes); reshape it to (1,) first")
    return BatchedTensor._make(view_dtype(input._value, new), input._level)


def view(self, *args, dtype=None):
    """PyTorch's ``Tensor.view``: ``x.view(*shape)`` (``reshape``'s sizes; one may be -1)
    or ``x.view(dtype)`` (``view_dtype``).

    Example::

        >>> from gpugrad.ops.dtype_view import view
        >>> view(gpugrad.arange(6.0), 2, 3).shape, view(gpugrad.ones(2), "int32").dtype
        ((2, 3), dtype('int32'))
    """
    if dtype is not None and not args:
        return view_dtype(self, dtype)
    if len(args) == 1 and _is_dtype(args[0]):
        return view_dtype(self, args[0])
    return shape.reshape(self, *args)
