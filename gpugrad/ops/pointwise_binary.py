"""Two-input element-wise functions, as PyTorch's: logaddexp, logaddexp2, fmod, remainder,
xlogy, copysign (records) and lerp (a composite). Inputs broadcast (NumPy rules) and either
operand may be a Python number; the gradient of a broadcast input is summed back to its shape.
gpugrad.ops.pointwise exports them (with the one-input functions).

Each record gives its partial derivatives (``partial(ctx, i)``: d out / d input ``i``, None
for zero); the shared rules below multiply them by the cotangent or tangent.

Example::

    >>> from gpugrad.ops.pointwise_binary import fmod, remainder
    >>> x = gpugrad.tensor([-3.0, 3.0])
    >>> fmod(x, 2).tolist(), remainder(x, 2).tolist()     # sign of x / sign of the divisor
    ([-1.0, 1.0], [1.0, 1.0])
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..autograd.compile_mode import _state as _compiling
from ..creation import zeros_like
from ..scalar_casts import wrapped_int
from ..tensor import Tensor
from .complex_node import refuse_complex
from .elementwise import where
from .promotion import is_integral, promote, tangent_sum, tensor_pair
from .record import BROADCAST, Op, apply
from .reduce import sum_to
from .unary import _float, _is_scalar, abs, exp

__all__ = ["logaddexp", "logaddexp2", "fmod", "remainder", "xlogy", "copysign", "lerp"]

_LN2 = math.log(2.0)


def operands(name: str, input, other, floats: bool = True):
    """``input`` and ``other`` as tensors of one dtype, as PyTorch promotes them: a Python
    number becomes a 0-d tensor (an int tensor meeting a float gives float32), a float tensor
    beats an integer one; ``floats``: integer and bool results become float32."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}: expected at least one tensor operand, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    a, b = promote(*tensor_pair(input, other))
    if floats:
        return _float(a), _float(b)
    if a.dtype.kind == "b" or b.dtype.kind == "b":
        raise TypeError(f"{name} is not defined for bool tensors (got {a.dtype} and "
                        f"{b.dtype}), as in PyTorch; convert first, e.g. x.long()")
    return a, b


def _scaled(g, d):
    return zeros_like(g) if d is None else g * d


def binary_vjp(ctx, g):
    """The reverse rule of a two-input record with ``partial(ctx, i)``."""
    partial = ctx.op.partial
    return (sum_to(_scaled(g, partial(ctx, 0)), ctx.shapes[0]) if ctx.needs(0) else None,
            sum_to(_scaled(g, partial(ctx, 1)), ctx.shapes[1]) if ctx.needs(1) else None)


def binary_jvp(ctx, ta, tb):
    """The forward rule of a two-input record with ``partial(ctx, i)``."""
    partial = ctx.op.partial
    da = None if ta is None else partial(ctx, 0)
    db = None if tb is None else partial(ctx, 1)
    return tangent_sum(ctx, None if da is None else ta * da, None if db is None else tb * db)


class _Binary:
    """Settings shared by the two-input records (a mixin, not a record of its own)."""

    broadcasts = True
    vmap = BROADCAST
    vjp = staticmethod(binary_vjp)
    jvp = staticmethod(binary_jvp)


class LogAddExp(_Binary, Op):
    """log(exp(a) + exp(b)); d/da = exp(a - out), d/db = exp(b - out)."""

    save = "xs ans"

    @staticmethod
    def forward(xp, a, b):
        return xp.logaddexp(a, b)

    @staticmethod
    def partial(ctx, i):
        return exp(ctx.xs[i] - ctx.ans)


class LogAddExp2(_Binary, Op):
    """log2(2**a + 2**b); d/da = 2**(a - out), d/db = 2**(b - out)."""

    save = "xs ans"

    @staticmethod
    def forward(xp, a, b):
        return xp.logaddexp2(a, b)

    @staticmethod
    def partial(ctx, i):
        return exp((ctx.xs[i] - ctx.ans) * _LN2)


class Fmod(_Binary, Op):
    """C's fmod (the sign of a); d/da = 1, d/db = -trunc(a / b), as PyTorch's."""

    save = "xs"

    @staticmethod
    def forward(xp, a, b):
        return xp.fmod(a, b)

    @staticmethod
    def partial(ctx, i):
        if i == 0:
            return 1.0
        from .pointwise import trunc
        a, b = ctx.xs
        return -trunc(a / b)


