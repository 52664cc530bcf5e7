"""``autograd.grad(..., is_grads_batched=True)``: the vjps of many cotangents at once.

Dimension 0 of every ``grad_outputs`` entry is a batch (shape (B, *output.shape)); ``grad``
runs once under a vmap level over it (as ``func.vmap`` runs it, and PyTorch's), so each
gradient comes back as (B, *input.shape), row b the gradient for cotangent row b. As
PyTorch's, an unused input's zeros (``materialize_grads=True``) have the input's shape, not
a batch of them.

Example::

    >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    >>> rows = gpugrad.eye(2)                       # the two unit cotangents: the Jacobian
    >>> gpugrad.autograd.grad(x ** 2, x, rows, is_grads_batched=True)[0]
    tensor([[2., 0.],
            [0., 4.]], device='cpu', dtype=float32)
"""

from __future__ import annotations

from .batched import BatchedTensor, pop_level, push_level
from .graph import _tensor_type

__all__ = ["batched_grad"]


def batched_grad(grad, outputs: tuple, inputs: tuple, grad_outputs, retain_graph=None,
                 create_graph=False, allow_unused=False, materialize_grads=False) -> tuple:
    """``grad(outputs, inputs, grad_outputs, ..., is_grads_batched=True)`` (see the module
    docstring), ``grad`` being the unbatched ``autograd.grad`` (engine.py passes itself: it
    imports this module): one gradient per input, (B, *input.shape), or None for an unused
    input (``allow_unused``), or zeros of the input's shape (``materialize_grads``).

    Example::

        >>> from gpugrad.autograd.batched_grad import batched_grad
        >>> x, unused = gpugrad.ones(2, requires_grad=True), gpugrad.ones(3, requires_grad=True)
        >>> g, zeros = batched_grad(gpugrad.autograd.grad, (3 * x,), (x, unused),
        ...                         [gpugrad.ones(4, 2)], materialize_grads=True)
        >>> g.shape, zeros.shape
        ((4, 2), (3,))
    """
    grad_outputs = _sequence(grad_outputs)
    level = push_level(_batch_size(outputs, grad_outputs), "error")
    try:
        rows = [BatchedTensor._make(g, level) for g in grad_outputs]
        grads = grad(outputs, inputs, rows, retain_graph, create_graph,
                     allow_unused=allow_unused or materialize_grads)
    finally:
        pop_level(level)
    result = []
    for t, g in zip(inputs, grads):
        if g is not None:
            g = _batch_of(g, level)
        elif materialize_grads:
            g = _tensor_type()._wrap(t._xp().zeros_like(t._array))
        result.append(g)
    return tuple(result)


def _sequence(grad_outputs) -> tuple:
    if grad_outputs is None:
        raise ValueError("autograd.grad: is_grads_batched=True needs grad_outputs, one per "
                         "output, each with a batch dimension first (B, *output.shape)")
    return tuple(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else (grad_outputs,)


def _batch_size(outputs, grad_outputs: tuple) -> int:
    """B, checked: one (B, *output.shape) cotangent per output, B the same for all."""
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"autograd.grad: got {len(grad_outputs)} grad_outputs for "
                         f"{len(outputs)} outputs; pass one (B, *output.shape) cotangent per "
                         f"output")
    sizes = set()
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            raise ValueError(f"autograd.grad: grad_outputs entry {i} is None; with "
                             f"is_grads_batched=True give a (B, *output.shape) tensor for "
                             f"every output (here B x {tuple(out.shape)})")
        shape = tuple(getattr(g, "shape", ()))
        if len(shape) != len(out.shape) + 1 or shape[1:] != tuple(out.shape):
            raise ValueError(f"autograd.grad: with is_grads_batched=True dimension 0 of each "
                             f"grad_outputs entry is the batch and the rest must be its "
                             f"output's shape: entry {i} has shape {shape}, output {i} has "
                             f"shape {tuple(out.shape)} (so give (B,) + {tuple(out.shape)}); "
                             f"to batch only some cotangents, use func.vmap")
        sizes.add(shape[0])
    if len(sizes) != 1:
        raise ValueError(f"autograd.grad: with is_grads_batched=True every grad_outputs "
                         f"entry needs the same batch size in dimension 0; got shapes "
                         f"{[tuple(g.shape) for g in grad_outputs]}")
    return sizes.pop()


def _batch_of(g, level):
    """A gradient computed under ``level`` as a (B, *shape) tensor; one that is the same
    for every row (not batched: an op whose rule gives zeros without reading the
    cotangent) repeated B times."""
    if g._batched and g._level is level:
        return g._value
    xp, array = g._xp(), g._array
    return _tensor_type()._wrap(xp.ascontiguousarray(
        xp.broadcast_to(array, (level.size,) + array.shape)))
