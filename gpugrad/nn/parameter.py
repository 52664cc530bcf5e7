"""Parameter, the tensor a Module trains; ``Buffer``, a tensor that assigning to a Module
attribute registers as a buffer; ``UninitializedParameter``, a lazy module's parameter before
its shape is known; and ``zero_grads``.

Example::

    >>> layer = nn.Linear(2, 1)
    >>> [type(p).__name__ for p in layer.parameters()]
    ['Parameter', 'Parameter']
"""

from __future__ import annotations

from .. import backend
from ..autograd.capture_mode import is_graph_recording, note_zeroed
from ..autograd.compile_mode import effect
from ..autograd.mode import no_grad
from ..interop import deepcopy_tensor
from ..tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "is_lazy", "zero_grads"]


def zero_grads(params, set_to_none: bool = True) -> None:
    """Reset the gradients of ``params``: to None, or to zeros in their buffers (which later
    backward passes then accumulate into without allocating). While a CUDA graph records
    the step, gradients are zeroed in their buffers either way: the graph's replays write
    those buffers again (as PyTorch's recipe keeps them, by zeroing before its capture), and
    a replay leaves every ``.grad`` as the eager step would."""
    effect(_zero_grads, list(params), set_to_none,     # (a compiled step's replay: live;
           sets_grads=set_to_none)                      # zeroed in place, a .grad found
                                                        # outside stays one)


def _zero_grads(params, set_to_none: bool) -> None:
    kept = set_to_none and is_graph_recording()     # (zeroed in place instead of None)
    if kept:
        set_to_none = False
    for param in params:
        grad = param._grad
        if set_to_none or grad is None:
            param._grad = None
        else:
            with no_grad():
                if grad._requires_grad:     # (a graph built with create_graph: cut off)
                    param._grad = grad = grad.detach()
                grad.zero_()
            if kept:
                note_zeroed(param)


class Parameter(Tensor):
    """A tensor that is a model's parameter: it requires grad and a Module registers it.

    Example::

        >>> w = nn.Parameter(gpugrad.randn(3, 2))
        >>> w.requires_grad, w.is_leaf
        (True, True)
    """

    __slots__ = ()

    def __new__(cls, data: Tensor = None, requires_grad: bool = True):
        from ..creation import tensor
        source = data if isinstance(data, Tensor) else tensor([] if data is None else data)
        param = cls._wrap(source._array)
        if requires_grad:
            param.requires_grad_(True)
        return param

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> "Parameter":
        """A new Parameter with a copy of the values and the same ``requires_grad``, and no
        ``.grad`` (as PyTorch's: a model's deep copy, e.g. a target or EMA network, starts
        with no gradients).

        Example::

            >>> import copy
            >>> w = nn.Parameter(gpugrad.ones(2))
            >>> w.sum().backward()
            >>> copy.deepcopy(w).grad is None
            True
        """
        if id(self) in memo:
            return memo[id(self)]
        out = deepcopy_tensor(self.detach(), {})      # (the values, on the same device)
        out = memo[id(self)] = type(self)(out, requires_grad=self._requires_grad)
        return out


class Buffer(Tensor):
    """A tensor that ``module.name = nn.Buffer(t)`` registers as a buffer (as
    ``module.register_buffer(name, t, persistent)`` does), as PyTorch 2's ``nn.Buffer``:
    ``t``'s values (not copied, detached; the version counter shared), its
    ``requires_grad`` kept, and ``persistent`` (False: left out of ``state_dict``).

    Example::

        >>> class Scaled(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.scale = nn.Buffer(gpugrad.ones(2))
        ...         self.scratch = nn.Buffer(gpugrad.zeros(2), persistent=False)
        >>> m = Scaled()
        >>> [name for name, _ in m.named_buffers()], list(m.state_dict())
        (['scale', 'scratch'], ['scale'])
    """

    __slots__ = ("persistent",)

    def __new__(cls, data: Tensor = None, *, persistent: bool = True):
        from ..creation import tensor
        source = data if isinstance(data, Tensor) else tensor([] if data is None else data)
        buffer = cls._wrap(source._array)
        buffer._version_counter = source._version_counter   # (writes through either are seen)
        buffer.persistent = bool(persistent)
        if source.requires_grad:
            buffer.requires_grad_(True)
        return buffer

    def __init__(self, data=None, *, persistent: bool = True):
        pass


_SLOT = Tensor.__dict__["_array"]          # the slot that holds a tensor's array

