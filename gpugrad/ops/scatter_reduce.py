"""Reducing values into positions, as PyTorch spells it: ``scatter_reduce`` with "sum",
"prod", "mean", "amax" or "amin" (and the checks the scatter family shares).

"sum" and "mean" are linear: composites of the indexing records (``ScatterAdd``,
``ZeroAt``), whose rules they use. "prod", "amax" and "amin" are the record
``ScatterReduce``: its forward reduces with ``ufunc.at``; its rules weigh each input by its
partial derivative, as PyTorch's do: for "amax"/"amin" the gradient is split evenly among
the elements equal to the result; for "prod" it is the product of the others, zeros
included (computed without dividing by a zero).

One difference from PyTorch (2.13): ties of "amax"/"amin" with ``include_self=False``.
PyTorch still counts the input's own element among the ties when it equals the result,
although it was left out of the reduction: with ``x = [1, 0]``, ``src = [1, 1]`` into
place 0, each ``src`` gets 1/3 of the gradient and x nothing, so the gradients sum to 2/3
of the output's. gpugrad counts only the elements reduced (1/2 each), so the gradients
sum to the output's, as a derivative of the result must.

Example::

    >>> from gpugrad.ops.scatter_reduce import scatter_reduce
    >>> x = gpugrad.tensor([0.0, 0.0, 5.0], requires_grad=True)
    >>> src = gpugrad.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    >>> y = scatter_reduce(x, 0, gpugrad.tensor([0, 0, 1, 2]), src, "amax")
    >>> y.tolist()
    [3.0, 3.0, 5.0]
    >>> y.sum().backward()
    >>> src.grad.tolist()                       # each place's maximum takes its gradient
    [0.0, 1.0, 1.0, 0.0]
    >>> x.grad.tolist()
    [0.0, 0.0, 1.0]
"""

from __future__ import annotations

import numpy as np

from .. import backend, creation
from ..settings import alert_not_deterministic
from ..autograd.capture_mode import refuse_host_sync
from ..tensor import Tensor
from . import batching as _batching
from .elementwise import where
from .indexing import GetItem, ScatterAdd, getitem, normalize_index
from .inplace import in_place_method
from .region_write import ZeroAt
from .record import Op, apply
from .shape_errors import checked_dim
from .selection import check_index_range, integer_index

__all__ = ["scatter_reduce"]   # (checked_scatter, index_grid...: shared with scatter_ops.py)

_REDUCES = ("sum", "prod", "mean", "amax", "amin")
_UFUNCS = {"prod": "multiply", "amax": "maximum", "amin": "minimum"}


# ---------------------------------------------------------------------------------------------
# The checks and index of the scatter family (scatter_ops.py uses them too)
# ---------------------------------------------------------------------------------------------

def index_grid(index, dim: int, device) -> tuple:
    """The full advanced index ``out[i][j]... at index[i][j]... along dim`` of ``index``."""
    parts = []
    for d, n in enumerate(index.shape):
        if d == dim:
            parts.append(index)
        else:
            lined = [1] * index.ndim
            lined[d] = n
            parts.append(creation.arange(n, device=device).reshape(*lined))
    return tuple(parts)


def checked_scatter(op: str, input, dim, index, src=None):
    """``(axis, index)`` after PyTorch's checks of a scatter/gather-like call (a 0-d index
    into a vector comes back 1-d)."""
    axis = checked_dim(input, dim, op)
    index = integer_index(index, op)
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise ValueError(f"{op}: the index must have as many dimensions as the input; got "
                         f"index of shape {tuple(index.shape)} for input of shape "
                         f"{tuple(input.shape)}")
    if src is not None and src.ndim != index.ndim and not (index.ndim <= 1 and src.ndim <= 1):
        raise ValueError(f"{op}: the index must have as many dimensions as src; got index of "
                         f"shape {tuple(index.shape)} for src of shape {tuple(src.shape)}")
    for d in range(index.ndim):
        if d != axis and index.shape[d] > input.shape[d]:
            raise ValueError(f"{op}: the index {tuple(index.shape)} is larger than the input "
                             f"{tuple(input.shape)} in dimension {d}")
    if src is not None and index.ndim <= 1 and src.ndim <= 1:   # 0-d: 1-d of one, as torch's
        if index.numel() > src.numel():
            raise ValueError(f"{op}: the index {tuple(index.shape)} is larger than src "
                             f"{tuple(src.shape)} (it has more elements)")
    elif src is not None:
        for d in range(index.ndim):
            if index.shape[d] > src.shape[d]:
                raise ValueError(f"{op}: the index {tuple(index.shape)} is larger than src "
                                 f"{tuple(src.shape)} in dimension {d}")
    check_index_range(index, input.shape[axis] if input.ndim else 1, op,
                      f"dimension {dim}'s size")
    return axis, (index.reshape(1) if index.ndim < input.ndim else index)


