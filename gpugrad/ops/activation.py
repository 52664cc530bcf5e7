"""Activations: tanh, sigmoid, relu, leaky_relu, hardtanh, softmax, log_softmax; and
``F.softmax`` and ``F.log_softmax`` as PyTorch's (``functional_softmax``,
``functional_log_softmax``: the legacy implicit dim, ``implicit_dim``, when none is given).

Each saves its output, not its input (the rules read only the output), so the memory an MLP
keeps for backward stays at the floor. The rules of relu, leaky_relu and hardtanh are ops of
their own that read the output, so a first derivative taken with create_graph stays in the
graph and a second one is zero, as PyTorch's.

Example::

    >>> gpugrad.softmax(gpugrad.tensor([[1.0, 1.0]]), axis=-1).tolist()
    [[0.5, 0.5]]
"""

from __future__ import annotations

import warnings

from . import fused
from .unary import _float, exp
from .record import AXIS, BROADCAST, ELEMENTWISE, Op, apply, zeros_with
from .op_class import HOLOMORPHIC
from .complex_node import refuse_complex
from .shape_errors import as_int
from .reduce import sum as reduce_sum

__all__ = ["tanh", "sigmoid", "relu", "leaky_relu", "hardtanh", "softmax",
           "log_softmax"]


class Tanh(Op):
    save = "ans"
    vmap = BROADCAST
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x):
        return xp.tanh(x)

    @staticmethod
    def vjp(ctx, g):
        return g * (1.0 - ctx.ans * ctx.ans)

    jvp = ELEMENTWISE


class Sigmoid(Op):
    """1 / (1 + exp(-x)), from exp(-|x|) so it neither overflows nor loses the small tail."""

    save = "ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

    @staticmethod
    def vjp(ctx, g):
        return g * ctx.ans * (1.0 - ctx.ans)

    jvp = ELEMENTWISE


class Relu(Op):
    """max(x, 0); its derivative at 0 is taken as 0. The rule reads the output only."""

    save = "ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        return fused.relu_forward(xp, x)

    @staticmethod
    def vjp(ctx, g):
        return apply(ReluGrad, g, ctx.ans)

    jvp = ELEMENTWISE


class ReluGrad(Op):
    """``g`` where ``y`` > 0, else 0: relu's reverse rule, read from its output ``y``, as an
    op of its own (one fused kernel on CUDA). It is linear in ``g`` and its derivative in
    ``y`` is zero (the mask is piecewise constant), so its own rules are itself again:
    double backward and forward mode through relu stay one kernel each."""

    save = "x1"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, g, y):
        return fused.relu_backward(xp, g, y)

    @staticmethod
    def vjp(ctx, gg):
        # the derivative in y is zero: materialised where y needs it (double backward of a
        # ReLU net gives zeros for its input, as PyTorch's, not "unused")
        y = ctx.xs[1]
        dy = zeros_with(gg, tuple(y.shape), y.dtype) if ctx.needs(1) else None
        return apply(ReluGrad, gg, y), dy

    @staticmethod
    def jvp(ctx, tg, ty):
        return None if tg is None else apply(ReluGrad, tg, ctx.xs[1])


class LeakyRelu(Op):
    """``x`` where x > 0, else ``slope * x``, for a ``slope`` >= 0 (the output's sign is then
    the input's, so the rule reads the output); its derivative at 0 is ``slope``, as
    PyTorch's. The rule is an op of its own (``LeakyReluGrad``)."""

    save = "ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x, slope):
        return xp.where(x > 0, x, x * slope)

    @staticmethod
    def vjp(ctx, g):
        return apply(LeakyReluGrad, g, ctx.ans, slope=ctx.slope)

    jvp = ELEMENTWISE


class LeakyReluGrad(Op):
    """``g`` where ``y`` > 0, else ``slope * g``: leaky relu's reverse rule, read from its
    output ``y``. Linear in ``g``; its derivative in ``y`` is zero (materialised where ``y``
    needs one, as ReluGrad's)."""

    save = "x1"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, g, y, slope):
        return xp.where(y > 0, g, g * slope)

    @staticmethod
    def vjp(ctx, gg):
        y = ctx.xs[1]
        dy = zeros_with(gg, tuple(y.shape), y.dtype) if ctx.needs(1) else None
        return apply(LeakyReluGrad, gg, y, slope=ctx.slope), dy

    @staticmethod
    def jvp(ctx, tg, ty):
        return None if tg is None else apply(LeakyReluGrad, tg, ctx.xs[1], slope=ctx.slope)


