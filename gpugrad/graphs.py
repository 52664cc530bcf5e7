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

from . import backend, pytree
from .autograd.capture_mode import (CaptureError, capture_rules, is_step_capturing,
                                    recorded_participants)
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
    return tuple((tuple(t.shape), t.dtype.str, str(t.device)) for t in inputs)


class _Entry:
    """One input signature: its static inputs, calls so far, and on CUDA its stream, private
    memory pool, graph, the replay participants recorded in it (they hold the device data
    the graph reads) and the cuBLAS workspace its GEMMs use (cuda/captured_blas.py)."""

    def __init__(self, inputs):
        self.static = tuple(Tensor._wrap(backend.xp_of(t._array).empty_like(t._array))
                            for t in inputs)
        self.calls = 0
        self.graph = self.outputs = None
        self.participants = []
        self.device = inputs[0].device if inputs else backend.CPU
        self.stream = self.pool = self.blas = None
        if self.device.type == "cuda":
            cupy = require_cupy()
            with cupy.cuda.Device(self.device.index or 0):
                # warm-up and capture on one stream and one pool of the graph's own: the
                # capture reuses the blocks the warm-up freed, and nothing else allocates there
                self.stream = cupy.cuda.Stream(non_blocking=True)
                self.pool = cupy.cuda.MemoryPool()

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
    """A step function captured per input signature; call it like the function."""

    def __init__(self, step_fn, warmup: int):
        self.step_fn, self.warmup = step_fn, warmup
        self._entries: dict = {}
        self.captures = 0           # graphs captured (one per signature)
        self.replays = 0            # calls served by replaying a graph

    @property
    def recaptures(self) -> int:
        """Captures beyond the first: one per new input signature."""
        return max(0, self.captures - 1)

    def _entry(self, inputs) -> _Entry:
        key = _signature(inputs)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(inputs)
        return entry

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
            self._capture(entry)
        elif entry.graph is not None:
            self._launch(entry)
            self.replays += 1
        else:                                        # CPU: run again, same outputs
            with capture_rules(recording=False):
                _copy_into(entry.outputs, self.step_fn(*entry.static))
            self.replays += 1
        entry.calls += 1
        return entry.outputs

    def _capture(self, entry: _Entry) -> None:
        if entry.stream is None:                     # CPU: runs now, under the rules
            with capture_rules(recording=False):
                entry.outputs = self.step_fn(*entry.static)
            self.captures += 1
            return
        if entry.blas is None or entry.blas.thread != threading.get_ident():
            with entry.on_stream():                  # before the capture: it allocates
                entry.blas = captured_blas.Blas(entry.device.index or 0)
        with entry.on_stream(), capture_rules(recording=True), \
                captured_blas.recording(entry.blas):    # its GEMMs: cuBLAS, not CuPy's
            stream = entry.stream
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
            entry.participants = recorded_participants()
        entry.outputs = outputs
        self.captures += 1
        self._launch(entry)

    def _launch(self, entry: _Entry) -> None:
        cupy = require_cupy()
        with cupy.cuda.Device(entry.device.index or 0):
            for participant in entry.participants:
                participant.before_replay()
            entry.graph.launch(stream=cupy.cuda.get_current_stream())
            for participant in entry.participants:
                participant.after_replay()


def _copy_into(static, fresh) -> None:
    """Copy the values of ``fresh`` outputs into the ``static`` ones (same structure)."""
    for s, f in zip(pytree.tree_flatten(static)[0], pytree.tree_flatten(fresh)[0]):
        if hasattr(s, "_array"):
            s._array[...] = f._array
