"""Parametrizations, as ``torch.nn.utils.parametrize``: a module's parameter (or buffer)
``name`` becomes the output of a small Module applied to the tensor(s) it stores instead.

``register_parametrization(module, "weight", P())`` moves the parameter to
``module.parametrizations.weight.original`` (``original0``, ``original1``... when
``P.right_inverse`` returns several tensors) and swaps ``module``'s class for a subclass
``Parametrized<Class>`` with a ``weight`` property that returns ``P()(original)`` at every
read (once per ``cached()`` block); assigning ``module.weight = t`` stores
``P.right_inverse(t)``. ``state_dict`` keys follow (``parametrizations.weight.original``), as
PyTorch's. Example::

    >>> from gpugrad.nn.utils import parametrize
    >>> class Symmetric(nn.Module):
    ...     def forward(self, x):
    ...         return x.triu() + x.triu(1).transpose(0, 1)       # (n, n) -> (n, n)
    >>> layer = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    >>> w = layer.weight.detach().numpy()
    >>> type(layer).__name__, bool((w == w.T).all()), sorted(layer.state_dict())
    ('ParametrizedLinear', True, ['bias', 'parametrizations.weight.original'])
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from contextlib import contextmanager

from ...autograd.mode import no_grad
from ...tensor import Tensor
from ..containers import ModuleDict, ModuleList
from ..module import Module
from ..parameter import Parameter

__all__ = ["cached", "ParametrizationList", "register_parametrization", "is_parametrized",
           "remove_parametrizations", "type_before_parametrizations"]

_cache_enabled = 0
_cache: dict = {}           # (id(module), name) -> the parametrized tensor, inside cached()


@contextmanager
def cached():
    """Inside this block, each parametrized tensor is computed once, at its first read, and
    reused (as PyTorch's): a weight read by many steps of an RNN, or a costly
    parametrization (orthogonal), runs its Module once. Example::

        >>> from gpugrad.nn.utils import parametrize
        >>> layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", nn.Tanh())
        >>> with parametrize.cached():
        ...     layer.weight is layer.weight
        True
        >>> layer.weight is layer.weight
        False
    """
    global _cache, _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module: Module, name: str, value) -> None:
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _maybe_set(dest: Tensor, src: Tensor) -> None:
    """PyTorch's ``dest.set_(src)``: ``dest`` (the same object, so an optimizer holding it
    still does) takes ``src``'s values, sharing its memory."""
    if dest is not src:
        dest.data = src


def _check(value, what: str, dtype=None, shape=None) -> None:
    if not isinstance(value, Tensor):
        raise ValueError(f"{what} must return a tensor. Got {type(value).__name__}.")
    if dtype is not None and value.dtype != dtype:
        raise ValueError(f"{what} may not change the dtype of the tensor ({dtype} -> "
                         f"{value.dtype}), unless the `unsafe` flag is enabled")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise ValueError(f"{what} may not change the shape of the tensor ({tuple(shape)} -> "
                         f"{tuple(value.shape)}), unless the `unsafe` flag is enabled")


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the tensor(s) they start
    from: ``original`` (or ``original0``, ``original1``... when the first one's
    ``right_inverse`` returns a sequence). Calling it computes the parametrized tensor.
    ``module.parametrizations[name]`` is one; made by ``register_parametrization``."""

    def __init__(self, modules, original: Tensor, unsafe: bool = False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = tuple(original.shape), original.dtype
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != dtype:
                raise ValueError(f"When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            with no_grad():
                _maybe_set(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, value in enumerate(new):
                if not isinstance(value, Tensor):
                    raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the "
                                     f"sequence with type {type(value).__name__}.")
                if isinstance(original, Parameter):
                    value = Parameter(value, original.requires_grad)
                value.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", value)
        if not self.unsafe:
            _check(self(), "Registering a parametrization", dtype, shape)

    def right_inverse(self, value: Tensor) -> None:
        """Store ``value`` as the parametrized tensor: each parametrization's
        ``right_inverse`` in reverse order, into ``original`` (in place, under no_grad)."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       f"implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                     f"{value.dtype} while `original` has dtype "
                                     f"{self.original.dtype}")
                _maybe_set(self.original, value)
                return
            if not isinstance(value, Sequence) or len(value) != self.ntensors:
                raise ValueError(f"'right_inverse' must return a sequence of "
                                 f"{self.ntensors} tensors. Got {value!r:.80}")
            for i, tensor in enumerate(value):
                original = getattr(self, f"original{i}")
                if not isinstance(tensor, Tensor) or tensor.dtype != original.dtype:
                    raise ValueError(f"Tensor {i} returned by `right_inverse` must be a "
                                     f"tensor of dtype {original.dtype} (as `original{i}`)")
                _maybe_set(original, tensor)

    def forward(self) -> Tensor:
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _getstate(self):
    raise RuntimeError("Serialization of parametrized modules is only supported through "
                       "state_dict(): save model.state_dict() and load it into a model "
                       "with the same parametrizations")


