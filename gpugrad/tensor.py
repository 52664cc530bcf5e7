"""Tensor: an array (NumPy or CuPy) + its gradient + the node that made it.

Nothing here does arithmetic: the operators and the methods that run ops (``+``, ``@``,
``sum``, ``reshape``, ``to``, ``T``...) are installed by ``gpugrad/ops/methods.py``, a floor
above (docs/ARCHITECTURE.md, "The floors").

Example::

    >>> x = gpugrad.tensor([2.0], requires_grad=True)
    >>> y = gpugrad.tensor([3.0], requires_grad=True)
    >>> z = x**2 * y + y**3
    >>> z.backward()
    >>> x.grad, y.grad      # 2xy = 12, x**2 + 3y**2 = 31
    (tensor([12.], device='cpu', dtype=float32),
     tensor([31.], device='cpu', dtype=float32))
"""

from __future__ import annotations

import weakref

import numpy as np

from . import backend
from .autograd.capture_mode import note_grads, refuse_host_sync
from .autograd.compile_mode import _state as _compiling, effect, refuse_in_compile, \
    structure_changed
from .autograd.mode import _inference_open, _state as _mode_state
from .tensor_grad import (GradDtypeError, HookHandle, InferenceVersionCounter,  # noqa: F401
                          VersionCounter, check_assigned_grad, counter_for_mode,
                          warn_non_leaf_grad)
from .tensor_size import ElementCount

__all__ = ["Tensor", "VersionCounter", "InferenceVersionCounter"]

_NAN_EXPLAINERS: dict = {}      # id(tensor) -> (weak reference, check): _explain_nan_on_read


