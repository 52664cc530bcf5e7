"""In-place view ops, PyTorch's ``unsqueeze_``, ``squeeze_``, ``t_``, ``transpose_`` and
``swapdims_``/``swapaxes_``: the tensor itself takes the view's shape and strides (the same
Python object is returned, over the same memory), as PyTorch's.

No element is written, yet the tensor changes, so, as there:

- its version counter goes up by one (a rule that saved it notices; its views see it too);
- a leaf that requires grad is refused while grad mode is on, and so is a view of one
  (``inplace._check``, the rules of every in-place op);
- when recorded, the tensor's ``grad_fn`` becomes the view op's node (``UnsqueezeBackward``
  there, ``ReshapeBackward``/``PermuteBackward`` here) whose input is the tensor as it was;
  a view keeps its base (its base's graph does not change: no element did), so writes
  through it later reach the base, and the base's in-place ops later make it again from
  the base's graph in its new shape (``view_replay.py`` reads the region from the memory
  layout alone);
- views taken before keep their shape.

``resize_`` changes the memory itself and is refused (``resize_refused``). Inside vmap an
in-place view op works on each example's shape; a compiled step refuses it (its replay
cannot change a tensor's array): use the out-of-place form there.

Example::

    >>> x = gpugrad.tensor([[1.0, 2.0, 3.0]])
    >>> v = x[0]
    >>> x.t_() is x, x.shape, v.shape, x._version_value
    (True, (3, 1), (3,), 1)
"""

from __future__ import annotations

import numbers

from ..autograd import dual_levels
from ..autograd.compile_mode import refuse_in_compile
from ..autograd.mode import _state
from ..tensor_grad import INFERENCE_INPLACE, InferenceVersionCounter
from . import shape as _shape
from .inplace import _check
from .shape_errors import ShapeError, checked_dim

__all__ = ["unsqueeze_", "squeeze_", "t_", "transpose_", "swapdims_", "swapaxes_", "resize_"]


def _view_in_place(t, name: str, view, *args):
    """``t`` turned into ``view(t, *args)`` (an out-of-place view op of ``shape.py``) in
    place: its array, and when recorded its node and tangents, are the view's."""
    refuse_in_compile(f"{name} (an in-place view op)",
                      f"use the out-of-place form: t = t.{name[:-1]}(...)")
    if t._version_counter.__class__ is InferenceVersionCounter and not _state.inference:
        raise RuntimeError(INFERENCE_INPLACE)       # (before anything changes)
    records = _check(t, name, ())   # (refuses what PyTorch refuses; a stale view made again)
    made = view(t, *args)           # (recorded when something requires grad: t as it was)
    if t._batched:
        t._value, t._level = made._value, made._level
    else:
        t._array = made._array
    t._version_counter.value += 1
    if made.grad_fn is not None:
        t.grad_fn, t.output_nr, t._requires_grad = made.grad_fn, made.output_nr, True
        t._view_epoch = t._version_counter.rebased          # (its node is up to date)
    elif records and made._requires_grad:           # (a checkpoint's recomputation)
        t._requires_grad = True
    if dual_levels._state.levels:
        t._tangents = made._tangents
    return t


def unsqueeze_(t, dim=None):
    """``t`` with a new size-1 dimension at ``dim``, in place, as PyTorch's
    ``t.unsqueeze_(dim)``: (3,) -> (1, 3) for dim 0. Returns ``t``.

    Example::

        >>> x = gpugrad.zeros(2, 3)
        >>> x.unsqueeze_(1) is x, x.shape
        (True, (2, 1, 3))
    """
    if dim is None:
        raise TypeError("unsqueeze_ needs the position of the new dimension, e.g. "
                        "t.unsqueeze_(0)")
    return _view_in_place(t, "unsqueeze_", _shape.unsqueeze, dim)


def squeeze_(t, dim=None):
    """``t`` without its size-1 dimensions (only those of ``dim``, an int or a tuple of
    ints, when given; the others stay), in place, as PyTorch's ``t.squeeze_()``. Returns
    ``t``. Shapes: (2, 1, 3, 1) -> (2, 3); with dim=1: (2, 3, 1).

    Example::

        >>> x = gpugrad.zeros(2, 1, 3, 1)
        >>> x.squeeze_((1, 3)) is x, x.shape
        (True, (2, 3))
    """
    return _view_in_place(t, "squeeze_", _shape.squeeze, dim)


def transpose_(t, dim0: int, dim1: int):
    """``t`` with dimensions ``dim0`` and ``dim1`` swapped, in place, as PyTorch's
    ``t.transpose_(dim0, dim1)`` (a 0-d or 1-d tensor keeps its shape). Returns ``t``.
    Shapes: (2, 3, 4) -> (4, 3, 2) for dims 0 and 2.

    Example::

        >>> x = gpugrad.zeros(2, 3, 4)
        >>> x.transpose_(0, 2) is x, x.shape
        (True, (4, 3, 2))
    """
    if t.ndim >= 2:
        dim0, dim1 = checked_dim(t, dim0, "transpose_"), checked_dim(t, dim1, "transpose_")
    return _view_in_place(t, "transpose_", _shape.transpose, dim0, dim1)


def swapdims_(t, dim0: int, dim1: int):
    """``transpose_(t, dim0, dim1)``, PyTorch's ``t.swapdims_``. Returns ``t``.

    Example::

        >>> gpugrad.zeros(2, 3).swapdims_(0, 1).shape
        (3, 2)
    """
    return transpose_(t, dim0, dim1)


def swapaxes_(t, axis0: int, axis1: int):
    """``transpose_(t, axis0, axis1)``, PyTorch's ``t.swapaxes_``. Returns ``t``.

    Example::

        >>> gpugrad.zeros(2, 3).swapaxes_(0, 1).shape
        (3, 2)
    """
    return transpose_(t, axis0, axis1)


def t_(t):
    """The transpose of a matrix in place, as PyTorch's ``t.t_()``: (m, n) -> (n, m); a 0-d
    or 1-d tensor keeps its shape. Returns ``t``.

    Example::

        >>> x = gpugrad.zeros(2, 3)
        >>> x.t_() is x, x.shape
        (True, (3, 2))
    """
    if t.ndim > 2:
        raise ShapeError(f"t_(): expects a tensor of at most 2 dimensions, but this one has "
                         f"shape {tuple(t.shape)}: use t.transpose_(d0, d1) for two of its "
                         f"dimensions")
    return _view_in_place(t, "t_", _shape.transpose, 0, 1)


def resize_(t, *sizes, **_):
    """Refused: PyTorch's ``t.resize_(...)`` changes the memory a tensor owns (and is refused
    there for tensors that require grad); gpugrad tensors share memory with their views.

    Example::

        >>> try:
        ...     gpugrad.zeros(2, 3).resize_(6)
        ... except NotImplementedError as error:
        ...     print(str(error)[:40])
        resize_: gpugrad cannot resize a tensor'
    """
    shape = sizes[0] if len(sizes) == 1 and not isinstance(sizes[0], numbers.Integral) \
        else sizes
    raise NotImplementedError(
        f"resize_: gpugrad cannot resize a tensor's memory in place (shape {tuple(t.shape)} "
        f"to {tuple(shape)}). For the same number of elements use t = t.reshape(...); for "
        f"another size make a new tensor: t = gpugrad.empty(...) or t.new_zeros(...), and "
        f"copy into it what you keep.")


METHODS = {"unsqueeze_": unsqueeze_, "squeeze_": squeeze_, "t_": t_,
           "transpose_": transpose_, "swapdims_": swapdims_, "swapaxes_": swapaxes_,
           "resize_": resize_}
