"""Optimizer hooks, as PyTorch's: functions called around ``step()`` (per optimizer, or for
every optimizer with ``register_optimizer_step_pre_hook`` / ``_post_hook``), around
``state_dict()`` and around ``load_state_dict()``. Each ``register_*`` returns a handle whose
``remove()`` unregisters the hook.

Every ``step`` goes through ``hooked_step`` (``Optimizer`` wraps its own and each subclass's
``step``): it notes that the optimizer stepped (``_opt_called``, which a scheduler stepped
first warns about) and runs the step hooks. A step hook runs Python around the step, which
a step compiled by ``gpugrad.compile`` or captured in a CUDA graph would not run again at
its replays: such a step is refused while step hooks are registered (remove them, or call
what they do outside the compiled step).

Example::

    >>> w = gpugrad.tensor([1.0], requires_grad=True)
    >>> opt = gpugrad.optim.SGD([w], lr=0.5)
    >>> handle = opt.register_step_post_hook(lambda o, args, kwargs: print("stepped"))
    >>> w.grad = gpugrad.ones(1)
    >>> opt.step()
    stepped
    >>> handle.remove(); opt.step()             # no hook: nothing printed
    >>> w
    tensor([0.], device='cpu', dtype=float32, requires_grad=True)
"""

from __future__ import annotations

import functools
from collections import OrderedDict

from ..autograd.capture_mode import CaptureError, is_graph_recording
from ..autograd.compile_mode import refuse_in_compile, structure_changed
from ..nn.utils.hooks import RemovableHandle

__all__ = ["OptimizerHooks", "hooked_step", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]

_global_pre_hooks: OrderedDict = OrderedDict()
_global_post_hooks: OrderedDict = OrderedDict()

_HOOK_DICTS = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
               "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
               "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks")


def _add(hooks: OrderedDict, hook, prepend: bool = False) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"an optimizer hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    structure_changed()                 # a compiled step records again (and refuses)
    return handle


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` before every optimizer's ``step`` (before the
    optimizer's own pre-hooks); it may return a new ``(args, kwargs)``, where ``args``
    starts with the optimizer, as PyTorch's.

    Example::

        >>> from gpugrad.optim.optimizer import register_optimizer_step_pre_hook
        >>> handle = register_optimizer_step_pre_hook(lambda o, a, k: print(type(o).__name__))
        >>> gpugrad.optim.Adam([gpugrad.zeros(1, requires_grad=True)]).step()
        Adam
        >>> handle.remove()
    """
    return _add(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` after every optimizer's ``step`` (after the
    optimizer's own post-hooks), as PyTorch's.

    Example::

        >>> from gpugrad.optim.optimizer import register_optimizer_step_post_hook
        >>> handle = register_optimizer_step_post_hook(lambda o, a, k: print("done"))
        >>> gpugrad.optim.SGD([gpugrad.zeros(1, requires_grad=True)]).step()
        done
        >>> handle.remove()
    """
    return _add(_global_post_hooks, hook)


def hooked_step(step):
    """``step`` (an optimizer's ``step`` method) wrapped to note the call and to run the
    step hooks around it; a step already wrapped is returned as it is. A subclass's step
    that calls ``super().step()`` runs the hooks once."""
    if getattr(step, "_hooked", False):
        return step

    @functools.wraps(step)
    def step_with_hooks(self, *args, **kwargs):
        state = self.__dict__
        state["_opt_called"] = True
        if (_global_pre_hooks or _global_post_hooks or state.get("_optimizer_step_pre_hooks")
                or state.get("_optimizer_step_post_hooks")) and not state.get("_in_step"):
            return _step_with_hooks(step, self, args, kwargs)   # (not in super().step())
        return step(self, *args, **kwargs)

    step_with_hooks._hooked = True
    return step_with_hooks


def _step_with_hooks(step, optimizer, args, kwargs):
    name = type(optimizer).__name__
    refuse_in_compile(f"{name}.step() with step hooks registered (their Python runs at the "
                      f"recording only)", "remove the hooks (handle.remove()) or call what "
                      "they do outside the compiled step")
    if is_graph_recording():
        raise CaptureError(f"{name}.step() with step hooks registered inside a captured step: "
                           f"a replay runs no Python, so the hooks would run at the recording "
                           f"only; remove them (handle.remove()) or call what they do after "
                           f"each replay")
    args = (optimizer,) + args
    hooks = optimizer.__dict__
    for hook in (*_global_pre_hooks.values(),
                 *hooks.get("_optimizer_step_pre_hooks", {}).values()):
        result = hook(optimizer, args, kwargs)
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"an optimizer step pre-hook must return None or a tuple "
                                   f"(new_args, new_kwargs), got {result!r}")
            args, kwargs = result
    optimizer._in_step = True
    try:
        out = step(*args, **kwargs)
    finally:
        optimizer._in_step = False
    for hook in (*hooks.get("_optimizer_step_post_hooks", {}).values(),
                 *_global_post_hooks.values()):
        hook(optimizer, args, kwargs)
    return out


class OptimizerHooks:
    """The ``register_*_hook`` methods of ``Optimizer`` and the hook tables they fill
    (``init_hooks``, made by ``Optimizer.__init__`` and after unpickling)."""

    def init_hooks(self) -> None:
        for name in _HOOK_DICTS:
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())

    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``; it may return a new
        ``(args, kwargs)`` (``args`` starts with the optimizer), as PyTorch's.

        Example::

            >>> w = gpugrad.tensor([1.0], requires_grad=True)
            >>> opt = gpugrad.optim.SGD([w], lr=1.0)
            >>> def clip(opt, args, kwargs):
            ...     w.grad.clamp_(-0.25, 0.25)
            >>> handle = opt.register_step_pre_hook(clip)
            >>> w.grad = gpugrad.tensor([4.0]); opt.step(); w
            tensor([0.75], device='cpu', dtype=float32, requires_grad=True)
        """
        return _add(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``, as PyTorch's
        (module docstring's example)."""
        return _add(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` at the start of ``state_dict()`` (first of all with
        ``prepend``), as PyTorch's."""
        return _add(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` at the end of ``state_dict()``; a non-None
        return replaces the dict, as PyTorch's.

        Example::

            >>> opt = gpugrad.optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=0.1)
            >>> def tag(opt, sd):
            ...     sd["note"] = "run 7"
            >>> _ = opt.register_state_dict_post_hook(tag)
            >>> sorted(opt.state_dict())
            ['note', 'param_groups', 'state']
        """
        return _add(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` at the start of ``load_state_dict``; a
        non-None return is loaded instead, as PyTorch's."""
        return _add(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` at the end of ``load_state_dict``, as PyTorch's."""
        return _add(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def _state_dict_pre(self) -> None:
        for hook in tuple(self._optimizer_state_dict_pre_hooks.values()):
            hook(self)

    def _state_dict_post(self, state_dict: dict) -> dict:
        for hook in tuple(self._optimizer_state_dict_post_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def _load_state_dict_pre(self, state_dict: dict) -> dict:
        for hook in tuple(self._optimizer_load_state_dict_pre_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def _load_state_dict_post(self) -> None:
        for hook in tuple(self._optimizer_load_state_dict_post_hooks.values()):
            hook(self)
