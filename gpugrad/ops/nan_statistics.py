"""NaN-aware order statistics and extremes as PyTorch has them: ``nanmedian`` (the lower
median of the numbers; with ``dim``, values and indices), ``fmax``/``fmin`` (element-wise
maximum and minimum that ignore a NaN when the other is a number) and ``msort`` (the sort
along dimension 0). Composites of sort, gather and where, so their gradients go where
PyTorch's go (``nanquantile``: order_statistics.py).

Example::

    >>> x = gpugrad.tensor([3.0, float("nan"), 1.0, 2.0], requires_grad=True)
    >>> m = gpugrad.nanmedian(x)                   # the median of 3, 1, 2
    >>> m.backward()
    >>> m.item(), x.grad.tolist()
    (2.0, [0.0, 0.0, 0.0, 1.0])
"""

from __future__ import annotations

import math

from ..tensor import Tensor
from . import compare, extremes, reduce, shape, sorting, unary
from .complex_node import refuse_complex
from .elementwise import where
from .order_statistics import _result_type, median
from .selection import gather
from .shape_errors import checked_dim

__all__ = ["nanmedian", "fmax", "fmin", "msort"]

NanmedianResult = _result_type("nanmedian", "NanmedianResult")


def _lower_middle(count):
    """The position of the lower median among ``count`` numbers sorted first (0 for none)."""
    return where(count > 0, (count - 1) // 2, 0)


def nanmedian(input, dim=None, keepdim: bool = False):
    """The lower median of the elements that are not NaN, as ``torch.nanmedian``: without
    ``dim``, of all elements (0-d; tied elements share the gradient, as PyTorch's); with
    ``dim``, ``(values, indices)`` along it (the gradient goes to the index). A slice of NaN
    alone gives NaN (at the index of its first NaN; PyTorch's index there is its own
    choice), as does an empty tensor without ``dim``. Integer tensors: ``median``.

    Shapes: (...) -> () without ``dim``; two tensors without ``dim`` (size 1 with
    ``keepdim``) with it.

    Example::

        >>> x = gpugrad.tensor([[1.0, float("nan"), 3.0, 2.0], [5.0, 4.0, 3.0, 2.0]])
        >>> values, indices = x.nanmedian(dim=1)
        >>> values.tolist(), indices.tolist()
        ([2.0, 3.0], [3, 2])
    """
    refuse_complex("nanmedian", input)
    if input.dtype.kind != "f":
        if dim is None:
            return median(input)
        return NanmedianResult(*median(input, dim, keepdim))
    if dim is None:
        if input.numel() == 0:          # NaN (PyTorch's), with an empty gradient
            return reduce.sum(input) + math.nan
        flat = shape.reshape(input, -1)
        numbers = reduce.sum((~compare.isnan(flat)).astype("int64"), axis=0, keepdims=True)
        ordered = sorting.sort(flat.detach()).values                # NaN last
        middle = gather(ordered, 0, _lower_middle(numbers))[0]
        # every element equal to the median shares its gradient (a max over them)
        chosen = (flat == middle) | (compare.isnan(flat) & (numbers[0] == 0))
        return extremes.max(where(chosen, flat, -math.inf))
    axis = checked_dim(input, dim, "nanmedian")
    if input.ndim == 0:
        return NanmedianResult(unary.clone(input), compare.argmax(input))
    if input.shape[axis] == 0:
        raise IndexError(f"nanmedian: dimension {axis} of the tensor of shape "
                         f"{tuple(input.shape)} is empty; reduce a non-empty dimension")
    numbers = reduce.sum((~compare.isnan(input)).astype("int64"), axis=axis, keepdims=True)
    order = sorting.argsort(input.detach(), axis, stable=True)       # NaN last
    picked = gather(order, axis, _lower_middle(numbers))
    values = gather(input, axis, picked)
    if not keepdim:
        values, picked = shape.squeeze(values, axis), shape.squeeze(picked, axis)
    return NanmedianResult(values, picked)


def fmax(input, other):
    """The element-wise maximum that ignores NaN, as ``torch.fmax``: where one of the two
    is NaN, the other (NaN only where both are). Shapes broadcast; dtypes promote. The
    gradient goes to ``input`` where ``input >= other`` or ``other`` is NaN, else to
    ``other`` (ties: to ``input``), as PyTorch's.

    Example::

        >>> nan = float("nan")
        >>> gpugrad.fmax(gpugrad.tensor([1.0, nan, nan]), gpugrad.tensor([nan, 2.0, nan]))
        tensor([ 1.,  2., nan], device='cpu', dtype=float32)
    """
    _check_tensors("fmax", input, other)
    refuse_complex("fmax", input, other)
    return where((input >= other) | compare.isnan(other), input, other)


def fmin(input, other):
    """The element-wise minimum that ignores NaN, as ``torch.fmin`` (see ``fmax``; ties:
    the gradient goes to ``input``).

    Example::

        >>> gpugrad.fmin(gpugrad.tensor([1.0, float("nan")]), gpugrad.tensor([0.0, 2.0]))
        tensor([0., 2.], device='cpu', dtype=float32)
    """
    _check_tensors("fmin", input, other)
    refuse_complex("fmin", input, other)
    return where((input <= other) | compare.isnan(other), input, other)


def _check_tensors(name: str, input, other) -> None:
    """PyTorch's TypeError for a number given to fmax / fmin (they take two tensors)."""
    for position, (what, value) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{what}' (position {position}) must be "
                            f"Tensor, not {type(value).__name__}; wrap it: "
                            f"gpugrad.tensor({value!r})")


def msort(input):
    """``input`` sorted along its first dimension (ascending, NaN last), as
    ``torch.msort`` (``sort(input, dim=0).values``; the gradient goes back to each value).

    Example::

        >>> gpugrad.msort(gpugrad.tensor([[3.0, 1.0], [1.0, 2.0]])).tolist()
        [[1.0, 1.0], [3.0, 2.0]]
    """
    refuse_complex("msort", input)
    return sorting.sort(input, 0).values


METHODS: dict = {"nanmedian": nanmedian, "fmax": fmax, "fmin": fmin, "msort": msort}
