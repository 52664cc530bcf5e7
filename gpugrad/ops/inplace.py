"""In-place ops: add_, sub_, mul_, div_, zero_, fill_, copy_ and ``x[index] = value``.

Each writes into the tensor's memory and bumps its version counter, so a rule that saved the
old value notices (and says so) instead of computing a wrong gradient. Rules, as in PyTorch:

- a leaf that requires grad cannot be modified in place while grad mode is on (update
  parameters under ``no_grad()``);
- when the op must be recorded (grad mode on and something requires grad), the tensor's
  ``grad_fn`` becomes the op's node, whose input is the tensor's previous value;
- a view (from indexing, reshape, transpose...) modified in place while recording gives its
  base a new node, ``base[region] = new values`` (PyTorch's ``CopySlices``), and is itself
  made again as ``base[region]``; other views of that base are made again when next used
  (``view_replay.py``). Refused, as there: views of a leaf that requires grad, and views
  made under ``no_grad()`` of a tensor that requires grad. What ``detach()`` makes is a root
  of its own: an in-place op on it is recorded on it alone, never on the tensor it shares
  memory with.

Example::

    >>> x = gpugrad.zeros(3)
    >>> x[1] = 5.0
    >>> x += 1
    >>> x.tolist()
    [1.0, 6.0, 1.0]
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import dual_levels
from ..autograd.saved_hooks import is_checkpoint_recomputing
from ..autograd.mode import _state
from ..autograd.compile_mode import _state as _compiling, kernel, note_reads, written
from . import batching as _batching
from . import record as _record_module
from .elementwise import as_operand, minus as sub, mul, plus as add, true_divide as div
from .record import apply, record
from .unary import Clone
from .indexing import GetItem, normalize_index
from . import view_replay
from .raw_writes import (_as_array_value, _cast_into, _copy, _copy_into, _fill, _set_at,
                         _ufunc_into)
from .region_write import SetItem
from ..scalar_casts import NUMPY_INTS, WRITTEN_NUMBERS, checked_scalar, wrapped_int
from ..tensor import Tensor
from ..tensor_grad import INFERENCE_INPLACE, InferenceVersionCounter

__all__ = ["add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "setitem"]


def _check(t, name: str, operands) -> bool:
    """Refuse the cases autograd cannot follow; return whether the op must be recorded
    (for reverse mode, or because a forward-mode tangent is involved)."""
    grad_mode = _state.grad_enabled
    capturing = is_checkpoint_recomputing()     # a checkpoint's recomputation: values only
    if t._base is not None and _record_module.views_may_be_stale and not t._requires_grad:
        view_replay.refresh_grown(name, t)      # (its base took a graph since it was taken)
    if grad_mode and not capturing and t.grad_fn is None and t._requires_grad:
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad (shape {tuple(t.shape)}, {t.dtype}) "
            f"cannot be modified in place while grad mode is on, because backward may need "
            f"its value. Update it under `with gpugrad.no_grad():` (as optimizers do) or work "
            f"on a copy: y = x.clone().")
    tensors = [t] + [o for o in operands if isinstance(o, Tensor)]
    record = grad_mode and any(x._requires_grad for x in tensors)
    if dual_levels.active_levels():
        record = record or any(x._tangents and dual_levels.live_tangents(x) for x in tensors)
    if record and not capturing and t._base is not None:
        _check_view(t, name, grad_mode)
    return record


def _check_view(t, name: str, grad_mode: bool) -> None:
    """Refuse an in-place op on view ``t`` that PyTorch refuses too."""
    base = t._base
    if grad_mode and base._requires_grad and base.grad_fn is None:
        raise RuntimeError(
            f"{name}: this tensor (shape {tuple(t.shape)}) is a view (from indexing, reshape, "
            f"transpose...) of a leaf tensor that requires grad, which cannot be modified in "
            f"place while grad mode is on. Update the leaf under `with gpugrad.no_grad():`, "
            f"or work on a copy: y = x.clone(), then modify y's view.")
    if base._requires_grad and t.grad_fn is None and t._view_epoch == t._version_counter.rebased:
        raise RuntimeError(
            f"{name}: this tensor (shape {tuple(t.shape)}) shares memory with a tensor that "
            f"requires grad, but was made from it under no_grad(), so the "
            f"change cannot be recorded in that tensor's graph. Take the view with grad mode "
            f"on, or clone() it first.")


def _raw(value, t):
    """``value`` as something NumPy/CuPy can write into ``t``: a scalar or an array on
    ``t``'s device."""
    if isinstance(value, (numbers.Number, np.generic)):
        return value
    if not isinstance(value, Tensor):
        value = as_operand(value, t)
    backend.check_same_device("in-place op", [t._array, value._array])
    note_reads(value)
    return value._array


