"""The optimal checkpointing schedule for a chain, by dynamic programming (in the style of
Beaumont, Eyraud-Dubois, Herrmann, Joly and Shilova, "Optimal checkpointing for
heterogeneous chains", arXiv:1911.13214, the rotor library).

A chain has stages 0..n-1; the last is the loss. Stage j has forward time ``f[j]``, backward
time ``b[j]``, output size ``x[j]`` (its gradient has the same size), ``tape[j]``: what stays
in memory after running it with recording (its saved values and its output), ``retape[j]``:
the same when it runs again in a recomputation (the checkpoint keeps those values, with its
own bookkeeping), transient extras during its forward (``fwd[j]``) and backward (``bwd[j]``,
which includes the gradient of its input, and is negative where the stage's output is
freed before its backward ends), and ``res[j]``: what the backward pass holds beside stage
j's output gradient when that gradient arrives (what the backward of the stages after j
left behind: a weight gradient not yet added into ``.grad``, released graph nodes). Two
sizes are not per stage: ``held``, what the whole step holds (the graph nodes, made in the
forward pass and kept until the backward pass ends), and ``frame``, what a checkpoint holds
beside its input while it lives. Sizes are in memory slots here (integers).

``solve`` fills C(s, t, m): the least time to run forward and backward of stages s..t when
the input of stage s is held elsewhere, the gradient of stage t's output is in memory, and
at most ``m`` more slots may be used (beyond ``held``). Two moves, as in the paper:

- A (keep): run stage s recording; solve (s+1, t) with ``m - tape[s]``; then backward of s.
  (In a recomputation, segments that end before the loss, ``retape`` stands for ``tape``.)
- B(k) (checkpoint): run stages s..k-1 without recording, keep only the output of k-1;
  solve (k, t) with ``m - frame - x[k-1]``; drop that output; solve (s, k-1) with
  ``m - frame``. (The frames of the checkpoints nested in s..k-1 live as long, which
  ``simulate`` counts and the DP does not: the planner checks its trees with ``simulate``.)

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

    def __init__(self, f, b, x, tape, fwd, bwd, res=None, held: int = 0, frame: int = 0,
                 retape=None):
        self.f, self.b = np.asarray(f, float), np.asarray(b, float)
        self.x, self.tape = np.asarray(x, np.int64), np.asarray(tape, np.int64)
        self.fwd, self.bwd = np.asarray(fwd, np.int64), np.asarray(bwd, np.int64)
        self.n = len(self.f)
        self.res = np.zeros(self.n, np.int64) if res is None else np.asarray(res, np.int64)
        self.retape = self.tape if retape is None else np.asarray(retape, np.int64)
        self.held, self.frame = int(held), int(frame)
        for name in ("b", "x", "tape", "fwd", "bwd", "res", "retape"):
            if len(getattr(self, name)) != self.n:
                raise ValueError(f"Chain: '{name}' has {len(getattr(self, name))} entries, "
                                 f"'f' has {self.n}")
        # arrivals[t] = arrived(t), for every t at once (solve reads them as an array)
        self.arrivals = self.x + self.res

    def tapes(self, t: int) -> np.ndarray:
        """The tapes of a segment ending at stage t: recorded in the first forward pass if it
        ends with the loss, else in a recomputation."""
        return self.tape if t == self.n - 1 else self.retape

    def arrived(self, t: int) -> int:
        """What the backward pass holds when stage t's output gradient arrives."""
        return int(self.arrivals[t])

    def forward_peak(self, s: int, k: int) -> int:
        """Peak of running stages s..k-1 without recording (input of s held elsewhere)."""
        peak = 0
        for j in range(s, k):
            held = self.x[j - 1] if j > s else 0
            peak = max(peak, held + self.x[j] + self.fwd[j])
        return int(peak)


