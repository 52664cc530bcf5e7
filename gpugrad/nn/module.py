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

import numpy as np

from ..tensor import Tensor
from . import conversion as _conversion
from ..autograd.compile_mode import refuse_in_compile
from . import state as _state, state_hooks as _hooks
from .attributes import HOOK_DICTS, REGISTRY_NAMES, EarlyAssignment, _check_new_name, \
    _not_a_parameter, fresh_state, note_attribute_set, replace_registry, tie_registries
from .parameter import Parameter, zero_grads
from .state import StateDictError, _member, _named_members, _submodule, _walk
from .module_hooks import (call_with_all_hooks, register_forward_hook, register_forward_pre_hook,
                           register_full_backward_hook, register_full_backward_pre_hook)
from .utils.hooks import RemovableHandle, call_with_hooks

__all__ = ["Module", "Parameter", "RemovableHandle", "StateDictError", "zero_grads"]


class Module:
    """Base class of layers and models: holds parameters, buffers and sub-modules, computes
    ``forward``; call the module itself (``model(x)``) to run it (and its hooks)."""

    _version = 1                # (saved in state_dict's _metadata; see _load_from_state_dict)

    def __init__(self):
        for name, value in fresh_state(self).items():     # (plain attributes set before
            object.__setattr__(self, name, value)           # super().__init__() stay)
        object.__setattr__(self, "training", True)

    def __setstate__(self, state: dict) -> None:
        """Unpickling: a module pickled before buffers and hooks existed gets empty ones."""
        self.__dict__.update(state)
        rebuilt = "_all_hooks" not in state         # (pickled before it existed)
        for name, value in fresh_state(self).items():
            self.__dict__.setdefault(name, value)
        tie_registries(self)
        if rebuilt:
            for name in HOOK_DICTS:
                self._all_hooks.update(dict.fromkeys(self.__dict__[name], True))

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value):
        state = self.__dict__
        if "_parameters" not in state:              # before super().__init__()
            if isinstance(value, (Parameter, Module)):
                raise EarlyAssignment(
                    f"{type(self).__name__}: cannot assign "
                    f"{'parameters' if isinstance(value, Parameter) else 'module'} before "
                    f"Module.__init__() call; call super().__init__() first")
            object.__setattr__(self, name, value)
            return
        params, modules, buffers = state["_parameters"], state["_modules"], state["_buffers"]
        note_attribute_set(self, name, value, isinstance(value, Module))
        if isinstance(value, Parameter):
            refuse_in_compile(f"assigning {type(self).__name__}'s parameter '{name}'",
                              "assign parameters outside the step")
            if name not in params and isinstance(getattr(type(self), name, None), property):
                raise KeyError(f"attribute '{name}' already exists")   # (a parametrized name)
            buffers._drop(name)
            modules._drop(name)
            state["_non_persistent_buffers_set"].discard(name)
            params._put(name, value)
        elif isinstance(value, Module):
            params._drop(name)
            buffers._drop(name)
            state["_non_persistent_buffers_set"].discard(name)
            modules._put(name, value)
        elif name in buffers:                       # self.running_mean = t updates the buffer
            refuse_in_compile(f"assigning {type(self).__name__}'s buffer '{name}'",
                              f"update it in place (self.{name}.copy_(new_value))")
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}: cannot assign a "
                                f"{type(value).__name__} to buffer '{name}'; a buffer holds a "
                                f"Tensor or None (wrap arrays with gpugrad.tensor(...))")
            buffers._put(name, value)
        elif name in params:                        # a parameter's slot: a Parameter or None
            if value is not None:
                raise TypeError(_not_a_parameter(self, name, value))
            params._put(name, None)
        elif name in modules:                       # a submodule's slot: a Module or None
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (nn.Module or None expected)")
            modules._put(name, None)
        elif name in REGISTRY_NAMES:                # m._parameters = OrderedDict()
            replace_registry(self, name, value)
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str):
        state = self.__dict__
        if "_parameters" not in state:
            object.__delattr__(self, name)
            return
        note_attribute_set(self, name, None, False)     # (counts a registered name only)
        for registry in (state["_parameters"], state["_modules"], state["_buffers"]):
            registry._drop(name)
        state["_non_persistent_buffers_set"].discard(name)
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
            self._parameters._put(name, None)
        setattr(self, name, param)

    def add_module(self, name: str, module: "Module | None") -> None:
        """``self.name = module``, with the checks PyTorch makes on the name; None keeps
        ``name`` as an empty sub-module slot (as PyTorch's)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module('{name}', ...) takes a Module or None, got a "
                            f"{type(module).__name__}")
        _check_new_name(self, name, "module")
        if module is None:
            note_attribute_set(self, name, None, True)
            self._modules._put(name, None)
            object.__setattr__(self, name, None)
            return
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
        self._buffers._put(name, tensor)
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
        """The direct sub-modules, each once (a module under two names is one child)."""
        return (module for _, module in self.named_children())

    def named_children(self):
        """(name, module) for each direct sub-module, a module held under two names listed
        once, under its first name (as PyTorch's). Example::

            >>> layer = nn.Linear(2, 2)
            >>> [name for name, _ in nn.ModuleList([layer, layer]).named_children()]
            ['0']
        """
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

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
    to = _conversion.module_to                                            # (conversion.py)
    type = _conversion.module_type
    bfloat16 = _conversion.module_bfloat16
    to_empty = _conversion.module_to_empty
    share_memory = _conversion.module_share_memory

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

    # ------------------------------------------------------------------ state (state.py)
    state_dict = _state.state_dict
    _save_to_state_dict = _state._save_to_state_dict
    load_state_dict = _state.load_state_dict
    _load_from_state_dict = _state._load_from_state_dict
    get_extra_state = _hooks.get_extra_state
    set_extra_state = _hooks.set_extra_state
    register_state_dict_pre_hook = _hooks.register_state_dict_pre_hook
    register_state_dict_post_hook = _hooks.register_state_dict_post_hook
    _register_state_dict_hook = _hooks._register_state_dict_hook
    register_load_state_dict_pre_hook = _hooks.register_load_state_dict_pre_hook
    _register_load_state_dict_pre_hook = _hooks._register_load_state_dict_pre_hook
    register_load_state_dict_post_hook = _hooks.register_load_state_dict_post_hook

    def set_submodule(self, target: str, module: "Module", strict: bool = False) -> None:
        """Put ``module`` at dotted path ``target`` (``"0.fc"``): its parent must exist;
        with ``strict`` the last name must already be a sub-module."""
        _state.set_submodule(self, target, module, strict, Module)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: ``Name(extra)`` on one line, or the extra_repr's lines and one
        line per child ``(name): ...``, each indented by two, between ``Name(`` and ``)``."""
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _indented(repr(module)))
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        if not lines:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _indented(text: str) -> str:
    """``text`` with every line after the first indented by two (blank lines stay empty)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [("  " + line) if line.strip() else "" for line in rest])