class Tensor:
    """An n-dimensional array on a CPU or a GPU that can record how it was computed.

    Make tensors with ``gpugrad.tensor(data)``, ``zeros``, ``randn``... Attributes:
    ``shape``, ``ndim``, ``size`` (number of elements), ``dtype``, ``device``, ``grad``,
    ``grad_fn``, ``requires_grad``, ``is_leaf``.

    Example::

        >>> t = gpugrad.tensor([[1.0, 2.0, 3.0]])
        >>> t.shape, t.ndim, t.size, t.dtype, t.device
        ((1, 3), 2, 3, dtype('float32'), device('cpu'))
    """

    __slots__ = ("_array", "_requires_grad", "_grad", "grad_fn", "output_nr", "_version_counter",
                 "_base", "_view_epoch", "_hooks", "_accumulator", "_tangents",
                 "_post_accumulate_hooks", "__weakref__")
    _batched = False            # True for vmap's BatchedTensor
    __array_priority__ = 1000

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        from .creation_like import legacy_tensor  # Tensor(2, 3), Tensor([1, 2]): as PyTorch
        made = legacy_tensor(*args, dtype=dtype, device=device, requires_grad=requires_grad)
        for name in Tensor.__slots__[:-1]:
            setattr(self, name, getattr(made, name))

    @classmethod
    def _wrap(cls, array) -> "Tensor":
        """A new leaf that does not require grad, around ``array`` (no copy)."""
        t = object.__new__(cls)
        t._array = array
        t._requires_grad = False
        t._grad = None
        t.grad_fn = None
        t.output_nr = 0
        t._version_counter = VersionCounter() if not _inference_open[0] else counter_for_mode()
        t._base = None
        t._view_epoch = 0
        t._hooks = None
        t._accumulator = None
        t._tangents = None
        t._post_accumulate_hooks = None
        return t

    def _shallow(self) -> "Tensor":
        """A new tensor object over the same values, with no graph, hooks or tangents."""
        return Tensor._wrap(self._array)

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        return self._array.shape

    @property
    def ndim(self) -> int:
        return self._array.ndim

    @property
    def size(self) -> int:
        """The number of elements, as NumPy's ``size``; called, it is PyTorch's: ``t.size()``
        is the shape and ``t.size(dim)`` one dimension's length.

        Example::

            >>> t = gpugrad.zeros(2, 3)
            >>> t.size, t.size(), t.size(-1)
            (6, (2, 3), 3)
        """
        return ElementCount(self._array.size, self._array.shape)

    @property
    def dtype(self) -> np.dtype:
        return self._array.dtype

    @property
    def device(self) -> backend.Device:
        return backend.device_of(self._array)

    @property
    def array(self):
        """The underlying NumPy or CuPy array (shared, not copied)."""
        refuse_in_compile("reading t.array", "compute with gpugrad's ops, or outside the step")
        return self._array

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's memory, cut from the graph (as PyTorch's ``.data``)."""
        return Tensor._wrap(self._array)

    @data.setter
    def data(self, value: "Tensor"):
        refuse_in_compile("replacing a tensor's .data", "write into it in place "
                          "(t.copy_(value)) or replace it outside the step")
        self._array = value._array if isinstance(value, Tensor) else value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool):
        if self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; "
                               "to cut a computed tensor from the graph use y = y.detach()")
        self.requires_grad_(flag)

    @property
    def grad(self) -> "Tensor | None":
        """The gradient backward accumulated here, or None; assignable as in PyTorch."""
        if _compiling.recorder is not None:         # a compiled step reads it
            _compiling.recorder.grad_read(self)
        note_grads((self,))                         # (a CUDA graph's recording reads it)
        grad = self._grad
        if grad is None and self.grad_fn is not None and not self.retains_grad:
            warn_non_leaf_grad(self)
        return grad

    @grad.setter
    def grad(self, value: "Tensor | None"):
        if value is not None:
            check_assigned_grad(self, value, Tensor)
        note_grads((self,))                         # (a CUDA graph's recording sets it)
        effect(setattr, self, "_grad", value)       # (a compiled step's replay sets it too)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded op."""
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        node = self.grad_fn
        return bool(node is not None and node._retained and self.output_nr in node._retained)

    def is_inference(self) -> bool:
        """Whether this tensor was made inside ``inference_mode()`` (or is a view of one):
        it cannot be saved for backward, require grad, or be written in place outside it."""
        return self._version_counter.__class__ is InferenceVersionCounter

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has had (its views' and its base's
        included: they share one counter, ``_version_counter``), as PyTorch's ``t._version``."""
        return self._version_counter.value

    _version_value = _version

    def _xp(self):
        return backend.xp_of(self._array)

    def numel(self) -> int:
        return self._array.size

    def dim(self) -> int:
        return self._array.ndim

    # ------------------------------------------------------------------ conversion
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array: shared memory on cpu, a copy from a GPU. Unlike
        PyTorch's, it also reads a tensor that requires grad (as ``t.detach().numpy()``:
        the array is outside autograd), so ``force=True``, PyTorch's way to ask for exactly
        that (detached, copied to the host when on a GPU), changes nothing here."""
        refuse_host_sync("Tensor.numpy() (and tolist(), printing)")
        array = self._array
        values = array if isinstance(array, np.ndarray) else array.get()
        if _NAN_EXPLAINERS and id(self) in _NAN_EXPLAINERS and np.isnan(values).any():
            _NAN_EXPLAINERS[id(self)][1]()
        return values

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self._array.size != 1:
            raise ValueError(f"item() needs a tensor with exactly one element; this one has "
                             f"shape {tuple(self.shape)} ({self.numel()} elements)")
        refuse_host_sync("Tensor.item() (and float(t), int(t), bool(t), if t:)")
        value = self._array.reshape(()).item()
        if _NAN_EXPLAINERS and id(self) in _NAN_EXPLAINERS and value != value:
            _NAN_EXPLAINERS[id(self)][1]()
        return value

    def _explain_nan_on_read(self, check) -> None:
        """When the host reads this tensor (``item``, ``numpy``, printing) and finds a NaN,
        call ``check()`` first: it raises the error that explains the NaN, if any (e.g. a
        label out of range, found on a GPU without a sync per step). Costs nothing until
        then."""
        key = id(self)
        dropped = lambda _, key=key: _NAN_EXPLAINERS.pop(key, None)     # noqa: E731
        _NAN_EXPLAINERS[key] = (weakref.ref(self, dropped), check)

    def tolist(self):
        return self.numpy().tolist()

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, index: int | None = None) -> "Tensor":
        return self.to("cuda" if index is None else f"cuda:{index}")

    # ------------------------------------------------------------------ autograd
    def detach(self) -> "Tensor":
        """A tensor sharing this one's memory and version counter, cut from the graph: a
        root of its own, so in-place ops on it (or its views) are recorded on it alone, and
        this tensor's graph never reaches it, as in PyTorch."""
        out = Tensor._wrap(self._array)
        out._version_counter = self._version_counter
        return out

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        """Start (or stop) recording ops on this leaf. Only float tensors can require grad."""
        if self.grad_fn is not None and not flag:
            raise RuntimeError("requires_grad can only be turned off on leaf tensors; use "
                               "y = y.detach() to cut a computed tensor from the graph")
        if flag and self._version_counter.__class__ is InferenceVersionCounter and \
                not _mode_state.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed. Make a normal copy first: "
                               "x = x.clone() outside inference_mode().")
        if flag and self.dtype.kind not in "fc":
            raise GradDtypeError(f"only floating-point tensors can require gradients, but this "
                                 f"one is {self.dtype}; make it with dtype=gpugrad.float32 "
                                 f"(or float64)")
        if _compiling.recorder is not None and not self._batched:   # a replay sets it too,
            _compiling.recorder.reads((self,))      # (guarded as the call finds it)
            effect(setattr, self, "_requires_grad", bool(flag), sets_grads=False)
        else:
            self._requires_grad = bool(flag)
        return self

    def _ones_like_for_grad(self) -> "Tensor":
        a = self._array
        if a.__class__ is np.ndarray:
            ones = np.empty(a.shape, a.dtype)   # (np.ones, without its Python-level wrapper)
            ones.fill(1)
            return Tensor._wrap(ones)
        return Tensor._wrap(self._xp().ones_like(a))

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into ``.grad`` of every leaf behind it.

        ``gradient`` is required unless this tensor has one element. The saved values are
        freed afterwards unless ``retain_graph=True``; ``create_graph=True`` makes the
        gradients differentiable (for higher-order derivatives).

        Example::

            >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
            >>> (x * x).backward(gpugrad.ones(2))      # not one element: gradient needed
            >>> x.grad                                 # d(x*x)/dx = 2x
            tensor([2., 4.], device='cpu', dtype=float32)
        """
        (_engine_backward or _bind_engine())(self, gradient, retain_graph, create_graph, inputs)

    def zero_grad(self) -> None:
        """Reset the accumulated gradient (``grad = None``)."""
        self.grad = None

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` during backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        node = self.grad_fn
        if node is None:
            return                      # leaves always keep their gradient
        if node._retained is None:
            node._retained = {}
        node._retained[self.output_nr] = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle with ``remove()``.

        Example::

            >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
            >>> handle = x.register_hook(lambda g: g * 10)
            >>> x.sum().backward()
            >>> x.grad.tolist()
            [10.0, 10.0]
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is None:
            structure_changed()         # (a non-leaf's hook is on its node: no program's)
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            self.grad_fn.add_pre_hook(self.output_nr, hook)
            hooks = self.grad_fn._pre_hooks[self.output_nr]
        if hook not in hooks:
            hooks.append(hook)
        return HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` each time backward has accumulated a gradient into this
        leaf's ``.grad`` (as PyTorch's; data-parallel training starts its gradient
        all-reduce from here). Returns a handle with ``remove()``."""
        if not self._requires_grad or self.grad_fn is not None:
            raise RuntimeError("post-accumulate-grad hooks can only be registered on leaf "
                               "tensors that require grad (parameters)")
        structure_changed()
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return HookHandle(self._post_accumulate_hooks, hook)

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        values = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = [f"device='{self.device}'", f"dtype={self.dtype}"]
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({values}, {', '.join(extras)})"

    def __format__(self, spec: str) -> str:
        if spec and self.numel() == 1:
            return format(self.item(), spec)
        return format(repr(self), spec)

    # ------------------------------------------------------------------ Python protocols
    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise ValueError(f"the truth value of a tensor with {self.numel()} elements is "
                             f"ambiguous; use (t).any() or (t).all()")
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__


_engine_backward = None     # the engine's backward(), a floor above: bound on first use


def _bind_engine():
    global _engine_backward
    from .autograd.engine import backward
    _engine_backward = backward
    return backward
