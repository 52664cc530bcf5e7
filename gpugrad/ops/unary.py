"""Unary element-wise ops: neg, exp, log, sqrt, abs, clamp/clip, clone, and the
differentiable conversions astype (float to float) and to_device.

Example::

    >>> x = gpugrad.tensor([1.0, 4.0], requires_grad=True)
    >>> x.sqrt().sum().backward()
    >>> x.grad.tolist()          # 1 / (2 sqrt(x))
    [0.5, 0.25]
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend, dtypes
from ..scalar_casts import checked_scalar
from ..autograd.compile_mode import kernel, note_reads
from .op_class import HOLOMORPHIC, OWN_RULES
from .record import BROADCAST, ELEMENTWISE, LINEAR, Op, apply
from .complex_node import refuse_complex   # (loaded by record.py already)
from ..tensor import Tensor

__all__ = ["neg", "exp", "log", "sqrt", "abs", "clamp", "clip", "clone", "astype", "to_device",
           "absolute", "negative"]


class Neg(Op):
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x):
        return -x

    @staticmethod
    def vjp(ctx, g):
        return -g

    jvp = LINEAR


class Exp(Op):
    save = "ans"
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x):
        return xp.exp(x)

    @staticmethod
    def vjp(ctx, g):
        return g * ctx.ans

    jvp = ELEMENTWISE


class Log(Op):
    save = "xs"
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x):
        return xp.log(x)

    @staticmethod
    def vjp(ctx, g):
        return g / ctx.xs[0]

    jvp = ELEMENTWISE


class Sqrt(Op):
    save = "ans"
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x):
        return xp.sqrt(x)

    @staticmethod
    def vjp(ctx, g):
        return g / (ctx.ans * 2.0)

    jvp = ELEMENTWISE


class Abs(Op):
    """|x|; its derivative at 0 is taken as 0. For complex z (PyTorch's): gradient g z / |z|,
    tangent Re(conj(z) t) / |z|, both 0 at z == 0."""

    save = "xs"
    vmap = BROADCAST
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, x):
        return xp.abs(x)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        if x.dtype.kind == "c":
            return g * x / _abs_or_one(x)
        from .compare import sign
        return g * sign(x)

    @staticmethod
    def jvp(ctx, t):                    # (ELEMENTWISE for real x: the vjp of the tangent)
        x = ctx.xs[0]
        if x.dtype.kind == "c":
            from .complex_parts import conj, real
            return real(conj(x) * t) / _abs_or_one(x)
        return Abs.vjp(ctx, t)


def _abs_or_one(z):
    """|z|, with 1 where z == 0 (a denominator whose numerator is 0 there)."""
    a = abs(z)
    return a + (a == 0)


class Clamp(Op):
    """``x`` limited to [min, max] (either may be None); gradient 1 inside, boundaries
    included, and 0 outside."""

    save = "xs"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x, min, max):
        return xp.clip(x, min, max)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        inside = None
        if ctx.min is not None:
            inside = x >= ctx.min
        if ctx.max is not None:
            below = x <= ctx.max
            inside = below if inside is None else inside & below
        return g * inside.astype(g.dtype)

    jvp = ELEMENTWISE


class Clone(Op):
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x):
        return x.copy()

    @staticmethod
    def vjp(ctx, g):
        return g

    jvp = LINEAR


class Cast(Op):
    """Float-to-float dtype conversion."""

    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def vjp(ctx, g):
        if g.dtype.kind == "c" and ctx.dtypes[0].kind != "c":
            from .complex_parts import real
            g = real(g)                 # (a real input's share of a complex cotangent)
        return astype(g, ctx.dtypes[0])

    jvp = LINEAR


class ToDevice(Op):
    """A copy on another device; its gradient goes back to the ``source`` device."""

    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, device, source):
        return backend.to_device(x, device)

    @staticmethod
    def vjp(ctx, g):
        return to_device(g, ctx.source)

    jvp = LINEAR


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

_PYTHON_NUMBERS = (float, int, bool, complex)


def _is_scalar(value) -> bool:
    """A Python or NumPy number (which ops take as a parameter, not as a tensor)."""
    return value.__class__ in _PYTHON_NUMBERS or (
        not isinstance(value, Tensor)       # (the abstract Number's check is the slow one)
        and isinstance(value, (numbers.Number, np.generic)))


def _float(x):
    return x if x.dtype.kind in "fc" else astype(x, dtypes.get_default_dtype())


def _unary(op, x):
    return apply(op, _float(x))


def neg(x):
    """``-x``."""
    return apply(Neg, x)


def exp(x):
    """e ** x, element-wise."""
    return _unary(Exp, x)


def log(x):
    """Natural logarithm, element-wise."""
    return _unary(Log, x)


def sqrt(x):
    """Square root, element-wise."""
    return _unary(Sqrt, x)


def abs(x):
    """|x|, element-wise (derivative 0 at 0)."""
    return apply(Abs, x)


def clamp(x, min=None, max=None):
    """``x`` limited to [min, max]; either bound may be omitted, and each may be a number or
    a tensor (broadcast with ``x``). The gradient goes to ``x`` inside the bounds (bounds
    included) and to the bound that clamps outside, as PyTorch's; where min > max every
    element is max. A NaN tensor bound gives NaN there (and no gradient), as PyTorch's.

    Example::

        >>> x = gpugrad.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        >>> x.clamp(min=0)
        tensor([0. , 0.5, 2. ], device='cpu', dtype=float32, grad_fn=<ClampBackward>)
        >>> gpugrad.clamp(x, 0, 1).tolist()
        [0.0, 0.5, 1.0]
        >>> x.clamp(max=gpugrad.tensor([0.0, 0.0, 3.0])).tolist()
        [-1.0, 0.0, 2.0]
    """
    if min is None and max is None:
        raise ValueError("clamp needs min, max or both")
    if x.dtype.kind == "c":
        refuse_complex("clamp", x)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_to_tensors(x, min, max)
    if not all(v is None or _is_scalar(v) for v in (min, max)):
        raise TypeError(f"clamp: the bounds must be numbers or tensors, not "
                        f"{type(min).__name__} and {type(max).__name__}")
    min, max = (v.item() if isinstance(v, np.generic) else v for v in (min, max))  # (Python's)
    if min.__class__ is complex or max.__class__ is complex:
        refuse_complex("clamp", min, max)
    for bound in (min, max):            # PyTorch's promotion: an int tensor, a float bound
        if bound is not None:
            target = dtypes.scalar_result_dtype(x.dtype, bound)
            if target != x.dtype:
                x = astype(x, target)
    if x.dtype.kind in "iu":            # (an int bound as PyTorch writes it: -1 is 255 in uint8)
        min = None if min is None else checked_scalar(min, x.dtype, "clamp")
        max = None if max is None else checked_scalar(max, x.dtype, "clamp")
    return apply(Clamp, x, min=min, max=max)


clip = clamp


def _clamp_to_tensors(x, low, high):
    """``clamp`` with a tensor bound, as PyTorch's: NaN in ``x`` or in a bound gives NaN; the
    gradient goes to ``x`` where low <= x <= high, to ``low`` where x < low < high, to
    ``high`` where x > high or high < low, and nowhere else (NaN, or x < low == high)."""
    from .elementwise import maximum, minimum, where    # (elementwise builds on this module)
    value = _constant(x)                # the value where no operand takes the gradient
    inside = above = below = None
    if low is not None:
        value = maximum(value, _constant(low))          # (NaN propagates)
        inside = x >= low
        below = x < low if high is None else (x < low) & (low < high)
    if high is not None:
        value = minimum(value, _constant(high))
        inside = x <= high if inside is None else inside & (x <= high)
        above = x > high if low is None else (x > high) | (high < low)
    if above is not None:
        value = where(above, high, value)
    if below is not None:
        value = where(below, low, value)
    return where(inside, x, value)


def _constant(value):
    return value.detach() if isinstance(value, Tensor) else value


def absolute(input):
    """|input|, element-wise: ``torch.absolute``, another name for ``abs``.

    Example::

        >>> gpugrad.ops.unary.absolute(gpugrad.tensor([-2.0, 3.0])).tolist()
        [2.0, 3.0]
    """
    return apply(Abs, input)


def negative(input):
    """``-input``: ``torch.negative``, another name for ``neg``.

    Example::

        >>> gpugrad.ops.unary.negative(gpugrad.tensor([-2.0, 3.0])).tolist()
        [2.0, -3.0]
    """
    return apply(Neg, input)


def clone(x):
    """A copy of ``x`` in new memory (differentiable)."""
    return apply(Clone, x)


def astype(x, dtype):
    """``x`` converted to ``dtype``: differentiable between float dtypes; a conversion to an
    integer or bool dtype gives a tensor that does not require grad."""
    dtype = dtypes.as_dtype(dtype)
    if dtype == x.dtype:
        return x
    if dtype.kind in "fc" and x.dtype.kind in "fc":
        return apply(Cast, x, dtype=dtype)
    if x._batched:
        from ..autograd.batched import BatchedTensor
        return BatchedTensor._make(astype(x._value, dtype), x._level)
    note_reads(x)
    return Tensor._wrap(kernel(_converted, x._array, dtype))


def _converted(array, dtype):
    return array.astype(dtype)


def to_device(x, device):
    """``x`` copied to ``device`` (differentiable); ``x`` itself when already there."""
    device = backend.Device(device)
    source = x.device
    if source == device:
        return x
    return apply(ToDevice, x, device=device, source=source)
