"""What ``Module.state_dict`` lists and how ``Module.load_state_dict`` copies it back, as in
PyTorch: every parameter and persistent buffer by dotted name, in PyTorch's order (each
module's parameters, then its buffers, then its children's).

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

__all__ = ["IncompatibleKeys"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _state_items(module):
    """(key, tensor) of every parameter (each once) and persistent buffer of ``module``."""
    seen = set()
    for module_name, owner in module.named_modules():
        dot = f"{module_name}." if module_name else ""
        for name, param in owner._parameters.items():
            if param is not None and id(param) not in seen:
                seen.add(id(param))
                yield dot + name, param
        skip = owner._non_persistent_buffers_set
        for name, buffer in owner._buffers.items():
            if buffer is not None and name not in skip:
                yield dot + name, buffer


def _load_state(module, state_dict, strict: bool) -> IncompatibleKeys:
    """``module.load_state_dict(state_dict, strict)``: copy the values in, in place."""
    own = dict(_state_items(module))
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    if strict and (missing or unexpected):
        raise KeyError(f"load_state_dict for {type(module).__name__}: missing keys "
                       f"{missing}, unexpected keys {unexpected}")
    for name, target in own.items():
        if name not in state_dict:
            continue
        value = state_dict[name]
        array = value._array if isinstance(value, Tensor) else np.asarray(value)
        if tuple(array.shape) != tuple(target.shape):
            raise ValueError(f"load_state_dict for {type(module).__name__}: '{name}' has "
                             f"shape {tuple(array.shape)} in the state dict but "
                             f"{tuple(target.shape)} in the model")
        array = backend.to_device(array, target.device).astype(target.dtype, copy=False)
        with no_grad():
            target.copy_(Tensor._wrap(array))
    return IncompatibleKeys(missing, unexpected)
