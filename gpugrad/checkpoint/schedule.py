"""The optimal checkpointing schedule for a chain, by dynamic programming (in the style of
Beaumont, Eyraud-Dubois, Herrmann, Joly and Shilova, "Optimal checkpointing for
heterogeneous chains", arXiv:1911.13214, the rotor library).

A chain has stages 0..n-1; the last is the loss. Stage j has forward time ``f[j]``, backward
time ``b[j]``, output size ``x[j]`` (its gradient has the same size), ``tape[j]``: what stays
in memory after running it with recording (its saved values, its output and its graph
nodes), transient extras during its forward (``fwd[j]``) and backward (``bwd[j]``, which
includes the gradient of its input), and ``node[j]``: what its graph nodes alone hold (they
exist from the first forward until its backward, checkpointed or not). Sizes are in memory
slots here (integers).

``solve`` fills C(s, t, m): the least time to run forward and backward of stages s..t when
the input of stage s is held elsewhere, the gradient of stage t's output is in memory, and
at most ``m`` more slots may be used. Two moves, as in the paper:

- A (keep): run stage s recording; solve (s+1, t) with ``m - tape[s]``; then backward of s.
- B(k) (checkpoint): run stages s..k-1 without recording, keep only the output of k-1;
  solve (k, t) with ``m - x[k-1]``; drop that output; solve (s, k-1) with ``m``.

With every ``tape`` too large to keep while anything else runs, only B remains and the
recursion is Griewank's, whose optimum is the Revolve/binomial one (see the tests).

Example: two blocks and the loss, each 1 s forward and 1 s backward, a 1-slot output and a
2-slot tape. Keeping every tape needs 2 + 2 + 3 = 7 slots and takes 6 s; each slot fewer
costs one more forward recomputation (1 s), down to 4 slots::

    >>> from gpugrad.checkpoint.schedule import Chain, solve
    >>> chain = Chain(f=[1, 1, 1], b=[1, 1, 1], x=[1, 1, 1], tape=[2, 2, 2],
    ...               fwd=[0, 0, 0], bwd=[0, 0, 0])
    >>> schedule = solve(chain, memory=7)
    >>> [schedule.best_time(m) for m in range(3, 8)]
    [inf, 9.0, 8.0, 7.0, 6.0]
    >>> schedule.min_memory()
    4
    >>> schedule.tree(6)      # keep stage 0; run 1 unrecorded, keep its output; redo 1 later
    ('A', 0, ('B', 1, 2, ('A', 2, None), ('A', 1, None)))
"""

from __future__ import annotations

import numpy as np

__all__ = ["Chain", "solve", "Schedule", "simulate"]

INF = np.inf


class Chain:
    """Stage costs and sizes, in seconds and memory slots (see the module docstring)."""

    def __init__(self, f, b, x, tape, fwd, bwd, node=None, node_prefix=None):
        self.f, self.b = np.asarray(f, float), np.asarray(b, float)
        self.x, self.tape = np.asarray(x, np.int64), np.asarray(tape, np.int64)
        self.fwd, self.bwd = np.asarray(fwd, np.int64), np.asarray(bwd, np.int64)
        self.n = len(self.f)
        if node_prefix is None:        # node_prefix[j] = what stages 0..j-1's nodes hold
            node = np.zeros(self.n, np.int64) if node is None else np.asarray(node, np.int64)
            node_prefix = np.concatenate([[0], np.cumsum(node)])
        self.node_prefix = np.asarray(node_prefix, np.int64)
        if len(self.node_prefix) != self.n + 1:
            raise ValueError("Chain: node_prefix needs n + 1 entries")
        for name in ("b", "x", "tape", "fwd", "bwd"):
            if len(getattr(self, name)) != self.n:
                raise ValueError(f"Chain: '{name}' has {len(getattr(self, name))} entries, "
                                 f"'f' has {self.n}")

    def nodes(self, s: int, t: int) -> int:
        """What the graph nodes of stages s..t hold (0 for an empty range)."""
        return int(self.node_prefix[t + 1] - self.node_prefix[s]) if t >= s else 0

    def forward_peak(self, s: int, k: int) -> int:
        """Peak of running stages s..k-1 without recording (input of s held elsewhere)."""
        peak = 0
        for j in range(s, k):
            held = self.x[j - 1] if j > s else 0
            peak = max(peak, held + self.x[j] + self.fwd[j])
        return int(peak)


class Schedule:
    """A solved chain: ``time[s, t, m]`` (least time, inf where impossible) and
    ``choice[s, t, m]`` (-1: A, k: B(k), -2: impossible) for memory m = 0..M slots."""

    def __init__(self, chain: Chain, memory: int, time: np.ndarray, choice: np.ndarray):
        self.chain, self.memory, self.time, self.choice = chain, memory, time, choice

    def best_time(self, memory: int | None = None) -> float:
        m = self.memory if memory is None else memory
        return float(self.time[0, self.chain.n - 1, m])

    def min_memory(self) -> int | None:
        """The fewest slots with which the whole chain can run (None: not within M)."""
        feasible = np.flatnonzero(np.isfinite(self.time[0, self.chain.n - 1]))
        return int(feasible[0]) if len(feasible) else None

    def tree(self, memory: int | None = None):
        """The decisions as nested tuples: ("A", s, child) with child None for the last
        stage of a segment, or ("B", s, k, right, left)."""
        m = self.memory if memory is None else memory
        return self._tree(0, self.chain.n - 1, m)

    def _tree(self, s, t, m):
        move = int(self.choice[s, t, m])
        if move == -2:
            raise ValueError(f"no schedule for stages {s}..{t} in {m} memory slots")
        if move == -1:
            child = self._tree(s + 1, t, m - int(self.chain.tape[s])) if s < t else None
            return ("A", s, child)
        k = move
        right = m - int(self.chain.x[k - 1]) - self.chain.nodes(s, k - 1)
        return ("B", s, k, self._tree(k, t, right), self._tree(s, k - 1, m))


