"""The device side of the multi-tensor optimizer steps (kernels/optim.cu): tables and
checked launches.

A ``Table`` describes a list of same-dtype tensors on one GPU in device memory: one array
of pointers per role (params, grads, state buffers), their sizes, and the chunks the
launch's blocks take. What a bucket of parameters keeps between steps (its table, its
hyperparameters and step counters on the GPU, uploaded only when they change) is the
optimizers' own bookkeeping: ``gpugrad.optim.multi_tensor.Slot``. Tables also take NumPy
arrays, for the CPU harness of the kernels and the tests.

Example (one SGD step, lr 0.5 and momentum 0.9, of two tensors in one launch; it needs CuPy
and a GPU, so CI skips it)::

    >>> import cupy                                                     # doctest: +SKIP
    >>> from gpugrad.cuda.launch_optim import Table, sgd_multi
    >>> w, b = cupy.ones(3, cupy.float32), cupy.ones(2, cupy.float32)   # doctest: +SKIP
    >>> gw, gb = cupy.ones_like(w), cupy.full_like(b, 4.0)              # doctest: +SKIP
    >>> mw, mb = cupy.zeros_like(w), cupy.zeros_like(b)                 # doctest: +SKIP
    >>> roles = {"params": [w, b], "grads": [gw, gb], "bufs": [mw, mb]}  # doctest: +SKIP
    >>> table = Table(roles)                                            # doctest: +SKIP
    >>> hyper = cupy.asarray([0.5, 0.9, 0.0, 0.0])                      # doctest: +SKIP
    >>> sgd_multi(table, hyper, False, True)  # first step: buf = grad  # doctest: +SKIP
    >>> w, b                                  # p - lr * buf            # doctest: +SKIP
    (array([0.5, 0.5, 0.5], dtype=float32), array([-1., -1.], dtype=float32))
"""

from __future__ import annotations

import numpy as np

from .. import backend
from . import launch
from .launch import THREADS, _check, _grid

__all__ = ["Table", "CHUNK", "chunk_layout", "sgd_multi", "adam_count", "adam_multi"]

CHUNK = 65536               # elements per block: few blocks for small models, many for big


def _address(a) -> int:
    """Where array ``a``'s data starts: a device pointer (CuPy) or a host one (NumPy)."""
    return a.ctypes.data if isinstance(a, np.ndarray) else a.data.ptr


def _device_id(a):
    """The GPU of array ``a``, as launch.py's current device says (read at call time, so a
    device swapped in with ``launch.using_device`` applies: None for the emulator's arrays)."""
    return launch._device.device_id(a)


def _on_device_of(a):
    """A context making ``a``'s GPU current (nothing for NumPy)."""
    return backend.use_device(backend.device_of(a))


def table_key(roles: dict) -> tuple:
    """What identifies a table: every buffer's address and size."""
    return tuple((_address(a), a.size) for arrays in roles.values() for a in arrays)


class Table:
    """Pointers, sizes and chunks of ``roles`` (name -> list of arrays, one per tensor,
    every role's k-th array of one size), all of one float dtype, contiguous, on one GPU.
    Its arrays live where the tensors do: CuPy on a GPU, NumPy for the CPU harness."""

    def __init__(self, roles: dict):
        lists = list(roles.values())
        first = lists[0]
        if not first:
            raise ValueError("a multi-tensor table needs at least one tensor")
        self.dtype = first[0].dtype
        _check(f"{next(iter(roles))}[0]", first[0], self.dtype)     # before asking its GPU
        self.device_id = _device_id(first[0])
        for role, arrays in roles.items():
            if len(arrays) != len(first):
                raise ValueError(f"role {role!r} has {len(arrays)} tensors, expected "
                                 f"{len(first)}")
            for k, a in enumerate(arrays):
                _check(f"{role}[{k}]", a, self.dtype)
                if a.size != first[k].size or _device_id(a) != self.device_id:
                    raise ValueError(f"{role}[{k}] has {a.size} elements on GPU "
                                     f"{_device_id(a)}; expected {first[k].size} on GPU "
                                     f"{self.device_id}")
        self.key = table_key(roles)
        self.count = len(first)
        sizes = np.array([a.size for a in first], np.int64)
        chunk_tensor, chunk_start = chunk_layout(sizes)
        xp = backend.xp_of(first[0])
        with _on_device_of(first[0]):
            self.pointers = {role: xp.asarray(np.array([_address(a) for a in arrays],
                                                       np.uint64))
                             for role, arrays in roles.items()}
            self.sizes = xp.asarray(sizes)
            self.chunk_tensor = xp.asarray(chunk_tensor)
            self.chunk_start = xp.asarray(chunk_start)
        self.chunks = len(chunk_tensor)
        self.elements = int(sizes.sum())


def chunk_layout(sizes) -> tuple:
    """The blocks of a launch over tensors of ``sizes`` elements: block c updates elements
    [chunk_start[c], chunk_start[c] + CHUNK) of tensor chunk_tensor[c] (int32, int64)."""
    pairs = [(k, start) for k, size in enumerate(sizes) for start in range(0, int(size), CHUNK)]
    return (np.array([k for k, _ in pairs], np.int32),
            np.array([start for _, start in pairs], np.int64))


def _hyper(hyper, table: Table, length: int):
    _check("hyper", hyper, np.float64, ndim=1)
    if hyper.shape[0] != length or _device_id(hyper) != table.device_id:
        raise ValueError(f"hyper must hold {length} float64 values on GPU {table.device_id}")
    return hyper


def _run(family: str, table: Table, args):
    if table.chunks:
        launch._launch(family, table.dtype, table.device_id, (table.chunks,), (THREADS,), args)


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
        dev = _device_id(steps)
        launch._launch("adam_count", steps.dtype, dev, (_grid(steps.size, dev),), (THREADS,),
                       (steps, np.int64(steps.size)))


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
