"""Sampled functions, as PyTorch spells them: ``gradient`` (``torch.gradient``: the
derivative of values sampled on a grid, by central differences inside and one-sided ones at
the edges, as ``np.gradient``; a composite of slicing and arithmetic, so differentiable)
and ``range`` (``torch.range``: deprecated there, with a warning, as here; its end is
included).

Example::

    >>> (d,) = gpugrad.gradient(gpugrad.tensor([1.0, 4.0, 9.0, 16.0]))
    >>> d.tolist()
    [3.0, 4.0, 6.0, 7.0]
"""

from __future__ import annotations

import builtins
import math
import numbers
import warnings

import numpy as np

from .. import creation
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from . import unary
from .shape import cat, reshape
from .shape_errors import checked_dim
from .windows import diff

__all__ = ["gradient", "range"]


def _part(x, axis: int, start, stop):
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, stop)
    return x[tuple(index)]


def _along(c, axis: int, ndim: int):
    """The 1-d tensor ``c`` shaped to broadcast along ``axis`` of an ``ndim``-d tensor."""
    shape = [1] * ndim
    shape[axis] = c.shape[0]
    return reshape(c, tuple(shape))


def _uniform(f, axis: int, h, edge_order: int):
    def p(a, b=None):
        return _part(f, axis, a, b)
    inside = (p(2, None) - p(None, -2)) / (2 * h)
    if edge_order == 1:
        left, right = (p(1, 2) - p(0, 1)) / h, (p(-1, None) - p(-2, -1)) / h
    else:
        left = (-1.5 * p(0, 1) + 2 * p(1, 2) - 0.5 * p(2, 3)) / h
        right = (0.5 * p(-3, -2) - 2 * p(-2, -1) + 1.5 * p(-1, None)) / h
    return cat([left, inside, right], axis)


def _coordinates(f, axis: int, x, edge_order: int):
    """np.gradient's second-order formulas for samples at coordinates ``x`` (1-d)."""
    def p(a, b=None):
        return _part(f, axis, a, b)
    dx = diff(x)
    d1, d2 = _along(dx[:-1], axis, f.ndim), _along(dx[1:], axis, f.ndim)
    inside = (-d2 / (d1 * (d1 + d2)) * p(None, -2) + (d2 - d1) / (d1 * d2) * p(1, -1)
              + d1 / (d2 * (d1 + d2)) * p(2, None))
    if edge_order == 1:
        left = (p(1, 2) - p(0, 1)) / dx[0]
        right = (p(-1, None) - p(-2, -1)) / dx[-1]
    else:
        a, b = dx[0], dx[1]
        left = (-(2 * a + b) / (a * (a + b)) * p(0, 1) + (a + b) / (a * b) * p(1, 2)
                - a / (b * (a + b)) * p(2, 3))
        a, b = dx[-2], dx[-1]
        right = (b / (a * (a + b)) * p(-3, -2) - (a + b) / (a * b) * p(-2, -1)
                 + (2 * b + a) / (b * (a + b)) * p(-1, None))
    return cat([left, inside, right], axis)


def _spacings(spacing, dims: list) -> list:
    if isinstance(spacing, (numbers.Number, Tensor)) and not (
            isinstance(spacing, Tensor) and spacing.ndim > 0):
        return [spacing] * len(dims)
    spacing = list(spacing)
    if len(spacing) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                           f"it's spacing and dim arguments to have the same length, but got "
                           f"a spacing argument of length {len(spacing)} and a dim argument "
                           f"of length {len(dims)}.")
    for s in spacing:
        if isinstance(s, Tensor) and s.ndim != 1:
            raise RuntimeError(f"torch.gradient expected each element of spacing to have one "
                               f"dimension, but got an element with {s.ndim} dimensions!")
    return spacing


def gradient(input, *, spacing=1, dim=None, edge_order: int = 1):
    """The derivative of ``input`` sampled on a grid, along each dimension in ``dim`` (all
    by default), as ``torch.gradient``: central differences inside, one-sided differences
    of order ``edge_order`` (1 or 2) at the ends. ``spacing``: one number (the step of
    every dimension), one number per dimension, or one 1-d tensor of coordinates per
    dimension. Integer inputs give the default float dtype. Differentiable.

    Shapes: (n_0, ..., n_k) -> a tuple of one (n_0, ..., n_k) tensor per dimension.

    Example::

        >>> x = gpugrad.tensor([[1.0, 2.0, 4.0], [2.0, 5.0, 9.0]])
        >>> [d.tolist() for d in gpugrad.gradient(x, spacing=[1.0, 2.0])]
        [[[1.0, 3.0, 5.0], [1.0, 3.0, 5.0]], [[0.5, 0.75, 1.0], [1.5, 1.75, 2.0]]]
    """
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = list(builtins.range(input.ndim))
    else:
        dims = [dim] if isinstance(dim, numbers.Integral) else list(dim)
        dims = [checked_dim(input, d, "gradient") for d in dims]
    f = input
    if f.dtype.kind in "biu":
        f = unary.astype(f, get_default_dtype())
    out = []
    for axis, h in zip(dims, _spacings(spacing, dims)):
        n = f.shape[axis]
        if n < edge_order + 1:
            raise RuntimeError(f"torch.gradient expected each dimension size to be at least "
                               f"edge_order+1 (dimension {axis} has size {n})")
        if isinstance(h, Tensor) and h.ndim == 1:
            if h.shape[0] != n:
                raise RuntimeError(f"torch.gradient expected the coordinates of dimension "
                                   f"{axis} to have its size {n}, got {h.shape[0]}")
            out.append(_coordinates(f, axis, unary.astype(h, f.dtype), edge_order))
        else:
            out.append(_uniform(f, axis, h, edge_order))
    return tuple(out)


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False):
    """``start, start + step, ...`` up to and including ``end``, as the deprecated
    ``torch.range`` (a UserWarning, as there; ``gpugrad.arange`` excludes the end). The
    default float dtype unless ``dtype`` is given.

    Shapes: () -> (floor((end - start) / step) + 1,).

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     gpugrad.range(1, 4).tolist()
        [1.0, 2.0, 3.0, 4.0]
    """
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"range: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    count = int(math.floor((end - start) / step)) + 1
    values = start + step * np.arange(count, dtype=np.float64)
    return creation.tensor(values, dtype=dtype or get_default_dtype(), device=device,
                           requires_grad=requires_grad)


METHODS: dict = {}
