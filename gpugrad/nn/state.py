"""A Module's members by dotted name, as in PyTorch: walking the module tree, looking a
member up by its name, what ``Module.state_dict`` lists and how ``Module.load_state_dict``
copies it back.

``state_dict`` holds every parameter and persistent buffer under every name it has (a weight
tied between two layers appears twice, as in PyTorch, while ``parameters()`` lists it once),
in PyTorch's order: each module's parameters, then its buffers, then its children's.

Example::

    >>> model = nn.Sequential(nn.Linear(2, 1))
    >>> model[0].register_buffer("steps", gpugrad.zeros((), dtype="int64"))
    >>> list(model.state_dict())
    ['0.weight', '0.bias', '0.steps']
    >>> nn.Sequential(nn.Linear(2, 1)).load_state_dict(model.state_dict(), strict=False)
    IncompatibleKeys(missing_keys=[], unexpected_keys=['0.steps'])

Each module writes and reads its own entries (``_save_to_state_dict`` and
``_load_from_state_dict``, PyTorch's signatures, which a subclass may override), around the
hooks PyTorch has (``register_state_dict_pre_hook``, ``register_state_dict_post_hook``,
``register_load_state_dict_pre_hook``, ``register_load_state_dict_post_hook``), and a module
whose class defines ``get_extra_state`` / ``set_extra_state`` saves that under
``<prefix>_extra_state``. The hooks and the extra state are in ``state_hooks.py``.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from .. import backend
from ..autograd.mode import no_grad
from ..tensor import Tensor
from .parameter import Parameter, is_lazy, uninitialized_entry
from .state_hooks import get_extra_state, set_extra_state

__all__ = ["IncompatibleKeys", "StateDictError", "ShapeMismatchError"]



class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys the model has that the state dict lacks
    (``missing_keys``) and those it has that the model lacks (``unexpected_keys``); shown
    as PyTorch's, ``<All keys matched successfully>`` when both are empty."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class StateDictError(RuntimeError, KeyError):
    """A strict ``load_state_dict`` found missing or unexpected keys: a RuntimeError with
    PyTorch's message, and a KeyError (as gpugrad raised before) shown without quotes.

    Example::

        >>> try:
        ...     nn.Linear(2, 1).load_state_dict({"weight": gpugrad.zeros(1, 2)})
        ... except RuntimeError as error:
        ...     print(error)
        Error(s) in loading state_dict for Linear:
            Missing key(s) in state_dict: "bias".
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ShapeMismatchError(RuntimeError, ValueError):
    """A ``load_state_dict`` value whose shape is not its model's: a RuntimeError, as
    PyTorch's "size mismatch" error, and a ValueError (as gpugrad raised before)."""


class _KeysAndShapesError(StateDictError, ShapeMismatchError):
    """Both: missing or unexpected keys and a size mismatch, in one message (PyTorch's)."""


def _walk(module, memo, prefix: str, remove_duplicate: bool):
    """(dotted name, module) for ``module`` and every module inside it, depth first (an
    explicit stack: deep models do not reach the recursion limit)."""
    stack = [(prefix, module)]
    seen = set() if memo is None else memo
    while stack:
        name, module = stack.pop()
        if remove_duplicate:
            if module in seen:
                continue
            seen.add(module)
        yield name, module
        for child_name, child in reversed(list(module._modules.items())):
            if child is not None:                   # (an empty slot: add_module(n, None))
                stack.append((f"{name}.{child_name}" if name else child_name, child))


def _named_members(module, kind: str, prefix: str, recurse: bool, remove_duplicate: bool):
    """(dotted name, value) of the ``kind`` ("_parameters" or "_buffers") members that are
    not None; with ``remove_duplicate`` a value (and a module) met twice is listed once."""
    seen = set()
    owners = _walk(module, None, prefix, remove_duplicate) if recurse else [(prefix, module)]
    for module_name, owner in owners:
        for name, value in owner.__dict__[kind].items():
            if value is None or (remove_duplicate and id(value) in seen):
                continue
            seen.add(id(value))
            yield (f"{module_name}.{name}" if module_name else name), value


def _submodule(module, target: str):
    """``module.get_submodule(target)``: each step of the path a registered sub-module."""
    owner = module
    for item in target.split(".") if target else []:
        if item not in owner._modules:
            problem = "is not an nn.Module" if hasattr(owner, item) else "does not exist"
            raise AttributeError(f"{type(owner).__name__} has no sub-module `{item}` (it "
                                 f"{problem}; looking up '{target}')")
        owner = owner._modules[item]
    return owner


def _member(module, target: str, kind: str, what: str):
    """``module.get_parameter(target)`` (``kind`` "_parameters") or ``get_buffer``."""
    module_path, _, name = target.rpartition(".")
    owner = _submodule(module, module_path)
    if not hasattr(owner, name):
        raise AttributeError(f"{type(owner).__name__} has no attribute `{name}` (looking up "
                             f"'{target}')")
    if name not in owner.__dict__[kind]:
        raise AttributeError(f"`{name}` is not a {what} (looking up '{target}')")
    return getattr(owner, name)