def check_same_dtype(op: str, input, src) -> None:
    """Refuse a ``src`` (or ``source``) whose dtype is not ``input``'s, as PyTorch's scatter
    family does (it does not promote)."""
    if src.dtype != input.dtype:
        raise TypeError(f"{op}: src must have the input's dtype ({input.dtype}), got "
                        f"{src.dtype}; convert it first (src.to(input.dtype))")


def src_part(src, index):
    """The leading ``index.shape`` block of ``src`` (PyTorch reads only that much; a 0-d
    index or src counts as 1-d of one element)."""
    if tuple(src.shape) == tuple(index.shape):
        return src
    if src.ndim != index.ndim:                  # one of them 0-d, the other 1-d
        return src.reshape(-1)[:1].reshape(tuple(index.shape))
    return getitem(src, tuple(slice(0, n) for n in index.shape))


# ---------------------------------------------------------------------------------------------
# The record: "prod", "amax", "amin"
# ---------------------------------------------------------------------------------------------

def _identity(reduce: str, dtype):
    """The value that leaves ``reduce`` unchanged, in ``dtype``."""
    if reduce == "prod":
        return 1
    if dtype.kind == "b":
        return reduce == "amin"
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return info.min if reduce == "amax" else info.max
    return -np.inf if reduce == "amax" else np.inf


def _reduce_at(xp, ufunc_name: str, out, index, v, rounds: bool = False) -> None:
    """``ufunc.at(out, index, v)``: ``out[index] = ufunc(out[index], v)`` with repeated places
    each applied in turn. NumPy's ``ufunc.at`` where it is there (``rounds=False``); on CuPy
    maximum/minimum by ``backend.scatter_extreme`` (cupyx's scatter_max/min); elsewhere
    (multiply: CuPy has no ``at`` for it) in rounds, each writing every place at most once
    (the k-th value aimed at a place goes in round k), which reads their count on the
    host."""
    ufunc = getattr(xp, ufunc_name)
    if xp is np and not rounds:
        ufunc.at(out, index, v)
        return
    if ufunc_name == "add":
        alert_not_deterministic("scatter_reduce (sum, mean)", "cuda")
    if not rounds and ufunc_name in ("maximum", "minimum") and \
            backend.scatter_extreme(xp, ufunc_name, out, index, v):
        return                                  # (CuPy: cupyx.scatter_max/min, no host read)
    if xp is not np:
        refuse_host_sync(f"scatter_reduce's {ufunc_name} in rounds (their count is read on "
                         f"the host)")
    places = xp.arange(out.size).reshape(out.shape)[index]
    values = xp.broadcast_to(v, places.shape).reshape(-1)
    places = places.reshape(-1)
    if places.size == 0:
        return
    order = xp.argsort(places, kind="stable")
    ordered = places[order]
    rank = xp.arange(ordered.size) - xp.searchsorted(ordered, ordered, side="left")
    flat = out.reshape(-1)                      # (out is a fresh C-contiguous array)
    for r in range(int(rank.max()) + 1):
        picked = order[rank == r]
        targets = places[picked]
        flat[targets] = ufunc(flat[targets], values[picked])


def _at(t, index):
    return apply(GetItem, t, index=index, scatter_free=False)


def _added(t, shape, index):
    return apply(ScatterAdd, t, shape=shape, index=index, scatter_free=False)


def _weights(ctx):
    """``(ws, wv)``: each input's partial derivative of the output at its own place (x's
    zero where ``include_self=False`` left it out), so ``grad_x = g * ws``, ``grad_v =
    g[index] * wv``; written in gpugrad ops (differentiable again)."""
    (x, v), ans, index, shape = ctx.xs, ctx.ans, ctx.index, tuple(ctx.shapes[0])
    dtype = x.dtype
    if ctx.reduce == "prod":
        if ctx.include_self:
            masked_x = where(x == 0, 1.0, x)
            ws = apply(ScatterReduce, masked_x, v, index=index, reduce="prod",
                       include_self=True) / masked_x
        else:
            ws = apply(ZeroAt, creation.ones(shape, dtype=dtype, device=x.device), index=index)
        zero = v == 0
        zeros_there = _at(_added(zero.astype(dtype), shape, index), index)
        single = zero & (zeros_there == 1)          # the one zero at its place: the others'
        others = apply(ScatterReduce, x, where(single, 1.0, v), index=index, reduce="prod",
                       include_self=ctx.include_self)
        wv = where(single, _at(others, index), _at(ans, index) / where(zero, 1.0, v))
        return ws, wv
    x_ties = (x == ans).astype(dtype)               # amax, amin: ties share evenly
    if not ctx.include_self:
        x_ties = apply(ZeroAt, x_ties, index=index)
    v_ties = (v == _at(ans, index)).astype(dtype)
    count = x_ties + _added(v_ties, shape, index)
    return x_ties / count, v_ties / _at(count, index)


