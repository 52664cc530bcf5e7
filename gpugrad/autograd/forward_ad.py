"""Forward mode: dual tensors whose tangents ride along with the primal values.

Inside ``dual_level()``, ``make_dual(primal, tangent)`` gives a tensor that carries a tangent;
every op it meets computes its output's tangent right away with the op's jvp rule. There is
no tape: a tangent lives exactly as long as its tensor, so memory does not grow with the
length of the computation (the seed's table: forward mode O(1), reverse mode O(depth)).

Levels nest (each tangent is itself a tensor that may carry tangents of other levels), and
forward over reverse works: the rules of a backward pass are ops too, so tangents flow
through them, which is how ``gpugrad.func.hvp`` and ``hessian`` get second derivatives.

Example::

    >>> import gpugrad.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     x = fwAD.make_dual(gpugrad.tensor(2.0), gpugrad.tensor(1.0))
    ...     y = x ** 3
    ...     fwAD.unpack_dual(y).tangent      # 3 x^2 = 12
    tensor(12., device='cpu', dtype=float32)
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from typing import NamedTuple

from .graph import no_saved_tensors_hooks

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]


class _State(threading.local):
    def __init__(self):
        self.levels = []        # active level ids, innermost last
        self.enabled = True     # False while a custom Function's forward runs


_state = _State()
_level_ids = itertools.count()


def active_levels() -> list:
    return _state.levels


def enter_dual_level() -> int:
    """Start a new level and return its id (use ``dual_level()`` rather than this)."""
    level = next(_level_ids)
    _state.levels.append(level)
    return level


def exit_dual_level(level: int | None = None) -> None:
    """End ``level`` (the innermost by default): tangents of that level stop existing."""
    if not _state.levels:
        raise RuntimeError("exit_dual_level() without an active dual level")
    level = _state.levels[-1] if level is None else level
    if level not in _state.levels:
        raise RuntimeError(f"dual level {level} is not active")
    _state.levels.remove(level)


@contextlib.contextmanager
def dual_level():
    """A context in which dual tensors exist; yields the level id.

    Example::

        >>> from gpugrad.autograd.forward_ad import dual_level, make_dual, unpack_dual
        >>> x, v = gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([1.0, 0.0])
        >>> with dual_level():
        ...     y = make_dual(x, v).exp()
        ...     primal, tangent = unpack_dual(y)
        >>> tangent                          # exp(x) * v: the derivative along v
        tensor([2.718282, 0.      ], device='cpu', dtype=float32)
    """
    level = enter_dual_level()
    try:
        yield level
    finally:
        exit_dual_level(level)


@contextlib.contextmanager
def disabled():
    """Tangents are not propagated inside (a custom Function's forward uses its own jvp)."""
    previous, _state.enabled = _state.enabled, False
    try:
        yield
    finally:
        _state.enabled = previous


def _level(level):
    if level is None:
        if not _state.levels:
            raise RuntimeError("dual tensors exist only inside `with dual_level():`")
        return _state.levels[-1]
    if level not in _state.levels:
        raise RuntimeError(f"dual level {level} is not active")
    return level


def live_tangents(t) -> dict | None:
    """``t``'s tangents at levels that are still active (stale ones are dropped)."""
    tangents = t._tangents
    if not tangents:
        return None
    live = {k: v for k, v in tangents.items() if k in _state.levels}
    if len(live) != len(tangents):
        t._tangents = live or None
    return live or None


def make_dual(primal, tangent, level: int | None = None):
    """A tensor with the values of ``primal`` (shared memory) carrying ``tangent`` at
    ``level`` (the innermost). It stays differentiable with respect to ``primal``.

    Shapes: ``tangent`` must have ``primal``'s shape; it is cast to ``primal``'s dtype.
    """
    from ..ops.unary import astype
    from ..ops.shape import alias
    from ..tensor import Tensor
    level = _level(level)
    if not isinstance(primal, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual expects two tensors (primal, tangent)")
    if tuple(tangent.shape) != tuple(primal.shape):
        raise ValueError(f"make_dual: the tangent has shape {tuple(tangent.shape)} but the "
                         f"primal has shape {tuple(primal.shape)}; they must match")
    if primal.dtype.kind != "f":
        raise TypeError(f"make_dual: only floating-point tensors carry tangents, not "
                        f"{primal.dtype}")
    if tangent.device != primal.device:
        raise RuntimeError(f"make_dual: the tangent is on {tangent.device} and the primal on "
                           f"{primal.device}; move one with .to(...)")
    out = alias(primal)
    tangents = dict(live_tangents(primal) or {})
    tangents[level] = astype(tangent, primal.dtype)
    out._tangents = tangents
    return out


class UnpackedDualTensor(NamedTuple):
    primal: object
    tangent: object


def unpack_dual(tensor, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor`` at ``level``; ``tangent`` is None when it has none.

    The primal shares memory and graph with ``tensor`` but carries no tangent at that level.
    """
    if not _state.levels and level is None:
        return UnpackedDualTensor(tensor, None)
    level = _level(level)
    tangents = live_tangents(tensor)
    if not tangents or level not in tangents:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(strip(tensor, level), tangents[level])


def strip(t, level: int):
    """An alias of ``t`` (same memory, version counter and graph) without its tangent at
    ``level``; leaves keep accumulating gradients into the original tensor."""
    rest = {k: v for k, v in t._tangents.items() if k != level}
    return _alias(t, rest or None)


def _below(t, level: int):
    """``t`` with only its tangents of levels older than ``level``: the primal value that
    ``level`` sees (levels nest as in JAX: an older level's tangent lives inside the primal
    of a newer one, and a newer level's tangent carries the older levels' tangents)."""
    tangents = t._tangents
    if not tangents or all(k < level for k in tangents):
        return t
    return _alias(t, {k: v for k, v in tangents.items() if k < level} or None)


def _alias(t, tangents):
    out = t._shallow()
    out._version = t._version
    out._base = t._base if t._base is not None else t
    out._view_epoch = t._view_epoch if t._base is not None else t._version.rebased
    out.grad_fn, out.output_nr, out._requires_grad = t.grad_fn, t.output_nr, t._requires_grad
    if t.grad_fn is None and t._requires_grad:
        accumulator = t._grad_accumulator()
        out._accumulator = lambda: accumulator   # a strong stand-in for the weakref slot
    out._tangents = tangents
    return out


class JvpContext:
    """What a jvp rule sees: primal inputs ``xs`` and output ``ans`` (without the tangents of
    the level being computed), shapes, dtypes and the op's parameters."""

    def __init__(self, op, xs, ans, params):
        self.op = op
        self.xs = tuple(xs)
        self.ans = ans
        self.shapes = tuple(x.shape for x in xs)
        self.dtypes = tuple(x.dtype for x in xs)
        self.out_shape = tuple(ans.shape)
        self.__dict__.update(params)

    def needs(self, i: int) -> bool:
        return True


def propagate(op, inputs, result, params, node) -> None:
    """Give ``result`` the tangents of op(``inputs``), one per active level any input has.

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
    for level in levels:
        xs = [_below(t, level) for t in inputs]
        ts = [ts.get(level) if ts else None for ts in per_input]
        ans = _alias(result, dict(tangents) or None) if tangents else result
        with no_saved_tensors_hooks():       # a checkpoint must not see the rule's own ops
            tangent = _apply_rule(op, JvpContext(op, xs, ans, params), ts, params)
        if tangent is not None:
            tangents[level] = _check_tangent(op, tangent, result)
    if tangents:
        result._tangents = tangents
        if node is not None and node._saved_ans is not None:
            node._saved_ans.tangents = tangents


def _apply_rule(op, ctx, ts, params):
    from ..ops.record import ELEMENTWISE, LINEAR, apply, zeros_with
    rule = op.jvp
    if rule is None:
        raise NotImplementedError(f"{op.name} has no forward-mode (jvp) rule")
    if rule is LINEAR:
        like = next(t for t in ts if t is not None)
        filled = [t if t is not None else zeros_with(like, ctx.shapes[i], ctx.dtypes[i])
                  for i, t in enumerate(ts)]
        return apply(op, *filled, **params)
    if rule is ELEMENTWISE:
        result = op.vjp(ctx, ts[0])
        return result[0] if isinstance(result, tuple) else result
    return rule(ctx, *ts)


def _check_tangent(op, tangent, result):
    if tuple(tangent.shape) != tuple(result.shape):
        raise RuntimeError(f"{op.name}'s jvp rule returned a tangent of shape "
                           f"{tuple(tangent.shape)} for an output of shape "
                           f"{tuple(result.shape)}")
    if tangent.dtype != result.dtype:
        from ..ops.unary import astype
        tangent = astype(tangent, result.dtype)
    return tangent