class Hardtanh(Op):
    """``x`` clamped to [low, high]; its derivative is 1 strictly inside and 0 at and
    beyond the bounds (1 at a NaN), as PyTorch's (read from the output: inside exactly where
    it is). The rule is an op of its own (``HardtanhGrad``)."""

    save = "ans"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x, low, high):
        return xp.clip(x, low, high)

    @staticmethod
    def vjp(ctx, g):
        return apply(HardtanhGrad, g, ctx.ans, low=ctx.low, high=ctx.high)

    jvp = ELEMENTWISE


class HardtanhGrad(Op):
    """``g`` except where ``y`` <= low or ``y`` >= high (there 0): hardtanh's reverse rule,
    read from its output ``y``. A NaN ``y`` passes ``g`` through, as PyTorch's. Linear in
    ``g``; its derivative in ``y`` is zero."""

    save = "x1"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, g, y, low, high):
        return xp.where((y <= low) | (y >= high), 0, g)

    @staticmethod
    def vjp(ctx, gg):
        y = ctx.xs[1]
        dy = zeros_with(gg, tuple(y.shape), y.dtype) if ctx.needs(1) else None
        return apply(HardtanhGrad, gg, y, low=ctx.low, high=ctx.high), dy

    @staticmethod
    def jvp(ctx, tg, ty):
        return None if tg is None else apply(HardtanhGrad, tg, ctx.xs[1], low=ctx.low,
                                             high=ctx.high)


class Softmax(Op):
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the max so it never overflows."""

    save = "ans"
    vmap = AXIS

    @staticmethod
    def forward(xp, x, axis):
        if x.size == 0:                 # (an empty axis has no max to shift by)
            return xp.empty_like(x)
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    @staticmethod
    def vjp(ctx, g):
        y = ctx.ans
        return y * (g - reduce_sum(g * y, axis=ctx.axis, keepdims=True))

    @staticmethod
    def jvp(ctx, t):
        return Softmax.vjp(ctx, t)      # the Jacobian diag(y) - y y^T is symmetric


class LogSoftmax(Op):
    """x - logsumexp(x) along ``axis``, computed without overflow."""

    save = "ans"
    vmap = AXIS

    @staticmethod
    def forward(xp, x, axis):
        if x.size == 0:
            return xp.empty_like(x)
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))

    @staticmethod
    def vjp(ctx, g):
        return g - ctx.ans.exp() * reduce_sum(g, axis=ctx.axis, keepdims=True)

    @staticmethod
    def jvp(ctx, t):
        return t - reduce_sum(ctx.ans.exp() * t, axis=ctx.axis, keepdims=True)


def tanh(x):
    """Hyperbolic tangent, element-wise."""
    return apply(Tanh, _float(x))


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), element-wise, as ``torch.sigmoid``: a
    complex ``x`` too (PyTorch's values and, in its convention, gradient). Shapes: any ->
    the same.

    Example::

        >>> gpugrad.sigmoid(gpugrad.tensor([0.0, 1 + 2j], dtype="complex128")).numpy().round(4)
        array([0.5   +0.j    , 1.0214+0.4034j])
    """
    if x.dtype.kind != "f":
        if x.dtype.kind == "c":         # (holomorphic records: Sigmoid's formula is real-only)
            return 1 / (1 + exp(-x))
        x = _float(x)
    return apply(Sigmoid, x)


def relu(x):
    """max(x, 0), element-wise."""
    if x.dtype.kind == "c":
        refuse_complex("relu", x)
    return apply(Relu, x)


def leaky_relu(x, negative_slope: float = 0.01):
    """``x`` where x > 0, else ``negative_slope * x``, element-wise, for ``negative_slope``
    >= 0 (one record; the functional form, any slope and ``inplace``: ``F.leaky_relu``).
    Shapes: any -> the same.

    Example::

        >>> from gpugrad.ops.activation import leaky_relu
        >>> leaky_relu(gpugrad.tensor([-2.0, 3.0]), 0.5).tolist()
        [-1.0, 3.0]
    """
    if x.dtype.kind == "c":
        refuse_complex("leaky_relu", x)
    return apply(LeakyRelu, _float(x), slope=negative_slope)


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0):
    """``x`` clamped to [min_val, max_val], element-wise, for a float ``x`` (one record;
    the functional form with integer inputs and ``inplace``: ``F.hardtanh``).

    Example::

        >>> from gpugrad.ops.activation import hardtanh
        >>> hardtanh(gpugrad.tensor([-2.0, 0.5, 3.0])).tolist()
        [-1.0, 0.5, 1.0]
    """
    if x.dtype.kind == "c":
        refuse_complex("hardtanh", x)
    return apply(Hardtanh, _float(x), low=min_val, high=max_val)


