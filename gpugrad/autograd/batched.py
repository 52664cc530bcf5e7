"""Batched tensors: what ``vmap`` hands the function it maps.

A ``BatchedTensor`` looks like one example: its ``shape`` is the per-example (logical) shape.
It holds the whole batch as ``_value``, a tensor whose dimension 0 is the batch of its
``_level`` (one level per active ``vmap``; nested vmaps nest the wrappers, so ``_value`` may
itself be batched at an outer level). Ops that meet a batched tensor run their batching rule
on the values (``gpugrad/ops/batching.py``): the batch is one array op, not a Python loop.

A batched tensor has its own place in the graph (``grad_fn``, ``requires_grad``), for
transforms started inside the vmap (``vmap(grad(f))``); its ``_value`` keeps the graph of
transforms started outside it (``grad(vmap(f))``). Reading its values on the host (``item``,
``numpy``, ``if t:``) is refused: Python control flow cannot depend on a batched value.

Example::

    >>> seen = []
    >>> def f(x):
    ...     seen.append((type(x).__name__, x.shape))      # one example's shape
    ...     return x.sum()
    >>> func.vmap(f)(gpugrad.ones(5, 3))
    tensor([3., 3., 3., 3., 3.], device='cpu', dtype=float32)
    >>> seen                                              # f ran once, on the whole batch
    [('BatchedTensor', (3,))]
"""

from __future__ import annotations

import contextlib
import math

from .mode import _state
from ..tensor import Tensor
from ..tensor_size import ElementCount

__all__ = ["BatchedTensor", "VmapLevel", "push_level", "pop_level", "reentered", "level_of",
           "innermost_array", "escaped_error", "backward_in_vmap_error"]


class VmapLevel:
    """One active ``vmap``: its batch ``size``, its ``randomness`` mode and its ``depth``
    (0 for the outermost)."""

    __slots__ = ("size", "randomness", "depth", "active")

    def __init__(self, size: int, randomness: str, depth: int):
        self.size, self.randomness, self.depth, self.active = size, randomness, depth, True

    def __repr__(self) -> str:
        return f"<vmap level {self.depth}: batch of {self.size}>"


def push_level(size: int, randomness: str) -> VmapLevel:
    level = VmapLevel(size, randomness, len(_state.vmap_levels))
    _state.vmap_levels = _state.vmap_levels + (level,)
    return level


def pop_level(level: VmapLevel) -> None:
    level.active = False
    _state.vmap_levels = tuple(x for x in _state.vmap_levels if x is not level)


@contextlib.contextmanager
def reentered(level: VmapLevel):
    """Inside, ``level`` is active again (innermost, if it was not active), for the batched
    tensors that refer to it; on the way out it is left again if it was entered here."""
    if level.active:
        yield
        return
    level.active = True
    level.depth = len(_state.vmap_levels)
    _state.vmap_levels = _state.vmap_levels + (level,)
    try:
        yield
    finally:
        pop_level(level)


def level_of(tensors):
    """The innermost vmap level among the batched ``tensors`` (None if none is batched)."""
    level = None
    for t in tensors:
        if isinstance(t, BatchedTensor):
            if not t._level.active:
                raise escaped_error()
            if level is None or t._level.depth > level.depth:
                level = t._level
    return level


def innermost_array(t):
    """The raw array under every batch level of ``t`` (batch dimensions first)."""
    while isinstance(t, BatchedTensor):
        t = t._value
    return t._array


def _host_read_error(what: str) -> RuntimeError:
    return RuntimeError(
        f"vmap: {what} reads the values of a batched tensor, which vmap cannot do: inside "
        f"vmap (also the one jacrev, jacfwd and hessian run their vjps/jvps under) a tensor "
        f"stands for every example at once, so Python control flow cannot depend on its "
        f"values. Write the branch with gpugrad.where(...), or move the read outside vmap.")


def escaped_error() -> RuntimeError:
    return RuntimeError(
        "a tensor batched by vmap escaped it (kept in a global, a list, a closure...) and is "
        "used after that vmap returned; return it from the mapped function instead")


def backward_in_vmap_error() -> RuntimeError:
    return RuntimeError(
        "vmap: backward() inside vmap would add a per-example gradient into .grad, which "
        "holds one value; use gpugrad.func.grad (or vjp) inside vmap: "
        "vmap(grad(loss))(params, x) gives per-example gradients")


class BatchedTensor(Tensor):
    """A tensor standing for one example of a batch (see the module docstring)."""

    __slots__ = ("_value", "_level")
    _batched = True

    @classmethod
    def _make(cls, value, level: VmapLevel) -> "BatchedTensor":
        """A new batched leaf over ``value`` (batch of ``level`` at dimension 0)."""
        t = cls._wrap(None)
        t._value = value
        t._level = level
        return t

    def _shallow(self) -> "BatchedTensor":
        return BatchedTensor._make(self._value, self._level)

    @property
    def _array(self):
        if not self._level.active:
            raise escaped_error()
        raise _host_read_error("this operation (it works on raw arrays)")

    @_array.setter
    def _array(self, array):
        if array is not None:           # Tensor._wrap(None) makes the blank batched tensor
            raise RuntimeError("a batched tensor keeps its batch in _value, not an array")

    @property
    def shape(self) -> tuple:
        return self._value.shape[1:]

    @property
    def ndim(self) -> int:
        return self._value.ndim - 1

    @property
    def size(self) -> int:
        return ElementCount(self.numel(), self.shape)

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def device(self):
        return self._value.device

    @property
    def array(self):
        raise _host_read_error(".array")

    @property
    def data(self) -> "BatchedTensor":
        return BatchedTensor._make(self._value.data, self._level)

    def _xp(self):
        return self._value._xp()

    def numel(self) -> int:
        return math.prod(self._value.shape[1:])

    def dim(self) -> int:
        return self.ndim

    def numpy(self):
        raise _host_read_error(".numpy() (or .tolist(), printing)")

    def item(self):
        raise _host_read_error(".item() (or float(t), int(t), bool(t), if t:)")

    def __array__(self, dtype=None, copy=None):
        raise _host_read_error("a conversion to a NumPy array")

    def detach(self) -> "BatchedTensor":
        out = BatchedTensor._make(self._value.detach(), self._level)
        out._version_counter = self._version_counter
        return out

    def _ones_like_for_grad(self) -> "BatchedTensor":
        return BatchedTensor._make(self._value._ones_like_for_grad(), self._level)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        raise backward_in_vmap_error()

    def __repr__(self) -> str:
        return (f"BatchedTensor(level={self._level.depth}, batch={self._level.size}, "
                f"shape={tuple(self.shape)}, value={self._value!r})")
