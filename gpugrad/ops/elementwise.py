"""Binary element-wise arithmetic with NumPy broadcasting: + - * / ** maximum minimum where.

The gradient of a broadcast input is summed back to its shape (``sum_to``). A Python scalar
operand goes to the tensor-scalar ops of scalar.py; mixed dtypes follow PyTorch (a float
tensor wins over an integer one; see dtypes.py).

Example::

    >>> x = gpugrad.tensor([[1.0], [2.0]], requires_grad=True)     # (2, 1)
    >>> (x * gpugrad.tensor([1.0, 2.0, 3.0])).sum().backward()      # broadcast to (2, 3)
    >>> x.grad.tolist()
    [[6.0], [6.0]]
"""

from __future__ import annotations

import functools

import numpy as np

from .. import dtypes
from ..creation import as_tensor, full
from .record import BROADCAST, Op, apply, apply_scalar
from .reduce import sum_to
from .scalar import AddScalar, DivScalar, MulScalar, PowScalar, RDivScalar, RPowScalar
from .shape import expand_to
from .unary import _PYTHON_NUMBERS, _float, _is_scalar, astype, log, neg
from ..tensor import Tensor

__all__ = ["add", "sub", "mul", "div", "pow", "square", "maximum", "minimum", "where",
           "as_operand"]


# ---------------------------------------------------------------------------------------------
# Tensor-tensor ops
# ---------------------------------------------------------------------------------------------

