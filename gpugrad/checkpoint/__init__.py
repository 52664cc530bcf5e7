"""Gradient checkpointing (trading recomputation for memory) and the planner that picks the
best schedule for a memory budget.

Example::

    >>> from gpugrad.checkpoint import checkpoint, checkpoint_sequential
    >>> calls = []
    >>> def block(x):
    ...     calls.append(1)
    ...     return (x * x).exp()
    >>> x = gpugrad.tensor([0.0, 1.0], requires_grad=True)
    >>> y = checkpoint(block, x)          # runs block, keeping none of the values it saves
    >>> y.sum().backward()                # runs block again to get them back
    >>> len(calls), x.grad                # d/dx exp(x^2) = 2x exp(x^2): [0, 2e]
    (2, tensor([0.      , 5.436564], device='cpu', dtype=float32))
    >>> model, x = nn.MLP([4, 8, 8, 8, 2]), gpugrad.randn(16, 4)
    >>> checkpoint_sequential(model.blocks(), segments=2, input=x).sum().backward()
    >>> g = model.layers[0].weight.grad.numpy().copy(); model.zero_grad()
    >>> model(x).sum().backward()         # without checkpointing: the same gradients
    >>> np.array_equal(g, model.layers[0].weight.grad.numpy())
    True
"""

from .recompute import (CheckpointError, checkpoint, checkpoint_sequential, is_recomputing,
                         segment_bounds)
from .planner import BudgetError, Plan, blocks_of, plan, profile

__all__ = ["checkpoint", "checkpoint_sequential", "is_recomputing", "CheckpointError",
           "segment_bounds", "plan", "Plan", "profile", "blocks_of", "BudgetError"]