def _axis(x, axis, dim):
    """``axis`` (or ``dim``) as a non-negative int; None for a 0-d tensor (its only value)."""
    if dim is not None and axis is not None:
        raise TypeError("softmax: pass dim or axis, not both")
    axis = dim if dim is not None else -1 if axis is None else axis
    if axis.__class__ is not int:
        axis = as_int(axis, "softmax")      # (np.int64(1), a 0-d tensor: ints, as PyTorch)
    bound = max(x.ndim, 1)
    if not -bound <= axis < bound:
        raise IndexError(f"axis {axis} is out of range for a tensor with {x.ndim} dimensions")
    return axis % bound if x.ndim else None


def _cast(x, dtype):
    """``x`` as ``dtype`` when given (PyTorch's ``dtype=``: cast before the op, the gradient
    back in ``x``'s dtype), else as a float tensor."""
    return _float(x) if dtype is None else x.astype(dtype)


def softmax(input, dim=None, dtype=None, *, axis=None):
    """Softmax along ``dim`` (or ``axis``; the last by default): slices that sum to 1.
    ``dtype``: ``input`` is cast to it first, as PyTorch's (``x.softmax(-1, "float32")``
    for half-precision logits).

    Shapes: (N, C) -> (N, C) with ``dim=-1``.

    Example::

        >>> gpugrad.softmax(gpugrad.tensor([[0.0, 0.0], [0.0, 2.0]]), dim=-1)  # e^0, e^2 / sum
        tensor([[0.5       , 0.5       ],
                [0.11920292, 0.880797  ]], device='cpu', dtype=float32)
    """
    if input.dtype.kind == "c":
        refuse_complex("softmax", input)
    return apply(Softmax, _cast(input, dtype), axis=_axis(input, axis, dim))


def log_softmax(input, dim=None, dtype=None, *, axis=None):
    """log(softmax(x)) along ``dim`` (or ``axis``; the last by default), stable for logits
    of any size (1e4 included). ``dtype``: ``input`` is cast to it first.

    Example::

        >>> gpugrad.tensor([0.0, 0.0]).log_softmax(0).exp().tolist()
        [0.5, 0.5]
    """
    if input.dtype.kind == "c":
        refuse_complex("log_softmax", input)
    return apply(LogSoftmax, _cast(input, dtype), axis=_axis(input, axis, dim))


def implicit_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's deprecated choice of dim when ``F.softmax`` and its kin get none (0 for
    0-, 1- and 3-d inputs, else 1), with PyTorch's UserWarning; ``stacklevel`` counts from
    the caller of this function (3: the caller of the ``F`` function that calls it)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                  f"call to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def functional_softmax(input, dim=None, _stacklevel: int = 3, dtype=None, *, axis=None):
    """``F.softmax``, as ``torch.nn.functional.softmax``: without ``dim`` (or gpugrad's
    ``axis``), PyTorch's legacy implicit dim (0 for 0-, 1- and 3-d inputs, else 1) and its
    deprecation warning.

    Example::

        >>> F.softmax(gpugrad.tensor([[0.0, 0.0]]), dim=1).tolist()
        [[0.5, 0.5]]
    """
    if dim is None and axis is None:
        dim = implicit_dim("softmax", input.ndim, _stacklevel)
    return softmax(input, dim, dtype, axis=axis)


def functional_log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None, *, axis=None):
    """``F.log_softmax``, as ``torch.nn.functional.log_softmax`` (the implicit dim as
    ``functional_softmax``'s).

    Example::

        >>> F.log_softmax(gpugrad.tensor([[0.0, 0.0]]), dim=1).exp().tolist()
        [[0.5, 0.5]]
    """
    if dim is None and axis is None:
        dim = implicit_dim("log_softmax", input.ndim, _stacklevel)
    return log_softmax(input, dim, dtype, axis=axis)
