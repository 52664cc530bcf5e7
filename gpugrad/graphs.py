"""Whole-step CUDA graphs: capture a training step once, replay it for every batch.

``gpugrad.cuda.graph(step_fn, *example_inputs)`` (this module's ``graph``) returns a
``CapturedStep``: per input signature it runs ``warmup`` eager calls, then records
``step_fn`` into a CUDA graph on a side stream with static input buffers and a private
memory pool, and replays it for every later call. The guide (what is refused and why, how
optimizers and schedulers take part) is docs/cuda_graphs.md; the layering is
docs/ARCHITECTURE.md, "Whole-step capture".

The capture sits above the optimizers and knows none of their internals: while it records,
the rules of ``autograd/capture_mode.py`` hold (no host reads, no random draws), and
whatever must run around a replay (an optimizer's learning-rate refresh and step count) is
noted there as replay participants, which the capture calls before and after each launch.

Example (on the CPU here: the same code captures and replays on a GPU)::

    >>> model = nn.Linear(4, 3)
    >>> opt = gpugrad.optim.SGD(model.parameters(), lr=0.1)
    >>> def train_step(x, y):
    ...     opt.zero_grad(set_to_none=False)
    ...     loss = F.cross_entropy(model(x), y)
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> x, y = gpugrad.randn(8, 4), gpugrad.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    >>> step = gpugrad.cuda.graph(train_step, x, y)
    >>> losses = [step(x, y).item() for _ in range(5)]   # .item() outside the step is fine
    >>> losses == sorted(losses, reverse=True)           # five real steps: the loss falls
    True
    >>> step.captures, step.replays                      # warm-up, capture, 3 replays
    (1, 3)
    >>> def logging_step(x, y):
    ...     print(train_step(x, y).item())               # a host sync inside the step
    >>> gpugrad.cuda.graph(logging_step, x, y)(x, y)
    Traceback (most recent call last):
    gpugrad.cuda.CaptureError: Tensor.item() (and float(t), int(t), ...
"""

from __future__ import annotations

import threading
import warnings

from . import pytree
from .autograd.capture_mode import (CaptureError, NeedsEagerStep, capture_rules,
                                    is_step_capturing, recorded_grads, recorded_participants,
                                    unreached_zeroed)
from .cuda import captured_blas
from .cupy_import import require_cupy
from .graph_entry import Entry as _Entry, signature as _signature
from .tensor import Tensor

__all__ = ["CaptureError", "NeedsEagerStep", "graph", "CapturedStep", "is_step_capturing"]


def graph(step_fn, *example_inputs, warmup: int = 1) -> "CapturedStep":
    """Capture ``step_fn`` (tensors in, a tensor or a tuple/list/dict of tensors out) into
    a CUDA graph replayed per call; see the module docstring. ``example_inputs`` fix the
    first signature (they are not run); ``warmup`` eager calls per signature come first.

    Shapes: whatever ``step_fn`` takes and returns. Example: ``step = graph(train_step,
    x0, y0)``, then ``loss = step(x, y)`` per batch.
    """
    if warmup < 1:
        raise ValueError(f"warmup must be at least 1 (the first call allocates the state the "
                         f"graph reuses), got {warmup}")
    captured = CapturedStep(step_fn, warmup)
    if example_inputs:
        captured._entry(_as_tensors(example_inputs))
    return captured


STALE_WARNING_AT = 8        # stale graphs of one step before it warns


def refuse_outside_graphs(inputs, where, error, verb: str) -> None:
    """Raise ``error`` for an input that carries a graph built outside the step: the
    step's backward would walk into it, and a replay cannot include it. ``where(i)``: how
    the message names input ``i``; ``verb``: what the caller does, "capture" or "compile"."""
    for i, t in enumerate(inputs):
        if t.grad_fn is not None:
            raise error(f"{where(i)} carries a graph built outside the step (it was "
                        f"computed from tensors that require grad); a replay cannot include "
                        f"that graph: pass t.detach(), or {verb} the computation that makes "
                        f"it too")


