"""Binary element-wise arithmetic with NumPy broadcasting: + - * / ** where (and maximum,
minimum, whose records are in extremes.py, importable from here too).

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

import numpy as np

from .promotion import (as_operand, binary, common_cases_first, number_pair, promote,
                        scalar_dtype, scalar_operand, tangent_sum, tensor_pair)
from .record import BROADCAST, Op, apply, apply_scalar
from .op_class import HOLOMORPHIC
from .extremes import maximum, minimum    # (their records live there; importable from here)
from .reduce import sum_to
from .scalar import (AddScalar, DivScalar, MulScalar, PowScalar, RDivScalar, RPowScalar,
                     integer_power)
from .unary import _float, _is_scalar, log, neg
from ..scalar_casts import NUMPY_INTS, checked_exponent, checked_scalar, wrapped_int
from ..tensor import Tensor

__all__ = ["plus", "minus", "mul", "true_divide", "pow", "square", "maximum", "minimum",
           "where", "as_operand"]


# ---------------------------------------------------------------------------------------------
# Tensor-tensor ops
# ---------------------------------------------------------------------------------------------

class Add(Op):
    broadcasts = True
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, a, b):
        return a + b

    @staticmethod
    def vjp(ctx, g):
        return (sum_to(g, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g, ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        return tangent_sum(ctx, ta, tb)


class Sub(Op):
    broadcasts = True
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, a, b):
        return a - b

    @staticmethod
    def vjp(ctx, g):
        return (sum_to(g, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(-g, ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        return tangent_sum(ctx, ta, None if tb is None else -tb)


class Mul(Op):
    save = "xs"
    broadcasts = True
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

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
        return tangent_sum(ctx, None if ta is None else ta * b, None if tb is None else a * tb)


class Div(Op):
    save = "x1 ans"
    broadcasts = True
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

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
        return tangent_sum(ctx, None if ta is None else ta / b,
                            None if tb is None else -tb * ctx.ans / b)


class Pow(Op):
    """``a ** b`` for tensors; d/db uses log(a), taken as 0 where a == 0."""

    save = "xs ans"
    broadcasts = True
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, a, b):
        if b.dtype.kind == "i" and a.dtype.kind in "iu":
            return integer_power(xp, a, b)      # (NumPy refuses negative int exponents)
        return a ** b

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.xs
        return (sum_to(g * _power_derivative(a, b), ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g * ctx.ans * _safe_log(a), ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.xs
        return tangent_sum(ctx, None if ta is None else ta * _power_derivative(a, b),
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


class Where(Op):
    """``where(cond, a, b)``: ``a`` where ``cond`` is true, else ``b``."""

    save = "x0"
    broadcasts = True
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

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
        return tangent_sum(ctx, None if ta is None else where(cond, ta, 0.0),
                            None if tb is None else where(cond, 0.0, tb))


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

@common_cases_first(Add, AddScalar)
def plus(a, b):
    """``a + b`` with broadcasting; either may be a Python number: the ``+`` operator
    (``add`` without ``alpha``).

    Example::

        >>> gpugrad.ops.elementwise.plus(gpugrad.tensor([1, 2]), 0.5).tolist()
        [1.5, 2.5]
    """
    if _is_scalar(b):
        return apply_scalar(AddScalar, *scalar_operand(a, b))
    if _is_scalar(a):
        return plus(b, a)
    return binary(Add, a, b)


@common_cases_first(Sub, AddScalar, negate=True)
def minus(a, b):
    """``a - b`` with broadcasting; either may be a Python number: the ``-`` operator
    (``sub`` without ``alpha``).

    Example::

        >>> gpugrad.ops.elementwise.minus(1, gpugrad.tensor([1.0, 3.0])).tolist()
        [0.0, -2.0]
    """
    if _is_scalar(b):
        x, c = scalar_operand(a, b)
        return apply_scalar(AddScalar, x, wrapped_int(-c, x.dtype) if c.__class__ is int else -c)
    if _is_scalar(a):
        x, c = scalar_operand(b, a)
        return apply_scalar(AddScalar, neg(x), c)
    return binary(Sub, a, b)


@common_cases_first(Mul, MulScalar)
def mul(a, b):
    """``a * b`` with broadcasting; either may be a Python scalar."""
    if _is_scalar(b):
        return apply_scalar(MulScalar, *scalar_operand(a, b))
    if _is_scalar(a):
        return mul(b, a)
    return binary(Mul, a, b)


@common_cases_first(Div, DivScalar, floats_only=True)
def true_divide(a, b):
    """``a / b`` with broadcasting, as ``torch.true_divide`` and the ``/`` operator: true
    division (two integer or bool operands give the default float dtype; an integer and a
    float tensor give the float's dtype, as ``result_type``).

    Example::

        >>> q = gpugrad.true_divide(gpugrad.tensor([1, 3]), 2)
        >>> q.tolist(), q.dtype
        ([0.5, 1.5], dtype('float32'))
        >>> (gpugrad.tensor([1, 3]) / gpugrad.tensor(2.0, dtype=gpugrad.float64)).dtype
        dtype('float64')
    """
    if _is_scalar(b):
        return apply_scalar(DivScalar, *scalar_operand(_float(a), b))
    if _is_scalar(a):
        return apply_scalar(RDivScalar, *scalar_operand(_float(b), a))
    if not isinstance(b, Tensor):
        b = as_operand(b, a)
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    a, b = promote(a, b)       # (int with float64 is float64: the float side's dtype)
    if a.dtype.kind not in "fc":
        a, b = _float(a), _float(b)     # both integer or bool: the default float dtype
    return apply(Div, a, b)


@common_cases_first(Pow, PowScalar)      # (a float tensor ** a float or int: scalar_operand keeps
def pow(a, b):                            # both as they are, so PowScalar is taken as below)
    """``a ** b`` with broadcasting; either may be a Python scalar (an int exponent of an
    integer tensor must be >= 0 and fit its dtype; an int base wraps into it, as PyTorch's).
    A tensor of negative int exponents gives PyTorch's integer powers: 1 for a base of 1,
    +-1 for -1, else 0 (``2 ** gpugrad.tensor([-1])`` is ``[0]``).

    Example::

        >>> (gpugrad.tensor([2, 3]) ** 2).tolist(), (2 ** gpugrad.tensor([1, 3])).tolist()
        ([4, 9], [2, 8])
    """
    if _is_scalar(b):
        if b.__class__ in NUMPY_INTS:       # (np.int64(-1): a Python int, checked as one)
            b = int(b)
        if b.__class__ is int and isinstance(a, Tensor) and a.dtype.kind in "biu":
            b = checked_exponent(b, scalar_dtype(a.dtype, b))
        return apply_scalar(PowScalar, *scalar_operand(a, b))
    if _is_scalar(a):
        return apply_scalar(RPowScalar, *scalar_operand(b, a))
    return binary(Pow, a, b)


def square(x):
    """``x * x``, as ``torch.square``.

    Example::

        >>> gpugrad.square(gpugrad.tensor([-2.0, 3.0])).tolist()
        [4.0, 9.0]
    """
    if isinstance(x, Tensor) and x.dtype.kind == "b":     # (as PyTorch: bools square to int64)
        x = x.astype("int64")
    return mul(x, x)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` (a bool tensor) is true, else ``other``; all three
    broadcast, and either value may be a Python number (two numbers give a tensor of the
    dtype they meet in: int64, float32...). With ``condition`` alone, as
    ``torch.where(cond)``: ``nonzero(cond, as_tuple=True)``.

    Example::

        >>> c = gpugrad.tensor([True, False])
        >>> gpugrad.where(c, 1, 0), gpugrad.where(c, gpugrad.ones(2), 0.5).tolist()
        (tensor([1, 0], device='cpu', dtype=int64), [1.0, 0.5])
    """
    cond, a, b = condition, input, other
    if a is None and b is None:
        from .counting import nonzero           # (counting builds on this module)
        return nonzero(cond, as_tuple=True)
    if not isinstance(cond, Tensor):
        cond = as_operand(cond, a if isinstance(a, Tensor) else b)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: the condition must be a bool tensor, not {cond.dtype}; "
                        f"compare first, e.g. where(x > 0, x, 0)")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        if not (_is_scalar(a) and _is_scalar(b)):
            raise TypeError(f"where: input and other must be tensors or numbers, not "
                            f"{type(a).__name__} and {type(b).__name__}")
        a, b = number_pair(a, b, cond.device)
    like = a if isinstance(a, Tensor) else b
    if _is_scalar(a) or _is_scalar(b):         # (a number meeting an integer tensor must fit)
        if _is_scalar(a) and isinstance(b, Tensor):
            a = checked_scalar(a, scalar_dtype(b.dtype, a), "where")
        elif _is_scalar(b) and isinstance(a, Tensor):
            b = checked_scalar(b, scalar_dtype(a.dtype, b), "where")
        a, b = tensor_pair(a, b)
    if not isinstance(a, Tensor):
        a = as_operand(a, like)
    if not isinstance(b, Tensor):
        b = as_operand(b, like)
    a, b = promote(a, b)
    return apply(Where, cond, a, b)
