"""Order statistics as PyTorch has them: ``median`` (the lower median; with ``dim``,
values and indices), ``kthvalue``, ``quantile`` and ``nanquantile`` (their five
interpolations), and the ``(values, indices)`` of ``max(x, dim)``/``min(x, dim)``
(``extreme_along``): composites of gpugrad's sort, argmax and gather, so their gradients
go to the elements they pick.

Example::

    >>> x = gpugrad.tensor([3.0, 1.0, 4.0, 1.5], requires_grad=True)
    >>> m = gpugrad.median(x)                      # the lower of the middle two: 1.5
    >>> m.backward()
    >>> m.item(), x.grad.tolist()
    (1.5, [0.0, 0.0, 0.0, 1.0])
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend, creation
from ..autograd.capture_mode import is_graph_recording
from ..autograd.compile_mode import kernel, note_reads
from ..tensor import Tensor
from . import compare, extremes, reduce, rounding, shape, sorting, unary
from .complex_node import refuse_complex
from .elementwise import where
from .shape_errors import as_int, checked_dim
from .selection import gather, gather_checked

__all__ = ["median", "kthvalue", "quantile", "nanquantile"]

ValuesIndices = reduce.ValuesIndices


def _result_type(name: str, qualname: str) -> type:
    """A ``(values, indices)`` named pair whose type is called ``name``, as PyTorch's
    ``torch.return_types.<name>``; ``qualname``: the module attribute that holds it."""
    return type(name, (ValuesIndices,), {"__slots__": (), "__module__": __name__,
                                         "__qualname__": qualname})


MaxResult = _result_type("max", "MaxResult")
MinResult = _result_type("min", "MinResult")
KthvalueResult = _result_type("kthvalue", "KthvalueResult")


def _pick(input, axis: int, indices, keepdim: bool, pair: type):
    """``pair(values, indices)``: ``input`` gathered at ``indices`` (size 1 along ``axis``),
    both squeezed there unless ``keepdim``."""
    values = gather_checked(input, axis, indices)
    if not keepdim:
        values, indices = shape.squeeze(values, axis), shape.squeeze(indices, axis)
    return pair(values, indices)


def extreme_along(largest: bool, input, axis: int, keepdim: bool):
    """``max(input, dim)`` (``largest``) or ``min(input, dim)``: the first largest (smallest)
    element along ``axis`` (a non-negative int; NaN counts as the extreme) and its index, as
    PyTorch's; the gradient goes to that index alone (ties do not share it, unlike the
    full reduction's and amax's).

    Example::

        >>> x = gpugrad.tensor([1.0, 3.0, 3.0], requires_grad=True)
        >>> values, indices = gpugrad.max(x, 0)
        >>> values.backward()
        >>> indices.item(), x.grad.tolist()
        (1, [0.0, 1.0, 0.0])
    """
    name, pair = ("max", MaxResult) if largest else ("min", MinResult)
    if input.ndim == 0:                     # the value itself, at index 0
        return pair(unary.clone(input), compare.argmax(input))     # (a copy, as PyTorch's)
    if input.shape[axis] == 0:
        raise IndexError(f"{name}: dimension {axis} of the tensor of shape "
                         f"{tuple(input.shape)} is empty, so it has no {name}imum; reduce a "
                         f"non-empty dimension")
    arg = compare.argmax if largest else compare.argmin
    return _pick(input, axis, arg(input, axis=axis, keepdims=True), keepdim, pair)


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """``(values, indices)``: the ``k``-th smallest element (``k`` from 1) along ``dim`` and
    where it is, as ``torch.kthvalue`` (NaN counts as the largest; tied values: the index of
    one of them). The gradient goes to that index.

    Shapes: (..., n, ...) -> two tensors without ``dim`` (size 1 there with ``keepdim``).

    Example::

        >>> x = gpugrad.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
        >>> values, indices = x.kthvalue(2)
        >>> values.tolist(), indices.tolist()
        ([2.0, 4.0], [2, 2])
    """
    refuse_complex("kthvalue", input)
    axis = checked_dim(input, dim, "kthvalue")
    n = input.shape[axis] if input.ndim else 1
    if k.__class__ is not int and getattr(k, "ndim", None) == 0:  # (np.int64(2), tensor(2))
        try:
            k = as_int(k, "kthvalue", "k")
        except TypeError:
            pass                            # (refused below)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= n:
        raise ValueError(f"kthvalue: k must be an int from 1 to the size of dimension {dim} "
                         f"({n}), got {k!r}")
    if input.ndim == 0:
        return KthvalueResult(unary.clone(input), compare.argmax(input))
    order = sorting.argsort(input, axis)
    picked = order[(slice(None),) * axis + (slice(k - 1, k),)]
    return _pick(input, axis, picked, keepdim, KthvalueResult)


def median(input, dim=None, keepdim: bool = False):
    """The lower median, as ``torch.median``: without ``dim``, of all elements (0-d; tied
    elements share the gradient); with ``dim``, ``(values, indices)`` along it (the gradient
    goes to the index). NaN in a slice makes its median NaN.

    Example::

        >>> gpugrad.tensor([4.0, 1.0, 3.0, 2.0]).median().item()
        2.0
        >>> gpugrad.tensor([[4, 1, 3], [2, 6, 5]]).median(dim=1).indices.tolist()
        [2, 2]
    """
    refuse_complex("median", input)
    if input.numel() == 0 and dim is None:
        if input.dtype.kind != "f":
            raise ValueError("median of an empty integer tensor has no value")
        return creation.full((), math.nan, dtype=input.dtype, device=input.device)   # (torch)
    if dim is None:
        flat = shape.reshape(input, -1)
        middle = sorting.sort(flat.detach()).values[(flat.shape[0] - 1) // 2]
        if input.dtype.kind != "f":
            return middle
        has_nan = compare.any(compare.isnan(flat))
        middle = where(has_nan, math.nan, middle)
        chosen = (flat == middle) | (compare.isnan(flat) & has_nan)
        return extremes.max(where(chosen, flat, -math.inf))
    axis = checked_dim(input, dim, "median")
    if input.ndim == 0:
        return ValuesIndices(unary.clone(input), compare.argmax(input))
    n = input.shape[axis]
    order = sorting.argsort(input, axis)
    kept = tuple(1 if d == axis else m for d, m in enumerate(input.shape))
    pick = creation.full(kept, (n - 1) // 2, dtype="int64", device=input.device)
    if input.dtype.kind == "f":             # NaN sorts last: a slice with one gives its first
        nans = reduce.sum(compare.isnan(input).astype("int64"), axis=axis, keepdims=True)
        pick = where(nans > 0, n - nans, pick)
    pick = gather(order, axis, pick)
    values = gather(input, axis, pick)
    if not keepdim:
        values, pick = shape.squeeze(values, axis), shape.squeeze(pick, axis)
    return ValuesIndices(values, pick)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_positions(q, ndim: int, n: int, dtype, midpoint: bool):
    """Raw ``(below, above, weight, nearest)`` for ranks ``q * (n - 1)``, shaped (Q,) + (1,)
    * ``ndim``; ``midpoint``: weights of 1/2. A kernel: a compiled step computes them again
    from each call's ``q``."""
    xp = backend.xp_of(q)
    q = q.reshape((-1,) + (1,) * ndim)
    ranks = (q.astype(dtype) * (n - 1)).astype(dtype)
    below = xp.floor(ranks)
    weight = xp.full_like(ranks, 0.5) if midpoint else ranks - below
    return below.astype(xp.int64), xp.ceil(ranks).astype(xp.int64), weight, \
        xp.round(ranks).astype(xp.int64)


