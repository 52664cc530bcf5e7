"""The planner: profile a sequential model once, then find the checkpointing schedule that
recomputes least while keeping the predicted peak within a memory budget.

Blocks are the model's layers grouped so that each parameter-free layer (an activation,
Dropout) joins the layer before it: an MLP's blocks are Linear+ReLU pairs. The loss is the
last stage of the chain. For each block the profile (``profiling.py``) measures the output
size, what a recorded run keeps (its tape), the transient memory of its forward and of its
backward (run after the next block's, as in a step), what the graph and each checkpoint
hold, and the times; ``schedule.solve`` does the rest.

Example (the schedule chosen depends on the measured times, so it is not shown here;
``print(p)`` shows it with the predicted peak and the extra forward work)::

    >>> from gpugrad.checkpoint import plan
    >>> model, x, y = nn.MLP([64] * 17), gpugrad.randn(64, 64), gpugrad.arange(64)
    >>> loss_fn = lambda out: F.cross_entropy(out, y)
    >>> loss_fn(model(x)).backward(); g = model.layers[0].weight.grad.numpy().copy()
    >>> model.zero_grad()
    >>> p = plan(model, x, budget=0.6, loss_fn=loss_fn)     # 60% of the peak without it
    >>> p.predicted_peak <= p.budget
    True
    >>> loss_fn(p.apply(model)(x)).backward()               # model(x) now runs the schedule
    >>> np.array_equal(model.layers[0].weight.grad.numpy(), g)   # the same gradients
    True
"""

from __future__ import annotations

import numpy as np

from .profiling import _Profile, _run_block, profile
from .recompute import checkpoint
from .schedule import simulate, solve

__all__ = ["plan", "Plan", "profile", "blocks_of", "BudgetError"]

DEFAULT_SLOTS = 100


class BudgetError(ValueError):
    """The memory budget is below what any schedule needs (the message says the least).

    ``keep_all``: the plan that keeps everything, as ``plan(..., budget=1.0)`` would return
    it, made from the profile already measured (None for a fraction outside (0, 1], and
    where that plan fails too: a peak below one byte)."""

    def __init__(self, message: str, keep_all: Plan | None = None):
        super().__init__(message)
        self.keep_all = keep_all


def blocks_of(layers) -> list:
    """``layers`` (a Sequential, an MLP or a list of modules) grouped into blocks: each
    layer without parameters joins the block before it."""
    from ..nn import MLP, Sequential
    if isinstance(layers, MLP):
        layers = layers.layers
    modules = list(layers) if isinstance(layers, (Sequential, list, tuple)) else [layers]
    blocks = []
    for module in modules:
        has_params = any(True for _ in module.parameters())
        if blocks and not has_params:
            blocks[-1].append(module)
        else:
            blocks.append([module])
    return blocks


class Plan:
    """A checkpointing schedule for a sequential model and its predictions.

    ``predicted_peak``: bytes above what is allocated before the step (parameters and their
    gradients, the input); ``extra_forward_seconds`` and ``recomputed_blocks``: the forward
    work added; ``schedule``: the decision tree (see ``describe``).
    """

    def __init__(self, blocks, profile_: _Profile, tree, budget: int, chain=None):
        self.blocks, self.profile, self.tree, self.budget = blocks, profile_, tree, budget
        chain = profile_.byte_chain() if chain is None else chain
        self.predicted_time, self.predicted_peak, self.recomputed_blocks = simulate(chain, tree)
        baseline = float(sum(profile_.f) + sum(profile_.b))
        self.extra_forward_seconds = self.predicted_time - baseline

    # ------------------------------------------------------------------ running
    def run(self, x):
        """The forward pass of the blocks on ``x`` following the schedule (the loss, the
        last stage, is the caller's)."""
        return self._run(self.tree, len(self.profile.names) - 1, x)

    def _run(self, node, t, x):
        last_block = len(self.blocks) - 1
        if node[0] == "A":
            _, s, child = node
            if s <= last_block:
                x = _run_block(self.blocks[s], x)
            return x if child is None else self._run(child, t, x)
        _, s, k, right, left = node
        y = checkpoint(lambda z: self._run(left, k - 1, z), x)
        return self._run(right, t, y)

    def apply(self, model):
        """Make ``model`` (the MLP this plan was made for) run this schedule; returns it."""
        blocks = blocks_of(model)
        if len(blocks) != len(self.blocks) or any(
                a is not b for x, y in zip(blocks, self.blocks) for a, b in zip(x, y)):
            raise ValueError("Plan.apply: this plan was made for another model (its layers "
                             "differ); plan this model with gpugrad.checkpoint.plan")
        model.checkpoint = self
        return model

    # ------------------------------------------------------------------ describing
    def checkpoints(self) -> list:
        """Block indices whose input is kept at the top level (the segment starts)."""
        found, node = [], self.tree
        while node is not None:
            if node[0] == "A":
                node = node[2]
            else:
                found.append(node[2])
                node = node[3]
        return found

    def describe(self) -> str:
        def show(node, depth):
            pad = "  " * depth
            if node[0] == "A":
                lines = [f"{pad}keep {self.profile.names[node[1]]}"]
                return lines + (show(node[2], depth) if node[2] is not None else [])
            _, s, k, right, left = node
            lines = [f"{pad}checkpoint blocks {s}..{k - 1} (keep the input of {k}); then:"]
            return lines + show(right, depth) + [f"{pad}and when its gradient arrives, "
                                                 f"recompute {s}..{k - 1} as:"] + show(
                left, depth + 1)
        return "\n".join(show(self.tree, 0))

    def __repr__(self) -> str:
        return (f"Plan(predicted peak {self.predicted_peak / 2**20:.1f} MiB of a "
                f"{self.budget / 2**20:.1f} MiB budget, {self.recomputed_blocks} block "
                f"recomputations, +{self.extra_forward_seconds * 1e3:.1f} ms forward; "
                f"top-level checkpoints at blocks {self.checkpoints()})")


