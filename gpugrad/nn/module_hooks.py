"""Module hooks beyond plain forward hooks, as PyTorch's: full backward hooks, backward
pre-hooks, and forward hooks that run even when ``forward`` raises (``always_call``).

A full backward hook is built as PyTorch's ``BackwardHook``: on each call of the module, an
identity ``Function`` is put around its positional tensor inputs and another around its
tensor outputs. The outputs' node receives the gradients w.r.t. the outputs (``grad_output``;
the pre-hooks may replace them); the inputs' node receives, once everything inside the
module has run, the gradients w.r.t. the inputs (``grad_input``), and calls the hooks with
both; a hook may return a replacement ``grad_input``. Example::

    >>> layer, seen = nn.Linear(3, 2), []
    >>> def hook(module, grad_input, grad_output):
    ...     seen.append((grad_input[0].shape, grad_output[0].shape))
    >>> handle = layer.register_full_backward_hook(hook)
    >>> x = gpugrad.ones(4, 3, requires_grad=True)
    >>> layer(x).sum().backward()
    >>> seen                                # d/d(input) (4, 3), d/d(output) (4, 2)
    [((4, 3), (4, 2))]
    >>> handle.remove()
"""

from __future__ import annotations

import warnings

from ..autograd.compile_mode import structure_changed
from ..autograd.function import Function
from ..autograd.mode import is_grad_enabled
from ..tensor import Tensor
from .utils.hooks import RemovableHandle, run_forward_hook, run_pre_hooks

__all__ = ["BackwardHook", "add_module_hook", "call_with_all_hooks", "register_forward_hook",
           "register_forward_pre_hook", "register_full_backward_hook",
           "register_full_backward_pre_hook"]


def add_module_hook(module, hooks, hook, prepend: bool, *flags) -> RemovableHandle:
    """Register ``hook`` in ``module``'s ``hooks`` (first if ``prepend``) and its id in
    each of ``flags`` (the dicts that mark hooks registered with_kwargs or always_call) and
    in ``module._all_hooks`` (which ``Module.__call__`` tests); the handle removes it from
    all of them."""
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got a {type(hook).__name__}")
    flags = flags + (module._all_hooks,)
    handle = RemovableHandle(hooks, *flags)
    hooks[handle.id] = hook
    for marks in flags:
        marks[handle.id] = True
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    structure_changed()
    return handle


# ---------------------------------------------------------------------------------------------
# Registration: Module's methods (module.py binds them)
# ---------------------------------------------------------------------------------------------

def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
    """Run ``hook(module, args)`` before every ``forward``; ``args`` is the tuple of
    positional arguments, and a non-None return replaces it (a single value is wrapped
    in a tuple). With ``with_kwargs``: ``hook(module, args, kwargs)`` returning None or
    ``(args, kwargs)``. ``prepend`` runs it before the hooks already registered.

    Example::

        >>> layer = nn.Identity()
        >>> handle = layer.register_forward_pre_hook(lambda m, args: args[0] * 2)
        >>> layer(gpugrad.tensor([1.0, 2.0]))
        tensor([2., 4.], device='cpu', dtype=float32)
        >>> handle.remove()
    """
    flags = (self._forward_pre_hooks_with_kwargs,) if with_kwargs else ()
    return add_module_hook(self, self._forward_pre_hooks, hook, prepend, *flags)


def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                          always_call: bool = False) -> RemovableHandle:
    """Run ``hook(module, args, output)`` after every ``forward``; a non-None return
    replaces the output. With ``with_kwargs``: ``hook(module, args, kwargs, output)``.
    ``prepend`` runs it before the hooks already registered; ``always_call`` runs it even
    when ``forward`` (or a hook before it) raises, with output None, before the error goes
    on (an error of its own then only warns).

    Example::

        >>> layer, shapes = nn.Linear(2, 3), []
        >>> handle = layer.register_forward_hook(lambda m, args, out: shapes.append(out.shape))
        >>> y = layer(gpugrad.ones(4, 2))
        >>> handle.remove()
        >>> y = layer(gpugrad.ones(5, 2))
        >>> shapes
        [(4, 3)]
    """
    flags = ((self._forward_hooks_with_kwargs,) if with_kwargs else ()) + \
        ((self._forward_hooks_always_called,) if always_call else ())
    return add_module_hook(self, self._forward_hooks, hook, prepend, *flags)


