"""Gradient checkpointing (trading recomputation for memory) and the planner that picks the
best schedule for a memory budget.

Example::

    >>> from gpugrad.checkpoint import checkpoint, checkpoint_sequential
    >>> y = checkpoint_sequential(model.layers, segments=8, x=batch)
"""

from .recompute import (CheckpointError, checkpoint, checkpoint_sequential, is_recomputing,
                         segment_bounds)
from .planner import BudgetError, Plan, blocks_of, plan, profile

__all__ = ["checkpoint", "checkpoint_sequential", "is_recomputing", "CheckpointError",
           "segment_bounds", "plan", "Plan", "profile", "blocks_of", "BudgetError"]
