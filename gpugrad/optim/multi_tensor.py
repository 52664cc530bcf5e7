"""The fused multi-tensor path of the optimizers on CUDA: the parameters of a group that
share a device and a dtype (a bucket) are updated by one kernel launch (kernels/optim.cu)
instead of a few array operations per parameter.

This module is the bookkeeping: which parameters go together (``Bucket``), what each
bucket keeps on the device between steps (``Slot``: its table of pointers, hyperparameters
and step counters, uploaded only when they change), and what a captured CUDA graph must do
around each replay of a launch (``ReplayedLaunch``: the optimizer uploads its current
learning rates before, and counts the step on the host after). The launches themselves are
``gpugrad.cuda.launch_optim``.

Parameters on NumPy, of other dtypes, non-contiguous, or with the kernels off
(``GPUGRAD_FUSED=0``) take the reference path, ``Optimizer._update``.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import backend, cuda
from ..autograd.capture_mode import NeedsEagerStep, note_replay_participant
from ..cuda import launch_optim, sync_debug
from ..tensor import Tensor

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class Bucket:
    """The parameters of one group on one device with one dtype: those of the latest
    launch (``params``), their group, and the device-side ``slot``."""

    def __init__(self, group):
        self.group, self.params = group, []
        self.slot = Slot()

    def copy(self) -> "Bucket":
        """A bucket of the same group, parameters (a list of its own) and slot."""
        twin = Bucket.__new__(Bucket)
        twin.group, twin.params, twin.slot = self.group, list(self.params), self.slot
        return twin


def fusable(p) -> bool:
    """Whether parameter ``p`` (with a gradient) can take the fused kernels."""
    a, g = p._array, p._grad._array
    return (a.__class__ is not np.ndarray and a.dtype in _FLOATS and g.dtype == a.dtype
            and a.flags.c_contiguous and g.flags.c_contiguous and g.shape == a.shape)


def step(optimizer, recording: bool) -> set:
    """Update every fusable parameter with a gradient; returns their ids (the caller
    updates the others on the reference path). ``recording``: a CUDA graph is being
    recorded; each bucket launched is noted for its replays (``ReplayedLaunch``)."""
    if not cuda.fused_enabled() or optimizer._fused_kind is None:
        return set()
    buckets = optimizer.__dict__.setdefault("_fused_buckets", {})
    done = set()
    for index, group in enumerate(optimizer.param_groups):
        if not optimizer._fusable_group(group):
            continue                        # an option the kernels lack (amsgrad, maximize)
        members: dict = {}
        for p in group["params"]:
            if p._grad is not None and fusable(p):
                members.setdefault((str(p.device), p.dtype.str), []).append(p)
        for key, params in members.items():
            bucket = buckets.get((index,) + key)
            if bucket is None:
                bucket = buckets[(index,) + key] = Bucket(group)
            bucket.group, bucket.params = group, params
            optimizer._fused_update(bucket, recording)
            if recording:
                note_replay_participant(ReplayedLaunch(optimizer, bucket))
            for p in params:
                p._version_counter.value += 1
                done.add(id(p))
    return done


Held = namedtuple("Held", "param array grad grad_array state entries")


class ReplayedLaunch:
    """One fused launch inside a recorded CUDA graph, as the capture sees it: the optimizer
    refreshes its hyperparameters on the device before each replay (a scheduler may have
    changed the learning rate) and counts the step on the host after it, as an eager step
    does; ``guard_terms`` says what the launch reads, for the check before each replay.
    ``buffers``: the device data the graph reads, kept alive with it (with the parameters,
    gradients and state tensors it was recorded for: ``held``)."""

    def __init__(self, optimizer, bucket):
        self.optimizer = optimizer
        self.bucket = bucket.copy()             # the launch's own: later launches change it
        slot = bucket.slot
        self.buffers = (slot.current, slot.hyper, slot.steps)
        self.counts = slot.synced_steps         # what the device step counters hold (Adam)
        self.held = []
        for p in bucket.params:
            state = optimizer.state.get(p)
            entries = tuple((k, v, v._array) for k, v in (state or {}).items()
                            if isinstance(v, Tensor))
            self.held.append(Held(p, p._array, p._grad, p._grad._array, state, entries))

    def guard_terms(self, guard, set_in_step) -> None:
        """What the launch reads, as terms of the check before each replay (``guard``, a
        graph_entry.Guard), each with its reason: the optimizer's groups and parameters,
        which of them require grad or have a gradient the step does not set itself (ids
        ``set_in_step``), the device step counters (an eager step of the same optimizer in
        between touches them), each updated parameter's array, such a gradient and the
        optimizer's state tensors (``load_state_dict``)."""
        optimizer, name = self.optimizer, guard.name
        groups, opt = optimizer.param_groups, name(optimizer)
        layout = "the optimizer's parameter groups changed (add_param_group)"
        guard.add(layout, f"{opt}.param_groups is {name(groups)}",
                  f"len({name(groups)}) == {len(groups)}")
        for i, group in enumerate(groups):
            params = group["params"]
            guard.add(layout, f"{name(groups)}[{i}] is {name(group)}",
                      f"{name(group)}['params'] is {name(params)}",
                      f"len({name(params)}) == {len(params)}")
            for j, p in enumerate(params):
                guard.add(layout, f"{name(params)}[{j}] is {name(p)}")
                guard.add("a parameter's requires_grad was changed",
                          f"{name(p)}._requires_grad is {p._requires_grad}")
                if id(p) not in set_in_step:
                    guard.add("a parameter the step does not give a gradient has one now (or "
                              "no longer): the recorded update would skip it (or update it)",
                              f"({name(p)}._grad is not None) is "
                              f"{p._grad is not None}")
        slot = self.bucket.slot
        guard.add("an eager step of the same optimizer changed its step counts on the device",
                  f"{name(slot)}.steps is {name(self.buffers[2])}",
                  f"{name(slot)}.synced_steps == {name(self)}.counts")
        for held in self.held:
            p = name(held.param)
            guard.add("a parameter's array was replaced (p.data = ...)",
                      f"{p}._array is {name(held.array)}")
            if id(held.param) not in set_in_step:
                guard.add("a gradient made outside the step was replaced or set to None",
                          f"{p}._grad is {name(held.grad)}",
                          f"{name(held.grad)}._array is {name(held.grad_array)}")
            state = "the optimizer's state was replaced (load_state_dict)"
            guard.add(state, f"{opt}.state.get({p}) is {name(held.state)}")
            for key, value, array in held.entries:
                guard.add(state, f"{name(held.state)}.get({key!r}) is {name(value)}",
                          f"{name(value)}._array is {name(array)}")

    def before_replay(self) -> None:
        self.optimizer._before_replay(self.bucket)

    def after_replay(self) -> None:
        self.optimizer._after_replay(self.bucket)
        self.counts = self.bucket.slot.synced_steps


