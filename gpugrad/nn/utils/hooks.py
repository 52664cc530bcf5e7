"""Forward hooks of Modules: the handle that removes one, and the hooked call.

``Module.__call__`` runs ``forward`` directly when a module has no hooks; only a module
with hooks goes through ``call_with_hooks``. Example::

    >>> layer = nn.Linear(2, 3)
    >>> handle = layer.register_forward_hook(lambda m, args, out: print(out.shape))
    >>> y = layer(gpugrad.ones(4, 2))
    (4, 3)
    >>> handle.remove()
    >>> y = layer(gpugrad.ones(4, 2))                   # no hooks: forward directly
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict

from ...autograd.compile_mode import structure_changed

__all__ = ["RemovableHandle", "call_with_hooks", "run_forward_hook", "run_pre_hooks"]


class RemovableHandle:
    """What ``register_forward_hook`` and ``register_forward_pre_hook`` return: ``remove()``
    unregisters the hook (once; later calls do nothing). Also a context manager, which
    removes it on leaving the block::

        >>> layer = nn.Linear(2, 3)
        >>> with layer.register_forward_hook(lambda m, args, out: print(out.shape)):
        ...     y = layer(gpugrad.ones(4, 2))
        (4, 3)
        >>> y = layer(gpugrad.ones(4, 2))          # removed: prints nothing
    """

    _next_id = itertools.count()

    def __init__(self, hooks: OrderedDict, *extra: OrderedDict):
        self.id = next(RemovableHandle._next_id)
        self._refs = tuple(weakref.ref(d) for d in (hooks,) + extra)

    def remove(self) -> None:
        structure_changed()
        for ref in self._refs:
            hooks = ref()
            if hooks is not None:
                hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def run_pre_hooks(module, state: dict, args: tuple, kwargs: dict) -> tuple:
    """``(args, kwargs)`` after ``module``'s forward pre-hooks (``state``: its __dict__): a
    non-None return replaces the arguments (a single value is wrapped in a tuple; a hook
    registered with_kwargs returns ``(args, kwargs)``), as PyTorch's."""
    with_kwargs = state["_forward_pre_hooks_with_kwargs"]
    for key, hook in tuple(state["_forward_pre_hooks"].items()):
        if key in with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"a forward pre-hook registered with_kwargs on "
                                       f"{type(module).__name__} must return None or a "
                                       f"tuple (args, kwargs), got {type(result).__name__}")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    return args, kwargs


def run_forward_hook(module, hook, args: tuple, kwargs: dict, output, with_kwargs: bool):
    """``output`` after one forward hook: its non-None return replaces it."""
    result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
    return output if result is None else result


def call_with_hooks(module, args: tuple, kwargs: dict):
    """``module.forward(*args, **kwargs)`` with its pre-hooks before (``run_pre_hooks``)
    and its forward hooks after (a non-None return replaces the output), as PyTorch's
    ``Module.__call__``; modules with backward or always_call hooks go through
    ``module_hooks.call_with_all_hooks``."""
    state = module.__dict__
    args, kwargs = run_pre_hooks(module, state, args, kwargs)
    output = module.forward(*args, **kwargs)
    with_kwargs = state["_forward_hooks_with_kwargs"]
    for key, hook in tuple(state["_forward_hooks"].items()):
        output = run_forward_hook(module, hook, args, kwargs, output, key in with_kwargs)
    return output
