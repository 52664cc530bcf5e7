"""How an op runs on batched tensors (``vmap``): its record's batching rule, applied to the
whole batch at once.

``apply_batched`` is what ``record.apply`` calls when an input is a ``BatchedTensor``. It
takes the innermost vmap level among the inputs, hands the rule the batch values of the
inputs batched at that level (batch at dimension 0) and the others as they are, wraps the
rule's result (batch at dimension 0) as a batched tensor, and records the op in the graph at
the per-example level (for ``vmap(grad(f))``). The rule's own ops record on the batch values
(for ``grad(vmap(f))``).

Rules (``Op.vmap``) are short because most follow from a shortcut:

- ``BROADCAST``: element-wise ops; batched inputs get the batch in front and 1s for the
  dimensions they lack, so NumPy broadcasting lines the examples up (for ops whose inputs
  must share one shape, ``broadcasts = False``, unbatched inputs are expanded instead);
- ``AXIS``: one input and an ``axis`` parameter, shifted past the batch dimension.

An op without a rule runs once per example (a Python loop) with a one-time warning.

Example::

    >>> from gpugrad.ops.elementwise import Mul
    >>> Mul.vmap                                      # mul's rule: the element-wise shortcut
    BROADCAST
    >>> xs = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])  # a batch of two (2,) examples
    >>> y = gpugrad.tensor([[10.0], [100.0]])           # (2, 1), the same for every example
    >>> out = func.vmap(lambda x: x * y)(xs)          # per example: (2,) * (2, 1) -> (2, 2)
    >>> out.shape
    (2, 2, 2)
    >>> out[1]                                        # example 1: [3, 4] times each row of y
    tensor([[ 30.,  40.],
            [300., 400.]], device='cpu', dtype=float32)
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..autograd.batched import BatchedTensor, innermost_array, level_of
from .record import AXIS, BROADCAST, apply, record, share_version

__all__ = ["apply_batched", "lift", "with_batch", "with_batches", "batch_value", "batched_index",
           "selected_ndim", "raw_elementwise", "raw_over_axis", "level_of", "has_batched_param",
           "Mapped"]

_WARNED: set = set()


def _split(tensors, level):
    """Batch values (batch at 0) of the tensors batched at ``level``, the others as they
    are, and which were batched."""
    values, batched = [], []
    for t in tensors:
        if isinstance(t, BatchedTensor) and t._level is level:
            values.append(t._value)
            batched.append(True)
        else:
            values.append(t)
            batched.append(False)
    return values, tuple(batched)


def apply_batched(op, inputs, params):
    """``op(*inputs, **params)`` where some inputs (or index parameters) are batched (see
    the module docstring)."""
    parts = _batched_params(params) if params else ()      # per-example index parts
    level = level_of(list(inputs) + parts if parts else inputs)
    xs, batched = _split(inputs, level)
    rule, out = op.vmap, None
    if rule is BROADCAST:
        out = _broadcast(op, xs, batched, params)
    elif rule is AXIS:
        out = _shift_axis(op, xs, params)
    elif rule is not None:
        out = rule(xs, batched, **(_mark_params(params, level) if parts else params))
    if out is None:                     # no rule, or the rule does not cover this case
        out = _loop(op, inputs, params, level)
    result = BatchedTensor._make(out, level)
    if op.view and batched[0] and _shares_memory(out, xs[0]):
        share_version(result, inputs[0])
    return record(op, inputs, result, params)


def _shares_memory(a, b) -> bool:
    a, b = innermost_array(a), innermost_array(b)
    return bool(backend.xp_of(a).may_share_memory(a, b))


def has_batched_param(params) -> bool:
    """Whether a tuple parameter (an index) holds a batched tensor."""
    return bool(_batched_params(params))


def _batched_params(params) -> list:
    found = []
    for value in params.values():
        if isinstance(value, tuple):
            found.extend(p for p in value if isinstance(p, BatchedTensor))
    return found


class Mapped:
    """An index part batched at the level a rule is running for: ``value`` has the batch
    at dimension 0 (other parts, and parts batched at outer levels, stay as they are)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    @property
    def ndim(self) -> int:
        return self.value.ndim - 1

    @property
    def dtype(self):
        return self.value.dtype


