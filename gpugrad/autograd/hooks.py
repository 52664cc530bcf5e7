"""Tensor hooks in the reverse pass: each hook of a tensor runs when its gradient arrives and
may return a replacement, which must be a Tensor of the gradient's shape, dtype and device
(as PyTorch checks) or None (keep it); then retained gradients are stored. (A node's own
hooks, ``grad_fn.register_prehook`` / ``register_hook``, are node_hooks.py's.)

Example::

    >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    >>> _ = x.register_hook(lambda g: g.sum())          # a scalar for a (2,) gradient
    >>> (x * 3).sum().backward()
    Traceback (most recent call last):
    RuntimeError: hook '<lambda>' changed the gradient's shape from (2,) to (); ...
"""

from __future__ import annotations

from .graph import store_grad_copy

__all__ = ["run_pre_hooks", "call_hook"]


def run_pre_hooks(node, grads: list, create_graph: bool, handouts, Tensor) -> None:
    """Run the hooks on ``node``'s incoming gradients ``grads`` (replacing them in place),
    then store retained gradients. A leaf's hooks are its ``AccumulateGrad``'s pre-hooks.
    ``handouts`` (the engine's) learns every gradient a hook saw: a hook may keep it, so it
    is never reused as a buffer."""
    if node._pre_hooks:
        for nr, hooks in node._pre_hooks.items():
            _apply(hooks, grads, nr, handouts, Tensor)
    if node._retained:
        for nr, ref in node._retained.items():
            t = ref()
            if t is not None and grads[nr] is not None:
                store_grad_copy(t, grads[nr], create_graph, in_place=False)


def _apply(hooks: list, grads: list, nr: int, handouts, Tensor) -> None:
    for hook in hooks:
        if grads[nr] is None:
            return
        handouts.share(grads[nr])
        result = call_hook(hook, grads[nr], Tensor)
        if result is not None:
            grads[nr] = result
            handouts.share(result)


def call_hook(hook, grad, Tensor):
    """``hook(grad)``; a replacement it returns must be a Tensor of ``grad``'s shape, dtype
    and device (as PyTorch checks), else an error naming the hook."""
    result = hook(grad)
    if result is None or result is grad:
        return result
    name = getattr(hook, "__qualname__", None) or repr(hook)
    if not isinstance(result, Tensor):
        raise TypeError(f"hook {name!r} returned a {type(result).__module__}."
                        f"{type(result).__name__}; a tensor hook returns a gpugrad Tensor to "
                        f"replace the gradient (or None to keep it): wrap arrays with "
                        f"gpugrad.tensor(...)")
    for what, was, now in (("shape", tuple(grad.shape), tuple(result.shape)),
                           ("dtype", grad.dtype, result.dtype),
                           ("device", grad.device, result.device)):
        if was != now:              # checked only where a hook replaced the gradient
            raise RuntimeError(f"hook {name!r} changed the gradient's {what} from {was} to "
                               f"{now}; a hook must return a gradient like the one it was "
                               f"given")
    return result