def _write(t, name: str, write, *args):
    """Run ``write(array, *args)`` on ``t``'s memory with clear errors, then bump its
    version (a compiled step runs the write again at every replay)."""
    if t._version_counter.__class__ is InferenceVersionCounter and not _state.inference:
        raise RuntimeError(INFERENCE_INPLACE)   # (before the write: nothing half-done)
    try:
        if _compiling.recorder is None:         # (the common case: no note to take)
            write(t._array, *args)
            t._version_counter.value += 1
        else:
            note_reads(t)
            written(write, [t._version_counter], t._array, *args)
    except TypeError as exc:
        raise TypeError(f"{name}: the result cannot be stored in this {t.dtype} tensor in "
                        f"place ({exc}); use the out-of-place form instead") from None
    except ValueError as exc:
        hint = ""
        if not getattr(t._array.flags, "writeable", True):
            hint = (" This tensor's memory is read-only (a broadcast view, or an array "
                    "imported read-only, e.g. from JAX through DLPack): clone() it first.")
        raise ValueError(f"{name}: cannot write into this tensor of shape {tuple(t.shape)} in "
                         f"place ({exc}).{hint}") from None
    return t


def _record(t, name: str, compute, copy_old: bool):
    """The recorded path: ``t`` takes the value, the graph identity and the tangents of
    ``compute(old)``, where ``old`` stands for ``t`` before the write. ``copy_old`` when the
    op's rule saves ``old`` (it must not see the write)."""
    if t._base is not None and not is_checkpoint_recomputing():
        return _record_view(t, name, compute)
    note_reads(t)
    old = Tensor._wrap(kernel(_copy, t._array) if copy_old else t._array)
    old.grad_fn, old.output_nr, old._requires_grad = t.grad_fn, t.output_nr, t._requires_grad
    old._tangents = t._tangents
    result = compute(old)
    _write(t, name, _copy_into, result._array)
    if result.grad_fn is not None:
        gained = not t._requires_grad
        t.grad_fn, t.output_nr, t._requires_grad = result.grad_fn, result.output_nr, True
    elif result._requires_grad:          # graph-free recording (a recomputation)
        t._requires_grad = True
    if result.grad_fn is not None or result._tangents:
        t._version_counter.rebased += 1          # views taken before this are made again when used
        if result.grad_fn is not None and gained:
            view_replay.note_graph_gained(t)
    t._tangents = result._tangents
    return t


def _record_view(t, name: str, compute):
    """``_record`` for a view ``t`` of ``base``: ``compute`` runs on a copy of ``t``'s values
    whose graph is ``base[region]``; its result is written into ``t``, and ``base`` takes
    the node of ``base[region] = result`` (``t`` and ``base``'s other views are made again
    from it)."""
    base = t._base
    parts = view_replay.region_of(name, t)
    value = apply(GetItem, base, index=parts, scatter_free=True)
    if value._base is not None:         # (one element: NumPy took it as a view)
        value = apply(Clone, value)
    result = compute(value)
    old = Tensor._wrap(base._array)
    old.grad_fn, old.output_nr, old._requires_grad = base.grad_fn, base.output_nr, \
        base._requires_grad
    old._tangents = base._tangents
    _write(t, name, _copy_into, result._array)
    new = record(SetItem, (old, result), Tensor._wrap(base._array),
                 {"index": parts, "scatter_free": True}, (base._array, result._array))
    gained = new.grad_fn is not None and not base._requires_grad
    if new.grad_fn is not None:
        base.grad_fn, base.output_nr, base._requires_grad = new.grad_fn, 0, True
    base._tangents = new._tangents
    if new.grad_fn is not None or new._tangents:
        base._version_counter.rebased += 1      # the base's other views are made again when used
        if gained:
            view_replay.note_graph_gained(base)
        view_replay.regenerate(name, t, parts)
    return t


def _batched_operands(t, operands) -> bool:
    return t._batched or any(isinstance(o, Tensor) and o._batched for o in operands)


