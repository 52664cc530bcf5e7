"""How often values occur, as PyTorch counts them: ``histogram`` (``(hist, bin_edges)``, as
``torch.histogram`` and ``np.histogram``; not differentiable) and ``mode`` (the most
frequent value along a dimension and where it last occurs; differentiable in the values,
which are gathered from the input). Refused inside vmap.

Example::

    >>> hist, edges = gpugrad.histogram(gpugrad.tensor([1.0, 2.0, 1.0]), 2)
    >>> hist.tolist(), edges.tolist()
    ([2.0, 1.0], [1.0, 1.5, 2.0])
    >>> gpugrad.mode(gpugrad.tensor([3, 1, 3, 1, 2])).indices.item()   # 1, last seen at 3
    3
"""

from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd.compile_mode import kernel
from ..tensor import Tensor
from .float_parts import raw_arrays
from . import unary
from .reduce import ValuesIndices
from .selection import gather_checked
from .shape import movedim, reshape, squeeze, unsqueeze
from .shape_errors import checked_dim

__all__ = ["histogram", "mode"]

HistogramResult = namedtuple("histogram", ["hist", "bin_edges"])
ModeResult = type("mode", (ValuesIndices,), {"__slots__": (), "__module__": __name__,
                                             "__qualname__": "ModeResult"})


def _histogram_raw(x, bins, lo_hi, weight, density):
    xp = backend.xp_of(x)
    hist, edges = xp.histogram(x.reshape(-1), bins=bins, range=lo_hi,
                               weights=None if weight is None else weight.reshape(-1),
                               density=density)
    return hist.astype(x.dtype), edges.astype(x.dtype)


def histogram(input, bins, *, range=None, weight=None, density: bool = False):
    """Counts of the elements of ``input`` (flattened) in ``bins`` equal bins over
    ``range`` (the data's min and max by default), or in the bins between the increasing
    edges of a 1-d tensor ``bins``, as ``torch.histogram``; ``weight``: each element counts
    its weight; ``density``: divided so the histogram integrates to 1. The last bin holds
    its right edge. Float tensors; hist and edges of the input's dtype.

    Shapes: input (...) -> hist (n_bins,), bin_edges (n_bins + 1,).

    Example::

        >>> h = gpugrad.histogram(gpugrad.tensor([1.0, 2.0, 1.0]), 4, range=(0.0, 3.0),
        ...                       weight=gpugrad.tensor([1.0, 2.0, 4.0]))
        >>> h.hist.tolist(), h.bin_edges.tolist()
        ([0.0, 5.0, 2.0, 0.0], [0.0, 0.75, 1.5, 2.25, 3.0])
    """
    tensors = [input] + [t for t in (bins, weight) if isinstance(t, Tensor)]
    arrays = raw_arrays("histogram", *tensors)
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"histogram" is implemented for float tensors only, got '
                                  f"{input.dtype}; convert first (t.float())")
    if weight is not None and (not isinstance(weight, Tensor) or weight.dtype != input.dtype
                               or tuple(weight.shape) != tuple(input.shape)):
        raise ValueError(f"histogram: weight must be a tensor of the input's shape "
                         f"{tuple(input.shape)} and dtype {input.dtype}, got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")
    if isinstance(bins, Tensor):
        if bins.ndim != 1 or bins.dtype != input.dtype:
            raise ValueError(f"histogram: bins must be an int or a 1-d tensor of the input's "
                             f"dtype {input.dtype}, got shape {tuple(bins.shape)}, dtype "
                             f"{bins.dtype}")
        bins_value, lo_hi = arrays[1], None
    elif isinstance(bins, numbers.Integral) and bins > 0:
        bins_value = int(bins)
        lo_hi = None if range is None else (float(range[0]), float(range[1]))
        if lo_hi is not None and lo_hi[0] > lo_hi[1]:
            raise ValueError(f"torch.histogramdd: min should not exceed max, but got min "
                             f"{lo_hi[0]} max {lo_hi[1]} for dimension 0")
    else:
        raise ValueError(f"histogram: bins must be a positive int or a 1-d tensor of edges, "
                         f"got {bins!r}")
    w = arrays[-1] if weight is not None else None
    hist, edges = kernel(_histogram_raw, arrays[0], bins_value, lo_hi, w, bool(density))
    return HistogramResult(Tensor._wrap(hist), Tensor._wrap(edges))


def _mode_indices(a):
    """For each row of ``a`` (rows, n): the index of the last occurrence of its most
    frequent value (the smallest such value on ties), as PyTorch's CPU ``mode``."""
    xp = backend.xp_of(a)
    rows, n = a.shape
    order = xp.argsort(a, axis=-1, kind="stable")
    s = xp.take_along_axis(a, order, axis=-1)
    starts = xp.ones((rows, n), dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    positions = xp.broadcast_to(xp.arange(n), (rows, n))
    run_start = xp.maximum.accumulate(xp.where(starts, positions, 0), axis=-1) \
        if xp is np else _running_max(xp, xp.where(starts, positions, 0))
    count = positions - run_start + 1
    best = xp.argmax(count, axis=-1)           # the first run to reach the largest count
    return xp.take_along_axis(order, best[:, None], axis=-1)[:, 0].astype(np.int64)


def _running_max(xp, v):
    out = v.copy()
    for j in range(1, v.shape[-1]):
        out[:, j] = xp.maximum(out[:, j], out[:, j - 1])
    return out


def mode(input, dim: int = -1, keepdim: bool = False):
    """``(values, indices)``: the most frequent value of each slice along ``dim`` (the
    smallest of those tied) and the index of its last occurrence, as ``torch.mode``.
    Differentiable in ``values`` (the gradient goes to that index).

    Shapes: (..., n, ...) -> (..., ...) each (kept as 1 with ``keepdim``).

    Example::

        >>> gpugrad.mode(gpugrad.tensor([[2.0, 1.0, 2.0], [0.0, 5.0, 5.0]]), 1).values.tolist()
        [2.0, 5.0]
    """
    (x,) = raw_arrays("mode", input)
    if input.dtype.kind == "c":
        raise TypeError("mode is not implemented for complex tensors")
    if input.ndim == 0:
        checked_dim(reshape(input, (1,)), dim, "mode")
        zero = Tensor._wrap(kernel(lambda a: backend.xp_of(a).zeros((), np.int64), x))
        return ModeResult(unary.clone(input), zero)
    axis = checked_dim(input, dim, "mode")
    n = input.shape[axis]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size "
                         f"(shape {tuple(input.shape)})")
    moved = movedim(input.detach(), axis, -1)
    batch = tuple(moved.shape[:-1])
    rows = moved._array.reshape(-1, n)
    picked = kernel(_mode_indices, rows).reshape(batch)
    indices = unsqueeze(Tensor._wrap(picked), axis)
    values = gather_checked(input, axis, indices)
    if not keepdim:
        values, indices = squeeze(values, axis), squeeze(indices, axis)
    return ModeResult(values, indices)


METHODS = {"mode": mode, "histogram": histogram}
