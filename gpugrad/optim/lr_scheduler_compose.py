"""Schedules made of schedules, as PyTorch's: SequentialLR (one after another, switching at
milestones) and ChainedScheduler (all at once: their factors multiply).

Example (a linear warm-up for 2 epochs, then exponential decay)::

    >>> opt = gpugrad.optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=1.0)
    >>> warmup = gpugrad.optim.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> decay = gpugrad.optim.ExponentialLR(opt, gamma=0.5)
    >>> sched = gpugrad.optim.SequentialLR(opt, [warmup, decay], milestones=[2])
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     opt.step(); sched.step()
    >>> lrs
    [0.5, 0.75, 1.0, 0.5, 0.25]
"""

from __future__ import annotations

from bisect import bisect_right

from .lr_scheduler_base import LRScheduler, lrs_of
from .lr_scheduler_plateau import ReduceLROnPlateau

__all__ = ["SequentialLR", "ChainedScheduler"]


def _check_parts(name: str, optimizer, schedulers) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{name} needs at least one scheduler, got none")
    for i, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{name}: schedulers[{i}] is a {type(scheduler).__name__}, not a "
                            f"learning-rate scheduler (it has no optimizer)")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{name} cannot hold ReduceLROnPlateau (schedulers[{i}]): its "
                             f"step() needs the metric; step it on its own")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"{name}: schedulers[{i}] ({type(scheduler).__name__}) "
                             f"schedules another optimizer; all must schedule the same one")


class _Composite(LRScheduler):
    """state_dict with the parts' state dicts in place of the parts."""

    def state_dict(self) -> dict:
        state = {key: value for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for scheduler, state in zip(self._schedulers, state_dict["_schedulers"]):
            scheduler.load_state_dict(state)


class SequentialLR(_Composite):
    """``schedulers[i]`` runs from epoch ``milestones[i - 1]`` (0 for the first) until
    ``milestones[i]``; at each milestone the next one starts over (its epoch 0, from the
    initial lrs). Making it undoes the first step of every part and restarts the first
    (see the module's example)."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch: int = -1):
        _check_parts("SequentialLR", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: {len(schedulers)} schedulers need "
                             f"{len(schedulers) - 1} milestones (the epochs at which the next "
                             f"takes over), got {len(milestones)}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def recursive_undo(self, sched=None) -> None:
        """Take one epoch off every (nested) part: their constructors each made a step."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def _step(self, epoch=None) -> None:
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def step(self) -> None:
        """Step the part whose turn it is (restarting it at a milestone)."""
        super().step()


class ChainedScheduler(_Composite):
    """Step every scheduler in turn at each ``step()``: with chainable schedules their
    factors multiply. Example::

        >>> opt = gpugrad.optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = gpugrad.optim.ChainedScheduler([
        ...     gpugrad.optim.ConstantLR(opt, factor=0.5, total_iters=2),
        ...     gpugrad.optim.ExponentialLR(opt, gamma=0.5)])
        >>> lrs = []
        >>> for epoch in range(4):
        ...     lrs.append(sched.get_last_lr()[0])
        ...     opt.step(); sched.step()
        >>> lrs                                   # 0.5 ** epoch, times 0.5 before epoch 2
        [0.5, 0.25, 0.25, 0.125]
    """

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler needs at least one scheduler, got none")
        optimizer = optimizer or schedulers[0].optimizer
        _check_parts("ChainedScheduler", optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = lrs_of(self._schedulers[-1].optimizer)

    def _step(self, epoch=None) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = lrs_of(self._schedulers[-1].optimizer)

    def step(self) -> None:
        """Step each scheduler once, in order."""
        super().step()
