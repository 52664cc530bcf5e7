"""Numerical integration as PyTorch has it: ``trapezoid`` (and its older name ``trapz``) and
``cumulative_trapezoid``, the trapezoidal rule along one dimension, with a constant spacing
``dx`` (1 by default) or sample points ``x``. Composites of gpugrad ops, written as PyTorch
writes them (the same sums in the same order): gradients of any order, tangents and
batching come from those ops, to ``y`` and to ``x``.

Example::

    >>> y = gpugrad.tensor([1.0, 2.0, 4.0], requires_grad=True)
    >>> gpugrad.ops.integration.trapezoid(y).item()         # (1 + 2) / 2 + (2 + 4) / 2
    4.5
    >>> gpugrad.ops.integration.cumulative_trapezoid(y, dx=2.0).tolist()
    [3.0, 9.0]
"""

from __future__ import annotations

import numbers

from .. import creation
from ..tensor import Tensor
from .cumulative import cumsum
from .reduce import sum as reduce_sum
from .shape_errors import DimError, ShapeError, checked_dim

__all__ = ["trapezoid", "trapz", "cumulative_trapezoid"]


def trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The trapezoidal rule along ``dim``, as ``torch.trapezoid``: ``sum_i (x[i+1] - x[i])
    (y[i] + y[i+1]) / 2`` with sample points ``x``, or with a constant spacing ``dx``
    (default 1) ``dx * (sum(y) - (y[0] + y[-1]) / 2)``. Give ``x`` or ``dx``, not both.

    Shapes: ``y`` (..., n, ...) -> ``y``'s shape without ``dim`` (zeros where n is 0).
    ``x`` is (n,) (the points along ``dim``), or broadcasts against ``y`` once differenced
    along ``dim`` (fewer dimensions are padded with leading 1s, as PyTorch's). Integer
    ``y`` gives floats; bool is refused; a complex ``y`` is integrated as it is.

    Example::

        >>> y = gpugrad.tensor([[1.0, 2.0, 4.0], [0.0, 1.0, 0.0]])
        >>> gpugrad.ops.integration.trapezoid(y, gpugrad.tensor([0.0, 1.0, 3.0])).tolist()
        [7.5, 1.5]
    """
    dim = _dim(y, x, dx, dim, "trapezoid")
    if y.shape[dim] == 0:                    # no samples: 0, as NumPy's (and PyTorch's)
        shape = tuple(y.shape[:dim]) + tuple(y.shape[dim + 1:])
        return creation.zeros(shape, dtype=y.dtype, device=y.device)
    spacing = _spacing(y, x, dx, dim, "trapezoid")
    if spacing is None:                      # a constant dx
        ends = _slice(y, dim, 0, 1) + _slice(y, dim, -1, None)
        total = reduce_sum(y, dim) - ends.squeeze(dim) * 0.5
        return total if dx is None else total * dx
    left, right = _slice(y, dim, None, -1), _slice(y, dim, 1, None)
    return reduce_sum((left + right) * spacing, dim) / 2.0


def trapz(y, x=None, *, dx=None, dim: int = -1):
    """``trapezoid`` under its older name, as ``torch.trapz``.

    Example::

        >>> gpugrad.ops.integration.trapz(gpugrad.tensor([1.0, 3.0]), dx=0.5).item()
        1.0
    """
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The running trapezoidal rule along ``dim``, as ``torch.cumulative_trapezoid``: entry
    ``k`` is ``trapezoid`` of the first ``k + 2`` samples; ``x`` and ``dx`` as there.

    Shapes: ``y`` (..., n, ...) -> (..., n - 1, ...) (empty for n <= 1).

    Example::

        >>> y = gpugrad.tensor([1.0, 2.0, 4.0])
        >>> gpugrad.ops.integration.cumulative_trapezoid(y).tolist()
        [1.5, 4.5]
    """
    dim = _dim(y, x, dx, dim, "cumulative_trapezoid")
    spacing = _spacing(y, x, dx, dim, "cumulative_trapezoid")
    left, right = _slice(y, dim, None, -1), _slice(y, dim, 1, None)
    if spacing is None:
        return cumsum((left + right) * (0.5 if dx is None else dx / 2.0), dim)
    return cumsum((left + right) * spacing, dim) / 2.0


def _dim(y, x, dx, dim, name: str) -> int:
    """``dim`` of ``y`` as a non-negative axis; ``y`` a tensor of at least one dimension,
    and not both ``x`` and ``dx``."""
    if not isinstance(y, Tensor):
        raise TypeError(f"{name}: y must be a tensor, got {type(y).__name__}; wrap it with "
                        f"gpugrad.tensor(...)")
    if x is not None and dx is not None:
        raise TypeError(f"{name}: got both x (the sample points) and dx (a constant "
                        f"spacing); pass one of them")
    if y.ndim == 0:
        raise DimError(f"{name}: y is 0-d (one sample) and has no dimension {dim} to "
                       f"integrate along; give it one, e.g. y.reshape(1)")
    return checked_dim(y, dim, name)


def _spacing(y, x, dx, dim: int, name: str):
    """The differences of the sample points ``x`` along ``dim``, viewed to broadcast against
    the pairs of ``y`` (None for a constant ``dx``), after PyTorch's checks."""
    if y.dtype.kind == "b" or (isinstance(x, Tensor) and x.dtype.kind == "b"):
        raise TypeError(f"{name}: received a bool input for `x` or `y`, but bool is not "
                        f"supported (as in PyTorch); convert it first, e.g. y.float()")
    if x is None:
        if dx is not None and (isinstance(dx, (bool, complex)) or not (
                isinstance(dx, numbers.Real) or _real_scalar_tensor(dx))):
            raise TypeError(f"{name}: dx must be a real number (the constant spacing), got "
                            f"{dx!r}")
        return None
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: x must be a tensor of sample points, got "
                        f"{type(x).__name__}; for a constant spacing pass dx= by keyword")
    if x.ndim == 1:
        if x.shape[0] != y.shape[dim]:
            raise ShapeError(f"{name}: There must be one `x` value for each sample point: x "
                             f"has {x.shape[0]}, y has {y.shape[dim]} along dim {dim} (shape "
                             f"{tuple(y.shape)})")
        x = x.reshape(tuple(y.shape[dim] if d == dim else 1 for d in range(y.ndim)))
    elif x.ndim < y.ndim:
        x = x.reshape((1,) * (y.ndim - x.ndim) + tuple(x.shape))
    return _slice(x, dim, 1, None) - _slice(x, dim, None, -1)


def _real_scalar_tensor(dx) -> bool:
    return isinstance(dx, Tensor) and dx.ndim == 0 and dx.dtype.kind in "iuf"


def _slice(t, dim: int, start, stop):
    """``t[start:stop]`` along ``dim`` (a view)."""
    index = [slice(None)] * t.ndim
    index[dim] = slice(start, stop)
    return t[tuple(index)]
