"""Profiling a sequential model for the planner: the sizes and times ``schedule.Chain`` needs,
measured once per stage (the model's blocks, then the loss) with ``gpugrad.memory.track``.

A stage's backward pass is measured where it runs in a real step: right after the backward
of the stage that follows it. That is what decides its peak: the engine still holds what the
following stage's backward made (its weight gradient, added into ``.grad`` only after) when
this stage's first op runs, and the following stage's backward has already freed this
stage's output unless this stage keeps it itself. Also measured: what the graph nodes hold
(the backward pass keeps every node until it ends, and a released node grows a little) and
what a checkpoint holds beside its input.

Example::

    >>> from gpugrad.checkpoint import blocks_of, profile
    >>> model = nn.MLP([32, 32, 32, 10], dtype="float64")
    >>> x = gpugrad.randn(16, 32, dtype="float64")
    >>> prof = profile(blocks_of(model), x, lambda out: out.sum(), repeat=1)
    >>> prof.names
    ['0: Linear+ReLU', '1: Linear+ReLU', '2: Linear', 'loss']
    >>> prof.x                      # output bytes: 16 x 32 float64, ..., 16 x 10; the loss: 0
    [4096, 4096, 1280, 0]
    >>> prof.residue[0] >= 32 * 32 * 8    # when block 0's gradient arrives, the engine still
    True
    >>> # holds block 1's weight gradient (32 x 32 float64): it adds it into .grad after
"""

from __future__ import annotations

import math
import statistics
import time
import weakref

import numpy as np

from .. import backend
from ..autograd.graph import grad_accumulator, saved_tensors_hooks
from ..autograd.mode import no_grad
from ..memory import _saved_of, track
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor
from .recompute import _recomputing, checkpoint
from .schedule import Chain

__all__ = ["profile"]


class _Profile:
    """Bytes and seconds per stage (blocks, then the loss); see ``schedule.Chain`` for what
    each list means. ``node``: what the stage's graph nodes hold (their sum is the chain's
    ``held``); ``grown``: how much they grow when the backward pass releases them (it can be
    negative); ``residue``: what the backward of the next stage leaves (not yet freed) when
    this stage's gradient arrives; ``frame``: what a checkpoint holds beside its input."""

    def __init__(self):
        self.names, self.x, self.tape, self.retape, self.fwd, self.bwd = [], [], [], [], [], []
        self.node, self.grown, self.residue, self.f, self.b = [], [], [], [], []
        self.frame = 0

    @property
    def res(self) -> list:
        """What the backward holds beside stage t's output gradient when it arrives: the
        residue of stage t + 1 and the growth of every node released so far (after t)."""
        after = np.concatenate([np.cumsum(self.grown[::-1])[::-1], [0]])
        return [int(r + after[t + 1]) for t, r in enumerate(self.residue)]

    def byte_chain(self) -> Chain:
        return Chain(self.f, self.b, self.x, self.tape, self.fwd, self.bwd, self.res,
                     held=sum(self.node), frame=self.frame, retape=self.retape)

    def as_chain(self, unit: float) -> Chain:
        """The chain in memory slots of ``unit`` bytes, each size rounded up (so a schedule
        that fits in slots fits in bytes)."""
        up = lambda v: int(math.ceil(v / unit))  # noqa: E731
        slots = lambda values: [up(v) for v in values]  # noqa: E731
        return Chain(self.f, self.b, slots(self.x), slots(self.tape), slots(self.fwd),
                     slots(self.bwd), slots(self.res), held=up(sum(self.node)),
                     frame=up(self.frame), retape=slots(self.retape))


