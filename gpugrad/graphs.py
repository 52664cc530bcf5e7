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

import contextlib
import threading
import warnings

from . import backend, pytree
from .autograd.capture_mode import (CaptureError, capture_rules, is_step_capturing,
                                    recorded_grads, recorded_participants)
from .autograd.compile_mode import structure
from .cuda import captured_blas
from .cupy_import import require_cupy
from .tensor import Tensor

__all__ = ["CaptureError", "graph", "CapturedStep", "is_step_capturing"]


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


def _signature(inputs) -> tuple:
    return tuple((tuple(t.shape), t.dtype.str, str(t.device), t._requires_grad)
                 for t in inputs)


def _static_like(t) -> Tensor:
    """An input's static buffer: same shape, dtype and device, requiring grad if it does
    (its gradient goes to the input after each launch)."""
    static = Tensor._wrap(backend.xp_of(t._array).empty_like(t._array))
    static._requires_grad = t._requires_grad
    return static


class _Entry:
    """One input signature: its static inputs, calls so far, and on CUDA its stream, private
    memory pool, graph, the replay participants recorded in it (they hold the device data
    the graph reads) and the cuBLAS workspace its GEMMs use (cuda/captured_blas.py)."""

    def __init__(self, inputs):
        self.static = tuple(_static_like(t) for t in inputs)
        self.calls = 0
        self.graph = self.outputs = None
        self.participants = []
        self.grads = []             # (leaf, its .grad when the step began, when it ended)
        self.arrays = []            # (leaf, the array it held when the graph was recorded)
        self.written = []           # which inputs the step writes in place
        self.input_grads = []       # (input index, the .grad buffer the graph writes)
        self.structure = None       # the module-structure epoch recorded (when guarded)
        self.device = inputs[0].device if inputs else backend.CPU
        self.stream = self.pool = self.blas = None
        if self.device.type == "cuda":
            cupy = require_cupy()
            with cupy.cuda.Device(self.device.index or 0):
                # warm-up and capture on one stream and one pool of the graph's own: the
                # capture reuses the blocks the warm-up freed, and nothing else allocates there
                self.stream = cupy.cuda.Stream(non_blocking=True)
                self.pool = cupy.cuda.MemoryPool()

    def note_recorded(self, participants, versions, guard_structure: bool) -> None:
        """What the recording just made depends on: the replay participants, the leaves
        whose ``.grad`` the step set (as it found and left them), their arrays, the inputs
        it wrote (their static buffers' ``versions`` before it ran have moved), and the
        module-structure epoch when ``guard_structure``."""
        self.participants = participants
        self.written = [i for i, (t, v) in enumerate(zip(self.static, versions))
                        if t._version.value != v]
        statics = {id(t): i for i, t in enumerate(self.static)}
        noted = recorded_grads()
        self.input_grads = [(statics[id(t)], t._grad) for t, _ in noted
                            if id(t) in statics and t._grad is not None]
        self.grads = [(t, start, t._grad) for t, start in noted if id(t) not in statics]
        self.arrays = [(t, t._array) for t, _, _ in self.grads]
        self.structure = structure.epoch if guard_structure else None

    def changed(self) -> "str | None":
        """Why a replay of this graph would not do what the step does now, or None: a
        ``.grad`` the step sets is not as it was when the graph was recorded (set to None,
        or left from the last call where the step found it reset), a leaf's array replaced,
        what an optimizer update reads replaced, or modules changed (when guarded)."""
        for t, start, _ in self.grads:
            if t._grad is not start:
                return (f"the .grad of a tensor of shape {tuple(t.shape)} is "
                        f"{'None' if t._grad is None else 'another tensor'} where the "
                        f"recorded step found {'None' if start is None else 'a tensor'}")
        for t, array in self.arrays:
            if t._array is not array:
                return "a parameter's array was replaced (p.data = ...)"
        set_in_step = {id(t) for t, _, _ in self.grads}
        for participant in self.participants:
            reason = participant.changed(set_in_step)
            if reason is not None:
                return reason
        if self.structure is not None and structure.epoch != self.structure:
            return "a module's parameters, buffers, submodules or hooks changed"
        return None

    def start_over(self) -> None:
        """Drop the graph: the next call is a warm-up, the one after it captures again (on
        the same stream and pool, which the tensors the old graph left still use)."""
        self.calls = 0
        self.graph = self.outputs = None
        self.participants, self.grads, self.arrays = [], [], []
        self.written, self.input_grads, self.structure = [], [], None

    def after_launch(self, inputs) -> None:
        """After a launch, what the step's Python did and the graph does not redo: every
        ``.grad`` the step sets, as the recorded step left it (the graph wrote the new
        values into those tensors), and the inputs it writes in place, written (the graph
        wrote their static buffers)."""
        for t, _, end in self.grads:
            t._grad = end
        for i in self.written:
            inputs[i]._array[...] = self.static[i]._array
            inputs[i]._version.value += 1
        for i, buffer in self.input_grads:      # an input's gradient, added as eagerly
            self.static[i]._grad = None         # (the static input starts without one)
            x = inputs[i]
            x._grad = buffer.clone() if x._grad is None else x._grad + buffer

    @contextlib.contextmanager
    def on_stream(self):
        """Run on this entry's stream and pool, ordered after the current stream's work and
        before its later work (nothing to do on CPU)."""
        if self.stream is None:
            yield
            return
        cupy = require_cupy()
        with cupy.cuda.Device(self.device.index or 0):
            current = cupy.cuda.get_current_stream()
            self.stream.wait_event(current.record())
            try:
                with cupy.cuda.using_allocator(self.pool.malloc), self.stream:
                    yield
            finally:
                current.wait_event(self.stream.record())


