"""The device side of the multi-tensor optimizer steps (kernels/optim.cu): tables, slots,
checked launches.

A ``Table`` describes a list of same-dtype tensors on one GPU in device memory: one array
of pointers per role (params, grads, state buffers), their sizes, and the chunks the
launch's blocks take. A ``Slot`` is what one bucket of parameters keeps between steps: its
table (rebuilt only when a buffer moved or resized), its hyperparameters on the GPU in
float64, and for Adam its per-tensor step counters on the GPU. While a CUDA graph is being
recorded nothing is uploaded (the graph reads what the last eager step or replay refresh
wrote) and a table that would have to change is refused with ``CaptureError``.

Example::

    >>> slot = Slot()
    >>> table = slot.table({"params": [w, b], "grads": [gw, gb], "bufs": [mw, mb]}, False)
    >>> sgd_multi(table, slot.hyper_array([0.1, 0.9, 0.0, 0.0], w, False), False, False)
"""

from __future__ import annotations

import numpy as np

from .. import backend
from . import graphs, loader
from .launch import THREADS, _check, _grid
from .sources import kernel_name

__all__ = ["Table", "Slot", "CHUNK", "sgd_multi", "adam_count", "adam_multi"]

CHUNK = 65536               # elements per block: few blocks for small models, many for big


def table_key(roles: dict) -> tuple:
    """What identifies a table: every buffer's address and size."""
    return tuple((a.data.ptr, a.size) for arrays in roles.values() for a in arrays)


class Table:
    """Pointers, sizes and chunks of ``roles`` (name -> list of CuPy arrays, one per tensor,
    every role's k-th array of one size), all of one float dtype, contiguous, on one GPU."""

    def __init__(self, roles: dict):
        cupy = backend._require_cupy()
        lists = list(roles.values())
        first = lists[0]
        if not first:
            raise ValueError("a multi-tensor table needs at least one tensor")
        self.dtype, self.device_id = first[0].dtype, first[0].device.id
        for role, arrays in roles.items():
            if len(arrays) != len(first):
                raise ValueError(f"role {role!r} has {len(arrays)} tensors, expected "
                                 f"{len(first)}")
            for k, a in enumerate(arrays):
                _check(f"{role}[{k}]", a, self.dtype)
                if a.size != first[k].size or a.device.id != self.device_id:
                    raise ValueError(f"{role}[{k}] has {a.size} elements on GPU "
                                     f"{a.device.id}; expected {first[k].size} on GPU "
                                     f"{self.device_id}")
        self.key = table_key(roles)
        self.count = len(first)
        sizes = np.array([a.size for a in first], np.int64)
        chunks = [(k, start) for k, size in enumerate(sizes) for start in range(0, size, CHUNK)]
        with cupy.cuda.Device(self.device_id):
            self.pointers = {role: cupy.asarray(np.array([a.data.ptr for a in arrays],
                                                         np.uint64))
                             for role, arrays in roles.items()}
            self.sizes = cupy.asarray(sizes)
            self.chunk_tensor = cupy.asarray(np.array([c[0] for c in chunks], np.int32))
            self.chunk_start = cupy.asarray(np.array([c[1] for c in chunks], np.int64))
        self.chunks = len(chunks)
        self.elements = int(sizes.sum())