_EXTRA = "_extra_state"


def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
    """Every parameter and persistent buffer by dotted name (a tied weight under each of
    its names, as PyTorch's), as tensors cut from the graph that share memory with the
    model (``keep_vars``: the tensors themselves); ``prefix`` starts every key, and the
    items are added to ``destination`` when given. Each module adds its own entries
    (``_save_to_state_dict``) between its state-dict pre- and post-hooks; the result's
    ``_metadata`` holds each module's ``version``. Example::

        >>> list(nn.Sequential(nn.Linear(2, 1)).state_dict())
        ['0.weight', '0.bias']
    """
    if args:
        warnings.warn("Positional args are being deprecated, use kwargs instead.",
                      FutureWarning, stacklevel=2)
        destination = args[0] if destination is None else destination
        prefix = args[1] if len(args) > 1 and prefix == "" else prefix
        keep_vars = args[2] if len(args) > 2 and keep_vars is False else keep_vars
    if destination is None:
        destination = OrderedDict()
        destination._metadata = OrderedDict()
    local_metadata = {"version": self._version}
    if hasattr(destination, "_metadata"):
        destination._metadata[prefix[:-1]] = local_metadata
    for hook in tuple(self._state_dict_pre_hooks.values()):
        hook(self, prefix, keep_vars)
    self._save_to_state_dict(destination, prefix, keep_vars)
    for name, module in self._modules.items():
        if module is not None:
            module.state_dict(destination=destination, prefix=prefix + name + ".",
                              keep_vars=keep_vars)
    for hook in tuple(self._state_dict_hooks.values()):
        result = hook(self, destination, prefix, local_metadata)
        if getattr(hook, "_from_public_api", False):
            if result is not None:
                raise RuntimeError("state_dict post-hook must return None (change the "
                                   "state dict in place)")
        elif result is not None:
            destination = result
    return destination


def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
    """Put this module's own parameters and persistent buffers (not its children's) into
    ``destination`` under ``prefix`` + name, and its extra state if its class defines
    ``get_extra_state``."""
    for name, param in self._parameters.items():
        if param is not None:           # (a lazy parameter as it is, as PyTorch's)
            destination[prefix + name] = param if keep_vars or is_lazy(param) else \
                param.detach()
    skip = self._non_persistent_buffers_set
    for name, buffer in self._buffers.items():
        if buffer is not None and name not in skip:
            destination[prefix + name] = buffer if keep_vars else buffer.detach()
    if type(self).get_extra_state is not get_extra_state:
        destination[prefix + _EXTRA] = self.get_extra_state()


def _key_list(keys) -> str:
    return ", ".join(f'"{k}"' for k in keys)