def _median_seconds(fn, device, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        backend.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _no_grad(stage, x):
    with no_grad():
        return stage(x)


def _nodes(out) -> list:
    """The graph nodes behind ``out`` (its stage's: the stage's input is a fresh leaf)."""
    from ..autograd.walk import nodes_behind
    return list(nodes_behind([out.grad_fn]))


def _seed(out):
    return Tensor._wrap(out._xp().ones_like(out._array))


def _times(stage, leaf, device, repeat: int) -> tuple:
    """(forward, backward) seconds of one stage on a fresh input ``leaf()``."""
    inp = leaf()
    seed = _seed(_no_grad(stage, inp))
    f = _median_seconds(lambda: _no_grad(stage, inp), device, repeat)

    def forward_backward():
        stage(inp).backward(seed)
    fb = _median_seconds(forward_backward, device, repeat)
    return f, max(fb - f, 0.0)


def _input(leaf):
    """A fresh input and what the graph makes for it (its gradient accumulator), made
    before a measurement and kept alive by the caller through it: in a step the input comes
    from the stage before, so those objects are not this stage's memory."""
    inp = leaf()
    return inp, (grad_accumulator(inp) if inp._requires_grad else None)


def _measure_stage(stage, leaf, device):
    """(output bytes, tape, forward extra, node bytes, node growth) of one stage run on a
    fresh input ``leaf()``. Run inside one tracking session, so that each measurement also
    sees what the earlier ones freed."""
    inp, anchor = _input(leaf)
    with track(device) as dropped, saved_tensors_hooks(lambda t: None, lambda p: None):
        out = stage(inp)                      # as under checkpoint: the graph, no values
    nbytes = out._array.nbytes
    node, nodes = max(dropped.current - nbytes, 0), _nodes(out)
    with track(device) as released:          # what the backward pass does to each node
        for each in nodes:
            each.release()
    del out, nodes
    inp, anchor = _input(leaf)
    with track(device) as forward:
        out = stage(inp)
    tape = forward.current
    del out
    return nbytes, max(tape - node, nbytes), max(forward.peak - tape, 0), node, released.current


def _isolated_backward(stage, leaf, device) -> int:
    """The backward extra of one stage run alone on a fresh input ``leaf()`` (its gradient
    is ones): for the stages ``_backward_in_context`` cannot measure."""
    inp, anchor = _input(leaf)                # no .grad yet: its gradient is new memory
    out = stage(inp)
    seed = _seed(out)
    with track(device) as backward:
        out.backward(seed)
    return backward.peak


class _Switch:
    """Marks the moment a stage's backward starts (its first saved value is read) and
    measures the peak from then on."""

    def __init__(self, outer, device):
        self.outer, self.device = outer, device
        self.at = self.inner = self.output = None
        self.output_kept = True

    def unpack(self, kept):
        if self.at is None:
            self.at = self.outer.mark("backward of the stage")
            self.output_kept = self.output is None or self.output() is not None
            self.inner = track(self.device).__enter__()
        return kept

    def close(self) -> int:
        if self.inner is None:
            return 0
        self.inner.__exit__(None, None, None)
        return self.inner.peak


def _owner_ref(array):
    while getattr(array, "base", None) is not None:
        array = array.base
    try:
        return weakref.ref(array)
    except TypeError:                         # no weak references: taken as kept
        return None


def _backward_in_context(stage, following, leaf, device):
    """(the bytes at the start of ``stage``'s backward beyond what it keeps, its output
    gradient and the following stage's leftovers, and its backward extra), with the
    backward of ``following`` run first as in a step; None if the stage reads no saved value
    (no start to mark)."""
    inp, anchor = _input(leaf)
    with track(device) as outer:
        switch = _Switch(outer, device)
        # values are saved as detached aliases, as a checkpoint's recomputation keeps them
        with saved_tensors_hooks(lambda t: t.detach(), switch.unpack):
            y = stage(inp)
        start = outer.mark("recorded")
        nbytes, switch.output = y._array.nbytes, _owner_ref(y._array)
        z = following(y)
        del y
        seed = _seed(z)
        later = z._array.nbytes + seed._array.nbytes
        z.backward(seed)
        del z, seed
        peak = switch.close()
    if switch.at is None:
        return None
    freed = 0 if switch.output_kept else nbytes
    return switch.at - start - nbytes - later + freed, peak - freed


def _recomputed(stage, leaf, device):
    """What a checkpoint of ``stage`` holds once its recomputation (as a backward pass runs
    it: without building a graph) has brought back the values it saves; None if it saves
    none."""
    inp, anchor = _input(leaf)
    out = checkpoint(stage, inp)
    dropped = [(node, saved) for node in _nodes(out) for _, saved in _saved_of(node)
               if saved.unpack_hook is not None]
    if not dropped:
        return None
    with track(device) as recomputed, no_grad():
        dropped[0][1].unpack(dropped[0][0])
    return recomputed.current


def _frame_bytes(stage, inp, device) -> int:
    """What a checkpoint around ``stage`` holds beyond the stage's own graph."""
    for _ in range(2):                        # the second time, with every cache warm
        with track(device) as dropped, saved_tensors_hooks(lambda t: None, lambda p: None):
            out = stage(inp)
        plain = dropped.current - out._array.nbytes
        del out
        with track(device) as kept:
            out = checkpoint(lambda z: stage(z), inp)
        framed = kept.current - out._array.nbytes
        del out
    return max(framed - plain, 0)


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


def _run_block(block, x):
    for module in block:
        x = module(x)
    return x


def _profile_stages(blocks, x, loss_fn, repeat, device) -> _Profile:
    result = _Profile()
    stages = [(f"{i}: " + "+".join(type(m).__name__ for m in block),
               (lambda b: lambda t: _run_block(b, t))(block)) for i, block in enumerate(blocks)]
    stages.append(("loss", lambda t: loss_fn(t)))
    value, starts = x, []
    for i, (name, stage) in enumerate(stages):
        leaf = (lambda v, grad: lambda: v.detach().requires_grad_(grad))(value, i > 0)
        f, b = _times(stage, leaf, device, repeat)          # timed untraced, caches warm
        with track(device):
            nbytes, tape, fwd, node, grown = _measure_stage(stage, leaf, device)
            retape = _recomputed(stage, leaf, device)
            start = None
            if i + 1 < len(stages):
                start = _backward_in_context(stage, stages[i + 1][1], leaf, device)
            # the backward as in a step where it can be marked; else on its own
            bwd = _isolated_backward(stage, leaf, device) if start is None else start[1]
        retape = tape if retape is None else retape
        starts.append(None if start is None else start[0])
        result.names.append(name)
        result.x.append(nbytes if i < len(blocks) else 0)
        for field, v in (("tape", tape), ("retape", retape), ("fwd", fwd), ("bwd", bwd),
                         ("node", node), ("grown", grown), ("f", f), ("b", b)):
            getattr(result, field).append(v)
        if i + 1 < len(stages):
            value = _no_grad(stage, value)
    # at the start of stage t's backward, stage t + 1's nodes are there, released
    result.residue = [0 if s is None else max(s - result.node[t + 1] - result.grown[t + 1], 0)
                      for t, s in enumerate(starts)]
    with track(device):
        result.frame = _frame_bytes(stages[0][1], x.detach(), device)
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