class ScatterReduce(Op):
    """``x`` with each ``v`` reduced into ``x[index]`` ("prod", "amax" or "amin"); with
    ``include_self=False`` the places written start from the values of ``v`` alone."""

    save = "xs ans"

    @staticmethod
    def forward(xp, x, v, index, reduce, include_self):
        out = x.copy()
        if not include_self:
            out[index] = _identity(reduce, x.dtype)
        _reduce_at(xp, _UFUNCS[reduce], out, index, v)
        return out

    @staticmethod
    def vjp(ctx, g):
        ws, wv = _weights(ctx)
        gx = g * ws if ctx.needs(0) else None
        gv = _at(g, ctx.index) * wv if ctx.needs(1) else None
        return gx, gv

    @staticmethod
    def jvp(ctx, tx, tv):
        ws, wv = _weights(ctx)
        out = None if tx is None else tx * ws
        if tv is not None:
            part = _added(tv * wv, tuple(ctx.shapes[0]), ctx.index)
            out = part if out is None else out + part
        return out

    @staticmethod
    def vmap(xs, batched, index, reduce, include_self):
        if any(isinstance(p, _batching.Mapped) for p in index):
            return None
        size = next(t.shape[0] for t, b in zip(xs, batched) if b)
        x, v = (_batching.with_batch(t, b, size) for t, b in zip(xs, batched))
        return apply(ScatterReduce, x, v, index=_batching.batched_index(index, size),
                     reduce=reduce, include_self=include_self)


# ---------------------------------------------------------------------------------------------
# The function
# ---------------------------------------------------------------------------------------------

def _mean_of(total, count, dtype):
    """``total / count`` in ``dtype`` (integers: rounded down, as PyTorch's)."""
    if dtype.kind in "fc":
        return total / count.astype(dtype)
    if dtype.kind == "b":
        return total
    wide = "uint64" if dtype == np.uint64 else "int64"   # exact: no float64 above 2^53
    return (total.astype(wide) // count.astype(wide)).astype(dtype)


def scatter_reduce(input, dim: int, index, src, reduce: str, *, include_self: bool = True):
    """``input`` with each ``src[i][j]`` reduced into ``out[index[i][j]][j]`` (``dim=0``; and
    so on), as ``torch.scatter_reduce``: ``reduce`` is "sum", "prod", "mean", "amax" or
    "amin"; with ``include_self=False`` the places written reduce the values of ``src``
    alone (the others keep ``input``'s). "mean" of integers rounds down. Differentiable in
    ``input`` and ``src``, with PyTorch's gradients (ties of "amax"/"amin" share it evenly)
    except for ties with ``include_self=False``, where PyTorch also counts the left-out
    input element and gpugrad does not (the module docstring).

    Shapes: input (..., n, ...); index and src with input's number of dimensions, index no
    larger than src anywhere nor than input outside ``dim``; the result has input's shape.

    Example::

        >>> from gpugrad.ops.scatter_reduce import scatter_reduce
        >>> x = gpugrad.tensor([1.0, 2.0, 3.0])
        >>> i = gpugrad.tensor([0, 0, 2])
        >>> src = gpugrad.tensor([4.0, 6.0, 8.0])
        >>> scatter_reduce(x, 0, i, src, "mean").tolist()
        [3.6666667461395264, 2.0, 5.5]
        >>> scatter_reduce(x, 0, i, src, "prod", include_self=False).tolist()
        [24.0, 2.0, 8.0]
    """
    if reduce not in _REDUCES:
        raise ValueError(f"scatter_reduce: reduce must be one of {_REDUCES}, got {reduce!r}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce: src must be a tensor, got {type(src).__name__}; "
                        f"for a number use gpugrad.full_like(index, value, dtype=input.dtype)")
    axis, index = checked_scatter("scatter_reduce", input, dim, index, src)
    check_same_dtype("scatter_reduce", input, src)
    if input.ndim == 0:
        return scatter_reduce(input.reshape(1), 0, index.reshape(-1), src.reshape(-1),
                              reduce, include_self=include_self).reshape(())
    include_self = bool(include_self)
    v = src_part(src, index)
    parts, _ = normalize_index(input, index_grid(index, axis, input.device))
    if reduce in _UFUNCS:
        return apply(ScatterReduce, input, v, index=parts, reduce=reduce,
                     include_self=include_self)
    shape = tuple(input.shape)
    base = input if include_self else apply(ZeroAt, input, index=parts)
    total = base + _added(v, shape, parts)
    if reduce == "sum":
        return total
    count = _added(creation.ones(tuple(index.shape), dtype="int64", device=input.device),
                   shape, parts)
    count = count + 1 if include_self else where(count == 0, 1, count)
    return _mean_of(total, count, input.dtype)


METHODS: dict = {"scatter_reduce": scatter_reduce,
                 "scatter_reduce_": in_place_method(scatter_reduce)}
