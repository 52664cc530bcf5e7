"""Element-wise arithmetic with NumPy broadcasting: + - * / ** neg exp log sqrt abs maximum
minimum clamp where, casts and device moves.

The gradient of a broadcast input is summed back to its shape (``sum_to``). Python scalars
are parameters of their own ops (``x * 2.0`` is ``MulScalar(x, c=2.0)``), so they never
widen a float32 tensor and need no device copy.

Example::

    >>> x = gpugrad.tensor([1.0, 4.0], requires_grad=True)
    >>> (x.sqrt() * 3 + 1).sum().backward()
    >>> x.grad.tolist()          # 3 / (2 sqrt(x))
    [1.5, 0.75]
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend, dtypes
from .record import ELEMENTWISE, LINEAR, Op, apply
from .reduce import sum_to

__all__ = ["add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "abs", "maximum",
           "minimum", "clamp", "clip", "where", "clone", "astype", "to_device", "as_operand"]


# ---------------------------------------------------------------------------------------------
# Tensor-tensor ops
# ---------------------------------------------------------------------------------------------

class Add(Op):
    broadcasts = True

    def forward(xp, a, b):
        return a + b

    def vjp(ctx, g):
        return (sum_to(g, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g, ctx.shapes[1]) if ctx.needs(1) else None)

    def jvp(ctx, ta, tb):
        return _tangent_sum(ctx, ta, tb)


class Sub(Op):
    broadcasts = True

    def forward(xp, a, b):
        return a - b

    def vjp(ctx, g):
        return (sum_to(g, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(-g, ctx.shapes[1]) if ctx.needs(1) else None)

    def jvp(ctx, ta, tb):
        return _tangent_sum(ctx, ta, None if tb is None else -tb)


class Mul(Op):
    save = "xs"
    broadcasts = True

    def forward(xp, a, b):
        return a * b

    def vjp(ctx, g):
        a, b = ctx.xs
        return (sum_to(g * b, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g * a, ctx.shapes[1]) if ctx.needs(1) else None)

    def jvp(ctx, ta, tb):
        a, b = ctx.xs
        return _tangent_sum(ctx, None if ta is None else ta * b, None if tb is None else a * tb)


class Div(Op):
    save = "x1 ans"
    broadcasts = True

    def forward(xp, a, b):
        return a / b

    def vjp(ctx, g):
        b = ctx.xs[1]
        return (sum_to(g / b, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(-g * ctx.ans / b, ctx.shapes[1]) if ctx.needs(1) else None)

    def jvp(ctx, ta, tb):
        b = ctx.xs[1]
        return _tangent_sum(ctx, None if ta is None else ta / b,
                            None if tb is None else -tb * ctx.ans / b)


class Pow(Op):
    """``a ** b`` for tensors; d/db uses log(a), taken as 0 where a == 0."""

    save = "xs ans"
    broadcasts = True

    def forward(xp, a, b):
        return a ** b

    def vjp(ctx, g):
        a, b = ctx.xs
        return (sum_to(g * b * a ** (b - 1), ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g * ctx.ans * _safe_log(a), ctx.shapes[1]) if ctx.needs(1) else None)

    def jvp(ctx, ta, tb):
        a, b = ctx.xs
        return _tangent_sum(ctx, None if ta is None else ta * b * a ** (b - 1),
                            None if tb is None else tb * ctx.ans * _safe_log(a))


def _safe_log(a):
    """log(a), with 0 where a == 0 (the limit of a**b * log(a) there) and no NaN gradients."""
    zero = a == 0
    return where(zero, 0.0, log(where(zero, 1.0, a)))


def _maximum_weights(a, b, larger: bool):
    """1 where ``a`` wins, 0 where ``b`` wins, 1/2 on ties (the gradient is shared)."""
    wins = (a > b) if larger else (a < b)
    dtype = np.result_type(a.dtype, b.dtype)
    return wins.astype(dtype) + (a == b).astype(dtype) * 0.5


class Maximum(Op):
    save = "xs"
    broadcasts = True
    larger = True

    def forward(xp, a, b):
        return xp.maximum(a, b)

    def vjp(ctx, g):
        a, b = ctx.xs
        w = _maximum_weights(a, b, ctx.op.larger)
        return (sum_to(g * w, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g * (1 - w), ctx.shapes[1]) if ctx.needs(1) else None)

    def jvp(ctx, ta, tb):
        a, b = ctx.xs
        w = _maximum_weights(a, b, ctx.op.larger)
        return _tangent_sum(ctx, None if ta is None else ta * w,
                            None if tb is None else tb * (1 - w))


class Minimum(Op):
    save = "xs"
    broadcasts = True
    larger = False

    def forward(xp, a, b):
        return xp.minimum(a, b)

    vjp = Maximum.vjp
    jvp = Maximum.jvp


class Where(Op):
    """``where(cond, a, b)``: ``a`` where ``cond`` is true, else ``b``."""

    save = "x0"
    broadcasts = True

    def forward(xp, cond, a, b):
        return xp.where(cond, a, b)

    def vjp(ctx, g):
        cond = ctx.xs[0]
        return (None,
                sum_to(where(cond, g, 0.0), ctx.shapes[1]) if ctx.needs(1) else None,
                sum_to(where(cond, 0.0, g), ctx.shapes[2]) if ctx.needs(2) else None)

    def jvp(ctx, tc, ta, tb):
        cond = ctx.xs[0]
        return _tangent_sum(ctx, None if ta is None else where(cond, ta, 0.0),
                            None if tb is None else where(cond, 0.0, tb))


def _tangent_sum(ctx, ta, tb):
    """ta + tb, either possibly None (zero), broadcast to the output's shape."""
    from .shape import broadcast_to
    if ta is None and tb is None:
        return None
    t = tb if ta is None else ta if tb is None else ta + tb
    return broadcast_to(t, ctx.out_shape)


