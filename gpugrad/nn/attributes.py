"""Setting a Module's attributes: its fresh state (three ``Registry`` objects and the hook
dicts; ``replace_registry`` when code assigns a whole new ``_parameters`` dict), the checks on
the names ``register_*`` take, what counts as a structure change for compiled steps
(``compile_mode.structure_changed``: ``gpugrad.compile`` records a step again after one), and
which module attribute holds a plain tensor.

What counts, set outside a step's recording: a parameter, buffer or submodule, new or
replaced (``parameters()`` sees new ones too), or deleted (deleting a plain attribute counts
nothing). Inside a recording, what the step builds (a ``Sequential`` it slices) is part of the
recording; replacing an existing parameter, buffer or submodule still counts. A plain tensor
attribute counts nothing: a program that reads one checks, before each replay, that every
attribute that held it still does (``holders_of``), so a metrics module's running total costs
no step anything.

Example::

    >>> from gpugrad.autograd.compile_mode import structure
    >>> layer, before = nn.Linear(2, 2), structure.epoch
    >>> layer.bias = nn.Parameter(gpugrad.zeros(2))         # replaced outside a step
    >>> structure.epoch == before + 1
    True
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

from ..autograd.compile_mode import _state as _compiling, structure_changed
from ..tensor import Tensor
from .parameter import Buffer, Parameter

__all__ = ["note_attribute_set", "holders_of", "Registry"]

_holders: dict = {}     # id(tensor) -> (weak tensor, [(weak module, name)...]): the module
                        # attributes that were set to that plain tensor


def fresh_state(module) -> dict:
    """A new module's empty containers: parameters, buffers, sub-modules (``Registry``: a
    write to one sets the attribute too) and hooks (the hook id -> True flags of the hooks
    registered ``with_kwargs`` or ``always_call``, and ``_all_hooks``: every registered
    forward or backward hook's id, so that ``__call__`` tells a module without hooks by one
    test; state-dict hooks: state_hooks.py)."""
    return {"_parameters": Registry(module), "_buffers": Registry(module),
            "_modules": Registry(module),
            "_forward_pre_hooks": OrderedDict(), "_forward_hooks": OrderedDict(),
            "_non_persistent_buffers_set": set(),
            "_forward_pre_hooks_with_kwargs": OrderedDict(),
            "_forward_hooks_with_kwargs": OrderedDict(),
            "_forward_hooks_always_called": OrderedDict(),
            "_backward_hooks": OrderedDict(), "_backward_pre_hooks": OrderedDict(),
            "_all_hooks": OrderedDict(), "_state_dict_hooks": OrderedDict(),
            "_state_dict_pre_hooks": OrderedDict(), "_load_state_dict_pre_hooks": OrderedDict(),
            "_load_state_dict_post_hooks": OrderedDict()}


class EarlyAssignment(AttributeError, RuntimeError):
    """A Parameter or Module assigned before ``super().__init__()``: an AttributeError, as
    PyTorch's, and a RuntimeError (as gpugrad raised before)."""


HOOK_DICTS = ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_backward_pre_hooks")


def note_attribute_set(module, name: str, value, structural: bool) -> None:
    """Count setting ``module.name = value`` (``structural``: a buffer, a submodule, or a
    deletion) as a structure change where a compiled program may have read it, and note
    which attribute holds a plain tensor."""
    state = module.__dict__
    if name in state["_parameters"] or name in state["_buffers"] or name in state["_modules"]:
        structure_changed()                         # replaced or deleted
    elif _compiling.recorder is None and (structural or isinstance(value, (Parameter, Buffer))):
        structure_changed()                         # a new parameter, buffer or submodule
    if isinstance(value, Buffer):
        _claim_buffer(module, name, value)
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        key = id(value)
        entry = _holders.get(key)
        if entry is None or entry[0]() is not value:
            entry = _holders[key] = (weakref.ref(value, lambda _, k=key: _holders.pop(k, None)),
                                     [])
        places = entry[1]
        places[:] = [(m, n) for m, n in places if m() is not None and
                     m().__dict__.get(n) is value and (m() is not module or n != name)]
        places.append((weakref.ref(module), name))


def _claim_buffer(module, name: str, value) -> None:
    """``module.name = nn.Buffer(t)``: make ``name`` a buffer slot, persistent or not as the
    Buffer says, so that ``Module.__setattr__`` stores it as a buffer (as PyTorch's
    ``register_buffer``). A parameter's or submodule's name is left alone: the assignment is
    refused there, as PyTorch's."""
    state = module.__dict__
    if name in state["_parameters"] or name in state["_modules"]:
        return
    if name not in state["_buffers"]:
        _check_new_name(module, name, "buffer")
        state["_buffers"]._put(name, None)
    if value.persistent:
        state["_non_persistent_buffers_set"].discard(name)
    else:
        state["_non_persistent_buffers_set"].add(name)