class Add(Op):
    broadcasts = True
    vmap = BROADCAST

    @staticmethod
    def forward(xp, a, b):
        return a + b

    @staticmethod
    def vjp(ctx, g):
        return (sum_to(g, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g, ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        return _tangent_sum(ctx, ta, tb)


class Sub(Op):
    broadcasts = True
    vmap = BROADCAST

    @staticmethod
    def forward(xp, a, b):
        return a - b

    @staticmethod
    def vjp(ctx, g):
        return (sum_to(g, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(-g, ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        return _tangent_sum(ctx, ta, None if tb is None else -tb)


class Mul(Op):
    save = "xs"
    broadcasts = True
    vmap = BROADCAST

    @staticmethod
    def forward(xp, a, b):
        return a * b

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.xs
        return (sum_to(g * b, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g * a, ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.xs
        return _tangent_sum(ctx, None if ta is None else ta * b, None if tb is None else a * tb)


class Div(Op):
    save = "x1 ans"
    broadcasts = True
    vmap = BROADCAST

    @staticmethod
    def forward(xp, a, b):
        return a / b

    @staticmethod
    def vjp(ctx, g):
        b = ctx.xs[1]
        return (sum_to(g / b, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(-g * ctx.ans / b, ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        b = ctx.xs[1]
        return _tangent_sum(ctx, None if ta is None else ta / b,
                            None if tb is None else -tb * ctx.ans / b)


class Pow(Op):
    """``a ** b`` for tensors; d/db uses log(a), taken as 0 where a == 0."""

    save = "xs ans"
    broadcasts = True
    vmap = BROADCAST

    @staticmethod
    def forward(xp, a, b):
        return a ** b

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.xs
        return (sum_to(g * _power_derivative(a, b), ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g * ctx.ans * _safe_log(a), ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.xs
        return _tangent_sum(ctx, None if ta is None else ta * _power_derivative(a, b),
                            None if tb is None else tb * ctx.ans * _safe_log(a))


def _power_derivative(a, b):
    """b * a**(b-1), with 0 where a == b == 0 (not 0 * inf). Only there: elsewhere at b == 0
    the expression keeps its derivative in b, a**(b-1) = 1/a (the mixed second derivative)."""
    origin = (b == 0) & (a == 0)
    return b * a ** (where(origin, 1.0, b) - 1)


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
    vmap = BROADCAST

    @staticmethod
    def forward(xp, a, b):
        return xp.maximum(a, b)

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.xs
        w = _maximum_weights(a, b, ctx.op.larger)
        return (sum_to(g * w, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g * (1 - w), ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.xs
        w = _maximum_weights(a, b, ctx.op.larger)
        return _tangent_sum(ctx, None if ta is None else ta * w,
                            None if tb is None else tb * (1 - w))


class Minimum(Op):
    save = "xs"
    broadcasts = True
    larger = False
    vmap = BROADCAST

    @staticmethod
    def forward(xp, a, b):
        return xp.minimum(a, b)

    vjp = staticmethod(Maximum.vjp)
    jvp = staticmethod(Maximum.jvp)


class Where(Op):
    """``where(cond, a, b)``: ``a`` where ``cond`` is true, else ``b``."""

    save = "x0"
    broadcasts = True
    vmap = BROADCAST

    @staticmethod
    def forward(xp, cond, a, b):
        return xp.where(cond, a, b)

    @staticmethod
    def vjp(ctx, g):
        cond = ctx.xs[0]
        return (None,
                sum_to(where(cond, g, 0.0), ctx.shapes[1]) if ctx.needs(1) else None,
                sum_to(where(cond, 0.0, g), ctx.shapes[2]) if ctx.needs(2) else None)

    @staticmethod
    def jvp(ctx, tc, ta, tb):
        cond = ctx.xs[0]
        return _tangent_sum(ctx, None if ta is None else where(cond, ta, 0.0),
                            None if tb is None else where(cond, 0.0, tb))


def _tangent_sum(ctx, ta, tb):
    """ta + tb, either possibly None (zero), broadcast to the output's shape."""
    if ta is None and tb is None:
        return None
    t = tb if ta is None else ta if tb is None else ta + tb
    return expand_to(t, ctx.out_shape)


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

def as_operand(value, like):
    """A non-tensor operand (NumPy/CuPy array) as a tensor on its own device."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (list, tuple)):
        return as_tensor(value, device=like.device)
    return as_tensor(value)


def _promote(a, b):
    if a.dtype == b.dtype:
        return a, b
    da, db = dtypes.pair_result_dtypes(a.dtype, b.dtype, a.ndim, b.ndim)
    return (a if da == a.dtype else astype(a, da)), (b if db == b.dtype else astype(b, db))


_FLOAT_SCALARS = (float, int)       # a float tensor meets these without changing dtype


def _scalar(x, c):
    """``x`` cast so that meeting the Python scalar ``c`` keeps PyTorch's dtype rules."""
    if c.__class__ in _PYTHON_NUMBERS and x.dtype.kind in "fc":
        return x, c                         # (the common case: a float tensor keeps its dtype)
    target = dtypes.scalar_result_dtype(x.dtype, c)
    if isinstance(c, np.generic):
        c = c.item()
    elif c.__class__ not in _PYTHON_NUMBERS:        # subclasses (t.size, IntEnum...) as such
        c = next((kind(c) for kind in (int, float, complex) if isinstance(c, kind)), c)
    return (x if target == x.dtype else astype(x, target)), c


def _binary(op, a, b):
    if not isinstance(b, Tensor):
        b = as_operand(b, a)
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    return apply(op, *_promote(a, b))


def _common_cases_first(op, scalar_op, negate=False, floats_only=False):
    """Decorates the general form of ``+ - * / **`` with the common cases, tried first in the
    same frame (no extra call on them): two tensors of one dtype (``floats_only``: of one
    float dtype) go to ``op``, a float tensor and a Python float or int to ``scalar_op``
    (``negate``: with the number's negation)."""
    def decorate(general):
        def common_cases_first(a, b):
            if isinstance(a, Tensor):
                if isinstance(b, Tensor):
                    if a.dtype == b.dtype and (not floats_only or a.dtype.kind in "fc"):
                        return apply(op, a, b)
                elif b.__class__ in _FLOAT_SCALARS and a.dtype.kind == "f":
                    return apply_scalar(scalar_op, a, -b if negate else b)
            return general(a, b)
        return functools.wraps(general)(common_cases_first)
    return decorate


@_common_cases_first(Add, AddScalar)
def add(a, b):
    """``a + b`` with broadcasting; either may be a Python scalar."""
    if _is_scalar(b):
        return apply_scalar(AddScalar, *_scalar(a, b))
    if _is_scalar(a):
        return add(b, a)
    return _binary(Add, a, b)


@_common_cases_first(Sub, AddScalar, negate=True)
def sub(a, b):
    """``a - b`` with broadcasting; either may be a Python scalar."""
    if _is_scalar(b):
        x, c = _scalar(a, b)
        return apply_scalar(AddScalar, x, -c)
    if _is_scalar(a):
        x, c = _scalar(b, a)
        return apply_scalar(AddScalar, neg(x), c)
    return _binary(Sub, a, b)


@_common_cases_first(Mul, MulScalar)
def mul(a, b):
    """``a * b`` with broadcasting; either may be a Python scalar."""
    if _is_scalar(b):
        return apply_scalar(MulScalar, *_scalar(a, b))
    if _is_scalar(a):
        return mul(b, a)
    return _binary(Mul, a, b)


@_common_cases_first(Div, DivScalar, floats_only=True)
def div(a, b):
    """``a / b`` with broadcasting (true division: integer tensors give float32)."""
    if _is_scalar(b):
        return apply_scalar(DivScalar, *_scalar(_float(a), b))
    if _is_scalar(a):
        return apply_scalar(RDivScalar, *_scalar(_float(b), a))
    a = _float(a) if isinstance(a, Tensor) else a
    b = _float(b) if isinstance(b, Tensor) else b
    return _binary(Div, a, b)


@_common_cases_first(Pow, PowScalar)      # (a float tensor ** a float or int: _scalar keeps
def pow(a, b):                            # both as they are, so PowScalar is taken as below)
    """``a ** b`` with broadcasting; either may be a Python scalar."""
    if _is_scalar(b):
        return apply_scalar(PowScalar, *_scalar(a, b))
    if _is_scalar(a):
        return apply_scalar(RPowScalar, *_scalar(b, a))
    return _binary(Pow, a, b)


def square(x):
    """``x * x``, as ``torch.square``.

    Example::

        >>> gpugrad.square(gpugrad.tensor([-2.0, 3.0])).tolist()
        [4.0, 9.0]
    """
    return mul(x, x)


def maximum(a, b):
    """Element-wise larger of ``a`` and ``b`` (ties share the gradient equally)."""
    return _binary(Maximum, *_tensor_pair(a, b))


def minimum(a, b):
    """Element-wise smaller of ``a`` and ``b`` (ties share the gradient equally)."""
    return _binary(Minimum, *_tensor_pair(a, b))


def _tensor_pair(a, b):
    if _is_scalar(b):
        b = full((), b, dtype=dtypes.scalar_result_dtype(a.dtype, b), device=a.device)
    if _is_scalar(a):
        a = full((), a, dtype=dtypes.scalar_result_dtype(b.dtype, a), device=b.device)
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    if not isinstance(b, Tensor):
        b = as_operand(b, a)
    return a, b


def where(cond, a=None, b=None):
    """``a`` where ``cond`` (a bool tensor) is true, else ``b``; all three broadcast. With
    ``cond`` alone, as ``torch.where(cond)``: ``nonzero(cond, as_tuple=True)``."""
    if a is None and b is None:
        from .scatter_ops import nonzero        # (scatter_ops builds on this module)
        return nonzero(cond, as_tuple=True)
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
