"""One epoch of ``gpugrad train``: the steps, the progress bar, and the watch on the loss
that stops a run whose loss became NaN or infinite (``TrainingDiverged``).

The loss is checked where it is read on the host anyway (every ``len(loader) // 50``
steps, for the progress bar): the steps in between keep their losses on the device
(``LossWatch``), so the error names the exact step without a host sync per step.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from . import backend
from .cuda import sync_debug
from .distributed.group import mark_raised_together
from .distributed.job import Job

__all__ = ["TrainingDiverged", "LossWatch", "train_epoch", "diverged"]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; training stopped before writing a checkpoint."""


class _Progress:
    """A tqdm bar per epoch when tqdm is installed (and wanted), else nothing."""

    def __init__(self, enabled: bool, total: int, epoch: int, epochs: int):
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=total, unit="sample", unit_scale=True, leave=False,
                            desc=f"epoch {epoch}/{epochs}", file=sys.stderr,
                            mininterval=0.25, disable=None)   # None: off when not a terminal

    def update(self, n: int, loss: float | None):
        if self.bar is not None:
            self.bar.update(n)
            if loss is not None:
                self.bar.set_postfix(loss=f"{loss:.4f}")

    def close(self):
        if self.bar is not None:
            self.bar.close()


class LossWatch:
    """The losses of the steps since the last look, kept where they are computed: one
    small device-to-device copy per step and no host sync; ``look`` reads them all in the
    one transfer the progress bar's loss read made anyway, so the first bad step is found
    exactly at no extra sync. ``size``: the most steps between looks.

    Example::

        >>> from gpugrad.train_epoch import LossWatch
        >>> watch = LossWatch(size=4)
        >>> for step, value in enumerate([2.0, 1.5, float("nan"), 1.0], 1):
        ...     watch.add(gpugrad.tensor(value), step)
        >>> watch.look()                       # (latest loss, first step that was not finite)
        (1.0, 3)
    """

    def __init__(self, size: int):
        self.size, self.buffer, self.count, self.first_step = size, None, 0, 1

    def add(self, loss, step: int):
        array = loss._array
        if self.buffer is None:
            self.buffer = backend.xp_of(array).empty(self.size, dtype=array.dtype)
        if self.count == 0:
            self.first_step = step
        self.buffer[self.count] = array
        self.count += 1

    def look(self, job: Job | None = None) -> tuple[float, int | None]:
        """The latest loss and the first step whose loss was NaN or infinite (None when
        all were finite; on every rank the earliest of any rank's)."""
        sync_debug.report("reading the losses of the last steps (the progress bar's loss "
                          "and the NaN check, every few steps)")
        values = backend.to_device(self.buffer[:self.count], backend.CPU)
        bad = np.flatnonzero(~np.isfinite(values))
        first = float(self.first_step + bad[0]) if len(bad) else np.inf
        self.count = 0
        if job is not None and job.distributed:
            (first,) = job.total([first], op="min")
        return float(values[-1]), None if first == np.inf else int(first)


def train_epoch(model, loader, step_fn, config, epoch, job: Job) -> dict:
    """One pass over ``loader`` (a DataLoader over arrays or over a map-style dataset whose
    batches are (inputs, labels)) with ``step_fn(inputs, labels) -> loss``; the bar shows the
    latest loss every few steps. Raises ``TrainingDiverged`` (on every rank together) at
    the first look that finds a NaN or infinite loss. Returns the epoch's seconds and
    samples per second (every rank's samples over the slowest rank's time).

    Example::

        >>> from gpugrad.distributed.job import Job
        >>> from gpugrad.train_epoch import train_epoch
        >>> from gpugrad.training import TrainConfig
        >>> model = nn.MLP([2, 4, 2])
        >>> opt = gpugrad.optim.SGD(model.parameters(), lr=0.1)
        >>> loader = gpugrad.data.DataLoader(np.ones((8, 2), "float32"), np.zeros(8, "int64"),
        ...                                  batch_size=4)
        >>> def step(xb, yb):
        ...     opt.zero_grad()
        ...     loss = F.cross_entropy(model(xb), yb)
        ...     loss.backward()
        ...     opt.step()
        ...     return loss
        >>> sorted(train_epoch(model, loader, step, TrainConfig(progress=False), 1, Job(False)))
        ['samples_per_second', 'seconds']
    """
    model.train()
    rows = len(loader.dataset)                 # arrays or a map-style dataset: no device sync
    progress = _Progress(config.progress and job.is_main, rows, epoch, config.epochs)
    every = max(1, len(loader) // 50)          # a loss read is a device sync: not every step
    losses, seen, latest = LossWatch(every), 0, None
    start = time.perf_counter()
    try:
        for step, (xb, yb) in enumerate(loader, 1):
            losses.add(step_fn(xb, yb), step)
            seen += len(yb) * job.size
            if step % every == 0 or step == len(loader):
                latest, bad_step = losses.look(job)
                if bad_step is not None:
                    raise diverged(config, epoch, bad_step, len(loader))
            progress.update(len(yb) * job.size, latest)   # every rank's share of the batch
    finally:
        progress.close()
    (seconds,) = job.total([time.perf_counter() - start], op="max")
    return {"seconds": seconds, "samples_per_second": seen / seconds if seconds else 0.0}


def diverged(config, epoch: int, step: int | None, steps: int) -> TrainingDiverged:
    """The error for a loss that became NaN or infinite at ``step`` of ``epoch`` (None:
    after its last step), saying which checkpoint is kept and suggesting a lower --lr.

    Example::

        >>> from gpugrad.train_epoch import diverged
        >>> from gpugrad.training import TrainConfig
        >>> print(diverged(TrainConfig(lr=0.1, out="run"), epoch=3, step=7, steps=45))
        the loss became NaN or infinite in epoch 3 at step 7 of 45; ... --lr 0.01)
    """
    where = f"at step {step} of {steps}" if step else f"after its last step ({steps})"
    if config.resume or epoch > 1:
        kept = f"{os.path.join(config.out, 'model.npz')} keeps epoch {epoch - 1}"
    else:
        kept = "no checkpoint was written"
    error = TrainingDiverged(
        f"the loss became NaN or infinite in epoch {epoch} {where}; training stopped and "
        f"{kept}. Try a lower --lr (this run used {config.lr:g}; e.g. --lr "
        f"{config.lr / 10:g})")
    return mark_raised_together(error, 0)          # found on every rank together
