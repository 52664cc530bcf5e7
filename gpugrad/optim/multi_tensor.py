"""The fused multi-tensor path of the optimizers on CUDA: all parameters of a group that
share a device, a dtype and a state (Adam's step count, SGD's first step) are updated by
one kernel launch (kernels/optim.cu) instead of a few array operations per parameter.

What it keeps per launch (a ``_Slot``): the device table of pointers, rebuilt only when a
buffer moved; the hyperparameters on the GPU (uploaded at each eager step, and before
each replay of a captured CUDA graph, so schedulers keep working); Adam's step counter on
the GPU, advanced inside the launch sequence, so a captured step counts its replays.

Parameters on NumPy, of other dtypes, or with the kernels off (``GPUGRAD_FUSED=0``) take
the reference path, ``Optimizer._update``, which the tests hold these kernels equal to.
"""

from __future__ import annotations

import numpy as np

from .. import backend, cuda
from ..cuda import graphs

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class _Slot:
    """One launch's cached device data: the table, the hyperparameters (``pack(group)``
    lists them), Adam's step counter, and the parameters it updates."""
    table = hyper = steps = group = pack = None
    params = ()


def fusable(p) -> bool:
    """Whether parameter ``p`` (with a gradient) can take the fused kernels."""
    a, g = p._array, p.grad._array
    return (a.__class__ is not np.ndarray and a.dtype in _FLOATS and g.dtype == a.dtype
            and a.flags.c_contiguous and g.flags.c_contiguous)


def step(optimizer, capturing: bool) -> set:
    """Update every fusable parameter with a gradient; returns their ids (the caller
    updates the others on the reference path)."""
    if not cuda.fused_enabled() or optimizer._fused_kind is None:
        return set()
    slots = optimizer.__dict__.setdefault("_fused_slots", {})
    done = set()
    for index, group in enumerate(optimizer.param_groups):
        buckets: dict = {}
        for p in group["params"]:
            if p.grad is not None and fusable(p):
                state = optimizer.state.setdefault(id(p), {})
                key = (str(p.device), p.dtype.str, optimizer._fused_key(state))
                buckets.setdefault(key, []).append(p)
        for key, params in buckets.items():
            slot = slots.setdefault((index,) + key, _Slot())
            slot.group, slot.params = group, params
            optimizer._fused_update(params, group, slot, capturing)
            for p in params:
                p._version.value += 1
                done.add(id(p))
    return done


def table_for(slot: _Slot, roles: dict):
    """The slot's device table for ``roles``, rebuilt when any buffer moved."""
    from ..cuda.launch_optim import Table
    key = tuple(a.data.ptr for arrays in roles.values() for a in arrays)
    if slot.table is None or slot.table.key != key:
        if graphs.is_capturing():
            raise graphs.CaptureError(
                "the optimizer's gradients or state moved to new buffers inside the captured "
                "step, so the graph would update stale memory: zero gradients in place with "
                "optimizer.zero_grad(set_to_none=False) (or model.zero_grad(set_to_none="
                "False)) in the step function")
        slot.table = Table(roles)
    return slot.table


def upload(slot: _Slot, values, like, capturing: bool):
    """The slot's hyperparameter array, on the GPU of array ``like``, holding ``values``
    (copied now, unless a graph is being captured: then the capture reads what the last
    eager step or replay refresh wrote)."""
    if slot.hyper is None:
        with like.device:
            slot.hyper = backend.xp_of(like).zeros(len(values), like.dtype)
    if not capturing:
        slot.hyper.set(np.asarray(values, like.dtype))
    return slot.hyper


def step_counter(slot: _Slot, t: int, like, capturing: bool):
    """The slot's step counter on the GPU of ``like``, set to ``t`` (the steps done so far)
    unless a graph is being captured (then the captured launches advance it)."""
    if slot.steps is None:
        with like.device:
            slot.steps = backend.xp_of(like).zeros(1, np.int64)
    if not capturing:
        slot.steps.set(np.array([t], np.int64))
    return slot.steps


def before_replay(optimizer) -> None:
    """Upload every slot's current hyperparameters (a scheduler may have changed them)."""
    for slot in optimizer.__dict__.get("_fused_slots", {}).values():
        if slot.hyper is not None:
            slot.hyper.set(np.asarray(slot.pack(slot.group), slot.hyper.dtype))


def after_replay(optimizer) -> None:
    """Count a replayed step in the host-side state (Adam's step), as an eager step does."""
    for slot in optimizer.__dict__.get("_fused_slots", {}).values():
        if slot.steps is not None:
            for p in slot.params:
                optimizer.state[id(p)]["step"] += 1