def plan(model, example_input, budget, loss_fn=None, slots: int = DEFAULT_SLOTS,
         repeat: int = 3) -> Plan:
    """The schedule recomputing least within ``budget``: bytes, or a fraction (0, 1] of the
    predicted peak without checkpointing. ``loss_fn(output)`` gives the scalar loss (default:
    the sum of the output). Raises ``BudgetError`` naming the smallest feasible budget."""
    blocks = blocks_of(model)
    loss_fn = loss_fn or (lambda out: out.sum())
    prof = profile(blocks, example_input, loss_fn, repeat)
    chain, keep_all = prof.byte_chain(), _keep_all(len(prof.names))
    everything = simulate(chain, keep_all)[1]
    if isinstance(budget, (float, np.floating)):
        if not 0 < budget <= 1:
            raise BudgetError(f"plan: a fractional budget is in (0, 1], got {budget}; give "
                              f"larger budgets in bytes (an int)")
        limit = int(budget * everything)
    else:
        limit = int(budget)
    if limit <= 0:
        raise BudgetError(f"plan: the budget must be positive, got {budget}", keep_all=(
            Plan(blocks, prof, keep_all, everything, chain) if everything >= 1 else None))
    if limit >= everything:                   # keeping everything fits: nothing to recompute
        return Plan(blocks, prof, keep_all, limit, chain)
    tree = _solve_within(prof, limit, slots, chain)
    if tree is None:
        least = _least_feasible(prof, everything, slots, chain)
        raise BudgetError(f"plan: no schedule fits in {limit:,} bytes; the smallest feasible "
                          f"peak is about {least:,} bytes (without checkpointing it is "
                          f"{everything:,} bytes)",
                          keep_all=Plan(blocks, prof, keep_all, everything, chain))
    return Plan(blocks, prof, tree, limit, chain)


def _solve_within(prof: _Profile, limit: int, slots: int, chain=None):
    """The best tree whose exact peak (in bytes, from ``simulate`` on ``chain``, the
    profile's ``byte_chain()``) is within ``limit``, or None. Rounding to slots can miss by
    a little either way, and the DP counts only one checkpoint frame per nesting level, so
    the slot budget shrinks until it fits."""
    chain = prof.byte_chain() if chain is None else chain
    target = limit
    for _ in range(6):
        schedule = solve(prof.as_chain(target / slots), slots)
        if not np.isfinite(schedule.best_time()):
            return None
        tree = schedule.tree()
        peak = simulate(chain, tree)[1]
        if peak <= limit:
            return tree
        target = int(target * limit / peak) - 1
    return None


def _keep_all(n: int):
    node = None
    for s in range(n - 1, -1, -1):
        node = ("A", s, node)
    return node


def _least_feasible(prof: _Profile, everything: int, slots: int, chain) -> int:
    """About the smallest predicted peak of any schedule: the least memory at which the
    DP finds one on a grid four times finer than planning uses."""
    fine = 4 * slots
    schedule = solve(prof.as_chain(everything / fine), fine)
    least = schedule.min_memory()
    if least is None:
        return everything
    return min(simulate(chain, schedule.tree(m))[1]
               for m in range(least, min(least + 8, fine + 1)))