# ---------------------------------------------------------------------------------------------
# Tensor-scalar ops (the scalar ``c`` is a parameter)
# ---------------------------------------------------------------------------------------------

class AddScalar(Op):
    def forward(xp, x, c):
        return x + c

    def vjp(ctx, g):
        return g

    def jvp(ctx, t):
        return t


class MulScalar(Op):
    def forward(xp, x, c):
        return x * c

    def vjp(ctx, g):
        return g * ctx.c

    jvp = LINEAR


class DivScalar(Op):
    def forward(xp, x, c):
        return x / c

    def vjp(ctx, g):
        return g / ctx.c

    jvp = LINEAR


class RDivScalar(Op):
    """``c / x``."""

    save = "xs ans"

    def forward(xp, x, c):
        return c / x

    def vjp(ctx, g):
        return -g * ctx.ans / ctx.xs[0]

    jvp = ELEMENTWISE


class PowScalar(Op):
    """``x ** c``."""

    save = "xs"

    def forward(xp, x, c):
        return x ** c

    def vjp(ctx, g):
        if ctx.c == 0:
            return g * 0.0
        return g * ctx.c * ctx.xs[0] ** (ctx.c - 1)

    jvp = ELEMENTWISE


class RPowScalar(Op):
    """``c ** x``."""

    save = "ans"

    def forward(xp, x, c):
        return c ** x

    def vjp(ctx, g):
        c = ctx.c
        return g * ctx.ans * (math.log(c) if c > 0 else 0.0 if c == 0 else math.nan)

    jvp = ELEMENTWISE


# ---------------------------------------------------------------------------------------------
# Unary ops
# ---------------------------------------------------------------------------------------------

class Neg(Op):
    def forward(xp, x):
        return -x

    def vjp(ctx, g):
        return -g

    jvp = LINEAR


class Exp(Op):
    save = "ans"

    def forward(xp, x):
        return xp.exp(x)

    def vjp(ctx, g):
        return g * ctx.ans

    jvp = ELEMENTWISE


class Log(Op):
    save = "xs"

    def forward(xp, x):
        return xp.log(x)

    def vjp(ctx, g):
        return g / ctx.xs[0]

    jvp = ELEMENTWISE


class Sqrt(Op):
    save = "ans"

    def forward(xp, x):
        return xp.sqrt(x)

    def vjp(ctx, g):
        return g / (ctx.ans * 2.0)

    jvp = ELEMENTWISE


class Abs(Op):
    """|x|; its derivative at 0 is taken as 0."""

    save = "xs"

    def forward(xp, x):
        return xp.abs(x)

    def vjp(ctx, g):
        from .compare import sign
        return g * sign(ctx.xs[0])

    jvp = ELEMENTWISE


class Clamp(Op):
    """``x`` limited to [min, max] (either may be None); gradient 1 inside, boundaries
    included, and 0 outside."""

    save = "xs"

    def forward(xp, x, min, max):
        return xp.clip(x, min, max)

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
    def forward(xp, x):
        return x.copy()

    def vjp(ctx, g):
        return g

    jvp = LINEAR


class Cast(Op):
    """Float-to-float dtype conversion."""

    def forward(xp, x, dtype):
        return x.astype(dtype)

    def vjp(ctx, g):
        return astype(g, ctx.dtypes[0])

    jvp = LINEAR


class ToDevice(Op):
    """A copy on another device; its gradient goes back to the ``source`` device."""

    def forward(xp, x, device, source):
        return backend.to_device(x, device)

    def vjp(ctx, g):
        return to_device(g, ctx.source)

    jvp = LINEAR


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

def _is_scalar(value) -> bool:
    return isinstance(value, (numbers.Number, np.generic))


def as_operand(value, like):
    """A non-tensor operand (NumPy/CuPy array) as a tensor on its own device."""
    from ..creation import as_tensor
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (list, tuple)):
        return as_tensor(value, device=like.device)
    return as_tensor(value)


def _promote(a, b):
    da, db = dtypes.pair_result_dtypes(a.dtype, b.dtype)
    return (a if da == a.dtype else astype(a, da)), (b if db == b.dtype else astype(b, db))