def _check_quantiles(q) -> None:
    """A ValueError unless every value of the raw array ``q`` is in [0, 1] (a host read)."""
    if q.size and not bool(((q >= 0) & (q <= 1)).all()):
        raise ValueError("quantile: q values must be in [0, 1]")


def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """The ``q``-th quantiles of ``input`` over ``dim`` (all elements by default), as
    ``torch.quantile``: between two neighbours by ``interpolation`` ("linear", "lower",
    "higher", "midpoint" or "nearest"). ``q``: a number or a 1-d tensor in [0, 1]; a 1-d
    ``q`` adds a first dimension for its entries. NaN in a slice gives NaN. Differentiable in
    ``input``.

    Example::

        >>> x = gpugrad.tensor([0.0, 1.0, 2.0, 3.0])
        >>> x.quantile(0.5).item(), x.quantile(gpugrad.tensor([0.25, 1.0])).tolist()
        (1.5, [0.75, 3.0])
    """
    return _quantile("quantile", input, q, dim, keepdim, interpolation)


def nanquantile(input, q, dim=None, keepdim: bool = False, *,
                interpolation: str = "linear"):
    """``quantile`` of the elements that are not NaN, as ``torch.nanquantile``: each slice's
    ranks are ``q * (count - 1)`` over its own count of numbers; a slice of NaN alone gives
    NaN. Shapes and arguments as ``quantile``'s.

    Example::

        >>> x = gpugrad.tensor([[0.0, float("nan"), 1.0], [2.0, 4.0, 6.0]])
        >>> x.nanquantile(0.5, dim=1).tolist()
        [0.5, 4.0]
    """
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, ignore_nan=True)