def _forward_peaks(chain: Chain) -> np.ndarray:
    """peaks[s, k]: peak of running stages s..k-1 without recording."""
    n = chain.n
    peaks = np.zeros((n, n + 1), dtype=np.int64)
    for s in range(n):
        peak = 0
        for k in range(s + 1, n + 1):
            j = k - 1
            held = chain.x[j - 1] if j > s else 0
            peak = max(peak, int(held + chain.x[j] + chain.fwd[j]))
            peaks[s, k] = peak
    return peaks


def solve(chain: Chain, memory: int) -> Schedule:
    """Fill the DP tables for memory 0..``memory`` slots.

    Segments are visited by increasing end t and, for each t, decreasing start s, so every
    table a segment needs is ready; the B(k) moves of a segment are evaluated together as
    arrays over (k, m), and each child table, shifted by the checkpoint's size, is built once
    per (k, t) rather than once per (s, k, t).
    """
    n, width = chain.n, memory + 1
    slots = np.arange(width)
    inf = np.float32(INF)
    f_prefix = np.concatenate([[0.0], np.cumsum(chain.f)]).astype(np.float32)
    step = (chain.f + chain.b).astype(np.float32)
    peaks = _forward_peaks(chain)
    time = np.full((n, n, width), inf, dtype=np.float32)
    choice = np.full((n, n, width), -2, dtype=np.int32)
    nodes = chain.node_prefix
    extended = width + int(nodes[-1])
    buffer = np.empty((n, width), dtype=np.float32)
    for t in range(n):
        # shifted[k, m + nodes[s]] = time[k, t, m - x[k-1] - (nodes[k] - nodes[s])]: the B(k)
        # child of (s, t), run while stage k-1's output and the nodes of s..k-1 are held
        shifted = np.full((t + 1, extended), inf, dtype=np.float32)
        keep = {}                  # keep[s]: the peak of keeping every stage of s..t
        for s in range(t, -1, -1):
            a_peak = max(chain.x[t] + chain.tape[s] + chain.fwd[s] + chain.nodes(s + 1, t),
                         chain.tape[s] + chain.x[s] + chain.bwd[s])
            best = np.full(width, inf, dtype=np.float32)
            if s == t:
                best[min(a_peak, width):] = step[s]
            else:                       # m >= a_peak and m >= tape[s]: child at m - tape[s]
                lo = min(max(a_peak, chain.tape[s]), width)
                best[lo:] = step[s] + time[s + 1, t, lo - chain.tape[s]:width - chain.tape[s]]
            move = np.where(best < inf, -1, -2)
            keep[s] = a_peak if s == t else max(a_peak, chain.tape[s] + keep[s + 1])
            # from keep[s] slots on, keeping everything fits and nothing is faster: only
            # smaller memories need the B(k) moves
            cols = min(int(keep[s]), width)
            if s < t and cols > 0:
                count = t - s
                total = np.add(shifted[s + 1:, nodes[s]:nodes[s] + cols], time[s, s:t, :cols],
                               out=buffer[:count, :cols])
                total += (f_prefix[s + 1:t + 1] - f_prefix[s])[:, None]
                needed = chain.x[t] + peaks[s, s + 1:t + 1] + chain.nodes(s, t)
                top = min(int(needed.max()), cols)
                if top > 0:
                    part = total[:, :top]
                    part[slots[None, :top] < needed[:, None]] = inf
                k_best = np.argmin(total, axis=0)
                b_best = total[k_best, slots[:cols]]
                better = b_best < best[:cols]
                best[:cols] = np.where(better, b_best, best[:cols])
                move[:cols] = np.where(better, k_best + s + 1, move[:cols])
            time[s, t], choice[s, t] = best, move
            if s > 0:                   # shifted[s, m'] = best[m' - x[s-1] - nodes[s]]
                start = int(chain.x[s - 1] + nodes[s])
                if start < extended:
                    shifted[s, start:start + width] = best[:extended - start]
    return Schedule(chain, memory, time, choice)


def simulate(chain: Chain, tree) -> tuple[float, int, int]:
    """(time, peak, forward recomputations) of a schedule ``tree`` on ``chain``, exactly
    (with sizes in any unit): the independent check of what ``solve`` predicts."""
    def run(node, t):
        if node[0] == "A":
            _, s, child = node
            if child is None:
                peak = max(chain.x[t] + chain.tape[s] + chain.fwd[s],
                           chain.tape[s] + chain.x[s] + chain.bwd[s])
                return chain.f[s] + chain.b[s], peak, 0
            c_time, c_peak, c_rec = run(child, t)
            peak = max(chain.x[t] + chain.tape[s] + chain.fwd[s] + chain.nodes(s + 1, t),
                       chain.tape[s] + c_peak, chain.tape[s] + chain.x[s] + chain.bwd[s])
            return chain.f[s] + chain.b[s] + c_time, peak, c_rec
        _, s, k, right, left = node
        r_time, r_peak, r_rec = run(right, t)
        l_time, l_peak, l_rec = run(left, k - 1)
        peak = max(chain.x[t] + chain.forward_peak(s, k) + chain.nodes(s, t),
                   chain.x[k - 1] + chain.nodes(s, k - 1) + r_peak, l_peak)
        return float(chain.f[s:k].sum()) + r_time + l_time, peak, (k - s) + r_rec + l_rec
    time, peak, recomputed = run(tree, chain.n - 1)
    return float(time), int(peak), int(recomputed)
