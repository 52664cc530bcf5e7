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
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd.mode import no_grad
from ..tensor import Tensor

__all__ = ["IncompatibleKeys", "StateDictError", "ShapeMismatchError"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


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


def _state_items(module, prefix: str = ""):
    """(key, tensor) of every parameter and persistent buffer of ``module``, under each of
    its names (PyTorch's state_dict recurses into every child, shared ones included)."""
    stack = [(prefix, module)]
    while stack:
        dot, owner = stack.pop()
        for name, param in owner._parameters.items():
            if param is not None:
                yield dot + name, param
        skip = owner._non_persistent_buffers_set
        for name, buffer in owner._buffers.items():
            if buffer is not None and name not in skip:
                yield dot + name, buffer
        for child_name, child in reversed(list(owner._modules.items())):
            stack.append((f"{dot}{child_name}.", child))


def _key_list(keys) -> str:
    return ", ".join(f'"{k}"' for k in keys)


def _load_state(module, state_dict, strict: bool) -> IncompatibleKeys:
    """``module.load_state_dict(state_dict, strict)``: copy the values in, in place (a tied
    weight takes each of its keys in turn)."""
    own = list(_state_items(module))
    names = {name for name, _ in own}
    missing = [name for name, _ in own if name not in state_dict]
    unexpected = [k for k in state_dict if k not in names]
    if strict and (missing or unexpected):
        errors = ([f"Missing key(s) in state_dict: {_key_list(missing)}. "] if missing else []) \
            + ([f"Unexpected key(s) in state_dict: {_key_list(unexpected)}. "]
               if unexpected else [])
        raise StateDictError(f"Error(s) in loading state_dict for {type(module).__name__}:"
                             + "".join("\n\t" + e for e in errors))
    for name, target in own:
        if name not in state_dict:
            continue
        value = state_dict[name]
        array = value._array if isinstance(value, Tensor) else np.asarray(value)
        if tuple(array.shape) != tuple(target.shape):
            raise ShapeMismatchError(f"load_state_dict for {type(module).__name__}: '{name}' "
                                     f"has shape {tuple(array.shape)} in the state dict but "
                                     f"{tuple(target.shape)} in the model (size mismatch)")
        array = backend.to_device(array, target.device).astype(target.dtype, copy=False)
        with no_grad():
            target.copy_(Tensor._wrap(array))
    return IncompatibleKeys(missing, unexpected)
