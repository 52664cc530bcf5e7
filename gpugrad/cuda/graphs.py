"""Whole-step CUDA graphs: capture a training step once, replay it for every batch.

A training step in Python launches one kernel per op and runs Python between launches; on
small models the GPU waits on Python most of the time. ``graph(step_fn, *example_inputs)``
returns a ``CapturedStep``: its first ``warmup`` calls for a given input signature (shapes,
dtypes, devices) run ``step_fn`` eagerly (kernels compile, optimizer state and gradients
get allocated); the next call captures ``step_fn`` on a side stream into a CUDA graph, with
static input buffers and a private memory pool, and launches it; every later call copies
its inputs into the static buffers and replays the graph. Each call is one real step, so
N calls give the same parameters as N eager steps. The returned outputs are the same
tensors every time, overwritten by the next call (copy what you keep).

What cannot be captured is refused with a ``CaptureError`` instead of a wrong answer: a
host synchronisation inside the step (``.item()``, ``.numpy()``, ``float(t)``, ``if t:``
- a data-dependent branch needs one), random draws (they would repeat at every replay),
gradients that are not in persistent buffers (use
``optimizer.zero_grad(set_to_none=False)``), or a CUDA error during the capture. A new
input shape captures a new graph (``recaptures`` counts them). ``GradScaler.step`` reads
a flag on the host, so mixed-precision steps with loss scaling run eagerly.

On CPU tensors the same object runs every call eagerly with the same bookkeeping and the
same checks (the capture call runs under the capture rules), so code written for a GPU
runs, and is tested, without one.

Example::

    def train_step(x, y):
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = gpugrad.cuda.graph(train_step, x0, y0, optimizers=[opt])
    for x, y in loader:
        loss = step(x, y)             # replays; loss.item() outside the step is fine
"""

from __future__ import annotations

import contextlib
import threading

from .. import backend

__all__ = ["CaptureError", "graph", "CapturedStep", "is_capturing", "refuse_host_sync",
           "refuse_random_draw"]


class CaptureError(RuntimeError):
    """Something in a step cannot be captured into a CUDA graph (see the message)."""


class _State(threading.local):
    active = False          # this thread is capturing a step (or, on CPU, running one
                            # under the capture rules)


_state = _State()


def is_capturing() -> bool:
    """Whether a step is being captured right now."""
    return _state.active


def refuse_host_sync(what: str) -> None:
    """Raise CaptureError when ``what`` (a host synchronisation) happens during a capture."""
    if _state.active:
        raise CaptureError(
            f"{what} waits for the GPU and copies to the host, which cannot happen inside a "
            f"captured CUDA graph (the graph replays GPU work only). Move it out of the "
            f"step function: return the tensor and read it after the call; a branch on a "
            f"tensor's value cannot be captured at all.")


def refuse_random_draw() -> None:
    """Raise CaptureError when random numbers are drawn during a capture: gpugrad's
    generator is seeded from the host for every draw, so a replay would repeat them."""
    if _state.active:
        raise CaptureError(
            "random numbers (dropout masks, rand, randn) drawn inside a captured step would "
            "be the same at every replay: gpugrad seeds each draw on the host. Draw them "
            "outside the step and pass them in as inputs, or run this step eagerly.")


def graph(step_fn, *example_inputs, optimizers=(), warmup: int = 1) -> "CapturedStep":
    """Capture ``step_fn`` (tensors in, a tensor or a tuple/list/dict of tensors out) into
    a CUDA graph replayed per call; see the module docstring. ``example_inputs`` fix the
    first signature (they are not run); ``optimizers`` stepped inside ``step_fn`` have their
    learning rates refreshed before each replay; ``warmup`` eager calls per signature.

    Shapes: whatever ``step_fn`` takes and returns. Example: ``step = graph(train_step,
    x0, y0, optimizers=[opt])``.
    """
    if warmup < 1:
        raise ValueError(f"warmup must be at least 1 (the first call allocates the state the "
                         f"graph reuses), got {warmup}")
    captured = CapturedStep(step_fn, optimizers, warmup)
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
    """One input signature: its static inputs, calls so far, graph, pool and outputs."""

    def __init__(self, inputs):
        from ..tensor import Tensor
        self.static = tuple(Tensor._wrap(backend.xp_of(t._array).empty_like(t._array))
                            for t in inputs)
        self.calls = 0
        self.graph = self.outputs = None
        self.device = inputs[0].device if inputs else backend.CPU
        # the graph's own memory: the warm-up fills it with the blocks the capture then
        # reuses (no cudaMalloc while capturing), and nothing else ever allocates from it
        self.pool = (backend._require_cupy().cuda.MemoryPool()
                     if self.device.type == "cuda" else None)

    def allocating(self):
        """A context in which CuPy allocates from this entry's pool (nothing on CPU)."""
        if self.pool is None:
            return contextlib.nullcontext()
        return backend._require_cupy().cuda.using_allocator(self.pool.malloc)


class CapturedStep:
    """A step function captured per input signature; call it like the function."""

    def __init__(self, step_fn, optimizers, warmup: int):
        self.step_fn, self.optimizers, self.warmup = step_fn, tuple(optimizers), warmup
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
        if entry.calls < self.warmup:                   # eager: allocate and compile
            entry.calls += 1
            with entry.allocating():
                return self.step_fn(*inputs)
        for static, value in zip(entry.static, inputs):
            static._array[...] = value._array
        if entry.outputs is None:
            self._capture(entry)
        elif entry.graph is not None:
            self._replay(entry)
        else:                                            # CPU: run again, same outputs
            _copy_into(entry.outputs, self._run_captured(entry))
            self.replays += 1
        entry.calls += 1
        return entry.outputs

    def _run_captured(self, entry):
        _state.active = True
        try:
            return self.step_fn(*entry.static)
        finally:
            _state.active = False

    def _capture(self, entry: _Entry) -> None:
        self.captures += 1
        if entry.device.type != "cuda":
            entry.outputs = self._run_captured(entry)   # runs now, under the capture rules
            return
        cupy = backend._require_cupy()
        stream = cupy.cuda.Stream(non_blocking=True)
        with cupy.cuda.Device(entry.device.index or 0):
            stream.wait_event(cupy.cuda.get_current_stream().record())
            with entry.allocating(), stream:
                stream.begin_capture()
                try:
                    outputs = self._run_captured(entry)
                except BaseException:
                    stream.end_capture()                 # leave the stream usable
                    raise
                try:
                    entry.graph = stream.end_capture()
                except Exception as exc:
                    raise CaptureError(f"CUDA refused to capture the step ({exc}); "
                                       f"something in it synchronised with the host or "
                                       f"used a stream it cannot capture") from exc
        entry.outputs = outputs
        self._launch(entry)

    def _replay(self, entry: _Entry) -> None:
        from ..optim import multi_tensor
        for optimizer in self.optimizers:
            multi_tensor.before_replay(optimizer)
        self._launch(entry)
        for optimizer in self.optimizers:
            multi_tensor.after_replay(optimizer)
        self.replays += 1

    def _launch(self, entry: _Entry) -> None:
        cupy = backend._require_cupy()
        with cupy.cuda.Device(entry.device.index or 0):
            entry.graph.launch(stream=cupy.cuda.get_current_stream())


def _copy_into(static, fresh) -> None:
    """Copy the values of ``fresh`` outputs into the ``static`` ones (same structure)."""
    from .. import pytree
    for s, f in zip(pytree.tree_flatten(static)[0], pytree.tree_flatten(fresh)[0]):
        if hasattr(s, "_array"):
            s._array[...] = f._array
