"""State-dict hooks and extra state of Modules, as PyTorch's (``Module`` binds these; how
``state_dict`` and ``load_state_dict`` call them: state.py).

- ``register_state_dict_pre_hook(hook)``: ``hook(module, prefix, keep_vars)`` before a
  module saves its entries;
- ``register_state_dict_post_hook(hook)``: ``hook(module, state_dict, prefix,
  local_metadata)`` after (changing ``state_dict`` in place; ``_register_state_dict_hook``:
  the older form, whose non-None return replaces the root's state dict);
- ``register_load_state_dict_pre_hook(hook)``: ``hook(module, state_dict, prefix,
  local_metadata, strict, missing_keys, unexpected_keys, error_msgs)`` before a module
  loads its entries (``_register_load_state_dict_pre_hook(hook, with_module=False)``: the
  same without ``module``);
- ``register_load_state_dict_post_hook(hook)``: ``hook(module, incompatible_keys)`` after
  a module and its children are loaded (it may change the key lists in place);
- ``get_extra_state()`` / ``set_extra_state(state)``: a class that defines both saves any
  value under ``<prefix>_extra_state``.

Example (rename a checkpoint's keys while loading)::

    >>> layer = nn.Linear(2, 1)
    >>> def rename(module, state, prefix, *rest):
    ...     for key in [k for k in state if k.startswith(prefix + "w")]:
    ...         state[key.replace(prefix + "w", prefix + "weight")] = state.pop(key)
    >>> handle = layer.register_load_state_dict_pre_hook(rename)
    >>> layer.load_state_dict({"w": gpugrad.zeros(1, 2), "bias": gpugrad.zeros(1)})
    <All keys matched successfully>
    >>> layer.weight.tolist()
    [[0.0, 0.0]]
"""

from __future__ import annotations

import weakref

from .utils.hooks import RemovableHandle

__all__ = ["get_extra_state", "set_extra_state", "register_state_dict_pre_hook",
           "register_state_dict_post_hook", "register_load_state_dict_pre_hook",
           "register_load_state_dict_post_hook"]


def _add(hooks, hook) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got a {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def _register_state_dict_hook(self, hook) -> RemovableHandle:
    """``hook(module, state_dict, prefix, local_metadata)`` after this module's
    ``state_dict``; a non-None return replaces the state dict (at the root only)."""
    if getattr(hook, "_from_public_api", False):
        raise RuntimeError("Cannot register the same function as the state dict post hook "
                           "that was previously registered via register_state_dict_post_hook")
    return _add(self._state_dict_hooks, hook)


def register_state_dict_post_hook(self, hook) -> RemovableHandle:
    """``hook(module, state_dict, prefix, local_metadata)`` after this module's
    ``state_dict`` has its entries (and its children's); it changes ``state_dict`` in place
    and returns None."""
    hook._from_public_api = True
    return _add(self._state_dict_hooks, hook)


def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
    """``hook(module, prefix, keep_vars)`` before this module's ``state_dict`` runs."""
    return _add(self._state_dict_pre_hooks, hook)


class _WrappedHook:
    """A load pre-hook, given the module first (held weakly) when ``with_module``."""

    def __init__(self, hook, module=None):
        self.hook = hook
        self.module = None if module is None else weakref.ref(module)

    def __call__(self, *args):
        if self.module is None:
            return self.hook(*args)
        module = self.module()
        if module is None:
            raise RuntimeError("the module of this load_state_dict pre-hook no longer exists")
        return self.hook(module, *args)


def _register_load_state_dict_pre_hook(self, hook, with_module: bool = False):
    """``hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
    error_msgs)`` (``module`` first when ``with_module``) before this module loads."""
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got a {type(hook).__name__}")
    return _add(self._load_state_dict_pre_hooks,
                _WrappedHook(hook, self if with_module else None))


def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
    """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
    unexpected_keys, error_msgs)`` before this module loads its entries; it may change
    ``state_dict`` in place (rename keys, convert old layouts)."""
    return _register_load_state_dict_pre_hook(self, hook, with_module=True)


def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
    """``hook(module, incompatible_keys)`` after this module and its children are loaded;
    it may change ``incompatible_keys.missing_keys`` / ``.unexpected_keys`` in place (which
    ``strict`` then judges) and returns None."""
    return _add(self._load_state_dict_post_hooks, hook)


def get_extra_state(self):
    """The extra state to save in ``state_dict`` (under ``<prefix>_extra_state``): define it,
    with ``set_extra_state``, in a subclass that has state other than tensors."""
    raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be "
                       "called: define get_extra_state in the module's class")


def set_extra_state(self, state) -> None:
    """Restore what ``get_extra_state`` returned, from ``load_state_dict``: define it in a
    subclass that defines ``get_extra_state``."""
    raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be "
                       "called: define set_extra_state in the module's class")
