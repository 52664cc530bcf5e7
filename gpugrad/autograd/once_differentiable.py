"""``once_differentiable``: a custom Function's backward that is not itself differentiable,
as PyTorch's ``torch.autograd.function.once_differentiable``.

Differentiating through its results a second time raises a clear error (from a node that
stands behind each result) instead of silently giving zero.
"""

from __future__ import annotations

import functools

from .graph import Node, gradient_edge
from .mode import is_grad_enabled, no_grad

__all__ = ["once_differentiable", "refuse_twice"]


def once_differentiable(backward):
    """Decorate a Function's ``backward`` that is not itself differentiable: it runs without
    recording, and differentiating through its results again (after create_graph=True)
    raises a clear error instead of silently giving zero.

    Example::

        >>> from gpugrad.autograd import Function, once_differentiable
        >>> class Cube(Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x ** 3
        ...
        ...     @staticmethod
        ...     @once_differentiable
        ...     def backward(ctx, g):
        ...         x, = ctx.saved_tensors
        ...         return g * 3 * x ** 2
        >>> x = gpugrad.tensor(2.0, requires_grad=True)
        >>> (g,) = gpugrad.autograd.grad(Cube.apply(x), x, create_graph=True)
        >>> g                                        # 3 x^2
        tensor(12., device='cpu', dtype=float32, grad_fn=<OnceDifferentiableBackward>)
        >>> gpugrad.autograd.grad(g, x)              # a second derivative is refused
        Traceback (most recent call last):
        RuntimeError: trying to differentiate twice through CubeBackward, whose backward is ...
    """
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            result = backward(ctx, *grads)
        if not is_grad_enabled():
            return result
        return refuse_twice(result, ctx.name(), ctx.next_edges, grads)
    wrapper.once_differentiable = True
    return wrapper


def refuse_twice(result, name: str, next_edges, grads):
    """``result`` (a tensor or tuple) of a once_differentiable backward, each tensor behind a
    node that raises when differentiated again; its edges are the node's inputs and the
    graph of the incoming ``grads``."""
    from ..tensor import Tensor
    edges = tuple(e for e in next_edges if e is not None) + tuple(
        gradient_edge(g) for g in grads if isinstance(g, Tensor) and g._requires_grad)
    single = not isinstance(result, tuple)
    results = (result,) if single else result
    wrapped = tuple(_delayed_error(r, name, edges) if isinstance(r, Tensor) else r
                    for r in results)
    return wrapped[0] if single else wrapped


class _DelayedError:
    """The node behind results of a once_differentiable backward: going back through it
    raises, because that backward has no rule for its own derivative."""

    name = "OnceDifferentiable"

    @staticmethod
    def vjp(ctx, g):
        raise RuntimeError(
            f"trying to differentiate twice through {ctx.function_name}, whose backward is "
            f"marked @once_differentiable: it has no rule for its own derivative. Remove the "
            f"decorator and write backward in differentiable gpugrad ops, or do not ask for "
            f"second derivatives through it.")


def _delayed_error(value, function_name: str, edges: tuple):
    node = Node(_DelayedError, edges, (value.shape,) * len(edges), (value.dtype,) * len(edges))
    node.function_name = function_name
    out = value._shallow()
    out.grad_fn, out._requires_grad = node, True
    return out
