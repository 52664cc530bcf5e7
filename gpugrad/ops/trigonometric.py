"""Trigonometric and hyperbolic functions, element-wise, as PyTorch's: sin, cos, tan, asin,
acos, atan, atan2, sinh, cosh, asinh, acosh, atanh (tanh: activation.py), hypot, deg2rad,
rad2deg, and NumPy's spellings arcsin... arctanh, arctan2. Any shape; float dtypes are kept,
integer and bool tensors give the default float dtype (float32). atan2 and hypot broadcast
their inputs; the second may be a Python number.

Example::

    >>> from gpugrad.ops.trigonometric import atan2, sin
    >>> x = gpugrad.tensor([0.0, np.pi / 2], requires_grad=True)
    >>> sin(x).sum().backward()
    >>> [round(v, 6) for v in x.grad.tolist()]      # cos(x)
    [1.0, -0.0]
    >>> atan2(gpugrad.tensor([1.0, -1.0]), -1.0).tolist()
    [2.356194496154785, -2.356194496154785]
"""

from __future__ import annotations

import math

from .elementwise import where
from .inplace import in_place_method as in_place
from .pointwise_binary import _Binary, operands
from .record import BROADCAST, ELEMENTWISE, Op, apply
from .op_class import HOLOMORPHIC
from .unary import _float, _unary, sqrt

__all__ = ["sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh",
           "acosh", "atanh", "hypot", "deg2rad", "rad2deg", "arcsin", "arccos", "arctan",
           "arctan2", "arcsinh", "arccosh", "arctanh"]


class _Unary:
    """Settings shared by the one-input records (a mixin, not a record of its own)."""

    save = "xs"
    vmap = BROADCAST
    jvp = ELEMENTWISE


class Sin(_Unary, Op):
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x):
        return xp.sin(x)

    @staticmethod
    def vjp(ctx, g):
        return g * cos(ctx.xs[0])


class Cos(_Unary, Op):
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x):
        return xp.cos(x)

    @staticmethod
    def vjp(ctx, g):
        return -g * sin(ctx.xs[0])


class Tan(_Unary, Op):
    """d/dx tan(x) = 1 + tan(x)^2, read from the output."""

    save = "ans"

    @staticmethod
    def forward(xp, x):
        return xp.tan(x)

    @staticmethod
    def vjp(ctx, g):
        return g * (ctx.ans * ctx.ans + 1.0)


class Asin(_Unary, Op):
    @staticmethod
    def forward(xp, x):
        return xp.arcsin(x)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        return g / sqrt(1.0 - x * x)


class Acos(_Unary, Op):
    @staticmethod
    def forward(xp, x):
        return xp.arccos(x)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        return -g / sqrt(1.0 - x * x)


class Atan(_Unary, Op):
    @staticmethod
    def forward(xp, x):
        return xp.arctan(x)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        return g / (x * x + 1.0)


class Sinh(_Unary, Op):
    @staticmethod
    def forward(xp, x):
        return xp.sinh(x)

    @staticmethod
    def vjp(ctx, g):
        return g * cosh(ctx.xs[0])


class Cosh(_Unary, Op):
    @staticmethod
    def forward(xp, x):
        return xp.cosh(x)

    @staticmethod
    def vjp(ctx, g):
        return g * sinh(ctx.xs[0])


class Asinh(_Unary, Op):
    @staticmethod
    def forward(xp, x):
        return xp.arcsinh(x)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        return g / sqrt(x * x + 1.0)


class Acosh(_Unary, Op):
    @staticmethod
    def forward(xp, x):
        return xp.arccosh(x)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        return g / sqrt(x * x - 1.0)


class Atanh(_Unary, Op):
    @staticmethod
    def forward(xp, x):
        return xp.arctanh(x)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.xs[0]
        return g / (1.0 - x * x)


class Atan2(_Binary, Op):
    """The angle of the point (b, a); d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2), both 0
    at the origin (as PyTorch's)."""

    save = "xs"

    @staticmethod
    def forward(xp, a, b):
        return xp.arctan2(a, b)

    @staticmethod
    def partial(ctx, i):
        a, b = ctx.xs
        squared = a * a + b * b
        origin = squared == 0
        return where(origin, 0.0, (b if i == 0 else -a) / where(origin, 1.0, squared))


class Hypot(_Binary, Op):
    """sqrt(a^2 + b^2) without overflow; d/da = a / out, d/db = b / out."""

    save = "xs ans"

    @staticmethod
    def forward(xp, a, b):
        return xp.hypot(a, b)

    @staticmethod
    def partial(ctx, i):
        return ctx.xs[i] / ctx.ans


def sin(input):
    """Sine, element-wise (radians).

    Example::

        >>> gpugrad.ops.trigonometric.sin(gpugrad.tensor([0.0, np.pi / 6])).tolist()
        [0.0, 0.5]
    """
    return _unary(Sin, input)


def cos(input):
    """Cosine, element-wise (radians).

    Example::

        >>> gpugrad.ops.trigonometric.cos(gpugrad.tensor([0.0, np.pi])).tolist()
        [1.0, -1.0]
    """
    return _unary(Cos, input)