def _as_tensors(inputs, what: str = "captured steps") -> tuple:
    """``inputs`` as a tuple, each checked to be a plain tensor (a TypeError naming the
    first that is not; a batched one, inside vmap, is refused too)."""
    for i, value in enumerate(inputs):
        if not isinstance(value, Tensor):
            raise TypeError(f"{what} take tensors; input {i} is a {type(value).__name__} "
                            f"(wrap it with gpugrad.tensor, or close over it if it never "
                            f"changes)")
        if value._batched:
            raise TypeError(f"{what} cannot be called inside vmap (input {i} is batched); "
                            f"vmap inside the step instead")
    return tuple(inputs)


class CapturedStep:
    """A step function captured per input signature; call it like the function.

    Before each replay the capture checks that what the graph was recorded against still
    holds (``Entry.unchanged`` in graph_entry.py, one generated expression: the ``.grad``
    of the leaves the step sets or reads as the step found them, their arrays and
    requires_grad, what the optimizers' launches read); if not, that signature starts over
    (a warm-up call, then a new capture), ``stale`` counts it, and ``Entry.changed`` says
    why in the warning at the eighth. ``signature``: a function of the inputs whose result
    joins the key (``gpugrad.compile`` adds modes); ``guard_structure``: modules changed
    since the recording start over too; ``name`` is what warnings call it, ``stacklevel``
    how far above the warning the user's call is.
    """

    def __init__(self, step_fn, warmup: int, signature=None, guard_structure: bool = False,
                 name: str = "gpugrad.cuda.graph", stacklevel: int = 4):
        self.step_fn, self.warmup = step_fn, warmup
        self._extra_signature, self._guard_structure = signature, guard_structure
        self._name, self._stacklevel = name, stacklevel     # (the user's call, for warnings)
        self._entries: dict = {}
        self.captures = 0           # graphs captured (one per signature)
        self.replays = 0            # calls served by replaying a graph
        self.stale = 0              # graphs dropped because what they read had changed

    @property
    def recaptures(self) -> int:
        """Captures beyond the first: one per new input signature, or per stale graph."""
        return max(0, self.captures - 1)

    def _key(self, inputs) -> tuple:
        key = _signature(inputs)
        return key if self._extra_signature is None else \
            key + (self._extra_signature(inputs),)

    def _entry(self, inputs) -> _Entry:
        key = self._key(inputs)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(inputs)
        elif entry.graph is not None and not entry.unchanged():
            reason = entry.changed()
            entry.start_over()
            self._went_stale(entry, reason)
        return entry

    def _went_stale(self, entry: _Entry, reason: str) -> None:
        entry.restarts += 1
        self.stale += 1
        if self.stale == STALE_WARNING_AT:
            step = getattr(self.step_fn, "__name__", "the step")
            warnings.warn(f"{self._name}: {step} has dropped its CUDA graph {self.stale} "
                          f"times because what the graph reads changed between calls "
                          f"(last: {reason}); each time costs an eager call and a new "
                          f"capture (docs/cuda_graphs.md, 'What a call does', lists what "
                          f"is checked and how to keep it in place)",
                          RuntimeWarning, stacklevel=self._stacklevel)

    def __call__(self, *inputs):
        inputs = _as_tensors(inputs)
        refuse_outside_graphs(inputs, lambda i: f"{self._name}: input {i}", CaptureError,
                              "capture")
        entry = self._entry(inputs)
        if entry.calls < self.warmup:               # eager, under the rules: allocates,
            return self._eager(entry, inputs)       # compiles, and shows mistakes early
        entry.load(inputs)
        if not entry.recorded:
            try:
                self._capture(entry, inputs)
            except NeedsEagerStep as exc:
                if not entry.restarts:
                    raise
                entry.start_over()                  # changed again since the last graph
                self._went_stale(entry, str(exc))
                return self._eager(entry, inputs)
        elif entry.graph is not None:
            self._launch(entry, inputs)
            self.replays += 1
        else:                                        # CPU: run again, same outputs
            _copy_into(entry.outputs, self._run_on_cpu(entry, inputs))
            self.replays += 1
        entry.calls += 1
        return entry.outputs

    def _eager(self, entry: _Entry, inputs):
        """A warm-up call: the step itself, on the entry's stream and pool, under the
        capture rules."""
        entry.calls += 1
        with entry.on_stream(), capture_rules(recording=False):
            return self.step_fn(*inputs)

    def _capture(self, entry: _Entry, inputs) -> None:
        if entry.stream is None:                     # CPU: runs now, under the rules
            entry.outputs = _without_graph(self._run_on_cpu(entry, inputs))
            entry.recorded = True
            self.captures += 1
            return
        if entry.blas is None or entry.blas.thread != threading.get_ident():
            with entry.on_stream():                  # before the capture: it allocates
                entry.blas = captured_blas.Blas(entry.device.index or 0)
        with entry.on_stream(), capture_rules(recording=True), \
                captured_blas.recording(entry.blas):    # its GEMMs: cuBLAS, not CuPy's
            stream = entry.stream
            versions = [t._version_counter.value for t in entry.static]
            stream.begin_capture()
            try:
                outputs = self.step_fn(*entry.static)
                _refuse_unreached(unreached_zeroed())
            except BaseException:
                try:
                    stream.end_capture()             # leave the stream usable
                except Exception:                    # an invalidated capture: its own
                    pass                             # error would hide the real one
                _restore_grads()
                raise
            try:
                entry.graph = stream.end_capture()
            except Exception as exc:
                _restore_grads()
                raise CaptureError(f"CUDA refused to capture the step ({exc}); something "
                                   f"in it synchronised with the host or used a stream it "
                                   f"cannot capture") from exc
            entry.note_recorded(recorded_participants(), versions, self._guard_structure)
        entry.outputs = _without_graph(outputs)
        entry.recorded = True
        self.captures += 1
        self._launch(entry, inputs)

    def _run_on_cpu(self, entry: _Entry, inputs):
        """The step on the static inputs, eagerly under the rules, its Python's effects on
        the inputs handed back as a launch's are (``after_launch``)."""
        versions = [t._version_counter.value for t in entry.static]
        with capture_rules(recording=False):
            outputs = self.step_fn(*entry.static)
        entry.note_inputs(versions)
        entry.input_grads = [(i, entry.static[i]._grad) for i in entry.copied
                             if entry.static[i]._grad is not None]
        entry.after_launch(inputs)
        return outputs

    def _launch(self, entry: _Entry, inputs) -> None:
        cupy = require_cupy()
        with cupy.cuda.Device(entry.device.index or 0):
            for participant in entry.participants:
                participant.before_replay()
            entry.graph.launch(stream=cupy.cuda.get_current_stream())
            for participant in entry.participants:
                participant.after_replay()
            entry.after_launch(inputs)


