"""The fused multi-tensor path of the optimizers on CUDA: the parameters of a group that
share a device and a dtype (a bucket) are updated by one kernel launch (kernels/optim.cu)
instead of a few array operations per parameter.

This module is the bookkeeping: which parameters go together, the host-side state
(Adam's step counts, SGD's momentum buffers), and what a captured CUDA graph must do
around each launch (``before_launch`` uploads the current learning rates, ``after_launch``
counts the step on the host). The device side, tables of pointers and hyperparameters on
the GPU, is ``gpugrad.cuda.launch_optim.Slot``, one per bucket.

Parameters on NumPy, of other dtypes, non-contiguous, or with the kernels off
(``GPUGRAD_FUSED=0``) take the reference path, ``Optimizer._update``.
"""

from __future__ import annotations

import numpy as np

from .. import cuda
from ..cuda import graphs

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class Bucket:
    """The parameters of one group on one device with one dtype: those of the latest
    launch (``params``), their group, and the device-side ``slot``."""

    def __init__(self, group):
        from ..cuda import launch_optim
        self.group, self.params = group, []
        self.slot = launch_optim.Slot()


def fusable(p) -> bool:
    """Whether parameter ``p`` (with a gradient) can take the fused kernels."""
    a, g = p._array, p.grad._array
    return (a.__class__ is not np.ndarray and a.dtype in _FLOATS and g.dtype == a.dtype
            and a.flags.c_contiguous and g.flags.c_contiguous and g.shape == a.shape)


def step(optimizer, recording: bool) -> set:
    """Update every fusable parameter with a gradient; returns their ids (the caller
    updates the others on the reference path). ``recording``: a CUDA graph is being
    captured; the buckets launched are noted for it (``graphs.note_launch``)."""
    if not cuda.fused_enabled() or optimizer._fused_kind is None:
        return set()
    buckets = optimizer.__dict__.setdefault("_fused_buckets", {})
    done = set()
    for index, group in enumerate(optimizer.param_groups):
        members: dict = {}
        for p in group["params"]:
            if p.grad is not None and fusable(p):
                members.setdefault((str(p.device), p.dtype.str), []).append(p)
        for key, params in members.items():
            bucket = buckets.get((index,) + key)
            if bucket is None:
                bucket = buckets[(index,) + key] = Bucket(group)
            bucket.group, bucket.params = group, params
            optimizer._fused_update(bucket, recording)
            if recording:
                graphs.note_launch(optimizer, bucket)
            for p in params:
                p._version.value += 1
                done.add(id(p))
    return done


def before_launch(records) -> None:
    """Before a captured graph runs: upload each recorded bucket's current hyperparameters
    (a scheduler may have changed the learning rate since the capture)."""
    for optimizer, bucket in records:
        if bucket.slot.hyper is not None:
            bucket.slot.hyper_array(optimizer._fused_hyper(bucket.group), None, False)


def after_launch(records) -> None:
    """After a captured graph ran: count the step on the host as an eager step does
    (Adam's step counts, the parameters' versions)."""
    for optimizer, bucket in records:
        optimizer._fused_counted(bucket)
        for p in bucket.params:
            p._version.value += 1