class CapturedStep:
    """A step function captured per input signature; call it like the function.

    Before each replay the capture checks that what the graph was recorded against still
    holds (``_Entry.changed``: the ``.grad`` the step sets as the step found them, the
    parameters' arrays, what the optimizers' launches read); if not, that signature starts
    over (a warm-up call, then a new capture), and ``stale`` counts it. ``signature``: a
    function of the inputs whose result joins the key (``gpugrad.compile`` adds modes and
    requires_grad); ``guard_structure``: modules changed since the recording start over too.
    """

    def __init__(self, step_fn, warmup: int, signature=None, guard_structure: bool = False):
        self.step_fn, self.warmup = step_fn, warmup
        self._extra_signature, self._guard_structure = signature, guard_structure
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
        elif entry.graph is not None:
            reason = entry.changed()
            if reason is not None:
                entry.start_over()
                self._went_stale(reason)
        return entry

    def _went_stale(self, reason: str) -> None:
        self.stale += 1
        if self.stale == STALE_WARNING_AT:
            warnings.warn(f"gpugrad.cuda.graph: {getattr(self.step_fn, '__name__', 'the step')}"
                          f" was captured again {self.stale} times because what its graph "
                          f"reads changed between calls (last: {reason}); each time costs a "
                          f"warm-up call and a capture. Keep gradients in their buffers "
                          f"(zero_grad inside the step, or set_to_none=False outside) and "
                          f"parameters and optimizer state in place (docs/cuda_graphs.md)",
                          RuntimeWarning, stacklevel=4)

    def __call__(self, *inputs):
        inputs = _as_tensors(inputs)
        entry = self._entry(inputs)
        if entry.calls < self.warmup:               # eager, under the rules: allocates,
            entry.calls += 1                         # compiles, and shows mistakes early
            with entry.on_stream(), capture_rules(recording=False):
                return self.step_fn(*inputs)
        for static, value in zip(entry.static, inputs):
            static._array[...] = value._array
        if entry.outputs is None:
            self._capture(entry, inputs)
        elif entry.graph is not None:
            self._launch(entry, inputs)
            self.replays += 1
        else:                                        # CPU: run again, same outputs
            _copy_into(entry.outputs, self._run_on_cpu(entry, inputs))
            self.replays += 1
        entry.calls += 1
        return entry.outputs

    def _capture(self, entry: _Entry, inputs) -> None:
        if entry.stream is None:                     # CPU: runs now, under the rules
            entry.outputs = self._run_on_cpu(entry, inputs)
            self.captures += 1
            return
        if entry.blas is None or entry.blas.thread != threading.get_ident():
            with entry.on_stream():                  # before the capture: it allocates
                entry.blas = captured_blas.Blas(entry.device.index or 0)
        with entry.on_stream(), capture_rules(recording=True), \
                captured_blas.recording(entry.blas):    # its GEMMs: cuBLAS, not CuPy's
            stream = entry.stream
            versions = [t._version.value for t in entry.static]
            stream.begin_capture()
            try:
                outputs = self.step_fn(*entry.static)
            except BaseException:
                try:
                    stream.end_capture()             # leave the stream usable
                except Exception:                    # an invalidated capture: its own
                    pass                             # error would hide the real one
                raise
            try:
                entry.graph = stream.end_capture()
            except Exception as exc:
                raise CaptureError(f"CUDA refused to capture the step ({exc}); something "
                                   f"in it synchronised with the host or used a stream it "
                                   f"cannot capture") from exc
            entry.note_recorded(recorded_participants(), versions, self._guard_structure)
        entry.outputs = outputs
        self.captures += 1
        self._launch(entry, inputs)

    def _run_on_cpu(self, entry: _Entry, inputs):
        """The step on the static inputs, eagerly under the rules, its Python's effects on
        the inputs handed back as a launch's are (``after_launch``)."""
        versions = [t._version.value for t in entry.static]
        with capture_rules(recording=False):
            outputs = self.step_fn(*entry.static)
        entry.written = [i for i, (t, v) in enumerate(zip(entry.static, versions))
                         if t._version.value != v]
        entry.input_grads = [(i, t._grad) for i, t in enumerate(entry.static)
                             if t._grad is not None]
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


def _copy_into(static, fresh) -> None:
    """Copy the values of ``fresh`` outputs into the ``static`` ones (same structure)."""
    for s, f in zip(pytree.tree_flatten(static)[0], pytree.tree_flatten(fresh)[0]):
        if hasattr(s, "_array"):
            s._array[...] = f._array