class Schedule:
    """A solved chain: ``time[s, t, m]`` (least time, inf where impossible) and
    ``choice[s, t, m]`` (-1: A, k: B(k), -2: impossible) for m = 0..M slots beyond
    ``chain.held``; the methods take the whole memory, ``held`` included."""

    def __init__(self, chain: Chain, memory: int, time: np.ndarray, choice: np.ndarray):
        self.chain, self.memory, self.time, self.choice = chain, memory, time, choice

    def _free(self, memory: int | None) -> int:
        return (self.memory if memory is None else memory) - self.chain.held

    def best_time(self, memory: int | None = None) -> float:
        m = self._free(memory)
        return float(self.time[0, self.chain.n - 1, m]) if m >= 0 else INF

    def min_memory(self) -> int | None:
        """The fewest slots with which the whole chain can run (None: not within M)."""
        feasible = np.flatnonzero(np.isfinite(self.time[0, self.chain.n - 1]))
        return int(feasible[0]) + self.chain.held if len(feasible) else None

    def tree(self, memory: int | None = None):
        """The decisions as nested tuples: ("A", s, child) with child None for the last
        stage of a segment, or ("B", s, k, right, left)."""
        return self._tree(0, self.chain.n - 1, self._free(memory))

    def _tree(self, s, t, m):
        move = int(self.choice[s, t, m]) if m >= 0 else -2
        if move == -2:
            raise ValueError(f"no schedule for stages {s}..{t} in {m} memory slots")
        if move == -1:
            child = self._tree(s + 1, t, m - int(self.chain.tapes(t)[s])) if s < t else None
            return ("A", s, child)
        k, m = move, m - self.chain.frame
        right = m - int(self.chain.x[k - 1])
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
    """Fill the DP tables for memory 0..``memory`` slots (``chain.held`` included).

    Segments are visited by increasing end t and, for each t, decreasing start s, so every
    table a segment needs is ready; the B(k) moves of a segment are evaluated together as
    arrays over (k, m), and each child table, shifted by the checkpoint's size, is built once
    per (k, t) rather than once per (s, k, t).
    """
    n, width = chain.n, max(memory - chain.held, -1) + 1
    slots = np.arange(width)
    inf = np.float32(INF)
    f_prefix = np.concatenate([[0.0], np.cumsum(chain.f)]).astype(np.float32)
    step = (chain.f + chain.b).astype(np.float32)
    peaks = _forward_peaks(chain)
    arrived = chain.arrivals
    frame = chain.frame
    time = np.full((n, n, width), inf, dtype=np.float32)
    choice = np.full((n, n, width), -2, dtype=np.int32)
    buffer = np.empty((n, width), dtype=np.float32)
    for t in range(n):
        # shifted[k, m] = time[k, t, m - frame - x[k-1]]: the B(k) child of any (s, t), run
        # while the checkpoint (its frame and stage k-1's output) is held
        shifted = np.full((t + 1, width), inf, dtype=np.float32)
        keep = {}                  # keep[s]: the peak of keeping every stage of s..t
        tape = chain.tapes(t)
        for s in range(t, -1, -1):
            a_peak = max(arrived[t] + tape[s] + chain.fwd[s], tape[s] + arrived[s] + chain.bwd[s])
            best = np.full(width, inf, dtype=np.float32)
            if s == t:
                best[min(max(a_peak, 0), width):] = step[s]
            else:                       # m >= a_peak and m >= tape[s]: child at m - tape[s]
                lo = min(max(a_peak, tape[s], 0), width)
                best[lo:] = step[s] + time[s + 1, t, lo - tape[s]:width - tape[s]]
            move = np.where(best < inf, -1, -2)
            keep[s] = a_peak if s == t else max(a_peak, tape[s] + keep[s + 1])
            # from keep[s] slots on, keeping everything fits and nothing is faster: only
            # smaller memories need the B(k) moves
            cols = min(max(int(keep[s]), 0), width)
            if s < t and cols > frame:
                count, inner = t - s, cols - frame
                # total[k, m]: the right child (shifted) and the left one (s, k-1) in m - frame
                total = buffer[:count, :cols]
                total[:, :frame] = inf
                np.add(shifted[s + 1:, frame:cols], time[s, s:t, :inner], out=total[:, frame:])
                total += (f_prefix[s + 1:t + 1] - f_prefix[s])[:, None]
                needed = arrived[t] + peaks[s, s + 1:t + 1] + frame
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
            if s > 0:                   # shifted[s, m] = best[m - frame - x[s-1]]
                start = int(frame + chain.x[s - 1])
                if start < width:
                    shifted[s, start:] = best[:width - start]
    return Schedule(chain, memory, time, choice)


def simulate(chain: Chain, tree) -> tuple[float, int, int]:
    """(time, peak, forward recomputations) of a schedule ``tree`` on ``chain``, exactly
    (with sizes in any unit): the independent check of what ``solve`` predicts.

    Checkpoint frames are counted as they live, which ``solve`` only bounds from below:
    every checkpoint of the tree is made in the first forward pass (the nested ones too, by
    the first run of their enclosing one) and lives until its segment's backward is done.
    """
    frame = chain.frame

    def run(node, t, first):
        """(time, peak, recomputations, checkpoints) of a subtree; ``first``: it runs in
        the first forward pass (else in a recomputation, its checkpoints made already)."""
        if node[0] == "A":
            _, s, child = node
            c = run(child, t, first) if child is not None else (0.0, 0, 0, 0)
            made, tape = (0, chain.tape[s]) if first else (frame * c[3], chain.retape[s])
            peak = max(chain.arrived(t) + tape + chain.fwd[s] + made,
                       tape + chain.arrived(s) + chain.bwd[s])
            if child is not None:
                peak = max(peak, tape + c[1])
            return chain.f[s] + chain.b[s] + c[0], peak, c[2], c[3]
        _, s, k, right, left = node
        r_time, r_peak, r_rec, r_count = run(right, t, first)
        l_time, l_peak, l_rec, l_count = run(left, k - 1, False)
        held = frame * (1 + l_count)     # this checkpoint's frame and those inside it
        ahead = 0 if first else frame * r_count
        peak = max(chain.arrived(t) + chain.forward_peak(s, k) + held + ahead,
                   chain.x[k - 1] + held + r_peak, frame + l_peak)
        return (float(chain.f[s:k].sum()) + r_time + l_time, peak, (k - s) + r_rec + l_rec,
                1 + l_count + r_count)
    time, peak, recomputed, _ = run(tree, chain.n - 1, True)
    return float(time), int(peak + chain.held), int(recomputed)
