"""The memory/compute trade-off experiment behind ``gpugrad experiment checkpoint``.

For one deep MLP it measures, per strategy (none, every-k segments, sqrt(n) segments, the
planner at several budgets and at the budget sqrt(n) segments use): the tracked peak memory
of one training step, the planner's predicted peak, the median step time (timed apart from
the tracked step), the number of block recomputations, and how far the gradients are from
those without checkpointing. It writes results.csv, results.md and tradeoff.png.

Example::

    >>> from gpugrad.checkpoint.experiment import ExperimentConfig, run
    >>> config = ExperimentConfig(depth=6, width=(16,), batch=8, repeat=1, device="cpu",
    ...                           strategies=("none", "every", "sqrt"), out="ckpt")
    >>> rows = run(config, log=lambda *args: None)
    >>> [(row["strategy"], row["recomputations"]) for row in rows]
    [('none', 0), ('every-2', 4), ('every-4', 3), ('sqrt(n)=2 segments', 3)]
"""

from __future__ import annotations

import csv
import math
import os
import statistics
import time
from dataclasses import dataclass

import numpy as np

from .. import backend, nn
from ..creation import randn, tensor
from ..memory import track
from ..random import manual_seed
from .planner import BudgetError, blocks_of, plan

__all__ = ["ExperimentConfig", "run"]


@dataclass
class ExperimentConfig:
    depth: int = 48
    width: tuple = (256,)          # several widths: layers cycle through them
    batch: int = 256
    dtype: str = "float32"
    device: str = "auto"
    every: tuple = (2, 4)
    budgets: tuple = (0.15, 0.25, 0.4, 0.6, 0.8)
    strategies: tuple = ("none", "every", "sqrt", "planner")
    repeat: int = 5
    seed: int = 0
    out: str = "runs/checkpoint"


class _BlockRuns:
    """Counts the forward runs of each block of ``model`` while active (``with counter:``).

    A block starts with a Linear, whose weight enters the forward pass through one of two
    ops: ``F.linear`` (``Linear.forward``) or ``F.linear_relu`` (``Sequential``'s fused
    Linear + ReLU). Both are watched, so every path counts: plain, fused, checkpointed and
    recomputed. Block recomputations of a step = runs - blocks.
    """

    _OPS = ("linear", "linear_relu")

    def __init__(self, model):
        blocks = blocks_of(model)
        firsts = [block[0] for block in blocks]
        if not all(isinstance(layer, nn.Linear) for layer in firsts):
            raise TypeError("the experiment counts blocks that start with a Linear layer")
        self.weights = {id(layer.weight) for layer in firsts}
        self.blocks, self.runs, self._saved = len(blocks), 0, {}

    def __enter__(self):
        from ..nn import functional
        for name in self._OPS:
            original = self._saved[name] = getattr(functional, name)

            def counted(x, weight, *args, _original=original, **kwargs):
                if id(weight) in self.weights:
                    self.runs += 1
                return _original(x, weight, *args, **kwargs)
            setattr(functional, name, counted)
        return self

    def __exit__(self, *exc):
        from ..nn import functional
        for name, original in self._saved.items():
            setattr(functional, name, original)
        self._saved = {}

    @property
    def recomputations(self) -> int:
        if self.runs < self.blocks:
            raise RuntimeError(f"counted {self.runs} runs of {self.blocks} blocks: the counter "
                               f"misses a path that runs a block")
        return self.runs - self.blocks


def _widths(width) -> tuple:
    return (width,) if isinstance(width, int) else tuple(width)


def _shape(config) -> str:
    return f"{config.depth} x {'/'.join(map(str, _widths(config.width)))}"