def _restore_grads() -> None:
    """After a recording that failed: nothing it recorded ran, so each ``.grad`` the step
    set goes back to what the step found."""
    for t, start in recorded_grads():
        t._grad = start


def _refuse_unreached(tensors) -> None:
    if tensors:
        raise CaptureError(
            f"zero_grad() sets the .grad of a parameter of shape {tuple(tensors[0].shape)} "
            f"to None and the step's backward gives it none, so an eager step leaves it None "
            f"(and an optimizer skips it); a captured step keeps gradients in their buffers "
            f"and cannot. Freeze the parameter (requires_grad_(False)), leave it out of what "
            f"the step zeroes, or use zero_grad(set_to_none=False), whose eager steps keep "
            f"zeros there too")


def _without_graph(outputs):
    """The outputs a call returns: without the recording's graph (a backward through them
    after a replay would reuse its saved values; the backward belongs inside the step)."""
    return pytree.tree_map(lambda t: t.detach() if isinstance(t, Tensor) and
                           t._requires_grad else t, outputs)


def _copy_into(static, fresh) -> None:
    """Copy the values of ``fresh`` outputs into the ``static`` ones (same structure)."""
    leaves, spec = pytree.tree_flatten(static)
    for s, f in zip(leaves, pytree.tree_leaves_like(spec, fresh)):   # (dicts by key)
        if hasattr(s, "_array"):
            s._array[...] = f._array
