"""Module and Parameter: the containers models are built from, as in PyTorch.

A Module holds Parameters and sub-Modules as attributes (registered in the order they are
set), and computes ``forward``. Example::

    class Affine(Module):
        def __init__(self, n):
            super().__init__()
            self.scale = Parameter(gpugrad.ones(n))

        def forward(self, x):
            return x * self.scale
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import backend
from ..autograd.mode import no_grad
from ..tensor import Tensor

__all__ = ["Module", "Parameter", "zero_grads"]


def zero_grads(params, set_to_none: bool = True) -> None:
    """Reset the gradients of ``params``: to None, or to zeros in their buffers (which later
    backward passes then accumulate into without allocating)."""
    for param in params:
        if set_to_none or param.grad is None:
            param.grad = None
        else:
            with no_grad():
                param.grad = param.grad.detach()
                param.grad.zero_()


class Parameter(Tensor):
    """A tensor that is a model's parameter: it requires grad and a Module registers it.

    Example::

        >>> w = Parameter(gpugrad.randn(3, 2))      # w.requires_grad is True
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


class Module:
    """Base class of layers and models: holds parameters and sub-modules, computes
    ``forward``; call the module itself (``model(x)``) to run it."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before "
                               f"assigning attributes")
        params, modules = self.__dict__["_parameters"], self.__dict__["_modules"]
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` under ``name`` (None removes nothing but reserves the name)."""
        setattr(self, name, param)

    def add_module(self, name: str, module: "Module") -> None:
        setattr(self, name, module)

    # ------------------------------------------------------------------ running
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def train(self, mode: bool = True) -> "Module":
        """Training mode (Dropout active); returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Evaluation mode (Dropout off); returns self."""
        return self.train(False)

    # ------------------------------------------------------------------ traversal
    def children(self):
        """The direct sub-modules."""
        return iter(self._modules.values())

    def named_children(self):
        return iter(self._modules.items())

    def named_modules(self, prefix: str = ""):
        """(name, module) for this module and every module inside it, depth first."""
        stack = [(prefix, self)]
        seen = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = list(module._modules.items())
            for child_name, child in reversed(children):
                stack.append((f"{name}.{child_name}" if name else child_name, child))

    def modules(self):
        return (module for _, module in self.named_modules())

    def named_parameters(self, prefix: str = ""):
        """(dotted name, parameter) for every parameter, each once, in registration order."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self):
        return (param for _, param in self.named_parameters())

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient (to None, or to zeros in place)."""
        zero_grads(self.parameters(), set_to_none)

    # ------------------------------------------------------------------ devices and dtypes
    def to(self, device=None, dtype=None) -> "Module":
        """Move (and/or cast) every parameter in place, keeping the same Parameter objects
        (so an optimizer made earlier still holds them); returns self."""
        target = None if device is None else backend.Device(device)
        for param in self.parameters():
            array = param._array
            if dtype is not None:
                array = array.astype(np.dtype(dtype))
            if target is not None:
                array = backend.to_device(array, target)
            if array is not param._array:
                param._array = array
                param._version.value += 1
                param.grad = None
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """Every parameter by dotted name, as tensors cut from the graph (shared memory)."""
        return OrderedDict((name, param.detach()) for name, param in self.named_parameters())

    def load_state_dict(self, state_dict, strict: bool = True) -> None:
        """Copy values from ``state_dict`` into the parameters, in place.

        With ``strict``, missing and unexpected keys are errors (naming them); a shape
        mismatch is always an error naming the key. Values move to each parameter's device
        and dtype.
        """
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict for {type(self).__name__}: missing keys "
                           f"{missing}, unexpected keys {unexpected}")
        for name, param in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value._array if isinstance(value, Tensor) else np.asarray(value)
            if tuple(array.shape) != tuple(param.shape):
                raise ValueError(f"load_state_dict for {type(self).__name__}: '{name}' has "
                                 f"shape {tuple(array.shape)} in the state dict but "
                                 f"{tuple(param.shape)} in the model")
            array = backend.to_device(array, param.device).astype(param.dtype, copy=False)
            with no_grad():
                param.copy_(Tensor._wrap(array))

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