def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
    """Copy values from ``state_dict`` into the parameters and persistent buffers, in
    place (``assign``: put the state dict's tensors in their place instead, as Parameters
    where the model had Parameters, keeping ``requires_grad``); returns
    ``(missing_keys, unexpected_keys)``. Values move to each tensor's device and dtype.

    Each module reads its own entries (``_load_from_state_dict``), then its children, then
    its load-state-dict post-hooks run. With ``strict``, missing and unexpected keys are
    errors; shape mismatches always are. All of them are raised together in one error,
    PyTorch's "Error(s) in loading state_dict for X:" message: a ``StateDictError`` (a
    RuntimeError and a KeyError) for keys, a ``ShapeMismatchError`` (a RuntimeError and a
    ValueError) for shapes. Example::

        >>> model = nn.Linear(2, 1)
        >>> model.load_state_dict({"weight": gpugrad.zeros(1, 2)}, strict=False)
        IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])
        >>> model.load_state_dict(nn.Linear(2, 1).state_dict())
        <All keys matched successfully>
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    missing, unexpected, errors = [], [], []
    metadata = getattr(state_dict, "_metadata", None)
    state_dict = OrderedDict(state_dict)

    def load(module, local: dict, prefix: str) -> None:
        local_metadata = dict({} if metadata is None else metadata.get(prefix[:-1], {}))
        if assign:
            local_metadata["assign_to_params_buffers"] = True
        module._load_from_state_dict(local, prefix, local_metadata, True, missing, unexpected,
                                     errors)
        if module._modules:
            parts: dict = {}                    # child name -> its keys (one pass, not one
            for key, value in local.items():    # pass per child)
                head, dot, _ = key[len(prefix):].partition(".")
                if dot and key.startswith(prefix):
                    parts.setdefault(head, {})[key] = value
            for name, child in module._modules.items():
                if child is not None:
                    load(child, parts.get(name, {}), prefix + name + ".")
        result = IncompatibleKeys(missing, unexpected)
        for hook in tuple(module._load_state_dict_post_hooks.values()):
            if hook(module, result) is not None:
                raise AssertionError("a load_state_dict post-hook must return None (change "
                                     "incompatible_keys in place)")

    load(self, state_dict, "")
    if strict:
        if unexpected:
            errors.insert(0, f"Unexpected key(s) in state_dict: {_key_list(unexpected)}. ")
        if missing:
            errors.insert(0, f"Missing key(s) in state_dict: {_key_list(missing)}. ")
    if errors:
        shapes = any(e.startswith("size mismatch") for e in errors)
        keys = strict and bool(missing or unexpected)
        kind = (_KeysAndShapesError if keys else ShapeMismatchError) if shapes else \
            (StateDictError if keys else RuntimeError)
        raise kind(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                   + "\n\t".join(errors))
    return IncompatibleKeys(missing, unexpected)


def _load_from_state_dict(self, state_dict, prefix: str, local_metadata: dict, strict: bool,
                          missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
    """Load this module's own parameters and persistent buffers (not its children's) from
    ``state_dict`` (keys ``prefix`` + name), after its load-state-dict pre-hooks, adding to
    ``missing_keys`` / ``unexpected_keys`` (with ``strict``) and ``error_msgs``; PyTorch's
    signature, for subclasses to override (calling this one)."""
    for hook in tuple(self._load_state_dict_pre_hooks.values()):
        hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
             error_msgs)
    local = {k: v for k, v in self._parameters.items() if v is not None}
    skip = self._non_persistent_buffers_set
    local.update((k, v) for k, v in self._buffers.items() if v is not None and k not in skip)
    assign = local_metadata.get("assign_to_params_buffers", False)
    for name, target in local.items():
        key = prefix + name
        if key in state_dict:
            error = _load_one(self, name, target, state_dict[key], key, assign)
            if error:
                error_msgs.append(error)
        elif strict:
            missing_keys.append(key)
    extra = prefix + _EXTRA
    if type(self).set_extra_state is not set_extra_state:
        if extra in state_dict:
            self.set_extra_state(state_dict[extra])
        elif strict:
            missing_keys.append(extra)
    elif strict and extra in state_dict:
        unexpected_keys.append(extra)
    if strict:
        for key in state_dict:
            if key.startswith(prefix) and key != extra:
                head, dot, _ = key[len(prefix):].partition(".")
                if (head not in self._modules) if dot else (head not in local):
                    unexpected_keys.append(key)


def _load_one(module, name: str, target, value, key: str, assign: bool):
    """Copy (or with ``assign`` put) ``value`` into ``module.name`` (now ``target``); the
    error message, or None. A lazy ``target`` (a checkpoint saved before its module's
    first call: lazy.py) takes nothing."""
    if is_lazy(target) or is_lazy(value):
        return _lazy_entry_error(key, target, value)
    array = value._array if isinstance(value, Tensor) else np.asarray(value)
    if target.ndim == 0 and tuple(array.shape) == (1,):
        array = array.reshape(())
    if tuple(array.shape) != tuple(target.shape):
        return (f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} "
                f"from checkpoint, the shape in current model is {tuple(target.shape)}.")
    try:
        with no_grad():
            if assign:
                new = value if isinstance(value, Tensor) and value.shape == target.shape \
                    else Tensor._wrap(array)
                if isinstance(target, Parameter):
                    new = new if isinstance(new, Parameter) else Parameter(new)
                    new.requires_grad_(target.requires_grad)
                setattr(module, name, new)
            else:
                array = backend.to_device(array, target.device).astype(target.dtype,
                                                                       copy=False)
                target.copy_(Tensor._wrap(array))
    except Exception as error:                  # (as PyTorch's: reported with the others)
        return (f'While copying the parameter named "{key}", whose dimensions in the model '
                f"are {tuple(target.shape)} and whose dimensions in the checkpoint are "
                f"{tuple(array.shape)}, an exception occurred : {error.args}.")
    return None


def _lazy_entry_error(key: str, target, value):
    """``_load_one`` where the model's parameter or the checkpoint's value is lazy."""
    if is_lazy(target) and uninitialized_entry(value):
        return None                     # (nothing to copy: it stays lazy, as PyTorch's)
    if is_lazy(target):
        return (f"While copying the parameter named \"{key}\": the model's parameter is an "
                f"uninitialized parameter of a module that is not lazy; materialize it "
                f"first (param.materialize(shape))")
    return (f"size mismatch for {key}: the checkpoint holds an uninitialized parameter (its "
            f"lazy module was saved before its first call), the shape in current model is "
            f"{tuple(target.shape)}. Can't access the shape of an uninitialized parameter: "
            f"call the lazy module's forward once before saving its state dict.")


def set_submodule(self, target: str, module, strict: bool, module_class) -> None:
    """``Module.set_submodule``: put ``module`` (a ``module_class``) at dotted ``target``."""
    parent_path, _, name = target.rpartition(".")
    if not name:
        raise ValueError("set_submodule: cannot set the module itself (target is '')")
    parent = _submodule(self, parent_path)
    if strict and name not in parent._modules:
        raise AttributeError(f"{type(parent).__name__} has no sub-module `{name}` "
                             f"(setting '{target}' with strict=True)")
    if not isinstance(module, module_class):
        raise ValueError(f"set_submodule: `module` is not an nn.Module, found "
                         f"{type(module).__name__}")
    setattr(parent, name, module)
