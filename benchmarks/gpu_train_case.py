"""One configuration of benchmarks/gpu_training.py: what it runs (a Case) and how it is
measured (run_case), with the settings every configuration shares.

A Case's step is one training step (forward, softmax cross-entropy, backward, SGD lr 0.1,
momentum 0.9). run_case warms up (keeping the first CHECK_STEP losses for the check and
reading the memory pool after step 2 and after the last warm-up step: allocation churn),
times the steps, then measures the peak memory of one step.
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import time

import gpu_common

PRECISIONS = ("fp32", "tf32", "fp16")
CONFIGS = {                                 # --configs key: row name
    "gg-fused": "gpugrad eager fused",
    "gg-unfused": "gpugrad eager unfused",
    "gg-graph": "gpugrad graph",
    "gg-compile": "gpugrad compile",
    "torch": "torch eager",
    "torch-graph": "torch graph",
    "jax": "jax jit",
}
LR, MOMENTUM, SEED = 0.1, 0.9, 0
CHECK_STEP = 4                              # the loss of step 4 is computed after 3 updates
JAX_LOSS_SCALE = 1024.0
MIB = 2**20


class Target:
    """Where the configurations run: ``device`` "cuda", or "cpu" under --cpu-dry-run (set
    once, before anything runs); ``jax_device`` the jax Device, once jax is loaded."""

    def __init__(self):
        self.device = "cuda"
        self.jax_device = None

    @property
    def on_gpu(self) -> bool:
        return self.device == "cuda"


TARGET = Target()


class Skip(Exception):
    """A configuration that cannot run here (the message says why)."""


def free_memory(torch=None) -> None:
    """Collect garbage and, on a GPU, hand cached blocks back, so each configuration starts
    clean."""
    if TARGET.on_gpu:
        gpu_common.free_gpu_memory(torch)
    else:
        gc.collect()


class Case:
    """A configuration ready to run. ``step()`` does one training step and returns the loss
    (left on the device); ``value(loss)`` reads it on the host; ``memory()`` returns
    (peak bytes, how measured); ``pool_bytes()`` the allocator's size; ``finish()`` a note
    about anything that went wrong after the check ("" when nothing did)."""

    def __init__(self, step, value, clock, sync, context=None, memory=None, pool_bytes=None,
                 finish=None, note=""):
        self.step, self.value, self.clock, self.sync = step, value, clock, sync
        self.context = context if context is not None else contextlib.nullcontext()
        self.memory, self.pool_bytes, self.finish, self.note = memory, pool_bytes, finish, note


def run_case(case: Case, warmup: int, steps: int) -> dict:
    """Warm up (the first CHECK_STEP losses kept for the check, the pool read after step 2
    and after the last warm-up step), time ``steps`` steps, then measure one step's memory."""
    out = {"losses": [], "pool_bytes": {}}
    with case.context:
        for i in range(1, warmup + 1):
            loss = case.step()
            if i <= CHECK_STEP:
                out["losses"].append(case.value(loss))
            if case.pool_bytes is not None and i in (2, warmup):
                case.sync()
                out["pool_bytes"][i] = case.pool_bytes()
        clock = case.clock
        case.sync()
        marks = [clock.mark()]
        for _ in range(steps):
            case.step()
            marks.append(clock.mark())
        case.sync()
        times = [clock.ms(a, b) for a, b in zip(marks, marks[1:])]
        if clock.device_events:
            mean = clock.ms(marks[0], marks[-1]) / steps
        else:                                   # each host mark synchronised: the mean
            case.sync()                         # from a loop synchronised once, at its end
            start = time.perf_counter()
            for _ in range(steps):
                case.step()
            case.sync()
            mean = (time.perf_counter() - start) * 1e3 / steps
        peak, how = case.memory() if case.memory is not None else (None, None)
        late = case.finish() if case.finish is not None else ""
    pools = out["pool_bytes"]
    out.update(loss=out["losses"][-1], median_ms=statistics.median(times), mean_ms=mean,
               min_ms=min(times), peak_bytes=peak, memory_method=how,
               pool_growth=(pools[warmup] - pools[2]) if len(pools) == 2 and
               None not in pools.values() else None,
               note="; ".join(n for n in (case.note, late) if n), late_problem=late)
    return out
