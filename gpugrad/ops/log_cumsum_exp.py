"""``logcumsumexp`` (one record, ``LogCumSumExp``), as ``torch.logcumsumexp``: running
log-sum-exp along a dimension without overflow, for float and complex tensors (complex: the
principal log of the running sums; holomorphic, gradients in PyTorch's convention). Also the
raw scan (``_scan``) that statistics.py's ``cummax`` / ``cummin`` run too. (Split from
statistics.py, which still exports ``logcumsumexp``.)

The rules sum ``g_j exp(x_i - ans_j)`` in log space, positive and negative parts apart (a
complex cotangent: its complex log), as PyTorch's, so they too do not overflow.

Example::

    >>> x = gpugrad.tensor([0.0, 0.0], dtype="float64", requires_grad=True)
    >>> y = gpugrad.logcumsumexp(x, 0)
    >>> [round(v, 6) for v in y.tolist()]                  # log 1, log 2
    [0.0, 0.693147]
    >>> y[1].backward()
    >>> x.grad.tolist()                                    # e^x_i / (e^0 + e^0)
    [0.5, 0.5]
"""

from __future__ import annotations

import numpy as np

from . import indexing
from .cumulative import scan_dtype
from .elementwise import where
from .op_class import HOLOMORPHIC
from .record import AXIS, Op, apply
from .shape_errors import checked_dim
from .unary import exp, log

__all__ = ["logcumsumexp"]


def _scan(xp, x, axis: int, combine):
    """Running ``combine`` (associative, element-wise) along ``axis`` of a raw array, in
    log2(n) whole-array steps (the same on NumPy and CuPy)."""
    out = xp.moveaxis(x, axis, -1).copy()
    step, n = 1, out.shape[-1]
    while step < n:
        out[..., step:] = combine(out[..., step:], out[..., :-step])
        step *= 2
    return xp.moveaxis(out, -1, axis)


def _reversed(v, axis: int):
    return indexing.getitem(v, (slice(None),) * axis + (slice(None, None, -1),))


def _signed_logs(v):
    """``(log(v) where v > 0, log(-v) where v < 0)``, the lowest float elsewhere."""
    low = float(np.finfo(v.dtype).min) / 8       # (sums of a few stay finite)
    pos, neg = v > 0, v < 0
    return (where(pos, log(where(pos, v, 1.0)), low), where(neg, log(where(neg, -v, 1.0)), low))


def _complex_logaddexp(xp, a, b):
    """log(exp(a) + exp(b)) of complex raw arrays, shifted by the one of larger real part
    (NumPy's logaddexp takes real values only); -inf + 0j where both are."""
    high, low = xp.where(a.real < b.real, b, a), xp.where(a.real < b.real, a, b)
    with np.errstate(invalid="ignore"):
        summed = high + xp.log1p(xp.exp(low - high))
    return xp.where(high.real == -np.inf, high, summed)


def _complex_logs(v):
    """log(v) of complex v, the lowest float where v is 0 (a rule's weights: exp gives 0)."""
    zero = v == 0
    return where(zero, float(np.finfo(v.dtype).min) / 8, log(where(zero, 1.0, v)))


class LogCumSumExp(Op):
    """``log(cumsum(exp(x)))`` along ``axis``, without overflow. (...) -> the same shape.
    Holomorphic (complex x: the principal log of the running sums, as PyTorch's)."""

    save = "x0 ans"
    vmap = AXIS
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, x, axis):
        if x.dtype.kind == "c":
            return _scan(xp, x, axis, lambda a, b: _complex_logaddexp(xp, a, b))
        return _scan(xp, x.astype(scan_dtype(xp, x.dtype)), axis, xp.logaddexp).astype(
            x.dtype, copy=False)

    @staticmethod
    def vjp(ctx, g):
        # grad_i = sum_{j >= i} g_j exp(x_i - ans_j), summed in log space by sign (PyTorch's)
        x, ans, axis = ctx.xs[0], ctx.ans, ctx.axis

        def part(logs):
            return exp(_reversed(apply(LogCumSumExp, _reversed(logs - ans, axis), axis=axis),
                                 axis) + x)
        if x.dtype.kind == "c":
            return part(_complex_logs(g))
        positive, negative = _signed_logs(g)
        return part(positive) - part(negative)

    @staticmethod
    def jvp(ctx, t):
        # t_ans_j = sum_{i <= j} t_i exp(x_i - ans_j)
        x, ans, axis = ctx.xs[0], ctx.ans, ctx.axis
        if x.dtype.kind == "c":
            return exp(apply(LogCumSumExp, x + _complex_logs(t), axis=axis) - ans)
        positive, negative = _signed_logs(t)
        return exp(apply(LogCumSumExp, x + positive, axis=axis) - ans) - \
            exp(apply(LogCumSumExp, x + negative, axis=axis) - ans)


def logcumsumexp(input, dim: int):
    """``log(cumsum(exp(input)))`` along ``dim`` without overflow, as
    ``torch.logcumsumexp``: float or complex tensors (complex: the principal log of the
    running sums, gradients in PyTorch's convention).

    Example::

        >>> gpugrad.tensor([1000.0, 1000.0]).logcumsumexp(0).tolist()
        [1000.0, 1000.6931762695312]
    """
    if input.dtype.kind not in "fc":
        raise TypeError(f"logcumsumexp: the input must be a float or complex tensor, got "
                        f"{input.dtype}; convert it first (x.float())")
    axis = checked_dim(input, dim, "logcumsumexp")
    if input.ndim == 0:
        return apply(LogCumSumExp, input.reshape(1), axis=0).reshape(())
    return apply(LogCumSumExp, input, axis=axis)
