"""LRScheduler: the base of every learning-rate schedule, as PyTorch's (2.13) in behaviour and
in ``state_dict()`` layout.

A schedule is *chainable*: ``get_lr()`` computes each group's new lr from the lr the group has
now (``group["lr"]``), so two schedulers stepped together multiply, an lr set by hand is kept
and scaled from, and a param group added later is scheduled as well. The constructor makes
the first step (``last_epoch`` -1 -> 0). ``step()`` runs through ``compile_mode.effect`` so
that a step compiled by ``gpugrad.compile`` that calls it steps the schedule at each replay;
inside a CUDA graph's recording it is refused (a replay runs no Python).

Example (a schedule of one's own: the lr halves every other epoch)::

    >>> class Halving(gpugrad.optim.lr_scheduler.LRScheduler):
    ...     def get_lr(self):
    ...         factor = 0.5 if self.last_epoch % 2 == 0 and self.last_epoch > 0 else 1.0
    ...         return [group["lr"] * factor for group in self.optimizer.param_groups]
    >>> opt = gpugrad.optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = Halving(opt)
    >>> for _ in range(4):
    ...     opt.step(); sched.step()
    >>> sched.last_epoch, sched.get_last_lr()
    (4, [0.25])
"""

from __future__ import annotations

import warnings

from ..autograd.capture_mode import CaptureError, is_graph_recording
from ..autograd.compile_mode import effect
from .optimizer import Optimizer

__all__ = ["LRScheduler"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch argument of scheduler.step() is deprecated (as in PyTorch): call "
    "scheduler.step() without it. While it lasts, a given epoch uses the closed form of the "
    "schedule where there is one, instead of the chainable form.")

STEP_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()` (as PyTorch warns): call "
    "optimizer.step() first, then lr_scheduler.step(); otherwise the first value of the "
    "learning-rate schedule is skipped. (A GradScaler that skipped the first step because "
    "of an inf/NaN gradient also leads here.)")


def check_optimizer(name: str, optimizer) -> None:
    """Refuse anything but a gpugrad optimizer, naming what was given."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name} takes a gpugrad.optim optimizer (SGD, Adam, ...) as its first "
                        f"argument, got a {type(optimizer).__name__}")


def per_group(name: str, argument: str, optimizer, value) -> list:
    """``value`` for each param group: a list or tuple as long as the groups, or one value for
    all of them."""
    count = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(f"{name}: {argument} has {len(value)} values but the optimizer "
                             f"has {count} param groups: give one value per group, or a "
                             f"single value for all")
        return list(value)
    return [value] * count


def lrs_of(optimizer) -> list:
    """The lr of each of ``optimizer``'s param groups, now."""
    return [group["lr"] for group in optimizer.param_groups]


def refuse_in_recording(scheduler) -> None:
    if is_graph_recording():
        raise CaptureError(f"{type(scheduler).__name__}.step() inside a captured step would "
                           f"run at the recording only (a replay runs no Python), leaving the "
                           f"learning rate fixed: call it after each call of the step "
                           f"(the captured optimizer reads the new rate)")


class LRScheduler:
    """Base class: subclasses implement ``get_lr()`` (the new lr of every param group, from
    ``self.last_epoch`` already advanced) and may implement ``_get_closed_form_lr()``.
    The first ``step()`` warns, as PyTorch's, if the optimizer has never stepped.

    ``last_epoch``: -1 (default) starts the schedule, setting each group's ``initial_lr`` to
    its lr; any other value resumes it and needs ``initial_lr`` in every group (as left by
    an earlier scheduler, or restored with the optimizer's ``load_state_dict``).
    """

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer, last_epoch: int = -1):
        check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}(last_epoch={last_epoch}) resumes a schedule, "
                        f"but param_groups[{i}] has no 'initial_lr': load the optimizer's "
                        f"state_dict saved with the schedule first, or pass last_epoch=-1 "
                        f"to start a new schedule")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and make the constructor's step (``last_epoch`` + 1)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self._step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list:
        """The lr of each param group at ``self.last_epoch`` (called by ``step``; to read the
        current lrs use ``get_last_lr()``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def _warn_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, use "
                          "get_last_lr(); get_lr() computes the next one", UserWarning,
                          stacklevel=3)

    def get_last_lr(self) -> list:
        """The lr of each param group that the last ``step()`` (or the constructor) set."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and set each group's lr (live at every replay of a step
        compiled by ``gpugrad.compile`` that calls it; refused inside a CUDA graph's
        recording, whose replays run no Python: step the scheduler after each call).
        ``epoch`` is deprecated, as in PyTorch."""
        refuse_in_recording(self)
        effect(self._step, epoch, sets_grads=False)

    def _step(self, epoch=None) -> None:
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(STEP_ORDER_WARNING, UserWarning, stacklevel=4)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=4)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None) -> None:
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        self._set_lrs(values)

    def _set_lrs(self, values) -> None:
        groups = self.optimizer.param_groups
        values = list(values)
        if len(values) != len(groups):
            raise ValueError(
                f"{type(self).__name__} computed {len(values)} learning rates for "
                f"{len(groups)} param groups: this schedule follows the groups present when "
                f"it was made (base_lrs, per-group lambdas or momenta), and a group was added "
                f"since; add param groups before making the scheduler")
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr = lrs_of(self.optimizer)

    def state_dict(self) -> dict:
        """The scheduler's attributes except the optimizer (PyTorch's layout)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Take the attributes of ``state_dict`` (from ``state_dict()``) as the scheduler's."""
        self.__dict__.update(state_dict)