def _deepcopy(self, memo):
    """Copy a parametrized module as an ordinary one is copied (``__getstate__`` refuses
    pickling)."""
    replica = memo.get(id(self))
    if replica is None:
        replica = memo[id(self)] = self.__new__(type(self))
        replica.__setstate__(copy.deepcopy(self.__dict__, memo))
    return replica


def _inject_new_class(module: Module) -> None:
    """Swap ``module``'s class for a new subclass ``Parametrized<Class>`` (so properties
    added to it concern this module only)."""
    cls = type(module)
    methods = {"__getstate__": _getstate}
    if not hasattr(cls, "__deepcopy__"):
        methods["__deepcopy__"] = _deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), methods)


def _inject_property(module: Module, name: str) -> None:
    if hasattr(module, name):
        raise AssertionError(f"Module already has an attribute named '{name}'")

    def get_parametrized(self) -> Tensor:
        parametrization = self.parametrizations[name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), name)
        tensor = _cache.get(key)
        if tensor is None:
            tensor = _cache[key] = parametrization()
        return tensor

    def set_original(self, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    setattr(type(module), name, property(get_parametrized, set_original))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` (a parameter or buffer, or one already parametrized)
    ``parametrization(original)``, as PyTorch's; returns ``module``.

    ``parametrization`` is a Module whose ``forward`` maps the stored tensor(s) to one of
    the parameter's shape and dtype (checked unless ``unsafe``). If it has
    ``right_inverse(t)``, the parameter's current value goes through it once to give the
    stored tensor(s) (a tuple: several, passed to ``forward`` in order), and so does every
    later ``module.<tensor_name> = t``. A second registration on the same name applies
    after the first. Shapes: the parameter's. Example (see the module's docstring)::

        >>> from gpugrad.nn.utils import parametrize
        >>> class Positive(nn.Module):
        ...     def forward(self, x):
        ...         return x.exp()
        ...     def right_inverse(self, y):
        ...         return y.log()
        >>> layer = nn.Linear(2, 1)
        >>> layer = parametrize.register_parametrization(layer, "bias", Positive())
        >>> layer.bias = gpugrad.tensor([2.0])          # stores log(2)
        >>> round(layer.parametrizations.bias.original.item(), 4), layer.bias.item()
        (0.6931, 2.0)
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            current = getattr(module, tensor_name)
            shape, dtype = tuple(current.shape), current.dtype
            out = parametrization(current)
            _check(out, "Registering a parametrization", dtype, shape)
            if hasattr(parametrization, "right_inverse"):
                try:
                    back = parametrization.right_inverse(out)
                except NotImplementedError:
                    pass
                else:
                    _check(back, "parametrization.right_inverse", dtype, shape)
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, when given). Example::

        >>> from gpugrad.nn.utils import parametrize
        >>> parametrize.is_parametrized(nn.Linear(2, 2))
        False
    """
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo ``register_parametrization`` on ``tensor_name``: it becomes a parameter (or
    buffer) again holding the parametrized value (``leave_parametrized``, in the same
    Parameter object when one tensor was stored) or the stored ``original``; the module gets
    its own class back once nothing is parametrized. Returns ``module``. Example::

        >>> from gpugrad.nn.utils import parametrize
        >>> layer = nn.Linear(2, 2)
        >>> layer = parametrize.register_parametrization(layer, "weight", nn.Identity())
        >>> type(parametrize.remove_parametrizations(layer, "weight")).__name__
        'Linear'
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                _maybe_set(original, getattr(module, tensor_name))
    elif leave_parametrized:
        t = getattr(module, tensor_name)
        original = Parameter(t.detach(), True) if t.requires_grad else t
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """``module``'s class before ``register_parametrization`` swapped it (its own class if
    not parametrized). Example::

        >>> from gpugrad.nn.utils import parametrize
        >>> layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", nn.Tanh())
        >>> type(layer).__name__, parametrize.type_before_parametrizations(layer).__name__
        ('ParametrizedLinear', 'Linear')
    """
    if is_parametrized(module):
        return type(module).__bases__[0]
    return type(module)
