"""Learning-rate schedules: StepLR and CosineAnnealingLR, as PyTorch's (closed forms).

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``. Example::

    >>> w = gpugrad.zeros(1, requires_grad=True)
    >>> opt = gpugrad.optim.SGD([w], lr=1.0)
    >>> sched = gpugrad.optim.CosineAnnealingLR(opt, T_max=4)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(sched.get_last_lr()[0])     # the lr this epoch's steps use
    ...     opt.step()                             # (an epoch of steps)
    ...     sched.step()
    >>> [round(lr, 4) for lr in lrs]               # (1 + cos(pi * epoch / 4)) / 2
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
"""

from __future__ import annotations

import math

from ..autograd.capture_mode import CaptureError, is_graph_recording
from ..autograd.compile_mode import effect

__all__ = ["StepLR", "CosineAnnealingLR"]


class _Scheduler:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lrs = [group.setdefault("initial_lr", group["lr"])
                         for group in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError

    def _apply(self):
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)

    def step(self) -> None:
        """Advance one epoch and set each group's lr (live at every replay of a step
        compiled by ``gpugrad.compile`` that calls it; refused inside a CUDA graph's
        recording, whose replays run no Python: step the scheduler after each call)."""
        if is_graph_recording():
            raise CaptureError(f"{type(self).__name__}.step() inside a captured step would run "
                               f"at the recording only (a replay runs no Python), leaving the "
                               f"learning rate fixed: call it after each call of the step "
                               f"(the captured optimizer reads the new rate)")
        effect(self._advance)

    def _advance(self) -> None:
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict) -> None:
        self.last_epoch = int(state["last_epoch"])
        self.base_lrs = [float(v) for v in state["base_lrs"]]
        self._apply()


class StepLR(_Scheduler):
    """lr = base_lr * gamma ** (epoch // step_size). Example::

        >>> opt = gpugrad.optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=0.5)
        >>> sched = gpugrad.optim.StepLR(opt, step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(sched.get_last_lr()[0])
        ...     sched.step()
        >>> lrs
        [0.5, 0.5, 0.25, 0.25, 0.125]
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(_Scheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return self.eta_min + (base_lr - self.eta_min) * (
            1 + math.cos(math.pi * epoch / self.T_max)) / 2