def tan(input):
    """Tangent, element-wise (radians).

    Example::

        >>> gpugrad.ops.trigonometric.tan(gpugrad.tensor([0.0, np.pi / 4])).tolist()
        [0.0, 1.0]
    """
    return _unary(Tan, input)


def asin(input):
    """Arcsine, element-wise: values in [-pi/2, pi/2]; NaN outside [-1, 1].

    Example::

        >>> gpugrad.ops.trigonometric.asin(gpugrad.tensor([0.0, 1.0], dtype="float64"))
        tensor([0.        , 1.57079633], device='cpu', dtype=float64)
    """
    return _unary(Asin, input)


def acos(input):
    """Arccosine, element-wise: values in [0, pi]; NaN outside [-1, 1].

    Example::

        >>> gpugrad.ops.trigonometric.acos(gpugrad.tensor([1.0, -1.0], dtype="float64"))
        tensor([0.        , 3.14159265], device='cpu', dtype=float64)
    """
    return _unary(Acos, input)


def atan(input):
    """Arctangent, element-wise: values in (-pi/2, pi/2).

    Example::

        >>> gpugrad.ops.trigonometric.atan(gpugrad.tensor([0.0, 1.0], dtype="float64"))
        tensor([0.        , 0.78539816], device='cpu', dtype=float64)
    """
    return _unary(Atan, input)


def atan2(input, other):
    """The angle of the point (other, input), element-wise: atan(input / other) in the right
    quadrant, in [-pi, pi]. Shapes broadcast; ``other`` may be a Python number.

    Example::

        >>> y = gpugrad.tensor([1.0, 1.0, -1.0], dtype="float64")
        >>> gpugrad.ops.trigonometric.atan2(y, gpugrad.tensor([1.0, -1.0, -1.0])) / np.pi
        tensor([ 0.25,  0.75, -0.75], device='cpu', dtype=float64)
    """
    return apply(Atan2, *operands("atan2", input, other))


def sinh(input):
    """Hyperbolic sine, element-wise.

    Example::

        >>> gpugrad.ops.trigonometric.sinh(gpugrad.tensor([0.0, 1.0], dtype="float64"))
        tensor([0.        , 1.17520119], device='cpu', dtype=float64)
    """
    return _unary(Sinh, input)


def cosh(input):
    """Hyperbolic cosine, element-wise.

    Example::

        >>> gpugrad.ops.trigonometric.cosh(gpugrad.tensor([0.0, 1.0], dtype="float64"))
        tensor([1.        , 1.54308063], device='cpu', dtype=float64)
    """
    return _unary(Cosh, input)


def asinh(input):
    """Inverse hyperbolic sine, element-wise.

    Example::

        >>> gpugrad.ops.trigonometric.asinh(gpugrad.tensor([0.0, 1.0], dtype="float64"))
        tensor([0.        , 0.88137359], device='cpu', dtype=float64)
    """
    return _unary(Asinh, input)


def acosh(input):
    """Inverse hyperbolic cosine, element-wise: NaN below 1.

    Example::

        >>> gpugrad.ops.trigonometric.acosh(gpugrad.tensor([1.0, 2.0], dtype="float64"))
        tensor([0.        , 1.3169579], device='cpu', dtype=float64)
    """
    return _unary(Acosh, input)


def atanh(input):
    """Inverse hyperbolic tangent, element-wise: +-inf at +-1, NaN outside [-1, 1].

    Example::

        >>> gpugrad.ops.trigonometric.atanh(gpugrad.tensor([0.0, 0.5], dtype="float64"))
        tensor([0.        , 0.54930614], device='cpu', dtype=float64)
    """
    return _unary(Atanh, input)


def hypot(input, other):
    """sqrt(input^2 + other^2), element-wise, without overflow. Shapes broadcast; ``other``
    may be a Python number.

    Example::

        >>> gpugrad.ops.trigonometric.hypot(gpugrad.tensor([3.0, 5.0]), 4.0).tolist()
        [5.0, 6.4031243324279785]
    """
    return apply(Hypot, *operands("hypot", input, other))


def deg2rad(input):
    """Degrees to radians, element-wise: input * pi / 180.

    Example::

        >>> gpugrad.ops.trigonometric.deg2rad(gpugrad.tensor([180, -90]))
        tensor([ 3.1415927, -1.5707964], device='cpu', dtype=float32)
    """
    return _float(input) * (math.pi / 180.0)


def rad2deg(input):
    """Radians to degrees, element-wise: input * 180 / pi.

    Example::

        >>> gpugrad.ops.trigonometric.rad2deg(gpugrad.tensor([np.pi, -np.pi / 2])).tolist()
        [180.0, -90.0]
    """
    return _float(input) * (180.0 / math.pi)


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh

METHODS: dict = {name: globals()[name] for name in __all__}    # all are Tensor methods too
METHODS.update({name + "_": in_place(globals()[name], name) for name in __all__})
