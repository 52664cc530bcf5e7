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
                p._version.value += 1
                done.add(id(p))
    return done


class ReplayedLaunch:
    """One fused launch inside a recorded CUDA graph, as the capture sees it: the optimizer
    refreshes its hyperparameters on the device before each replay (a scheduler may have
    changed the learning rate) and counts the step on the host after it, as an eager step
    does. ``buffers``: the device data the graph reads, kept alive with it (with the
    parameters, gradients and state tensors it was recorded for: ``held``)."""

    def __init__(self, optimizer, bucket):
        self.optimizer = optimizer
        self.bucket = Bucket(bucket.group)          # the launch's own: later ones change
        self.bucket.params, self.bucket.slot = list(bucket.params), bucket.slot  # the live one
        slot = bucket.slot
        self.buffers = (slot.current, slot.hyper, slot.steps)
        self.counts = slot.synced_steps     # what the device step counters hold (Adam)
        self.layout = optimizer._layout()
        self.requires_grad = [p._requires_grad for p in optimizer._params()]
        self.with_grad = [p._grad is not None for p in optimizer._params()]
        self.held = []
        for p in bucket.params:
            state = optimizer.state.get(id(p))
            entries = tuple((k, v, v._array) for k, v in (state or {}).items()
                            if isinstance(v, Tensor))
            self.held.append((p, p._array, p._grad, p._grad._array, state, entries))

    def changed(self, set_in_step) -> "str | None":
        """What changed since the recording that the launch would not see, or None: the
        optimizer's groups or parameters, which of them require grad or have a gradient the
        step does not set itself (ids ``set_in_step``), a parameter's array replaced
        (``p.data = ...``), such a gradient replaced or set to None, optimizer state
        replaced (``load_state_dict``), or the device step counters touched by an eager
        step. The graph would update stale memory, or the wrong parameters: record again."""
        optimizer = self.optimizer
        if optimizer._layout() != self.layout:
            return "the optimizer's parameter groups changed (add_param_group)"
        params = optimizer._params()
        if [p._requires_grad for p in params] != self.requires_grad:
            return "a parameter's requires_grad was changed"
        for p, had in zip(params, self.with_grad):
            if id(p) not in set_in_step and (p._grad is not None) != had:
                return ("a parameter the step does not give a gradient has one now (or no "
                        "longer): the recorded update would skip it (or update it)")
        slot = self.bucket.slot
        if slot.steps is not self.buffers[2] or slot.synced_steps != self.counts:
            return "an eager step of the same optimizer changed its step counts on the device"
        states = optimizer.state
        for p, array, grad, grad_array, state, entries in self.held:
            if p._array is not array:
                return "a parameter's array was replaced (p.data = ...)"
            if id(p) not in set_in_step and (p._grad is not grad
                                              or grad._array is not grad_array):
                return "a gradient made outside the step was replaced or set to None"
            if states.get(id(p)) is not state or any(
                    state.get(k) is not v or v._array is not a for k, v, a in entries):
                return "the optimizer's state was replaced (load_state_dict)"
        return None

    def guard_terms(self, guard, set_in_step) -> None:
        """``changed(set_in_step) is None`` as terms of a generated check (``guard``, a
        graph_entry.Guard): identities and comparisons of bound objects only."""
        optimizer, name = self.optimizer, guard.name
        groups, opt = optimizer.param_groups, name(optimizer)
        terms = [f"{opt}.param_groups is {name(groups)}", f"len({name(groups)}) == {len(groups)}"]
        for gi, g in enumerate(groups):
            params = g["params"]
            terms += [f"{name(groups)}[{gi}] is {name(g)}",
                      f"{name(g)}['params'] is {name(params)}",
                      f"len({name(params)}) == {len(params)}"]
            for i, p in enumerate(params):
                terms += [f"{name(params)}[{i}] is {name(p)}",
                          f"{name(p)}._requires_grad is {p._requires_grad}"]
                if id(p) not in set_in_step:
                    terms.append(f"({name(p)}._grad is not None) is {p._grad is not None}")
        slot = self.bucket.slot
        terms += [f"{name(slot)}.steps is {name(self.buffers[2])}",
                  f"{name(slot)}.synced_steps == {name(self)}.counts"]
        for p, array, grad, grad_array, state, entries in self.held:
            terms.append(f"{name(p)}._array is {name(array)}")
            if id(p) not in set_in_step:
                terms += [f"{name(p)}._grad is {name(grad)}",
                          f"{name(grad)}._array is {name(grad_array)}"]
            terms.append(f"{opt}.state.get({id(p)}) is {name(state)}")
            for k, v, a in entries:
                terms += [f"{name(state)}.get({k!r}) is {name(v)}",
                          f"{name(v)}._array is {name(a)}"]
        guard.terms += terms

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