def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
    """Call ``hook(module, grad_input, grad_output)`` once per backward pass through each
    call of this module: ``grad_input`` has one entry per positional argument (the gradient
    w.r.t. it, None for an argument that is not a tensor or gets none), ``grad_output`` one
    per output (a tensor or a tuple's entries). A tuple it returns replaces ``grad_input``
    (what flows on to the inputs). As PyTorch's, a tensor input that needs no gradient
    while another does gets zeros. See the module docstring for how it is built.

    Example (a Linear's input gradient is ``grad_output @ W``)::

        >>> layer = nn.Linear(2, 1, bias=False)
        >>> with gpugrad.no_grad():
        ...     _ = layer.weight.copy_(gpugrad.tensor([[3.0, -1.0]]))
        >>> seen = []
        >>> handle = layer.register_full_backward_hook(
        ...     lambda m, grad_input, grad_output: seen.append(grad_input[0].tolist()))
        >>> x = gpugrad.ones(1, 2, requires_grad=True)
        >>> layer(x).sum().backward()
        >>> seen, x.grad.tolist()
        ([[[3.0, -1.0]]], [[3.0, -1.0]])
    """
    return add_module_hook(self, self._backward_hooks, hook, prepend)


def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
    """Call ``hook(module, grad_output)`` when the gradients w.r.t. this module's outputs
    are known, before its own backward runs; a tuple it returns (one entry per output)
    replaces ``grad_output``.

    Example::

        >>> layer = nn.Identity()
        >>> handle = layer.register_full_backward_pre_hook(lambda m, g: (g[0] * 10,))
        >>> x = gpugrad.ones(2, requires_grad=True)
        >>> layer(x).sum().backward()
        >>> x.grad.tolist()
        [10.0, 10.0]
    """
    return add_module_hook(self, self._backward_pre_hooks, hook, prepend)


class BackwardHookFunction(Function):
    """The identity on ``tensors``, whose backward hands the gradients to ``side`` (a
    ``BackwardHook`` method) and returns what it gives back (PyTorch's name)."""

    generate_vmap_rule = True           # (its forward and backward are gpugrad-only)

    @staticmethod
    def forward(ctx, side, materialize, *tensors):
        ctx.side = side
        ctx.set_materialize_grads(materialize)
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, None) + tuple(ctx.side(grads))