class Remainder(_Binary, Op):
    """Python's % (the sign of b); d/da = 1, d/db = -floor(a / b), as PyTorch's."""

    save = "xs"

    @staticmethod
    def forward(xp, a, b):
        return xp.remainder(a, b)

    @staticmethod
    def partial(ctx, i):
        if i == 0:
            return 1.0
        from .pointwise import floor
        a, b = ctx.xs
        return -floor(a / b)


class Xlogy(_Binary, Op):
    """x * log(y), 0 where x == 0 (unless y is NaN), as PyTorch's; its rules are too:
    d/dx applied to g is xlogy(g, y) (0 where g is 0), masked to 0 where x == 0 and
    y <= 0; d/dy = x / y."""

    save = "xs"

    @staticmethod
    def forward(xp, x, y):
        zero = (x == 0) & ~xp.isnan(y)
        return x * xp.log(xp.where(zero, y.dtype.type(1), y))     # (no log(0) computed)

    @staticmethod
    def vjp(ctx, g):
        x, y = ctx.xs
        return (sum_to(_log_part(g, x, y), ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g * (x / y), ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, tx, ty):
        x, y = ctx.xs
        return tangent_sum(ctx, None if tx is None else _log_part(tx, x, y),
                            None if ty is None else ty * (x / y))


def _log_part(v, x, y):
    """xlogy(v, y) with 0 where x == 0 and y <= 0: the x-part of xlogy's rules for the
    cotangent or tangent ``v`` (PyTorch's)."""
    return where((x == 0) & (y <= 0), 0.0, apply(Xlogy, v, y))


class Copysign(_Binary, Op):
    """|a| with the sign of b; d/da = out / a (0 where a == 0), d/db = 0, as PyTorch's."""

    save = "x0 ans"

    @staticmethod
    def forward(xp, a, b):
        return xp.copysign(a, b)

    @staticmethod
    def partial(ctx, i):
        if i == 1:
            return None
        a = ctx.xs[0]
        zero = a == 0
        return where(zero, 0.0, ctx.ans / where(zero, 1.0, a))


def logaddexp(input, other):
    """log(exp(input) + exp(other)) without overflow, element-wise; shapes broadcast, float
    dtypes kept (integers give float32).

    Example::

        >>> from gpugrad.ops.pointwise_binary import logaddexp
        >>> logaddexp(gpugrad.tensor([0.0, 1000.0]), gpugrad.tensor([0.0, 1000.0])).tolist()
        [0.6931471824645996, 1000.6931762695312]
    """
    return apply(LogAddExp, *operands("logaddexp", input, other))


def logaddexp2(input, other):
    """log2(2**input + 2**other) without overflow, element-wise; shapes broadcast.

    Example::

        >>> from gpugrad.ops.pointwise_binary import logaddexp2
        >>> logaddexp2(gpugrad.tensor([1.0, 3.0]), 3.0).tolist()
        [3.321928024291992, 4.0]
    """
    return apply(LogAddExp2, *operands("logaddexp2", input, other))


class IntegerDivisionByZero(RuntimeError, ZeroDivisionError):
    """An integer tensor divided by 0 (PyTorch raises RuntimeError; Python ZeroDivisionError:
    either ``except`` catches it)."""


def refuse_zero_divisor(name: str, other, b) -> None:
    """Integer division by zero has no value: refused where it can be seen without a device
    read (a Python 0, or a NumPy divisor outside vmap and compiled steps), as PyTorch's CPU
    kernels refuse it."""
    if _is_scalar(other):
        dtype = b.dtype if isinstance(b, Tensor) else None
        zero = (other if dtype is None else wrapped_int(other, dtype)) == 0  # (256: 0 in uint8)
    elif isinstance(b, Tensor) and not b._batched and _compiling.recorder is None and \
            b._array.__class__ is np.ndarray:
        zero = bool((b._array == 0).any())
    else:
        return
    if zero:
        raise IntegerDivisionByZero(
            f"{name}: integer division by zero (an integer divisor is 0); divide floats "
            f"instead (x.float() // d gives ±inf) or mask the zeros out first")


def _refuse_integer_zero(name: str, input, other) -> None:
    if is_integral(input) and is_integral(other):              # (a number: input's dtype)
        refuse_zero_divisor(name, other,
                            input if _is_scalar(other) and isinstance(input, Tensor) else other)


def fmod(input, other):
    """The remainder of input / other with the sign of ``input`` (C's fmod), element-wise;
    shapes broadcast; integer tensors stay integer (with an integer ``other``, which may not
    be 0: ``IntegerDivisionByZero``, as PyTorch's).

    Example::

        >>> from gpugrad.ops.pointwise_binary import fmod
        >>> fmod(gpugrad.tensor([-3, -2, 5]), 3).tolist()
        [0, -2, 2]
    """
    _refuse_integer_zero("fmod", input, other)
    return apply(Fmod, *operands("fmod", input, other, floats=False))


def remainder(input, other):
    """The remainder of input / other with the sign of ``other`` (Python's ``%``),
    element-wise; shapes broadcast; integer tensors stay integer, and an integer 0 divisor
    raises ``IntegerDivisionByZero`` (as the ``%`` operator, and PyTorch's).

    Example::

        >>> from gpugrad.ops.pointwise_binary import remainder
        >>> remainder(gpugrad.tensor([-3.0, -2.0, 5.0]), 3).tolist()
        [0.0, 1.0, 2.0]
        >>> remainder(gpugrad.tensor([1, 2]), -3).tolist()
        [-2, -1]
    """
    _refuse_integer_zero("remainder", input, other)
    return apply(Remainder, *operands("remainder", input, other, floats=False))


def xlogy(input, other):
    """input * log(other), 0 where input == 0 (unless other is NaN), element-wise; shapes
    broadcast; integers give float32; complex values are refused, as PyTorch's.

    Example::

        >>> from gpugrad.ops.pointwise_binary import xlogy
        >>> xlogy(gpugrad.tensor([0.0, 2.0]), gpugrad.tensor([0.0, np.e])).tolist()
        [0.0, 2.0]
    """
    refuse_complex("xlogy", input, other, ordered=False,
                   hint="compute input * gpugrad.log(other) for complex values")
    return apply(Xlogy, *operands("xlogy", input, other))


def copysign(input, other):
    """|input| with the sign (sign bit) of ``other``, element-wise; shapes broadcast;
    integers give float32.

    Example::

        >>> from gpugrad.ops.pointwise_binary import copysign
        >>> copysign(gpugrad.tensor([1.0, -2.0, 3.0]), gpugrad.tensor([-1.0, 1.0, -0.0]))
        tensor([-1.,  2., -3.], device='cpu', dtype=float32)
    """
    return apply(Copysign, *operands("copysign", input, other))


def lerp(input, end, weight):
    """input + weight * (end - input), element-wise, as ``torch.lerp`` (its formula from the
    nearer end: end - (end - input) * (1 - weight) where |weight| >= 0.5). ``input`` and
    ``end``: float or complex tensors of one dtype; ``weight``: a number or a tensor of that
    dtype (complex only for complex tensors); all broadcast. Gradients: 1 - weight, weight
    and end - input (conjugated for complex values, PyTorch's convention).

    Example::

        >>> from gpugrad.ops.pointwise_binary import lerp
        >>> lerp(gpugrad.tensor([0.0, 10.0]), gpugrad.tensor([10.0, 20.0]), 0.25).tolist()
        [2.5, 12.5]
    """
    for name, value in (("end", end), ("weight", weight)):
        if isinstance(value, Tensor) and value.dtype != input.dtype:
            raise TypeError(f"lerp: expected dtype {input.dtype} for `{name}` but got "
                            f"{value.dtype} (input is {input.dtype}); convert it, e.g. "
                            f"{name}.to(input.dtype)")
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp: `end` must be a tensor, not {type(end).__name__}")
    if input.dtype.kind not in "fc":
        raise TypeError(f"lerp is defined for float tensors (and complex ones), not "
                        f"{input.dtype}; convert first, e.g. input.float()")
    if input.dtype.kind == "f" and isinstance(weight, (complex, np.complexfloating)):
        raise TypeError(f"lerp: a complex weight {weight!r} needs complex input and end, got "
                        f"{input.dtype}; convert them first, e.g. input.to(gpugrad.complex64)")
    diff = end - input
    if _is_scalar(weight):
        return input + diff * weight if builtins.abs(weight) < 0.5 else end - diff * (1 - weight)
    near_start = abs(weight) < 0.5
    return where(near_start, input + diff * weight, end - diff * (1 - weight))