class Slot:
    """One bucket's device data kept between steps: its table (rebuilt only when a buffer
    moved or resized), its hyperparameters on the device in float64 and, for Adam, its
    per-tensor step counters. While a CUDA graph is recorded nothing is uploaded (the
    graph reads what the last eager step or replay refresh wrote) and a table that would
    have to change is refused with ``CaptureError``. Nothing is
    uploaded unless it changed, so a steady-state step makes no host-to-device copy (a copy
    from pageable host memory may wait for the GPU)."""

    def __init__(self):
        self.current = None         # the Table
        self.hyper = self.steps = None
        self.uploaded_hyper = None  # what the device hyperparameters hold, as a host tuple
        self.synced_steps = None    # what the device counters hold, as a host tuple

    def table(self, roles: dict, recording: bool):
        """The table for ``roles``, rebuilt when a buffer moved or resized."""
        if self.current is None or self.current.key != launch_optim.table_key(roles):
            if recording:
                raise NeedsEagerStep(
                    "the parameters updated inside the captured step, or their gradient or "
                    "state buffers, differ from the eager step before it, so the graph would "
                    "update stale memory. Give every parameter a gradient each step, reset "
                    "gradients with optimizer.zero_grad() inside the step (a recording zeroes "
                    "them in place), or outside it with zero_grad(set_to_none=False), rather "
                    "than assigning .grad, and keep the same parameters between the warm-up "
                    "and the capture")
            sync_debug.report("uploading a multi-tensor optimizer table (its parameters, "
                              "gradients or state buffers are new or moved)")
            self.current = launch_optim.Table(roles)
        return self.current

    def hyper_array(self, values, like, recording: bool):
        """The hyperparameters (float64) on the device of array ``like``, uploaded when they
        changed unless a graph is being recorded."""
        values = tuple(float(v) for v in values)
        if self.hyper is None:
            with backend.use_device(backend.device_of(like)):
                self.hyper = backend.xp_of(like).zeros(len(values), np.float64)
        if not recording and values != self.uploaded_hyper:
            sync_debug.report("uploading optimizer hyperparameters (a learning rate changed)")
            _upload(self.hyper, values, np.float64)
            self.uploaded_hyper = values
        return self.hyper

    def step_counters(self, counts: tuple, like, recording: bool):
        """Per-tensor step counters on the device holding ``counts`` (the steps each tensor
        has taken); uploaded only when the device copy differs, which a recording refuses."""
        if self.steps is None or self.steps.size != len(counts):
            with backend.use_device(backend.device_of(like)):
                self.steps = backend.xp_of(like).zeros(len(counts), np.int64)
            self.synced_steps = None
        if self.synced_steps != counts:
            if recording:
                raise NeedsEagerStep("the optimizer's step counts changed between the eager "
                                   "step and the capture; capture after a plain eager step "
                                   "of the same parameters")
            sync_debug.report("uploading optimizer step counts (a parameter joined late)")
            _upload(self.steps, counts, np.int64)
            self.synced_steps = counts
        return self.steps

    def counted(self) -> None:
        """Record that the device counters advanced by one step (adam_count ran)."""
        if self.synced_steps is not None:
            self.synced_steps = tuple(t + 1 for t in self.synced_steps)


def _upload(target, values, dtype) -> None:
    """Write host ``values`` into the device (or NumPy) array ``target``."""
    host = np.asarray(values, dtype)
    if isinstance(target, np.ndarray):
        target[...] = host
    else:
        target.set(host)