def _scalar(x, c):
    """``x`` cast so that meeting the Python scalar ``c`` keeps PyTorch's dtype rules."""
    target = dtypes.scalar_result_dtype(x.dtype, c)
    if isinstance(c, np.generic):
        c = c.item()
    return (x if target == x.dtype else astype(x, target)), c


def _binary(op, a, b):
    from ..tensor import Tensor
    if not isinstance(b, Tensor):
        b = as_operand(b, a)
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    a, b = _promote(a, b)
    return apply(op, a, b)


def add(a, b):
    """``a + b`` with broadcasting; either may be a Python scalar."""
    if _is_scalar(b):
        x, c = _scalar(a, b)
        return apply(AddScalar, x, c=c)
    if _is_scalar(a):
        return add(b, a)
    return _binary(Add, a, b)


def sub(a, b):
    """``a - b`` with broadcasting; either may be a Python scalar."""
    if _is_scalar(b):
        x, c = _scalar(a, b)
        return apply(AddScalar, x, c=-c)
    if _is_scalar(a):
        x, c = _scalar(b, a)
        return apply(AddScalar, neg(x), c=c)
    return _binary(Sub, a, b)


def mul(a, b):
    """``a * b`` with broadcasting; either may be a Python scalar."""
    if _is_scalar(b):
        x, c = _scalar(a, b)
        return apply(MulScalar, x, c=c)
    if _is_scalar(a):
        return mul(b, a)
    return _binary(Mul, a, b)


def div(a, b):
    """``a / b`` with broadcasting (true division: integer tensors give float32)."""
    if _is_scalar(b):
        x, c = _scalar(_float(a), b)
        return apply(DivScalar, x, c=c)
    if _is_scalar(a):
        x, c = _scalar(_float(b), a)
        return apply(RDivScalar, x, c=c)
    from ..tensor import Tensor
    a = _float(a) if isinstance(a, Tensor) else a
    b = _float(b) if isinstance(b, Tensor) else b
    return _binary(Div, a, b)


def pow(a, b):
    """``a ** b`` with broadcasting; either may be a Python scalar."""
    if _is_scalar(b):
        x, c = _scalar(a, b)
        return apply(PowScalar, x, c=c)
    if _is_scalar(a):
        x, c = _scalar(b, a)
        return apply(RPowScalar, x, c=c)
    return _binary(Pow, a, b)


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


def maximum(a, b):
    """Element-wise larger of ``a`` and ``b`` (ties share the gradient equally)."""
    return _binary(Maximum, *_tensor_pair(a, b))


def minimum(a, b):
    """Element-wise smaller of ``a`` and ``b`` (ties share the gradient equally)."""
    return _binary(Minimum, *_tensor_pair(a, b))


def _tensor_pair(a, b):
    from ..creation import full
    from ..tensor import Tensor
    if _is_scalar(b):
        b = full((), b, dtype=dtypes.scalar_result_dtype(a.dtype, b), device=a.device)
    if _is_scalar(a):
        a = full((), a, dtype=dtypes.scalar_result_dtype(b.dtype, a), device=b.device)
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    if not isinstance(b, Tensor):
        b = as_operand(b, a)
    return a, b


def clamp(x, min=None, max=None):
    """``x`` limited to [min, max]; either bound may be omitted. Example: ``x.clamp(min=0)``."""
    if min is None and max is None:
        raise ValueError("clamp needs min, max or both")
    if not all(v is None or _is_scalar(v) for v in (min, max)):
        raise TypeError("clamp bounds must be numbers; for tensor bounds use "
                        "gpugrad.maximum(x, low) and gpugrad.minimum(x, high)")
    return apply(Clamp, x, min=min, max=max)


clip = clamp


def where(cond, a, b):
    """``a`` where ``cond`` (a bool tensor) is true, else ``b``; all three broadcast."""
    from ..tensor import Tensor
    if not isinstance(cond, Tensor):
        cond = as_operand(cond, a if isinstance(a, Tensor) else b)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: the condition must be a bool tensor, not {cond.dtype}; "
                        f"compare first, e.g. where(x > 0, x, 0)")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("where needs at least one of a and b to be a tensor")
    like = a if isinstance(a, Tensor) else b
    a, b = _tensor_pair(a, b) if _is_scalar(a) or _is_scalar(b) else (a, b)
    if not isinstance(a, Tensor):
        a = as_operand(a, like)
    if not isinstance(b, Tensor):
        b = as_operand(b, like)
    a, b = _promote(a, b)
    return apply(Where, cond, a, b)


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
    from ..tensor import Tensor
    return Tensor._wrap(x._array.astype(dtype))


def to_device(x, device):
    """``x`` copied to ``device`` (differentiable); ``x`` itself when already there."""
    device = backend.Device(device)
    source = x.device
    if source == device:
        return x
    return apply(ToDevice, x, device=device, source=source)