def _batched_in_place(t, name: str, operands, compute, copy_old: bool):
    """An in-place op inside vmap: ``t`` must be batched at the innermost level of the
    operands (each example writes into its own slice). ``t`` takes the value and graph of
    ``compute(old)``; its batch value is overwritten in place (recorded there too)."""
    from ..autograd.batched import BatchedTensor
    level = _batching.level_of((t,) + tuple(operands))
    if not (isinstance(t, BatchedTensor) and t._level is level):
        raise RuntimeError(
            f"vmap: {name}: the tensor written in place (shape {tuple(t.shape)}) is the same "
            f"for every example, but the value written into it differs per example, so the "
            f"examples would overwrite each other. Write it out of place (y = x + v), or make "
            f"the tensor batched first (x = x.clone() + zeros_like(v)).")
    if _check(t, name, operands) and t._base is not None:
        raise RuntimeError(
            f"vmap: {name}: writing in place through a view (from indexing, reshape, "
            f"transpose...) while gradients or tangents are recorded inside vmap is not "
            f"supported. Write into the base instead (y[i] = v), or clone() the view first.")
    value = t._value.clone() if copy_old else t._value
    old = BatchedTensor._make(value, level)
    old.grad_fn, old.output_nr, old._requires_grad = t.grad_fn, t.output_nr, t._requires_grad
    old._tangents = t._tangents
    result = compute(old)
    _copy_with(t._value, result._value, _copy_into)
    t._version_counter.value += 1
    if result.grad_fn is not None:
        t.grad_fn, t.output_nr, t._requires_grad = result.grad_fn, result.output_nr, True
        t._version_counter.rebased += 1
    t._tangents = result._tangents
    return t


def _plain_operand(t, other):
    """``other`` as the raw value to write into ``t`` when nothing is recorded, batched or
    compiled and both are NumPy (a Python number or a NumPy tensor that does not require
    grad), else None: the common case, which needs none of the checks."""
    if t._requires_grad or _state.vmap_levels or _compiling.recorder is not None or \
            dual_levels._state.levels or t._array.__class__ is not np.ndarray or \
            (t._base is not None and _record_module.views_may_be_stale):
        return None
    if other.__class__ in (float, int):
        return other
    if other.__class__ is Tensor and not other._requires_grad and \
            other._array.__class__ is np.ndarray:
        return other._array
    return None


def _binary_inplace(t, other, name, out_of_place, ufunc_name, saves_self: bool):
    if other.__class__ in NUMPY_INTS:       # (np.int64(300): a Python int, as PyTorch's)
        other = int(other)
    if other.__class__ is int and not 0 <= other <= 127:
        other = wrapped_int(other, t.dtype, name)   # (u8 -= 4 wraps, as PyTorch's)
    value = _plain_operand(t, other)
    if value is not None:
        return _write(t, name, _ufunc_into, getattr(np, ufunc_name), value)
    if _state.vmap_levels and _batched_operands(t, (other,)):
        return _batched_in_place(t, name, (other,), lambda old: out_of_place(old, other),
                                 copy_old=saves_self)
    if _check(t, name, (other,)):
        itself = other is t                # y *= y: the rule must see the old value twice
        scalar = isinstance(other, (numbers.Number, np.generic))
        return _record(t, name, lambda old: out_of_place(old, old if itself else other),
                       copy_old=itself or (saves_self and not scalar))
    value = _raw(other, t)
    return _write(t, name, _ufunc_into, getattr(t._xp(), ufunc_name), value)


def add_(t, other, alpha=1):
    """``t += alpha * other`` in place."""
    return _binary_inplace(t, other if alpha == 1 else other * alpha, "add_", add, "add",
                           saves_self=False)


def sub_(t, other, alpha=1):
    """``t -= alpha * other`` in place."""
    return _binary_inplace(t, other if alpha == 1 else other * alpha, "sub_", sub, "subtract",
                           saves_self=False)


def mul_(t, other):
    """``t *= other`` in place."""
    return _binary_inplace(t, other, "mul_", mul, "multiply", saves_self=True)


def div_(t, other):
    """``t /= other`` in place."""
    return _binary_inplace(t, other, "div_", div, "true_divide", saves_self=False)


def _written_number(t, value, name: str):
    """``value`` converted as PyTorch writes a number into ``t`` (a tensor, an array or a
    number into a float tensor as it is)."""
    if value.__class__ in WRITTEN_NUMBERS and not 0 <= value <= 127 and t.dtype.kind in "iu":
        return checked_scalar(value, t.dtype, name)
    return value


def _overwrite(old, value, index, scatter_free):
    """``old`` with ``value`` written at ``index``, as a recorded op."""
    v = value if isinstance(value, Tensor) else as_operand(_as_array_value(value, old), old)
    return apply(SetItem, old, v, index=index, scatter_free=scatter_free)


def fill_(t, value):
    """Every element of ``t`` set to the number ``value``, in place (into an integer tensor
    it must fit, but a negative int wraps into an unsigned one, as PyTorch's: checked_scalar).

    Example::

        >>> gpugrad.zeros(2, dtype=gpugrad.uint8).fill_(-1).tolist()
        [255, 255]
    """
    value = _written_number(t, value, "fill_")
    if _state.vmap_levels and t._batched:
        return _batched_in_place(t, "fill_", (), lambda old: _overwrite(old, value, (Ellipsis,),
                                                                         True), copy_old=False)
    if _check(t, "fill_", ()):
        return _record(t, "fill_", lambda old: _overwrite(old, value, (Ellipsis,), True),
                       copy_old=False)
    return _write(t, "fill_", _fill, value)


