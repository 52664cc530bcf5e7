"""A node's own hooks, as PyTorch's ``grad_fn.register_prehook`` / ``register_hook``: the
first one wraps that node's ``apply`` (an attribute of the node alone), so nodes without
hooks cost the engine nothing.

Example::

    >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x * 3
    >>> h = y.grad_fn.register_prehook(lambda go: (go[0] * 2,))    # node_hooks.add_node_hook
    >>> y.sum().backward(); x.grad
    tensor([6., 6.], device='cpu', dtype=float32)
"""

from __future__ import annotations

__all__ = ["add_node_hook"]


def add_node_hook(node, kind: str, hook):
    """Add ``hook`` to ``node``'s list ``kind``; the first one puts ``_hooked_apply`` in
    front of the node's ``apply`` (an attribute of this node only: nodes without such hooks
    cost the engine nothing)."""
    from ..tensor_grad import HookHandle
    hooks = node.__dict__.get(kind)
    if hooks is None:
        hooks = node.__dict__[kind] = []
    if "apply" not in node.__dict__:
        node.apply = _hooked_apply.__get__(node)
    hooks.append(hook)
    return HookHandle(hooks, hook)


def _hooked_apply(node, grads: list, *rest):
    """``apply`` of a node with ``register_prehook``/``register_hook`` hooks: the prehooks
    may replace the incoming gradients, the hooks what the rule returned. A hook may keep
    what it sees or returns: an AccumulateGrad (``rest``: its ``owned``) then copies the
    gradient it stores, and the engine never adds into what this returns."""
    if rest:
        rest = (False,)
    for hook in tuple(node.__dict__.get("_node_prehooks") or ()):
        replaced = hook(tuple(grads))
        if replaced is not None:
            grads = list(replaced if isinstance(replaced, (tuple, list)) else (replaced,))
    result = tuple(type(node).apply(node, grads, *rest))
    for hook in tuple(node.__dict__.get("_node_posthooks") or ()):
        replaced = hook(result, tuple(grads))
        if replaced is not None:
            result = tuple(replaced if isinstance(replaced, (tuple, list)) else (replaced,))
    return result