class Slot:
    """One bucket's device data kept between steps (see the module docstring)."""

    def __init__(self):
        self.current = None         # the Table
        self.hyper = self.steps = None
        self.synced_steps = None    # what the device counters hold, as a host tuple

    def table(self, roles: dict, recording: bool) -> Table:
        """The table for ``roles``, rebuilt when a buffer moved or resized."""
        if self.current is None or self.current.key != table_key(roles):
            if recording:
                raise graphs.CaptureError(
                    "the parameters updated inside the captured step, or their gradient or "
                    "state buffers, differ from the eager step before it, so the graph would "
                    "update stale memory. Give every parameter a gradient each step, zero "
                    "gradients in place (optimizer.zero_grad(set_to_none=False)), and keep "
                    "the same parameters between the warm-up and the capture")
            self.current = Table(roles)
        return self.current

    def hyper_array(self, values, like, recording: bool):
        """The hyperparameters (float64) on the GPU of array ``like``, uploaded unless a
        graph is being recorded."""
        if self.hyper is None:
            with backend._require_cupy().cuda.Device(like.device.id):
                self.hyper = backend._require_cupy().zeros(len(values), np.float64)
        if not recording:
            self.hyper.set(np.asarray(values, np.float64))
        return self.hyper

    def step_counters(self, counts: tuple, like, recording: bool):
        """Per-tensor step counters on the GPU holding ``counts`` (the steps each tensor
        has taken); uploaded only when the device copy differs, which a recording refuses."""
        cupy = backend._require_cupy()
        if self.steps is None or self.steps.size != len(counts):
            with cupy.cuda.Device(like.device.id):
                self.steps = cupy.zeros(len(counts), np.int64)
            self.synced_steps = None
        if self.synced_steps != counts:
            if recording:
                raise graphs.CaptureError("the optimizer's step counts changed between the "
                                          "eager step and the capture; capture after a "
                                          "plain eager step of the same parameters")
            self.steps.set(np.asarray(counts, np.int64))
            self.synced_steps = counts
        return self.steps

    def counted(self) -> None:
        """Record that the device counters advanced by one step (adam_count ran)."""
        if self.synced_steps is not None:
            self.synced_steps = tuple(t + 1 for t in self.synced_steps)


def _hyper(hyper, table: Table, length: int):
    _check("hyper", hyper, np.float64, ndim=1)
    if hyper.shape[0] != length or hyper.device.id != table.device_id:
        raise ValueError(f"hyper must hold {length} float64 values on GPU {table.device_id}")
    return hyper


def _run(family: str, table: Table, args):
    if table.chunks:
        kernel = loader.function(kernel_name(family, table.dtype), table.device_id)
        with backend._require_cupy().cuda.Device(table.device_id):
            kernel((table.chunks,), (THREADS,), args)


def sgd_multi(table: Table, hyper, nesterov: bool, first: bool) -> None:
    """One SGD step of every tensor in ``table`` (roles params, grads and, with momentum,
    bufs); hyper = [lr, momentum, dampening, weight_decay]; ``first``: the buffers are new
    (buf = grad)."""
    _hyper(hyper, table, 4)
    p = table.pointers
    _run("sgd_multi", table, (p["params"], p["grads"], p.get("bufs"), table.sizes,
                              table.chunk_tensor, table.chunk_start, np.int64(CHUNK), hyper,
                              np.int32(nesterov), np.int32(first)))


def adam_count(steps) -> None:
    """steps[k] += 1 for every k, on the GPU."""
    _check("steps", steps, np.int64, ndim=1)
    if steps.size:
        dev = steps.device.id
        kernel = loader.function(kernel_name("adam_count", steps.dtype), dev)
        with backend._require_cupy().cuda.Device(dev):
            kernel((_grid(steps.size, dev),), (THREADS,), (steps, np.int64(steps.size)))


def adam_multi(table: Table, steps, hyper, decoupled: bool) -> None:
    """One Adam (AdamW with ``decoupled``) step of every tensor in ``table`` (roles params,
    grads, exp_avg, exp_avg_sq); steps[k] is tensor k's step number t (adam_count ran);
    hyper = [lr, beta1, beta2, eps, weight_decay]."""
    _hyper(hyper, table, 5)
    _check("steps", steps, np.int64, ndim=1)
    if steps.size != table.count:
        raise ValueError(f"steps holds {steps.size} counters for {table.count} tensors")
    p = table.pointers
    _run("adam_multi", table, (p["params"], p["grads"], p["exp_avg"], p["exp_avg_sq"],
                               table.sizes, steps, table.chunk_tensor, table.chunk_start,
                               np.int64(CHUNK), hyper, np.int32(decoupled)))
