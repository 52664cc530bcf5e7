"""Setting a Module's attributes: the checks on the names ``register_*`` take, and which
settings count as structure changes for compiled steps (``compile_mode.structure_changed``:
``gpugrad.compile`` records a step again after one, since its program may have read what
changed).

What counts, set outside a step's recording: a parameter, buffer or submodule, new or
replaced (``parameters()`` sees new ones too), and a plain tensor attribute of a module
that some recording called (its ``forward`` may read it; a metrics module's running total,
which no step reads, counts nothing). Inside a recording, what the step builds (a
``Sequential`` it slices) or sets on its own is part of the recording; replacing an
existing parameter, buffer or submodule still counts.

Example::

    >>> from gpugrad.autograd.compile_mode import structure
    >>> layer, before = nn.Linear(2, 2), structure.epoch
    >>> layer.bias = nn.Parameter(gpugrad.zeros(2))         # replaced outside a step
    >>> structure.epoch == before + 1
    True
"""

from __future__ import annotations

import weakref

from ..autograd.compile_mode import _state as _compiling, structure_changed
from ..tensor import Tensor
from .parameter import Parameter

__all__ = ["note_called", "note_attribute_set"]

_called_by_recordings = weakref.WeakSet()     # modules a step's recording called


def note_called(module) -> None:
    """``module`` is called while a step is recorded (its forward may read its attributes)."""
    _called_by_recordings.add(module)


def note_attribute_set(module, name: str, value, structural: bool) -> None:
    """Count setting ``module.name = value`` (``structural``: a submodule, or a deletion)
    as a structure change where a compiled program may have read it."""
    state = module.__dict__
    if name in state["_parameters"] or name in state["_buffers"] or name in state["_modules"]:
        structure_changed()                         # replaced or deleted
    elif _compiling.recorder is not None:
        return                                      # the step's own: part of its recording
    elif structural or isinstance(value, Parameter):
        structure_changed()                         # a new parameter, buffer or submodule
    elif (isinstance(value, Tensor) or isinstance(state.get(name), Tensor)) and \
            module in _called_by_recordings:
        structure_changed()                         # a tensor its forward may read


def _not_a_parameter(module, name: str, value) -> str:
    return (f"{type(module).__name__}: cannot assign a {type(value).__name__} to parameter "
            f"'{name}' (a Parameter or None is expected); wrap it: nn.Parameter(value)")


def _check_new_name(module, name, kind: str) -> None:
    """Refuse a name that ``register_<kind>`` cannot take (as PyTorch does), saying why: before
    ``super().__init__()``, not a string, empty or dotted (state_dict keys use dots), or an
    attribute that is not already a <kind> (such as the ``forward`` method)."""
    owner = type(module).__name__
    registry = module.__dict__.get(f"_{kind}s")
    if registry is None:
        raise AttributeError(f"{owner}: call super().__init__() before register_{kind}")
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
    if name == "" or "." in name:
        raise KeyError(f"{kind} name {name!r} must be non-empty and contain no '.'")
    if name not in registry and hasattr(module, name):
        raise KeyError(f"{owner} already has an attribute '{name}'; pick another {kind} "
                       f"name or delete the attribute first")
