"""Forward-mode propagation: after an op runs, its jvp rule computes the output's tangent
at every active dual level (``gpugrad/autograd/dual_levels.py``), right away, with no tape.

Example::

    >>> import gpugrad.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     y = fwAD.make_dual(gpugrad.tensor(3.0), gpugrad.tensor(1.0)).exp()
    ...     round(fwAD.unpack_dual(y).tangent.item(), 4)     # d/dx exp(x) at 3
    20.0855
"""

from __future__ import annotations

from ..autograd.dual_levels import _state, alias_with_tangents, below, live_tangents
from ..autograd.saved_hooks import no_saved_tensors_hooks
from ..tensor import Tensor
from . import record
from . import unary  # a module: unary.py imports record, which imports this file

__all__ = ["JvpContext", "propagate"]


class JvpContext:
    """What a jvp rule sees: primal inputs ``xs`` and output ``ans`` (without the tangents of
    the level being computed), the op's ``aux`` (a tensor or None), shapes, dtypes and the
    op's parameters."""

    def __init__(self, op, xs, ans, params, aux=None):
        self.op = op
        self.xs = tuple(xs)
        self.ans = ans
        self.aux = aux
        self.shapes = tuple(x.shape for x in xs)
        self.dtypes = tuple(x.dtype for x in xs)
        self.out_shape = tuple(ans.shape)
        self.__dict__.update(params)

    def needs(self, i: int) -> bool:
        return True


def propagate(op, inputs, result, params, node, aux=None) -> None:
    """Give ``result`` the tangents of op(``inputs``), one per active level any input has
    (``aux``: the raw auxiliary value the op's forward returned, or None).

    Levels go oldest first; the rule for a level sees inputs and output carrying only the
    tangents of older levels, so the tangents it computes carry the mixed derivatives.
    """
    if not _state.enabled:
        return
    per_input = [live_tangents(t) if t._tangents else None for t in inputs]
    levels = [level for level in _state.levels if any(ts and level in ts for ts in per_input)]
    if not levels:
        return
    tangents = {}
    aux = None if aux is None else Tensor._wrap(aux)
    for level in levels:
        xs = [below(t, level) for t in inputs]
        ts = [ts.get(level) if ts else None for ts in per_input]
        ans = alias_with_tangents(result, dict(tangents) or None) if tangents else result
        with no_saved_tensors_hooks():       # a checkpoint must not see the rule's own ops
            tangent = _apply_rule(op, JvpContext(op, xs, ans, params, aux), ts, params)
        if tangent is not None:
            tangents[level] = _check_tangent(op, tangent, result)
    if tangents:
        result._tangents = tangents
        if node is not None and node._saved_ans is not None:
            node._saved_ans.tangents = tangents


def _apply_rule(op, ctx, ts, params):
    rule = op.jvp
    if rule is None:
        raise NotImplementedError(f"{op.name} has no forward-mode (jvp) rule")
    if rule is record.LINEAR:
        like = next(t for t in ts if t is not None)
        filled = [t if t is not None else record.zeros_with(like, ctx.shapes[i], ctx.dtypes[i])
                  for i, t in enumerate(ts)]
        return record.apply(op, *filled, **params)
    if rule is record.ELEMENTWISE:
        result = op.vjp(ctx, ts[0])
        return result[0] if isinstance(result, tuple) else result
    return rule(ctx, *ts)


def _check_tangent(op, tangent, result):
    if tuple(tangent.shape) != tuple(result.shape):
        raise RuntimeError(f"{op.name}'s jvp rule returned a tangent of shape "
                           f"{tuple(tangent.shape)} for an output of shape "
                           f"{tuple(result.shape)}")
    if tangent.dtype != result.dtype:
        tangent = unary.astype(tangent, result.dtype)
    return tangent