def holders_of(tensor) -> list:
    """``[(module, name)...]``: the module attributes that hold ``tensor`` (a plain tensor or
    a buffer) now."""
    entry = _holders.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return []
    held = [(m(), n) for m, n in entry[1]]
    return [(m, n) for m, n in held if m is not None and m.__dict__.get(n) is tensor]


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


class Registry(OrderedDict):
    """A module's ``_parameters``, ``_buffers`` or ``_modules``: writing or deleting an entry
    sets or removes the module attribute of that name too (as PyTorch's ``__getattr__``
    reads them), so ``m._parameters["weight"] = p`` makes ``m.weight`` p. Reading
    ``m.weight`` stays a plain attribute lookup. ``Module.__setattr__`` writes through
    ``_put`` / ``_drop`` (it sets the attribute itself). Example::

        >>> layer, new = nn.Linear(2, 2, bias=False), nn.Parameter(gpugrad.ones(2, 2))
        >>> layer._parameters["weight"] = new
        >>> layer.weight is new, layer(gpugrad.ones(1, 2)).tolist()
        (True, [[2.0, 2.0]])
    """

    def __init__(self, owner=None):
        super().__init__()
        self._owner = None if owner is None else weakref.ref(owner)

    def _module(self):
        ref = self.__dict__.get("_owner")
        return None if ref is None else ref()

    def _put(self, key, value) -> None:
        OrderedDict.__setitem__(self, key, value)

    def _drop(self, key) -> None:
        if key in self:
            OrderedDict.__delitem__(self, key)

    def __setitem__(self, key, value) -> None:
        owner = self._module()
        if owner is not None:
            note_attribute_set(owner, key, value, True)
            owner.__dict__[key] = value
        OrderedDict.__setitem__(self, key, value)

    def __delitem__(self, key) -> None:
        owner = self._module()
        if owner is not None and key in self:
            note_attribute_set(owner, key, None, True)
            owner.__dict__.pop(key, None)
        OrderedDict.__delitem__(self, key)

    def pop(self, key, *default):
        if key in self:
            value = OrderedDict.__getitem__(self, key)
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self, last: bool = True):
        if not self:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self)) if last else next(iter(self))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self):
            del self[key]

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return OrderedDict.__getitem__(self, key)

    def update(self, other=(), **kwargs) -> None:
        pairs = other.items() if hasattr(other, "keys") else other
        for key, value in list(pairs) + list(kwargs.items()):
            self[key] = value

    def __ior__(self, other):
        self.update(other)
        return self

    def copy(self) -> OrderedDict:
        """A plain OrderedDict of the entries (not tied to the module)."""
        return OrderedDict(self)

    def __reduce__(self):
        """Pickled and deep-copied without the module (``Module.__setstate__`` ties it)."""
        return type(self), (), None, None, iter(list(self.items()))


def tie_registries(module) -> None:
    """Make ``module``'s three registries ``Registry`` objects owned by it (after unpickling
    or copying; a registry another live module owns is copied first: ``copy.copy(module)``
    gets registries of its own, where PyTorch's shallow copy shares them, so a parameter
    registered on one does not appear on the other)."""
    state = module.__dict__
    for name in ("_parameters", "_buffers", "_modules"):
        registry = state.get(name)
        if registry is None:
            continue
        if not isinstance(registry, Registry) or registry._module() not in (None, module):
            fresh = Registry()
            for key, value in registry.items():
                fresh._put(key, value)
            registry = state[name] = fresh
        registry._owner = weakref.ref(module)


REGISTRY_NAMES = frozenset(("_parameters", "_buffers", "_modules"))


def replace_registry(module, name: str, mapping) -> None:
    """``module._parameters = mapping`` (or ``_buffers``, ``_modules``), as pruning and
    "reset the state" code write it: the old registry's attributes go, ``mapping``'s entries
    become attributes (PyTorch's ``__getattr__`` reads the new mapping). ``mapping`` is
    copied into a ``Registry`` (later writes to the plain mapping itself are not seen)."""
    state = module.__dict__
    structure_changed()
    for key in state[name]:
        state.pop(key, None)
    state[name] = mapping
    tie_registries(module)
    state.update(state[name])

