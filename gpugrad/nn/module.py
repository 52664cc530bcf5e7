"""Module: the container models are built from, as in PyTorch (Parameter: parameter.py;
moving and casting: conversion.py; what state_dict holds: state.py).

A Module holds Parameters, buffers (state that is not trained, such as running statistics)
and sub-Modules as attributes (registered in the order they are set), and computes
``forward``; forward hooks can watch or change its inputs and outputs. Example::

    >>> class Affine(nn.Module):
    ...     def __init__(self, n):
    ...         super().__init__()
    ...         self.scale = nn.Parameter(gpugrad.ones(n))                       # trained
    ...         self.register_buffer("calls", gpugrad.zeros((), dtype="int64"))  # not trained
    ...     def forward(self, x):
    ...         self.calls += 1
    ...         return x * self.scale
    >>> model = Affine(2)
    >>> model(gpugrad.tensor([1.0, 2.0])).tolist(), list(model.state_dict()), model.calls.item()
    ([1.0, 2.0], ['scale', 'calls'], 1)
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..tensor import Tensor
from .conversion import _convert_module, _target_and_dtype
from ..autograd.compile_mode import refuse_in_compile
from .attributes import _check_new_name, _not_a_parameter, note_attribute_set
from .parameter import Parameter, zero_grads
from .state import (IncompatibleKeys, StateDictError, _load_state, _member, _named_members,
                    _state_items, _submodule, _walk)
from .module_hooks import (call_with_all_hooks, register_forward_hook, register_forward_pre_hook,
                           register_full_backward_hook, register_full_backward_pre_hook)
from .utils.hooks import RemovableHandle, call_with_hooks

__all__ = ["Module", "Parameter", "RemovableHandle", "StateDictError", "zero_grads"]


def _fresh_state() -> dict:
    """A new module's empty containers: parameters, buffers, sub-modules and hooks (the
    hook id -> True flags of the hooks registered ``with_kwargs`` or ``always_call``, and
    ``_all_hooks``: every registered hook's id, of all four kinds, so that ``__call__``
    tells a module without hooks by one test)."""
    return {"_parameters": OrderedDict(), "_buffers": OrderedDict(), "_modules": OrderedDict(),
            "_forward_pre_hooks": OrderedDict(), "_forward_hooks": OrderedDict(),
            "_non_persistent_buffers_set": set(),
            "_forward_pre_hooks_with_kwargs": OrderedDict(),
            "_forward_hooks_with_kwargs": OrderedDict(),
            "_forward_hooks_always_called": OrderedDict(),
            "_backward_hooks": OrderedDict(), "_backward_pre_hooks": OrderedDict(),
            "_all_hooks": OrderedDict()}

_HOOK_DICTS = ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_backward_pre_hooks")


class Module:
    """Base class of layers and models: holds parameters, buffers and sub-modules, computes
    ``forward``; call the module itself (``model(x)``) to run it (and its hooks)."""

    def __init__(self):
        for name, value in _fresh_state().items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "training", True)

    def __setstate__(self, state: dict) -> None:
        """Unpickling: a module pickled before buffers and hooks existed gets empty ones."""
        self.__dict__.update(state)
        rebuilt = "_all_hooks" not in state         # (pickled before it existed)
        for name, value in _fresh_state().items():
            self.__dict__.setdefault(name, value)
        if rebuilt:
            for name in _HOOK_DICTS:
                self._all_hooks.update(dict.fromkeys(self.__dict__[name], True))

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value):
        state = self.__dict__
        if "_parameters" not in state:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before "
                               f"assigning attributes")
        params, modules, buffers = state["_parameters"], state["_modules"], state["_buffers"]
        note_attribute_set(self, name, value, isinstance(value, Module))
        if isinstance(value, Parameter):
            refuse_in_compile(f"assigning {type(self).__name__}'s parameter '{name}'",
                              "assign parameters outside the step")
            buffers.pop(name, None)
            modules.pop(name, None)
            state["_non_persistent_buffers_set"].discard(name)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            state["_non_persistent_buffers_set"].discard(name)
            modules[name] = value
        elif name in buffers:                       # self.running_mean = t updates the buffer
            refuse_in_compile(f"assigning {type(self).__name__}'s buffer '{name}'",
                              f"update it in place (self.{name}.copy_(new_value))")
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}: cannot assign a "
                                f"{type(value).__name__} to buffer '{name}'; a buffer holds a "
                                f"Tensor or None (wrap arrays with gpugrad.tensor(...))")
            buffers[name] = value
        elif name in params:                        # a parameter's slot: a Parameter or None
            if value is not None:
                raise TypeError(_not_a_parameter(self, name, value))
            params[name] = None
        else:
            modules.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str):
        note_attribute_set(self, name, None, True)
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        self._non_persistent_buffers_set.discard(name)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` under ``name``; None keeps the name as an empty parameter slot
        (as ``Linear(bias=False)`` does), which later takes a Parameter or None only.

        Example::

            >>> layer = nn.Module()
            >>> layer.register_parameter("bias", None)
            >>> layer.bias is None, list(layer.parameters())
            (True, [])
        """
        _check_new_name(self, name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(_not_a_parameter(self, name, param))
        if param is None:
            self._parameters[name] = None
        setattr(self, name, param)

    def add_module(self, name: str, module: "Module") -> None:
        """``self.name = module``, with the checks PyTorch makes on the name."""
        if not isinstance(module, Module):
            raise TypeError(f"add_module('{name}', ...) takes a Module, got a "
                            f"{type(module).__name__}")
        _check_new_name(self, name, "module")
        setattr(self, name, module)

    register_module = add_module

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True):
        """Add a buffer: a tensor the module keeps that is not a parameter (not trained,
        not in ``parameters()``), such as a running mean. It is moved and cast by ``to``,
        listed by ``buffers()``, and saved in ``state_dict`` when ``persistent``. Assigning
        the attribute later (``self.name = t``) replaces it; None is allowed.

        Example::

            >>> stats = nn.Module()
            >>> stats.register_buffer("running_mean", gpugrad.zeros(3))      # shape (3,)
            >>> stats.register_buffer("scratch", gpugrad.zeros(3), persistent=False)
            >>> [name for name, _ in stats.named_buffers()], list(stats.state_dict())
            (['running_mean', 'scratch'], ['running_mean'])
        """
        _check_new_name(self, name, "buffer")
        refuse_in_compile(f"registering a buffer ('{name}')", "register it in __init__, or "
                          "outside the step")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer('{name}', ...) takes a Tensor or None, got a "
                            f"{type(tensor).__name__}; wrap it with gpugrad.tensor(...)")
        note_attribute_set(self, name, tensor, True)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)
        object.__setattr__(self, name, tensor)

    # ------------------------------------------------------------------ running
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        if self._all_hooks:             # (one test on the common path: no hooks at all)
            if self._backward_hooks or self._backward_pre_hooks or \
                    self._forward_hooks_always_called:
                return call_with_all_hooks(self, args, kwargs)    # (module_hooks.py)
            return call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    register_forward_pre_hook = register_forward_pre_hook                # (module_hooks.py)
    register_forward_hook = register_forward_hook
    register_full_backward_hook = register_full_backward_hook
    register_full_backward_pre_hook = register_full_backward_pre_hook

    def train(self, mode: bool = True) -> "Module":
        """Training mode (Dropout active) here, then ``child.train(mode)`` on each child (so a
        child's own ``train``, a frozen block staying in eval, is obeyed); returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): mode must be a bool, got {mode!r}")
        object.__setattr__(self, "training", mode)
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode (Dropout off): ``self.train(False)``; returns self."""
        return self.train(False)

    def apply(self, fn) -> "Module":
        """Call ``fn(module)`` on every sub-module (children first, recursively), then on
        this module; returns self. Example::

            >>> names = []
            >>> model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
            >>> model.apply(lambda m: names.append(type(m).__name__)) is model
            True
            >>> names
            ['Linear', 'ReLU', 'Sequential']
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set ``requires_grad`` on every parameter (False freezes them); returns self.
        Example::

            >>> model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
            >>> model[0].requires_grad_(False)          # freeze the first layer
            Linear(in_features=2, out_features=2, bias=True)
            >>> [name for name, p in model.named_parameters() if p.requires_grad]
            ['1.weight', '1.bias']
        """
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    # ------------------------------------------------------------------ traversal
    def children(self):
        """The direct sub-modules."""
        return iter(self._modules.values())

    def named_children(self):
        return iter(self._modules.items())

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True):
        """(name, module) for this module and every module inside it, depth first; a module
        reached twice is listed once unless ``remove_duplicate`` is False."""
        return _walk(self, memo, prefix, remove_duplicate)

    def modules(self):
        return (module for _, module in self.named_modules())

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """(dotted name, parameter) for every parameter in registration order; a parameter
        shared by two modules (tied weights) is listed once unless ``remove_duplicate`` is
        False. ``prefix`` starts every name; ``recurse=False``: this module's own only."""
        return _named_members(self, "_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        return (param for _, param in self.named_parameters(recurse=recurse))

    def get_submodule(self, target: str) -> "Module":
        """The sub-module at dotted path ``target`` ("" is self): ``get_submodule("0.fc")``."""
        return _submodule(self, target)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target``: ``model.get_parameter("0.weight")``."""
        return _member(self, target, "_parameters", "nn.Parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target``: ``model.get_buffer("0.running_mean")``."""
        return _member(self, target, "_buffers", "buffer")

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        """(dotted name, buffer) for every buffer that is not None, each once; ``recurse``:
        those of sub-modules too. Example::

            >>> model = nn.Sequential(nn.Linear(2, 2))
            >>> model[0].register_buffer("mask", gpugrad.ones(2, 2))
            >>> [(name, b.shape) for name, b in model.named_buffers()]
            [('0.mask', (2, 2))]
        """
        return _named_members(self, "_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        """The buffers (tensors that are not parameters, not None) of this module and, with
        ``recurse``, of its sub-modules, each once. Example::

            >>> stats = nn.Module()
            >>> stats.register_buffer("count", gpugrad.zeros((), dtype="int64"))
            >>> [b.item() for b in stats.buffers()]
            [0]
        """
        return (buffer for _, buffer in self.named_buffers(recurse=recurse))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient (to None, or to zeros in place)."""
        zero_grads(self.parameters(), set_to_none)

    # ------------------------------------------------------------------ devices and dtypes
    def to(self, device=None, dtype=None) -> "Module":
        """Move every parameter, gradient and buffer to ``device`` and cast the floating
        ones to ``dtype`` (integer buffers keep theirs, as in PyTorch); returns self.
        Parameters stay the same objects (so an optimizer made earlier still holds them),
        changed in place with their gradients; a moved buffer is a new tensor (see
        ``gpugrad.nn.conversion``). ``model.to("cuda")``, ``model.to(gpugrad.float64)``,
        ``model.to("cpu", "float64")``."""
        _convert_module(self, *_target_and_dtype(device, dtype))
        return self

    def double(self) -> "Module":
        """``self.to(gpugrad.float64)``: floating parameters, gradients and buffers become
        float64. Example::

            >>> model = nn.Linear(2, 1).double()
            >>> model.weight.dtype, model(gpugrad.ones(1, 2, dtype="float64")).dtype
            (dtype('float64'), dtype('float64'))
        """
        return self.to(dtype=np.float64)

    def float(self) -> "Module":
        """``self.to(gpugrad.float32)``."""
        return self.to(dtype=np.float32)

    def half(self) -> "Module":
        """``self.to(gpugrad.float16)``."""
        return self.to(dtype=np.float16)

    def cpu(self) -> "Module":
        """``self.to("cpu")``."""
        return self.to("cpu")

    def cuda(self, index: int | None = None) -> "Module":
        """``self.to("cuda")``, or ``"cuda:index"``."""
        return self.to("cuda" if index is None else f"cuda:{index}")

    # ------------------------------------------------------------------ state
    def state_dict(self, *, destination=None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Every parameter and persistent buffer by dotted name (a tied weight under each of
        its names, as PyTorch's), as tensors cut from the graph that share memory with the
        model (``keep_vars``: the tensors themselves); ``prefix`` starts every key, and the
        items are added to ``destination`` when given."""
        out = OrderedDict() if destination is None else destination
        for name, value in _state_items(self, prefix):
            out[name] = value if keep_vars else value.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into the parameters and persistent buffers, in
        place; returns ``(missing_keys, unexpected_keys)``.

        With ``strict``, missing and unexpected keys raise ``StateDictError`` (a RuntimeError,
        as PyTorch's, and a KeyError) naming them; a shape mismatch is always an error naming
        the key. Values move to each tensor's device
        and dtype. Example::

            >>> model = nn.Linear(2, 1)
            >>> model.load_state_dict({"weight": gpugrad.zeros(1, 2)}, strict=False)
            IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])
        """
        return _load_state(self, state_dict, strict)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line."""
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if self._modules:
            for name, module in self._modules.items():
                inner = repr(module).replace("\n", "\n  ")
                lines.append(f"  ({name}): {inner}")
            return "\n".join(lines) + "\n)"
        return lines[0] + ")"