def _strategies(config, depth):
    """The fixed strategies asked for, as (name, segments of the MLP's blocks); "none"
    always comes first (the reference). every-k: depth // k segments (at least 2), so
    PyTorch's split checkpoints chunks of k blocks where k divides depth (of at least k
    when 2k <= depth) and runs the rest outside; sqrt(n): round(sqrt(depth)) segments."""
    strategies = [("none", None)]
    if "every" in config.strategies:
        for k in config.every:
            if 1 <= k < depth:
                strategies.append((f"every-{k}", max(2, depth // k)))
    if "sqrt" in config.strategies:
        segments = round(math.sqrt(depth))
        strategies.append((f"sqrt(n)={segments} segments", segments))
    return strategies


def run(config: ExperimentConfig, log=print) -> list:
    """Measure every strategy and write the files; returns the rows (dicts)."""
    device = backend.Device(config.device)
    manual_seed(config.seed)
    widths = _widths(config.width)
    sizes = [widths[j % len(widths)] for j in range(config.depth + 1)]
    model = nn.MLP(sizes, device=device, dtype=config.dtype)
    x = randn(config.batch, sizes[0], device=device, dtype=config.dtype)
    labels = tensor(np.arange(config.batch) % sizes[-1], device=device)
    loss_fn = lambda out: nn.functional.cross_entropy(out, labels)  # noqa: E731
    counter = _BlockRuns(model)
    log(f"MLP {_shape(config)}, batch {config.batch}, {config.dtype} on "
        f"{device}; {sum(p.size for p in model.parameters()):,} parameters")
    _step(model, x, loss_fn, device)                 # allocate gradients once
    reference = None
    rows, strategies = [], []

    def measure(name, strategy, budget=None, predicted=None):
        """Peak memory, recomputations and gradients of one step (timing comes later)."""
        nonlocal reference
        model.checkpoint = strategy
        _step(model, x, loss_fn, device)             # warm-up
        model.zero_grad(set_to_none=False)
        counter.runs = 0
        with track(device) as tracked, counter:
            _step(model, x, loss_fn, device)
        grads = [p.grad.numpy().astype(np.float64) for p in model.parameters()]
        if reference is None:
            reference = grads
        error = max(float(np.abs(g - r).max() / max(np.abs(r).max(), 1e-30))
                    for g, r in zip(grads, reference))
        rows.append({"strategy": name, "budget_bytes": budget, "predicted_peak_bytes": predicted,
                     "measured_peak_bytes": tracked.peak, "step_seconds": None,
                     "recomputations": counter.recomputations, "max_grad_rel_diff": error})
        strategies.append(strategy)

    for name, strategy in _strategies(config, config.depth):
        measure(name, strategy)
    plain_peak = rows[0]["measured_peak_bytes"]
    targets = []
    if "planner" in config.strategies:
        targets = [(f"planner {b:g}", int(b * plain_peak)) for b in config.budgets]
        if "sqrt" in config.strategies:
            targets.append(("planner @ sqrt(n) peak", rows[-1]["measured_peak_bytes"]))
    for name, budget in targets:
        model.checkpoint = None
        try:
            p = plan(model, x, budget=budget, loss_fn=loss_fn)
        except BudgetError as exc:
            log(f"{name}: skipped ({exc})")
            continue
        measure(name, p, budget, p.predicted_peak)
    # time in rounds over all strategies, so that a slow moment of a shared machine does
    # not land on one strategy only
    times = [[] for _ in rows]
    for _ in range(config.repeat):
        for i, strategy in enumerate(strategies):
            model.checkpoint = strategy
            start = time.perf_counter()
            _step(model, x, loss_fn, device)
            backend.synchronize(device)
            times[i].append(time.perf_counter() - start)
    for row, samples in zip(rows, times):
        row["step_seconds"] = statistics.median(samples)
        log(_line(row))
    model.checkpoint = None
    _write(config, rows, device)
    return rows


def _step(model, x, loss_fn, device):
    """One forward and backward pass (gradients accumulate into the existing buffers)."""
    loss_fn(model(x)).backward()


def _line(row) -> str:
    predicted = row["predicted_peak_bytes"]
    shown = f"{predicted / 2**20:8.1f}" if predicted else "       -"
    return (f"{row['strategy']:<26} peak {row['measured_peak_bytes'] / 2**20:8.1f} MiB "
            f"(predicted {shown}), step {row['step_seconds'] * 1e3:8.1f} ms, "
            f"{row['recomputations']:4d} block recomputations, "
            f"grad diff {row['max_grad_rel_diff']:.1e}")


def _write(config, rows, device):
    os.makedirs(config.out, exist_ok=True)
    with open(os.path.join(config.out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    base = rows[0]
    lines = [f"MLP {_shape(config)}, batch {config.batch}, {config.dtype}, "
             f"{device}", "",
             "| strategy | peak MiB | predicted MiB | peak / none | step ms | time / none | "
             "block recomputations | max grad rel diff |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        predicted = row["predicted_peak_bytes"]
        cells = [row["strategy"], f"{row['measured_peak_bytes'] / 2**20:.1f}",
                 f"{predicted / 2**20:.1f}" if predicted else "-",
                 f"{row['measured_peak_bytes'] / base['measured_peak_bytes']:.2f}",
                 f"{row['step_seconds'] * 1e3:.1f}",
                 f"{row['step_seconds'] / base['step_seconds']:.2f}",
                 str(row["recomputations"]), f"{row['max_grad_rel_diff']:.1e}"]
        lines.append("| " + " | ".join(cells) + " |")
    with open(os.path.join(config.out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    _plot(rows, os.path.join(config.out, "tradeoff.png"), config)


def _plot(rows, path, config):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(figsize=(7, 4.5))
    planner = sorted((r for r in rows if r["strategy"].startswith("planner")),
                     key=lambda r: r["measured_peak_bytes"])
    others = [r for r in rows if not r["strategy"].startswith("planner")]
    for row in others:
        axes.scatter(row["step_seconds"] * 1e3, row["measured_peak_bytes"] / 2**20, s=40)
        axes.annotate(row["strategy"], (row["step_seconds"] * 1e3,
                                        row["measured_peak_bytes"] / 2**20),
                      textcoords="offset points", xytext=(5, 4), fontsize=8)
    if planner:
        axes.plot([r["step_seconds"] * 1e3 for r in planner],
                  [r["measured_peak_bytes"] / 2**20 for r in planner], "o-", color="black",
                  label="planner (budgets)")
        axes.legend()
    axes.set(xlabel="step time (ms, median)", ylabel="peak memory of one step (MiB)",
             title=f"Checkpointing trade-off: MLP {_shape(config)}, "
                   f"batch {config.batch}")
    axes.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
