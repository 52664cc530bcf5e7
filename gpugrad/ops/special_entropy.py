"""Entropy terms, element-wise, as PyTorch's ``torch.special``: ``entr`` (-x log x) and
``xlog1py`` (x log(1 + y), 0 where x == 0). Records, so that their values and gradients at
0 are PyTorch's (a composite through ``where`` would give the wrong gradient there).

Example::

    >>> from gpugrad.ops.special_entropy import entr, xlog1py
    >>> entr(gpugrad.tensor([0.0, 0.5, -1.0], dtype="float64")).tolist()
    [0.0, 0.34657359027997264, -inf]
    >>> xlog1py(gpugrad.tensor([0.0, 2.0]), gpugrad.tensor([-1.0, np.e - 1])).tolist()
    [0.0, 2.0]
"""

from __future__ import annotations

from .elementwise import where
from .pointwise_binary import operands
from .promotion import tangent_sum
from .record import BROADCAST, ELEMENTWISE, Op, apply
from .reduce import sum_to
from .unary import _unary, log

__all__ = ["entr", "xlog1py"]


class Entr(Op):
    """-x log x for x > 0, 0 at 0, -inf below (NaN stays NaN); its derivative is
    -(1 + log x) (inf at 0, NaN below, as PyTorch's)."""

    save = "xs"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x):
        positive = x > 0
        value = -x * xp.log(xp.where(positive, x, x.dtype.type(1)))
        return xp.where(positive, value, xp.where(x == 0, x.dtype.type(0),
                                                  xp.where(x < 0, -xp.inf, x)))

    @staticmethod
    def vjp(ctx, g):
        return g * -(log(ctx.xs[0]) + 1.0)

    jvp = ELEMENTWISE


class Xlog1py(Op):
    """x * log1p(y), 0 where x == 0 (unless y is NaN), as PyTorch's; d/dx applied to g is
    xlog1py(g, y), masked to 0 where x == 0 and y <= -1; d/dy = x / (1 + y)."""

    save = "xs"
    broadcasts = True
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x, y):
        zero = (x == 0) & ~xp.isnan(y)
        return x * xp.log1p(xp.where(zero, y.dtype.type(0), y))     # (no log1p(-1) computed)

    @staticmethod
    def vjp(ctx, g):
        x, y = ctx.xs
        return (sum_to(_log1p_part(g, x, y), ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(g * (x / (y + 1.0)), ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, tx, ty):
        x, y = ctx.xs
        return tangent_sum(ctx, None if tx is None else _log1p_part(tx, x, y),
                           None if ty is None else ty * (x / (y + 1.0)))


def _log1p_part(v, x, y):
    return where((x == 0) & (y <= -1.0), 0.0, apply(Xlog1py, v, y))


def entr(input):
    """The entropy term -x log x, element-wise (``torch.special.entr``): 0 at 0, -inf for
    x < 0; any shape, float dtype kept.

    Example::

        >>> from gpugrad.ops.special_entropy import entr
        >>> entr(gpugrad.tensor([1.0, 0.0])).tolist()
        [-0.0, 0.0]
    """
    return _unary(Entr, input)


def xlog1py(input, other):
    """input * log1p(other), 0 where input == 0 (unless other is NaN), element-wise
    (``torch.special.xlog1py``); shapes broadcast, either may be a Python number; integers
    give float32.

    Example::

        >>> from gpugrad.ops.special_entropy import xlog1py
        >>> xlog1py(gpugrad.tensor([0.0, 3.0]), 0.0).tolist()
        [0.0, 0.0]
    """
    return apply(Xlog1py, *operands("xlog1py", input, other))
