"""Forward mode's levels: which dual levels are active, and the tangents a tensor carries
at them. The ops read this state (``gpugrad/ops/jvp.py`` runs their forward rules); the
public forward-mode API, ``make_dual`` and ``unpack_dual``, is ``forward_ad.py``.

Example::

    >>> from gpugrad.autograd import dual_levels
    >>> with dual_levels.dual_level() as level:
    ...     dual_levels.active_levels() == [level]
    True
    >>> dual_levels.active_levels()
    []
"""

from __future__ import annotations

import contextlib
import itertools
import threading

from .graph import grad_accumulator

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "active_levels", "disabled",
           "live_tangents", "strip", "below", "alias_with_tangents", "resolve_level"]


class _State(threading.local):
    def __init__(self):
        self.levels = []        # active level ids, innermost last
        self.enabled = True     # False while a custom Function's forward runs


_state = _State()
_level_ids = itertools.count()


def active_levels() -> list:
    """The ids of the open dual levels, outermost first (the list itself: do not change it)."""
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


def resolve_level(level):
    """``level``, or the innermost active level for None; an error outside ``dual_level``."""
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


def strip(t, level: int):
    """An alias of ``t`` (same memory, version counter and graph) without its tangent at
    ``level``; leaves keep accumulating gradients into the original tensor."""
    rest = {k: v for k, v in t._tangents.items() if k != level}
    return alias_with_tangents(t, rest or None)


def below(t, level: int):
    """``t`` with only its tangents of levels older than ``level``: the primal value that
    ``level`` sees (levels nest as in JAX: an older level's tangent lives inside the primal
    of a newer one, and a newer level's tangent carries the older levels' tangents)."""
    tangents = t._tangents
    if not tangents or all(k < level for k in tangents):
        return t
    return alias_with_tangents(t, {k: v for k, v in tangents.items() if k < level} or None)


def alias_with_tangents(t, tangents):
    """An alias of ``t`` (same memory, version counter and graph) carrying ``tangents``."""
    out = t._shallow()
    out._version_counter = t._version_counter
    out._base = t._base if t._base is not None else t
    out._view_epoch = t._view_epoch if t._base is not None else t._version_counter.rebased
    out.grad_fn, out.output_nr, out._requires_grad = t.grad_fn, t.output_nr, t._requires_grad
    if t.grad_fn is None and t._requires_grad:
        accumulator = grad_accumulator(t)
        out._accumulator = lambda: accumulator   # a strong stand-in for the weakref slot
    out._tangents = tangents
    return out