class BackwardHook:
    """One call's full backward hooks and backward pre-hooks of ``module`` (PyTorch's
    ``torch.utils.hooks.BackwardHook``): ``setup_input_hook`` wraps the positional args,
    ``setup_output_hook`` the output (a tensor or a tuple)."""

    def __init__(self, module, hooks: list, pre_hooks: list):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = 0
        self.input_index = self.output_index = None     # positions of the wrapped tensors

    def _wrap(self, values: tuple, side, materialize: bool):
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        if not (is_grad_enabled() and any(values[i].requires_grad for i in index)):
            return values, None
        wrapped = BackwardHookFunction.apply(side, materialize, *(values[i] for i in index))
        out = list(values)
        for i, t in zip(index, wrapped):
            out[i] = t
        return tuple(out), index

    def _spread(self, index, grads, size: int) -> tuple:
        out = [None] * size
        for i, g in zip(index, grads):
            out[i] = g
        return tuple(out)

    def setup_input_hook(self, args: tuple) -> tuple:
        """``args`` with their tensors passed through the node that calls the hooks."""
        self.n_inputs = len(args)
        args, self.input_index = self._wrap(args, self._input_grads, True)
        return args

    def setup_output_hook(self, output):
        """``output`` with its tensors passed through the node that sees ``grad_output``."""
        single = not isinstance(output, tuple)
        values = (output,) if single else output
        self.n_outputs = len(values)
        values, self.output_index = self._wrap(values, self._output_grads, False)
        return values[0] if single else values

    def _output_grads(self, grads) -> tuple:
        self.grad_outputs = self._spread(self.output_index, grads, self.n_outputs)
        for hook in self.pre_hooks:
            result = hook(self.module, self.grad_outputs)
            if result is not None:
                self.grad_outputs = _checked(result, self.n_outputs, "pre hook",
                                             "grad_output")
        grad_outputs = self.grad_outputs
        if self.input_index is None:            # no input needs a gradient: fire now
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to "
                "module outputs since no inputs require gradients (grad_input is all None). "
                "Make an input require grad to get its gradient.", UserWarning, stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                result = hook(self.module, grad_inputs, grad_outputs)
                if result is not None and any(r is not None for r in result):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_index)

    def _input_grads(self, grads) -> tuple:
        if self.grad_outputs is None:   # a gradient that did not come through the outputs
            return grads                # (double backward): no hook runs
        grad_inputs = self._spread(self.input_index, grads, self.n_inputs)
        for hook in self.hooks:
            result = hook(self.module, grad_inputs, self.grad_outputs)
            if result is not None:
                grad_inputs = _checked(result, self.n_inputs, "hook", "grad_input")
        self.grad_outputs = None                        # once per backward
        return tuple(grad_inputs[i] for i in self.input_index)


def _checked(result, expected: int, kind: str, what: str) -> tuple:
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != expected:
        raise RuntimeError(f"Backward {kind} returned an invalid number of {what}, got "
                           f"{len(result)}, but expected {expected} (one per "
                           f"{'positional argument' if what == 'grad_input' else 'output'}, "
                           f"None where there is none)")
    return result


def call_with_all_hooks(module, args: tuple, kwargs: dict):
    """``Module.__call__`` of a module with backward hooks or ``always_call`` forward hooks
    (as PyTorch's ``_call_impl``): forward pre-hooks, the inputs wrapped for the backward
    hooks, ``forward``, forward hooks, the outputs wrapped. If anything raises, the
    ``always_call`` forward hooks not yet run are called (their own errors only warn)."""
    state = module.__dict__
    called, result = set(), None
    try:
        args, kwargs = run_pre_hooks(module, state, args, kwargs)
        backward = None
        if state["_backward_hooks"] or state["_backward_pre_hooks"]:
            backward = BackwardHook(module, list(state["_backward_hooks"].values()),
                                    list(state["_backward_pre_hooks"].values()))
            args = backward.setup_input_hook(args)
        result = module.forward(*args, **kwargs)
        always, with_kwargs = state["_forward_hooks_always_called"], \
            state["_forward_hooks_with_kwargs"]
        for key, hook in tuple(state["_forward_hooks"].items()):
            if key in always:
                called.add(key)
            result = run_forward_hook(module, hook, args, kwargs, result, key in with_kwargs)
        if backward is not None:
            if not isinstance(result, (Tensor, tuple)):
                warnings.warn(f"For backward hooks to be called, module output should be a "
                              f"Tensor or a tuple of Tensors but received {type(result)}",
                              UserWarning, stacklevel=3)
            else:
                result = backward.setup_output_hook(result)
        return result
    except Exception:
        _run_always_called(module, state, args, kwargs, result, called)
        raise


def _run_always_called(module, state: dict, args, kwargs, result, called: set) -> None:
    always, with_kwargs = state["_forward_hooks_always_called"], \
        state["_forward_hooks_with_kwargs"]
    for key, hook in tuple(state["_forward_hooks"].items()):
        if key not in always or key in called:
            continue
        try:
            result = run_forward_hook(module, hook, args, kwargs, result, key in with_kwargs)
        except Exception as exc:
            warnings.warn(f"module forward hook with ``always_call=True`` raised an "
                          f"exception that was silenced as another error was raised in "
                          f"forward: {exc}", UserWarning, stacklevel=3)