def _nan_positions(x, q_array, dtype, midpoint: bool):
    """``(below, above, weight, nearest)`` as ``_quantile_positions``'s, from the ranks ``q *
    (count - 1)`` of each slice of ``x`` (S..., n), ``count`` its numbers (PyTorch's
    nanquantile); shaped (Q, S..., 1). Tensors, found on the device (no host read)."""
    count = reduce.sum((~compare.isnan(x.detach())).astype("int64"), axis=-1, keepdims=True)
    q = shape.reshape(Tensor._wrap(q_array).astype(dtype), (-1,) + (1,) * x.ndim)
    ranks = q * (count - 1).astype(dtype)                           # (Q, S..., 1)
    ranks = where(ranks < 0, 0.0, ranks)            # (all NaN: rank 0, a NaN)
    below = rounding.floor(ranks)
    weight = ranks * 0.0 + 0.5 if midpoint else ranks - below
    return below.astype("int64"), rounding.ceil(ranks).astype("int64"), weight, \
        rounding.round(ranks).astype("int64")


def _quantile(name: str, input, q, dim, keepdim: bool, interpolation: str,
              ignore_nan: bool = False):
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: the input must be a float tensor, got {input.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}: interpolation must be one of {_INTERPOLATIONS}, got "
                         f"{interpolation!r}")
    if input.numel() == 0:
        raise ValueError(f"{name}: the input must be non-empty")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise ValueError(f"{name}: q must be a number or a 0-d or 1-d tensor, got "
                             f"shape {tuple(q.shape)}")
        note_reads(q)
        if not is_graph_recording():        # (a captured graph cannot read q: unchecked)
            kernel(_check_quantiles, q._array)
        scalar_q, q_array = q.ndim == 0, q._array
    else:
        if not isinstance(q, numbers.Real) or not 0 <= q <= 1:
            raise ValueError(f"{name}: q must be a number in [0, 1] or a tensor, got {q!r}")
        scalar_q = True
        q_array = backend.asarray(np.asarray(q, dtype=np.float64), device=input.device)
    if dim is None:
        x, out_axis = shape.reshape(input, -1), None
    else:
        out_axis = checked_dim(input, dim, name)
        x = shape.movedim(input, out_axis, -1) if input.ndim else shape.reshape(input, 1)
    n = x.shape[-1]
    ordered = sorting.sort(x, -1).values                            # (S..., n)
    slices = (q_array.size,) + tuple(x.shape[:-1])                  # (Q, S...)
    if ignore_nan:
        positions = _nan_positions(x, q_array, input.dtype, interpolation == "midpoint")
    else:
        positions = (Tensor._wrap(a) for a in kernel(
            _quantile_positions, q_array, x.ndim, n, input.dtype, interpolation == "midpoint"))
    below, above, weight, nearest = (shape.broadcast_to(a, slices + (1,)) for a in positions)
    ordered = shape.broadcast_to(ordered, slices + (n,))
    if interpolation == "nearest":
        out = gather(ordered, -1, nearest)
    else:
        low = gather(ordered, -1, below)
        high = gather(ordered, -1, above)
        if interpolation == "lower":
            out = low
        elif interpolation == "higher":
            out = high
        else:
            out = where(weight < 0.5, low + weight * (high - low),
                        high - (high - low) * (1 - weight))          # torch.lerp's two forms
    if not ignore_nan:
        nans = reduce.sum(compare.isnan(x).astype("int64"), axis=-1, keepdims=True) > 0
        out = where(nans, math.nan, out)
    out = shape.squeeze(out, -1)                                     # (Q, S...)
    if keepdim:
        kept = (1,) * input.ndim if out_axis is None else \
            tuple(1 if d == out_axis else n_ for d, n_ in enumerate(input.shape))
        out = shape.reshape(out, (out.shape[0],) + kept)
    return out[0] if scalar_q else out


METHODS: dict = {"median": median, "kthvalue": kthvalue, "quantile": quantile,
                 "nanquantile": nanquantile}
