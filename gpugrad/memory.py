"""Measuring memory: ``track`` (peak and current bytes, with a timeline, on either device)
and ``saved_report`` (what a graph holds for its backward pass, op by op).

On CPU ``track`` uses tracemalloc, which sees NumPy's buffers; on CUDA a CuPy memory hook
adds every block the pool hands out and subtracts every block it takes back (the pool's own
used/total bytes are not a peak). Numbers are relative to the start of the block.

Example::

    >>> w = gpugrad.ones(1000, 1000, requires_grad=True)
    >>> x = gpugrad.ones(10, 1000)
    >>> with gpugrad.memory.track("cpu") as m:
    ...     y = (x @ w).tanh()
    ...     after_forward = m.mark("forward")     # the current bytes, also in m.timeline
    ...     y.sum().backward()
    >>> 40_000 <= after_forward < 60_000     # mostly y: 10 x 1000 float32
    True
    >>> [event for event, nbytes in m.timeline]
    ['start', 'forward', 'end']
    >>> m.peak // 1_000_000           # MB: w.grad (1000 x 1000 float32) and small arrays
    4
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from . import backend

__all__ = ["track", "MemoryTracker", "saved_report", "SavedReport"]


class _Sessions:
    """The trackers open now. Nested trackers share one tracemalloc session (its peak is
    folded into every open tracker before an inner one resets it) and one CuPy hook."""

    cpu: list = []
    cuda: list = []
    started_tracing = False
    hook = None


def _fold_cpu_peaks():
    current, peak = tracemalloc.get_traced_memory()
    for tracker in _Sessions.cpu:
        tracker.peak = max(tracker.peak, peak - tracker._base)
        tracker.current = current - tracker._base


def _on_cuda_change(device_index: int, delta: int):
    for tracker in _Sessions.cuda:
        if tracker.device.index == device_index:
            tracker.current += delta
            tracker.peak = max(tracker.peak, tracker.current)


class MemoryTracker:
    """Bytes allocated since the block started, net of what was freed: ``peak`` (the most at
    any moment), ``current``, and a ``timeline`` of ``(event, current bytes)``. Trackers
    nest. On CPU, freeing in the block what was allocated before it lowers the count."""

    def __init__(self, device):
        self.device = backend.Device(device if device is not None else
                                      backend.get_default_device())
        self.peak = 0
        self.current = 0
        self.timeline: list = []
        self._base = 0

    def __enter__(self):
        if self.device.type == "cpu":
            if not tracemalloc.is_tracing():
                tracemalloc.start()
                _Sessions.started_tracing = True
            _fold_cpu_peaks()
            tracemalloc.reset_peak()
            self._base = tracemalloc.get_traced_memory()[0]
            _Sessions.cpu.append(self)
        else:
            backend.synchronize(self.device)
            if not _Sessions.cuda:
                _Sessions.hook = backend.cuda_memory_hook(_on_cuda_change)
                _Sessions.hook.__enter__()
            _Sessions.cuda.append(self)
        self.timeline.append(("start", 0))
        return self

    def _read(self) -> int:
        if self.device.type == "cpu":
            _fold_cpu_peaks()
        return self.current

    def mark(self, event: str) -> int:
        """Add ``(event, current bytes)`` to the timeline; returns the current bytes."""
        value = self._read()
        self.timeline.append((event, value))
        return value

    def __exit__(self, *exc):
        if self.device.type == "cpu":
            self._read()
            _Sessions.cpu.remove(self)
            if not _Sessions.cpu and _Sessions.started_tracing:
                tracemalloc.stop()
                _Sessions.started_tracing = False
        else:
            backend.synchronize(self.device)
            _Sessions.cuda.remove(self)
            if not _Sessions.cuda:
                _Sessions.hook.__exit__(*exc)
                _Sessions.hook = None
        self.timeline.append(("end", self.current))
        return False


def track(device=None) -> MemoryTracker:
    """A context manager measuring the memory allocated inside it on ``device`` (the default
    device when None): ``peak`` and ``current`` bytes, and ``timeline`` of ``mark`` calls."""
    return MemoryTracker(device)


# ---------------------------------------------------------------------------------------------
# What a graph saves
# ---------------------------------------------------------------------------------------------

class SavedReport:
    """Rows of (op, what, shape, dtype, bytes, kind) for everything the graph behind a tensor
    keeps for backward; ``kind`` is "activation", "parameter" or "dropped" (by a checkpoint,
    to be recomputed; the checkpoint's inputs, which it keeps, are listed as activations).
    Each buffer counts once in the totals."""

    def __init__(self, rows: list, activation_bytes: int, parameter_bytes: int):
        self.rows = rows
        self.activation_bytes = activation_bytes
        self.parameter_bytes = parameter_bytes

    def __str__(self) -> str:
        lines = [f"{'op':<22} {'saved':<10} {'shape':<18} {'dtype':<8} {'bytes':>12}  kind"]
        for op, what, shape, dtype, nbytes, kind in self.rows:
            lines.append(f"{op:<22} {what:<10} {str(shape):<18} {str(dtype):<8} "
                         f"{nbytes:>12,}  {kind}")
        lines.append(f"activations held for backward: {self.activation_bytes:,} bytes; "
                     f"parameters: {self.parameter_bytes:,} bytes")
        return "\n".join(lines)

    __repr__ = __str__


def _buffer_key(array):
    if isinstance(array, np.ndarray):
        return array.__array_interface__["data"][0], array.nbytes
    return array.data.ptr, array.nbytes


def saved_report(tensor) -> SavedReport:
    """What the graph behind ``tensor`` holds for its backward pass, op by op, in the spirit
    of JAX's ``print_saved_residuals``.

    Example::

        >>> x, w = gpugrad.ones(2, 3), gpugrad.ones(3, 4, requires_grad=True)
        >>> loss = (x @ w).tanh().sum()
        >>> print(gpugrad.memory.saved_report(loss))    # tanh keeps its output, @ both inputs
        op                     saved      shape              dtype           bytes  kind
        TanhBackward           output     (2, 4)             float32            32  activation
        MatMulBackward         input 0    (2, 3)             float32            24  activation
        MatMulBackward         input 1    (3, 4)             float32            48  parameter
        activations held for backward: 56 bytes; parameters: 48 bytes
    """
    from .autograd.graph import AccumulateGrad
    from .autograd.walk import nodes_behind
    parameters, nodes = set(), []
    for node in nodes_behind([tensor.grad_fn]):
        if isinstance(node, AccumulateGrad):
            parameters.add(_buffer_key(node.variable._array))
        else:
            nodes.append(node)
    rows, counted, totals = [], set(), {"activation": 0, "parameter": 0}
    frames = {}
    for node in nodes:
        for what, saved in _saved_of(node):
            if saved.unpack_hook is not None:
                rows.append((node.name(), what, "", "", 0, "dropped"))
                frame = getattr(saved.packed, "frame", None)
                if frame is not None and frame.args is not None:
                    frames[id(frame)] = frame
                continue
            array = saved.tensor._array if saved.tensor is not None else saved.array
            key = _buffer_key(array.base if getattr(array, "base", None) is not None
                              else array)
            kind = "parameter" if key in parameters or _buffer_key(array) in parameters \
                else "activation"
            rows.append((node.name(), what, tuple(array.shape), array.dtype, array.nbytes, kind))
            if key not in counted:
                counted.add(key)
                totals[kind] += (array.base if getattr(array, "base", None) is not None
                                 else array).nbytes
    for frame in frames.values():        # what checkpoints keep: their inputs
        for value in (*frame.args, *frame.kwargs.values()):
            if hasattr(value, "unpack_hook") and value.unpack_hook is None:
                array = value.tensor._array
                rows.append((frame.name(), "input", tuple(array.shape), array.dtype,
                             array.nbytes, "activation"))
                key = _buffer_key(array)
                if key not in counted and key not in parameters:
                    counted.add(key)
                    totals["activation"] += array.nbytes
    return SavedReport(rows, totals["activation"], totals["parameter"])


def _saved_of(node):
    saved_xs = getattr(node, "_saved_xs", ()) or ()
    for i, saved in enumerate(saved_xs):
        if saved is not None:
            yield f"input {i}", saved
    if getattr(node, "_saved_ans", None) is not None:
        yield "output", node._saved_ans
    if getattr(node, "_saved_aux", None) is not None:
        yield "aux", node._saved_aux
    for saved, nr in getattr(node, "_saved", ()) or ():
        if saved is not None:
            yield f"saved {nr}", saved
