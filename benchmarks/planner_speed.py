"""How long the planner's dynamic programme takes on a 200-layer chain (target: < 1 s).

Run: PYTHONPATH=. python3 benchmarks/planner_speed.py
Profiles a 200-layer MLP once, then times solve() at the default 100 memory slots.
"""

import statistics
import time

import numpy as np

import gpugrad
from gpugrad import nn
from gpugrad.checkpoint import blocks_of, profile
from gpugrad.checkpoint.planner import DEFAULT_SLOTS
from gpugrad.checkpoint.schedule import solve

gpugrad.manual_seed(0)
model = nn.MLP([64] * 201)
x = gpugrad.randn(32, 64)
labels = gpugrad.tensor(np.arange(32) % 64)
prof = profile(blocks_of(model), x, lambda out: nn.functional.cross_entropy(out, labels),
               repeat=1)
budget = 0.3 * sum(prof.tape) + sum(prof.node)     # 30% of every tape, plus the graph nodes
chain = prof.as_chain(budget / DEFAULT_SLOTS)
times = []
for _ in range(3):
    start = time.perf_counter()
    schedule = solve(chain, DEFAULT_SLOTS)
    times.append(time.perf_counter() - start)
print(f"{chain.n} stages, {DEFAULT_SLOTS} memory slots: solve() median "
      f"{statistics.median(times):.3f} s over 3 runs (min {min(times):.3f} s); "
      f"feasible: {np.isfinite(schedule.best_time())}")
