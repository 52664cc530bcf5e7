"""The planner: profile a sequential model once, then find the checkpointing schedule that
recomputes least while keeping the predicted peak within a memory budget.

Blocks are the model's layers grouped so that each parameter-free layer (an activation,
Dropout) joins the layer before it: an MLP's blocks are Linear+ReLU pairs. The loss is the
last stage of the chain. For each block the profile measures the output size, what a
recorded run keeps (its tape), the transient memory of its forward and backward, and their
times; ``schedule.solve`` does the rest.

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

import math
import statistics
import time

import numpy as np

from .. import backend
from ..autograd.graph import saved_tensors_hooks
from ..autograd.mode import no_grad
from ..random import get_rng_state, set_rng_state
from ..memory import track
from ..tensor import Tensor
from .recompute import _recomputing, checkpoint
from .schedule import Chain, simulate, solve

__all__ = ["plan", "Plan", "profile", "blocks_of", "BudgetError"]

DEFAULT_SLOTS = 100


class BudgetError(ValueError):
    """The memory budget is below what any schedule needs (the message says the least)."""


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


def _run_block(block, x):
    for module in block:
        x = module(x)
    return x


class _Profile:
    """Bytes and seconds per stage (blocks, then the loss)."""

    def __init__(self):
        self.names, self.x, self.tape, self.fwd, self.bwd = [], [], [], [], []
        self.node, self.f, self.b = [], [], []

    def as_chain(self, unit: float) -> Chain:
        """The chain in memory slots of ``unit`` bytes, rounded up (so a schedule that fits
        in slots fits in bytes). Node memory is rounded as running sums: it is small per
        stage and only ever counted over ranges of stages."""
        slots = lambda values: [int(math.ceil(v / unit)) for v in values]  # noqa: E731
        node_prefix = [int(math.ceil(v / unit)) for v in np.cumsum([0] + self.node)]
        return Chain(self.f, self.b, slots(self.x), slots(self.tape), slots(self.fwd),
                     slots(self.bwd), node_prefix=node_prefix)

    def byte_chain(self) -> Chain:
        return Chain(self.f, self.b, self.x, self.tape, self.fwd, self.bwd, self.node)


def _median_seconds(fn, device, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        backend.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _profile_stage(stage, x, device, repeat: int, needs_input_grad: bool):
    """(output, output bytes, tape bytes, forward extra, backward extra, f, b) of one stage
    run on ``x`` (the stage's gradient is ones)."""
    inp = x.detach().requires_grad_() if needs_input_grad else x.detach()
    with track(device) as dropped, saved_tensors_hooks(lambda t: None, lambda p: None):
        out = stage(inp)                      # as under checkpoint: the graph, no values
    node = max(dropped.current - out._array.nbytes, 0)
    del out
    with track(device) as forward:
        out = stage(inp)
    tape = forward.current
    seed = Tensor._wrap(out._xp().ones_like(out._array))
    with track(device) as backward:
        out.backward(seed)
    del out
    f = _median_seconds(lambda: _no_grad(stage, inp), device, repeat)

    def forward_backward():
        stage(inp).backward(seed)
    fb = _median_seconds(forward_backward, device, repeat)
    with no_grad():
        result = stage(x)
    nbytes = result._array.nbytes
    return (result, nbytes, tape, max(forward.peak - tape, 0), backward.peak, node,
            f, max(fb - f, 0.0))


def _no_grad(stage, x):
    with no_grad():
        return stage(x)


def profile(blocks, x, loss_fn, repeat: int = 3) -> _Profile:
    """Measure every block and the loss once (parameter gradients are allocated first, so
    the backward extra does not count them: they live across steps)."""
    device = x.device
    params = [p for block in blocks for module in block for p in module.parameters()]
    kept = [(p, p.grad) for p in params]             # the caller's gradients, untouched
    for p in params:
        p.grad = Tensor._wrap(p._xp().zeros_like(p._array))
    rng = get_rng_state()
    with _recomputing():                             # layers skip their side effects
        try:
            return _profile_stages(blocks, x, loss_fn, repeat, device)
        finally:
            set_rng_state(rng)
            for p, grad in kept:
                p.grad = grad


def _profile_stages(blocks, x, loss_fn, repeat, device) -> _Profile:
    result = _Profile()
    value = x
    stages = [(f"{i}: " + "+".join(type(m).__name__ for m in block),
               (lambda b: lambda t: _run_block(b, t))(block)) for i, block in enumerate(blocks)]
    stages.append(("loss", lambda t: loss_fn(t)))
    for i, (name, stage) in enumerate(stages):
        value, nbytes, tape, fwd, bwd, node, f, b = _profile_stage(
            stage, value, device, repeat, needs_input_grad=i > 0)
        result.names.append(name)
        result.x.append(nbytes if i < len(blocks) else 0)
        result.tape.append(max(tape, nbytes))
        result.fwd.append(fwd)
        result.bwd.append(bwd)
        result.node.append(min(node, tape))
        result.f.append(f)
        result.b.append(b)
    _share_times(result, [_signature(block) for block in blocks] + ["loss"])
    return result


def _signature(block) -> tuple:
    return tuple((type(m).__name__, tuple(tuple(p.shape) for p in m.parameters()))
                 for m in block)


def _share_times(result: _Profile, signatures: list) -> None:
    """Give blocks of one kind (same layers, same shapes) their median times: identical
    blocks cost the same, and timing noise should not make the plan prefer one of them."""
    groups: dict = {}
    for i, key in enumerate(signatures):
        groups.setdefault((key, result.x[i]), []).append(i)
    for members in groups.values():
        f = statistics.median(result.f[i] for i in members)
        b = statistics.median(result.b[i] for i in members)
        for i in members:
            result.f[i], result.b[i] = f, b


class Plan:
    """A checkpointing schedule for a sequential model and its predictions.

    ``predicted_peak``: bytes above what is allocated before the step (parameters and their
    gradients, the input); ``extra_forward_seconds`` and ``recomputed_blocks``: the forward
    work added; ``schedule``: the decision tree (see ``describe``).
    """

    def __init__(self, blocks, profile_: _Profile, tree, budget: int):
        self.blocks, self.profile, self.tree, self.budget = blocks, profile_, tree, budget
        chain = profile_.byte_chain()
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
    n = len(prof.names)
    everything = simulate(prof.byte_chain(), _keep_all(n))[1]
    if isinstance(budget, (float, np.floating)):
        if not 0 < budget <= 1:
            raise BudgetError(f"plan: a fractional budget is in (0, 1], got {budget}; give "
                              f"larger budgets in bytes (an int)")
        limit = int(budget * everything)
    else:
        limit = int(budget)
    if limit <= 0:
        raise BudgetError(f"plan: the budget must be positive, got {budget}")
    if limit >= everything:                   # keeping everything fits: nothing to recompute
        return Plan(blocks, prof, _keep_all(n), limit)
    tree = _solve_within(prof, limit, slots)
    if tree is None:
        least = _least_feasible(prof, everything, slots)
        raise BudgetError(f"plan: no schedule fits in {limit:,} bytes; the smallest feasible "
                          f"peak is about {least:,} bytes (without checkpointing it is "
                          f"{everything:,} bytes)")
    return Plan(blocks, prof, tree, limit)


def _solve_within(prof: _Profile, limit: int, slots: int):
    """The best tree whose exact peak (in bytes) is within ``limit``, or None. Rounding to
    slots can miss by a little either way, so the slot budget shrinks until it fits."""
    target = limit
    for _ in range(6):
        schedule = solve(prof.as_chain(target / slots), slots)
        if not np.isfinite(schedule.best_time()):
            return None
        tree = schedule.tree()
        peak = simulate(prof.byte_chain(), tree)[1]
        if peak <= limit:
            return tree
        target = int(target * limit / peak) - 1
    return None


def _keep_all(n: int):
    node = None
    for s in range(n - 1, -1, -1):
        node = ("A", s, node)
    return node


def _least_feasible(prof: _Profile, everything: int, slots: int) -> int:
    """About the smallest predicted peak of any schedule: the least memory at which the
    DP finds one on a grid four times finer than planning uses."""
    fine = 4 * slots
    schedule = solve(prof.as_chain(everything / fine), fine)
    least = schedule.min_memory()
    if least is None:
        return everything
    return min(simulate(prof.byte_chain(), schedule.tree(m))[1]
               for m in range(least, min(least + 8, fine + 1)))