def _mark_params(params, level):
    return {k: tuple(Mapped(p._value) if isinstance(p, BatchedTensor) and p._level is level
                     else p for p in v) if isinstance(v, tuple) else v
            for k, v in params.items()}


# ---------------------------------------------------------------------------------------------
# Shape helpers on batch values (the batch at dimension 0)
# ---------------------------------------------------------------------------------------------

def lift(x, ndim: int):
    """Batch value ``x`` (B, *s) as (B, 1, ..., 1, *s) with ``ndim`` dimensions after the
    batch, so it broadcasts against per-example shapes of ``ndim`` dimensions."""
    missing = ndim - (x.ndim - 1)
    if missing <= 0:
        return x
    from .shape import reshape_to
    return reshape_to(x, (x.shape[0],) + (1,) * missing + tuple(x.shape[1:]))


def with_batch(x, is_batched: bool, size: int):
    """``x`` with the batch at dimension 0: itself if batched, else broadcast to (size, ...)."""
    if is_batched:
        return x
    from .shape import BroadcastTo
    return apply(BroadcastTo, x, shape=(size,) + tuple(x.shape))


def with_batches(xs, batched) -> list:
    """Every batch value of ``xs`` with the batch at dimension 0 (the unbatched ones
    broadcast to the batch size of the batched ones)."""
    size = next(x.shape[0] for x, b in zip(xs, batched) if b)
    return [with_batch(x, b, size) for x, b in zip(xs, batched)]


def batch_value(t, level):
    """The batch value of ``t`` at ``level`` (batch at 0); broadcast to the batch if ``t``
    is the same for every example."""
    if isinstance(t, BatchedTensor) and t._level is level:
        return t._value
    return with_batch(t, False, level.size)


def _broadcast(op, xs, batched, params):
    if len(xs) == 1:                           # unary: the op itself, on the batch
        return apply(op, xs[0], **params)
    if not op.broadcasts:      # inputs of one shape: give each the batch
        return apply(op, *with_batches(xs, batched), **params)
    ndim = max(x.ndim - 1 if b else x.ndim for x, b in zip(xs, batched))
    lifted = [lift(x, ndim) if b else x for x, b in zip(xs, batched)]
    return apply(op, *lifted, **params)


def _shift_axis(op, xs, params):
    (x,) = xs
    return apply(op, x, **{**params, "axis": shift_axis(params["axis"], x.ndim - 1)})


