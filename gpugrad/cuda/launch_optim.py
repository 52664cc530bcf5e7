"""Checked launches of the multi-tensor optimizer kernels (kernels/optim.cu).

A ``Table`` describes a list of same-dtype tensors on one GPU in device memory: one array
of pointers per role (params, grads, state buffers), their sizes, and the chunks the
launch's blocks take. Building one copies a few small arrays to the GPU, so callers cache
it and rebuild only when a pointer changes. The hyperparameters are a device array too
(see the kernels' comments for their order), so a captured CUDA graph reads fresh values.

Example::

    >>> table = Table({"params": [w, b], "grads": [gw, gb], "bufs": [mw, mb]})
    >>> sgd_multi(table, hyper, nesterov=False, first=False)
"""

from __future__ import annotations

import numpy as np

from .. import backend
from . import loader
from .launch import THREADS, _check
from .sources import kernel_name

__all__ = ["Table", "CHUNK", "sgd_multi", "adam_prepare", "adam_multi"]

CHUNK = 65536               # elements per block: few blocks for small models, many for big


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
        self.key = tuple(a.data.ptr for arrays in lists for a in arrays)
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


def _hyper(hyper, table: Table, length: int):
    _check("hyper", hyper, table.dtype, ndim=1)
    if hyper.shape[0] != length or hyper.device.id != table.device_id:
        raise ValueError(f"hyper must hold {length} values on GPU {table.device_id}")
    return hyper


def _run(family: str, table: Table, args):
    if table.chunks:
        kernel = loader.function(kernel_name(family, table.dtype), table.device_id)
        with backend._require_cupy().cuda.Device(table.device_id):
            kernel((table.chunks,), (THREADS,), args)


def sgd_multi(table: Table, hyper, nesterov: bool, first: bool) -> None:
    """One SGD step of every tensor in ``table`` (roles params, grads and, with momentum,
    bufs); hyper = [lr, momentum, dampening, weight_decay] on the GPU."""
    _hyper(hyper, table, 4)
    p = table.pointers
    _run("sgd_multi", table, (p["params"], p["grads"], p.get("bufs"),
                              table.sizes, table.chunk_tensor, table.chunk_start,
                              np.int64(CHUNK), hyper, np.int32(nesterov), np.int32(first)))


def adam_prepare(hyper, steps) -> None:
    """steps[0] += 1 and the bias corrections 1 - beta^t into hyper[5:7], on the GPU."""
    _check("hyper", hyper, ndim=1)
    _check("steps", steps, np.int64, ndim=1)
    if hyper.shape[0] != 7 or steps.shape[0] != 1:
        raise ValueError("adam_prepare takes hyper of 7 values and steps of 1")
    kernel = loader.function(kernel_name("adam_prepare", hyper.dtype), hyper.device.id)
    with backend._require_cupy().cuda.Device(hyper.device.id):
        kernel((1,), (1,), (hyper, steps))


def adam_multi(table: Table, hyper, decoupled: bool) -> None:
    """One Adam (AdamW with ``decoupled``) step of every tensor in ``table`` (roles params,
    grads, exp_avg, exp_avg_sq); hyper = [lr, beta1, beta2, eps, weight_decay,
    1 - beta1^t, 1 - beta2^t] on the GPU."""
    _hyper(hyper, table, 7)
    p = table.pointers
    _run("adam_multi", table, (p["params"], p["grads"], p["exp_avg"], p["exp_avg_sq"],
                               table.sizes, table.chunk_tensor, table.chunk_start,
                               np.int64(CHUNK), hyper, np.int32(decoupled)))
