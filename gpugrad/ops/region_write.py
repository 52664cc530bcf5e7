"""The records of a write into a region: ``SetItem`` (``x[index] = v`` out of place: the node
an in-place write gives its tensor, PyTorch's ``CopySlices``) and ``ZeroAt`` (a gradient
with the overwritten region zeroed). The in-place ops (inplace.py), the view replay and the
scatter ops record them.

Example::

    >>> from gpugrad.ops.record import apply
    >>> from gpugrad.ops.region_write import SetItem
    >>> x = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = apply(SetItem, x, gpugrad.tensor(9.0), index=(1,), scatter_free=True)
    >>> y.tolist()
    [1.0, 9.0, 3.0]
    >>> y.sum().backward(); x.grad.tolist()      # the overwritten element gets none
    [1.0, 0.0, 1.0]
"""

from __future__ import annotations

from . import batching as _batching
from .indexing import GetItem
from .op_class import HOLOMORPHIC
from .record import Op, apply, zeros_with
from .reduce import sum_to

__all__ = ["SetItem", "ZeroAt"]


class SetItem(Op):
    """``x`` with ``x[index] = v`` (out of place; the in-place form records this)."""

    complex_grad = HOLOMORPHIC      # linear in x and v

    @staticmethod
    def vmap(xs, batched, index, scatter_free):
        if any(isinstance(p, _batching.Mapped) for p in index):
            return None
        (x, v), (bx, bv) = xs, batched
        x = _batching.with_batch(x, bx, (x if bx else v).shape[0])
        if bv:
            v = _batching.lift(v, _batching.selected_ndim(x.ndim - 1, index))
        return apply(SetItem, x, v, index=_batching.batched_index(index, x.shape[0]),
                     scatter_free=scatter_free)

    @staticmethod
    def forward(xp, x, v, index, scatter_free):
        out = x.copy()
        out[index] = v
        return out

    @staticmethod
    def vjp(ctx, g):
        gx = apply(ZeroAt, g, index=ctx.index) if ctx.needs(0) else None
        gv = None
        if ctx.needs(1):
            picked = apply(GetItem, g, index=ctx.index, scatter_free=ctx.scatter_free)
            gv = sum_to(picked, ctx.shapes[1])
        return gx, gv

    @staticmethod
    def jvp(ctx, tx, tv):
        like = tx if tx is not None else tv
        tx = tx if tx is not None else zeros_with(like, ctx.shapes[0], ctx.dtypes[0])
        tv = tv if tv is not None else zeros_with(like, ctx.shapes[1], ctx.dtypes[1])
        return apply(SetItem, tx, tv, index=ctx.index, scatter_free=ctx.scatter_free)


class ZeroAt(Op):
    """``g`` with zeros written at ``index`` (the part of a gradient that was overwritten)."""

    complex_grad = HOLOMORPHIC      # linear

    @staticmethod
    def vmap(xs, batched, index):
        if any(isinstance(p, _batching.Mapped) for p in index):
            return None
        return apply(ZeroAt, xs[0], index=_batching.batched_index(index, xs[0].shape[0]))

    @staticmethod
    def forward(xp, g, index):
        out = g.copy()
        out[index] = 0
        return out

    @staticmethod
    def vjp(ctx, g):
        return apply(ZeroAt, g, index=ctx.index)

    @staticmethod
    def jvp(ctx, t):
        return apply(ZeroAt, t, index=ctx.index)