UNINITIALIZED_USE = (
    "Attempted to use an uninitialized parameter (as PyTorch, gpugrad refuses it). This "
    "error happens when you are using a `LazyModule` (e.g. nn.LazyLinear) or explicitly "
    "manipulating `nn.UninitializedParameter` objects: call the module's `forward` with a "
    "dummy batch (or load a state dict) to initialize the parameters first")
UNINITIALIZED_SHAPE = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually "
    "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
    "initialized one. Call `forward` to initialize the parameters before accessing their "
    "attributes.")


class UninitializedParameterError(RuntimeError, ValueError):
    """An ``UninitializedParameter`` used or its shape read: PyTorch raises ValueError for
    the one and RuntimeError for the other, and either may reach both (an in-place init
    reads the shape first), so this is both."""


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (a lazy module's, e.g. ``nn.LazyLinear``'s
    weight before its first call), as PyTorch's: it holds no values until
    ``materialize(shape)`` gives it its shape in place, after which it is a plain
    ``Parameter`` (the same object: an optimizer built before then trains it). Until then
    it has a dtype, a device and ``requires_grad``, but using it (ops, ``numel()``,
    ``detach()``, in-place init) or reading ``shape`` raises, as PyTorch's (a ValueError and
    a RuntimeError: ``UninitializedParameterError``). ``numpy()`` gives an empty array,
    so ``gpugrad.save`` can write a lazy module's state dict (loading it into a lazy module
    leaves that lazy).

    Example::

        >>> p = nn.UninitializedParameter()
        >>> p.dtype, p.requires_grad
        (dtype('float32'), True)
        >>> p.materialize((2, 3))
        >>> type(p).__name__, p.shape
        ('Parameter', (2, 3))
    """

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        from ..creation import empty
        param = cls._wrap(empty(0, device=device, dtype=dtype)._array)
        if requires_grad:
            param.requires_grad_(True)
        return param

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        pass

    @property
    def _array(self):
        raise UninitializedParameterError(UNINITIALIZED_USE)

    @_array.setter
    def _array(self, array):
        _SLOT.__set__(self, array)

    @property
    def shape(self):
        raise UninitializedParameterError(UNINITIALIZED_SHAPE)

    @property
    def ndim(self) -> int:
        return 1                                # (PyTorch's, which reads its empty array)

    @property
    def dtype(self):
        return _SLOT.__get__(self).dtype

    @property
    def device(self):
        return backend.device_of(_SLOT.__get__(self))

    def numpy(self, *, force: bool = False):
        """An empty host array of this parameter's dtype (no values yet)."""
        return backend.to_device(_SLOT.__get__(self), backend.CPU)

    def tolist(self):
        raise UninitializedParameterError(UNINITIALIZED_USE)

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the parameter ``shape`` (uninitialised values: a lazy module then
        initialises them) on ``device`` in ``dtype`` (its own by default), in place, and
        make it a ``Parameter``."""
        from ..creation import empty
        shape = (int(shape),) if isinstance(shape, int) else tuple(int(n) for n in shape)
        made = empty(*shape, device=self.device if device is None else device,
                     dtype=self.dtype if dtype is None else dtype)
        self._array = made._array
        self.__class__ = self.cls_to_become

    def _convert(self, device, dtype) -> None:
        """``module.to(device, dtype)`` before materialising: only the device and the
        floating dtype it will have change (``dtype`` None: kept)."""
        array = _SLOT.__get__(self)
        if dtype is not None and array.dtype != dtype:
            array = array.astype(dtype)
        self._array = array if device is None else backend.to_device(array, device)

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    def __deepcopy__(self, memo: dict) -> "UninitializedParameter":
        if id(self) not in memo:
            memo[id(self)] = type(self)(self._requires_grad, self.device, self.dtype)
        return memo[id(self)]

    def __reduce_ex__(self, protocol: int):
        return (_rebuild_uninitialized, (self._requires_grad, str(self.device),
                                         str(self.dtype)))


def _rebuild_uninitialized(requires_grad: bool, device: str, dtype: str):
    """The inverse of ``UninitializedParameter.__reduce_ex__`` (unpickling)."""
    return UninitializedParameter(requires_grad, device, dtype)


def is_lazy(param) -> bool:
    """Whether ``param`` is an ``UninitializedParameter`` (its shape not known yet), as
    ``torch.nn.parameter.is_lazy``."""
    return isinstance(param, UninitializedParameter)


def uninitialized_entry(value) -> bool:
    """Whether a state-dict entry stands for a parameter not yet materialised: an
    ``UninitializedParameter``, or the empty 1-d array ``gpugrad.save`` writes for one."""
    if is_lazy(value):
        return True
    return tuple(getattr(value, "shape", ())) == (0,)
