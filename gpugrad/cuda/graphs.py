"""Whole-step CUDA graphs: capture a training step once, replay it for every batch.

A training step in Python launches one kernel per op and runs Python between launches; on
small models the GPU waits on Python most of the time. ``graph(step_fn, *example_inputs)``
returns a ``CapturedStep``: its first ``warmup`` calls for a given input signature (shapes,
dtypes, devices) run ``step_fn`` eagerly (kernels compile, optimizer state and gradients
get allocated); the next call captures ``step_fn`` on a side stream into a CUDA graph, with
static input buffers and a private memory pool, and launches it; every later call copies
its inputs into the static buffers and replays the graph. Each call is one real step, so
N calls give the same parameters as N eager steps. The returned outputs are the same
tensors every time, overwritten by the next call (copy what you keep). Optimizers stepped
inside take their fused multi-tensor path, whose learning rates are uploaded before every
replay (schedulers keep working) and whose step counts advance with each replay.

What cannot be captured is refused with a ``CaptureError`` instead of a wrong answer: a
host synchronisation inside the step (``.item()``, ``.numpy()``, ``float(t)``, ``if t:``
- a data-dependent branch needs one), random draws (they would repeat at every replay),
gradients that are not in persistent buffers (use
``optimizer.zero_grad(set_to_none=False)``), an optimizer update that is not fused, or
a CUDA error raised when the capture ends. The warm-up calls already run under these rules,
so most mistakes show there. A new input shape captures a new graph (``recaptures`` counts
them). ``GradScaler`` reads a flag on the host: capture the forward and backward only and
step the scaler eagerly after each call.

On CPU tensors the same object runs every call eagerly, with the same bookkeeping and
under the same rules, so code written for a GPU runs, and is tested, without one.

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
    gpugrad.cuda.graphs.CaptureError: Tensor.item() (and float(t), int(t), bool(t), if t:) ...
"""

from __future__ import annotations

import contextlib
import threading

from .. import backend
from . import sync_debug

__all__ = ["CaptureError", "graph", "CapturedStep", "is_capturing", "is_recording",
           "note_launch", "refuse_host_sync", "refuse_random_draw"]


class CaptureError(RuntimeError):
    """Something in a step cannot be captured into a CUDA graph (see the message)."""


class _State(threading.local):
    active = False          # this thread runs a step under the capture rules (warm-up,
                            # capture, or on CPU every call)
    recording = False       # ... and a CUDA stream is recording it into a graph right now
    records = None          # (optimizer, bucket) launched while recording


_state = _State()


def is_capturing() -> bool:
    """Whether a step runs under the capture rules right now (no host syncs, no random
    draws; the losses count on the device)."""
    return _state.active


def is_recording() -> bool:
    """Whether a CUDA graph is being recorded right now (nothing runs: uploads and new
    buffers are impossible)."""
    return _state.recording


def note_launch(optimizer, bucket) -> None:
    """Remember, for the graph being recorded, a multi-tensor optimizer launch in it."""
    if _state.recording:
        _state.records.append((optimizer, bucket))


def refuse_host_sync(what: str) -> None:
    """Raise CaptureError when ``what`` (a host synchronisation) happens during a capture;
    otherwise report it to the sync debug mode (``set_sync_debug_mode``)."""
    if _state.active:
        raise CaptureError(
            f"{what} waits for the GPU and copies to the host, which cannot happen inside a "
            f"captured CUDA graph (the graph replays GPU work only). Move it out of the "
            f"step function: return the tensor and read it after the call; a branch on a "
            f"tensor's value cannot be captured at all.")
    sync_debug.report(what)


def refuse_random_draw() -> None:
    """Raise CaptureError when random numbers are drawn during a capture: gpugrad's
    generator is seeded from the host for every draw, so a replay would repeat them."""
    if _state.active:
        raise CaptureError(
            "random numbers (dropout masks, rand, randn) drawn inside a captured step would "
            "be the same at every replay: gpugrad seeds each draw on the host. Draw them "
            "outside the step and pass them in as inputs, or run this step eagerly.")


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


def _as_tensors(inputs) -> tuple:
    from ..tensor import Tensor
    out = []
    for i, value in enumerate(inputs):
        if not isinstance(value, Tensor):
            raise TypeError(f"captured steps take tensors; input {i} is a "
                            f"{type(value).__name__} (wrap it with gpugrad.tensor)")
        out.append(value)
    return tuple(out)


def _signature(inputs) -> tuple:
    return tuple((tuple(t.shape), t.dtype.str, str(t.device)) for t in inputs)


class _Entry:
    """One input signature: its static inputs, calls so far, and on CUDA its stream, private
    memory pool, graph, the optimizer launches inside it and the device data they read."""

    def __init__(self, inputs):
        from ..tensor import Tensor
        self.static = tuple(Tensor._wrap(backend.xp_of(t._array).empty_like(t._array))
                            for t in inputs)
        self.calls = 0
        self.graph = self.outputs = None
        self.records, self.keep = [], []
        self.device = inputs[0].device if inputs else backend.CPU
        self.stream = self.pool = None
        if self.device.type == "cuda":
            cupy = backend._require_cupy()
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
        cupy = backend._require_cupy()
        with cupy.cuda.Device(self.device.index or 0):
            current = cupy.cuda.get_current_stream()
            self.stream.wait_event(current.record())
            try:
                with cupy.cuda.using_allocator(self.pool.malloc), self.stream:
                    yield
            finally:
                current.wait_event(self.stream.record())


@contextlib.contextmanager
def _rules(recording: bool):
    """Run under the capture rules (and, with ``recording``, as a CUDA recording)."""
    saved = (_state.active, _state.recording, _state.records)
    _state.active, _state.recording = True, recording
    _state.records = [] if recording else saved[2]
    try:
        yield
    finally:
        _state.active, _state.recording, _state.records = saved


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
            with entry.on_stream(), _rules(recording=False):
                return self.step_fn(*inputs)
        for static, value in zip(entry.static, inputs):
            static._array[...] = value._array
        if entry.outputs is None:
            self._capture(entry)
        elif entry.graph is not None:
            self._launch(entry)
            self.replays += 1
        else:                                        # CPU: run again, same outputs
            with _rules(recording=False):
                _copy_into(entry.outputs, self.step_fn(*entry.static))
            self.replays += 1
        entry.calls += 1
        return entry.outputs

    def _capture(self, entry: _Entry) -> None:
        if entry.stream is None:                     # CPU: runs now, under the rules
            with _rules(recording=False):
                entry.outputs = self.step_fn(*entry.static)
            self.captures += 1
            return
        with entry.on_stream(), _rules(recording=True):
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
            entry.records = list(_state.records)
        entry.keep = [(b.slot.current, b.slot.hyper, b.slot.steps) for _, b in entry.records]
        entry.outputs = outputs
        self.captures += 1
        self._launch(entry)

    def _launch(self, entry: _Entry) -> None:
        from ..optim import multi_tensor
        cupy = backend._require_cupy()
        with cupy.cuda.Device(entry.device.index or 0):
            multi_tensor.before_launch(entry.records)
            entry.graph.launch(stream=cupy.cuda.get_current_stream())
            multi_tensor.after_launch(entry.records)
def _copy_into(static, fresh) -> None:
    """Copy the values of ``fresh`` outputs into the ``static`` ones (same structure)."""
    from .. import pytree
    for s, f in zip(pytree.tree_flatten(static)[0], pytree.tree_flatten(fresh)[0]):
        if hasattr(s, "_array"):
            s._array[...] = f._array