def shift_axis(axis, ndim: int):
    """A per-example ``axis`` (int, tuple, or None for all of an ``ndim``-dimensional
    example) as the same axes of the batch value, past its batch dimension."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, tuple):
        return tuple(a % max(ndim, 1) + 1 for a in axis)
    return axis % max(ndim, 1) + 1


# ---------------------------------------------------------------------------------------------
# The fallback: one example at a time
# ---------------------------------------------------------------------------------------------

def _example(value, level, b: int):
    """Example ``b`` of ``value`` if it is batched at ``level``, else ``value``."""
    if isinstance(value, BatchedTensor) and value._level is level:
        from .indexing import GetItem
        return apply(GetItem, value._value, index=(b,), scatter_free=True)
    if isinstance(value, tuple):
        return tuple(_example(v, level, b) for v in value)
    return value


def _loop(op, inputs, params, level):
    if op.name not in _WARNED:
        _WARNED.add(op.name)
        warnings.warn(f"vmap: {op.name} has no batching rule here, so it runs once per example "
                      f"(a Python loop over {level.size}); the result is right but slow",
                      RuntimeWarning, stacklevel=4)
    from .shape import stack
    rows = []
    for b in range(level.size):
        xs = [_example(t, level, b) for t in inputs]
        kwargs = {k: _example(v, level, b) for k, v in params.items()}
        rows.append(apply(op, *xs, **kwargs))
    return stack(rows)


# ---------------------------------------------------------------------------------------------
# Indexing with a batch in front
# ---------------------------------------------------------------------------------------------

def _is_advanced(part) -> bool:
    return hasattr(part, "dtype") and not isinstance(part, Mapped)


def selected_ndim(ndim: int, index: tuple) -> int:
    """How many dimensions ``a[index]`` has for an ``a`` of ``ndim`` dimensions."""
    consumed = added = advanced = 0
    for p in index:
        if p is None:
            added += 1
        elif isinstance(p, slice):
            consumed += 1
            added += 1
        elif _is_advanced(p) and p.dtype.kind == "b":
            consumed += p.ndim
            advanced = max(advanced, 1)
        elif _is_advanced(p):
            consumed += 1
            advanced = max(advanced, p.ndim)
        elif p is not Ellipsis:
            consumed += 1                       # an int
    return added + (ndim - consumed) + advanced


def _is_int(part) -> bool:
    return isinstance(part, (int, np.integer))


def batched_index(index: tuple, size: int, x_batched: bool = True):
    """``index`` for a batch value (batch at 0), or None where it is not covered (the op
    then loops over the examples).

    NumPy puts the dimensions of separated index arrays (``t[[0, 1], :, [0, 1]]``) first, so a
    slice in front for the batch would land behind them: then the batch is indexed with an
    ``arange`` that joins the index arrays, and stays first. A slice in front does when the
    index has no arrays, or adjacent ones. Mapped parts (a per-example index such as
    ``logp[label]``) always index with the ``arange`` (when ``x`` is batched), which needs
    them first or separated.
    """
    parts = tuple(index)
    mapped = any(isinstance(p, Mapped) for p in parts)
    arrays = [i for i, p in enumerate(parts) if _is_advanced(p) or isinstance(p, Mapped)]
    advanced = sorted(arrays + [i for i, p in enumerate(parts) if _is_int(p)]) if arrays else []
    adjacent = not advanced or advanced[-1] - advanced[0] + 1 == len(advanced)
    if not mapped:
        if adjacent:
            return (slice(None),) + parts if x_batched else None
    elif adjacent and advanced[0] != 0:
        return None
    ndim = max(1 if p.dtype.kind == "b" else p.ndim for p in (parts[i] for i in arrays))
    physical = []
    for p in parts:
        if isinstance(p, Mapped):
            value = lift(p.value, ndim)
            physical.append(value if value._batched else value._array)
        else:
            physical.append(p)
    if x_batched:                       # example b reads row b
        like = parts[arrays[0]]
        device = (like.value.device if isinstance(like, Mapped) else like.device
                  if isinstance(like, BatchedTensor) else backend.device_of(like))
        rows = np.arange(size).reshape((size,) + (1,) * ndim)
        physical.insert(0, backend.asarray(rows, device=device))
    return tuple(physical)


def raw_elementwise(fn, *operands):
    """``fn`` (a raw-array function, not differentiated) on operands some of which are
    batched; the result is batched at the innermost level."""
    level = level_of(operands)
    values, batched = _split(operands, level)
    ndim = max((v.ndim - 1 if b else v.ndim) for v, b in zip(values, batched)
               if hasattr(v, "ndim"))
    lifted = [lift(v, ndim) if b else v for v, b in zip(values, batched)]
    return BatchedTensor._make(fn(*lifted), level)


def raw_over_axis(fn, x, axis):
    """``fn(value, axis)`` (a raw reduction over ``axis``, None for all) on batched ``x``,
    with the axis shifted past the batch."""
    axis = tuple(axis) if isinstance(axis, list) else axis
    return BatchedTensor._make(fn(x._value, shift_axis(axis, x.ndim)), x._level)


def mapped_size(index: tuple) -> int:
    """The batch size of the first mapped part of ``index``."""
    return next(p.value.shape[0] for p in index if isinstance(p, Mapped))