def zero_(t):
    """Every element of ``t`` set to 0, in place."""
    return fill_(t, 0)


def copy_(t, src):
    """The values of ``src`` (broadcast to ``t``'s shape) copied into ``t``, in place,
    converted to ``t``'s dtype as PyTorch's ``copy_`` converts them (floats into an integer
    tensor are truncated toward zero, and the copy is a constant there: no gradient reaches
    ``src``; ``add_`` and the other in-place ops refuse float into int). Returns ``t``.

    Example::

        >>> t = gpugrad.zeros(2, 3, dtype=gpugrad.int64)
        >>> t.copy_(gpugrad.tensor([1.7, -2.7, 3.0])).tolist()      # (3,) broadcast to (2, 3)
        [[1, -2, 3], [1, -2, 3]]
    """
    return _copy_with(t, src, _cast_into)


def _copy_with(t, src, write, name: str = "copy_"):
    """``copy_`` with the raw ``write`` of its plain path: ``_cast_into`` (any conversion)
    or ``_copy_into`` (refusing float into int: an in-place op's own result); ``name``, the
    method the errors name."""
    if t.dtype.kind not in "fc" and isinstance(src, Tensor) and \
            (src._requires_grad or src._tangents):
        src = src.detach()          # (an integer or bool result is a constant, as PyTorch's)
    if _state.vmap_levels and _batched_operands(t, (src,)):
        return _batched_in_place(t, name, (src,), lambda old: _overwrite(old, src, (Ellipsis,),
                                                                         True), copy_old=False)
    if _check(t, name, (src,)):
        return _record(t, name, lambda old: _overwrite(old, src, (Ellipsis,), True),
                       copy_old=False)
    return _write(t, name, write, _raw(src, t))


def written_back(t, fn, *args, **kwargs):
    """``fn(t, *args, **kwargs)`` written into ``t`` (one in-place write, checked and
    versioned as ``copy_``), ``t`` returned: PyTorch's ``inplace=True`` and ``t.clamp_()``.
    ``fn`` runs on a copy of ``t``, so what its gradient saves is not the tensor written.

    Example::

        >>> from gpugrad.ops.inplace import written_back
        >>> x = gpugrad.tensor([-1.0, 2.0])
        >>> written_back(x, gpugrad.relu) is x, x.tolist()
        (True, [0.0, 2.0])
    """
    return _copy_with(t, fn(apply(Clone, t), *args, **kwargs), _copy_into)


def in_place_method(fn, name: str | None = None, reads: bool = True):
    """The Tensor method ``t.<name>_(...)`` (``name``: fn's own by default): ``fn(t, ...)``
    written into ``t`` as ``written_back`` writes it, ``t`` returned, its errors naming
    ``<name>_``; ``reads=False`` for an ``fn`` that reads only ``t``'s shape (no copy of
    ``t`` is made).

    Example::

        >>> from gpugrad.ops.inplace import in_place_method
        >>> halve_ = in_place_method(lambda t: t / 2, "halve")
        >>> x = gpugrad.tensor([2.0, 4.0])
        >>> halve_(x) is x, x.tolist(), halve_.__name__
        (True, [1.0, 2.0], 'halve_')
    """
    name = name or fn.__name__
    method_name = name + "_"

    def method(self, *args, **kwargs):
        source = apply(Clone, self) if reads else self
        return _copy_with(self, fn(source, *args, **kwargs), _copy_into, method_name)
    method.__name__ = method.__qualname__ = method_name
    method.__doc__ = f"``{name}`` in place (``t.copy_(t.{name}(...))``)."
    return method


def setitem(t, index, value):
    """``t[index] = value`` (a number, array or tensor broadcast to ``t[index]``; a number
    converted as ``fill_`` converts it)."""
    value = _written_number(t, value, "__setitem__")
    parts, scatter_free = normalize_index(t, index)
    if _state.vmap_levels and _batched_operands(t, (value,) + parts):
        return _batched_in_place(t, "__setitem__", (value,) + parts,
                                 lambda old: _overwrite(old, value, parts, scatter_free),
                                 copy_old=False)
    if _check(t, "__setitem__", (value,)):
        return _record(t, "__setitem__",
                       lambda old: _overwrite(old, value, parts, scatter_free), copy_old=False)
    return _write(t, "__setitem__", _set_at, _raw(value, t), *parts)
