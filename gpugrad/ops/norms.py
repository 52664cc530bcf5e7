"""Vector norms, as ``torch.norm`` / ``Tensor.norm`` / ``torch.linalg.vector_norm``:
a composite of abs, powers, sums and max, whose gradient at a zero vector is zero (as
PyTorch's), not the 0/0 of a square root at zero.

Example::

    >>> x = gpugrad.tensor([3.0, 4.0], requires_grad=True)
    >>> n = x.norm()
    >>> n.backward()
    >>> n.item(), x.grad.tolist()          # x / |x|
    (5.0, [0.6000000238418579, 0.800000011920929])
"""

from __future__ import annotations

import math
import numbers

from ..scalar_casts import as_int
from . import compare, complex_parts, elementwise, extremes, reduce, unary
from .shape_errors import as_dims

__all__ = ["norm", "vector_norm"]


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None):
    """The ``ord``-norm of ``x`` over ``dim`` (all elements by default, or when ``dim`` is
    empty, as PyTorch's): ``ord`` a number
    (``sum(|x|**ord) ** (1/ord)``), ``inf`` (the largest ``|x|``), ``-inf`` (the smallest)
    or 0 (the count of non-zeros), as ``torch.linalg.vector_norm``. Float or complex
    tensors (a complex one's norm is real: of ``|x|``, as PyTorch's); float16 is summed in
    float32 (or in ``dtype`` when given) and comes back as float16.

    Shapes: ``x`` (...), the result with ``dim`` removed (kept as 1 with ``keepdim``).

    Example::

        >>> gpugrad.norm(gpugrad.tensor([[3.0, -4.0]]), p=1, dim=1).tolist()     # ord 1
        [7.0]
    """
    if x.dtype.kind not in "fc":
        raise TypeError(f"norm: the input must be a float tensor, got {x.dtype}; convert it "
                        f"first (x.float())")
    ord = _number(ord)
    if not isinstance(ord, numbers.Real) or isinstance(ord, bool):
        raise ValueError(f"norm: ord must be a number, inf or -inf for a vector norm, got "
                         f"{ord!r}")
    if dtype is not None or x.dtype == "float16":
        wide = x.astype(dtype or "float32")
        out = vector_norm(wide, ord, dim, keepdim)
        return out if dtype is not None else out.astype(x.dtype)
    if dim is None or dim.__class__ is int:
        axis = dim
    else:                   # (NumPy ints and 0-d tensors are dims; an empty dim, PyTorch's
        axis = tuple([as_int(d, "norm") for d in as_dims(dim)]) or None   # all elements)
    magnitude = unary.abs(x)
    if ord == math.inf:
        return extremes.max(magnitude, axis=axis, keepdims=keepdim)
    if ord == -math.inf:
        return extremes.min(magnitude, axis=axis, keepdims=keepdim)
    if ord == 0:            # a count: its gradient is zero (it carries one, as PyTorch's)
        real = magnitude if x.dtype.kind == "c" else x
        count = compare.not_equal(x, 0).astype(real.dtype)
        return reduce.sum(count + real * 0.0, axis=axis, keepdims=keepdim)
    if ord == 1:
        return reduce.sum(magnitude, axis=axis, keepdims=keepdim)
    if ord == 2:            # |x|^2; for complex x, Re(x conj(x)): real, smooth at 0
        powered = x * x if x.dtype.kind != "c" else complex_parts.real(
            x * complex_parts.conj_physical(x))
    else:                   # |x|**ord below ord 1 has an infinite slope at 0: zero there
        at_zero = compare.equal(magnitude, 0)
        safe = elementwise.where(at_zero, 1.0, magnitude) ** ord
        powered = elementwise.where(at_zero, math.inf if ord < 0 else 0.0, safe)
    total = reduce.sum(powered, axis=axis, keepdims=keepdim)
    # the root's derivative is infinite at 0: take it of 1 there instead, and give 0
    zero = compare.equal(total, 0)
    safe = elementwise.where(zero, 1.0, total)
    root = unary.sqrt(safe) if ord == 2 else safe ** (1.0 / ord)
    return elementwise.where(zero, 0.0, root)


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """``torch.norm``: ``p`` "fro", 2 or None (the Euclidean norm over ``dim``, all elements
    by default), or any ``vector_norm`` order. Matrix norms ("nuc") are not supported.

    Example::

        >>> gpugrad.norm(gpugrad.tensor([[1.0, 2.0], [2.0, 4.0]]), dim=1).tolist()
        [2.2360680103302, 4.4721360206604]
    """
    p = _number(p)
    if p is None or p.__class__ is str and p == "fro":
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is a matrix norm, which gpugrad does not have; use "
                         f"p='fro', a number, inf or -inf")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def _number(value):
    """A 0-d tensor or array given as ``ord``/``p`` as its number (as PyTorch reads it)."""
    if value.__class__ is not int and value.__class__ is not float and \
            getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return value
