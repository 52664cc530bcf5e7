"""Learning-rate schedules, as PyTorch's ``torch.optim.lr_scheduler`` (2.13): the same
formulas, the same chaining (each step scales the lr a group has now, so schedulers stepped
together multiply and an lr set by hand is kept), ``last_epoch`` and ``state_dict()``.

The schedules live in ``lr_scheduler_base.py`` (``LRScheduler``), ``lr_scheduler_decay.py``
(StepLR, MultiStepLR, ExponentialLR, LambdaLR, MultiplicativeLR, ConstantLR, LinearLR,
PolynomialLR, CosineAnnealingLR), ``lr_scheduler_cycles.py`` (CosineAnnealingWarmRestarts,
OneCycleLR, CyclicLR), ``lr_scheduler_plateau.py`` (ReduceLROnPlateau) and
``lr_scheduler_compose.py`` (SequentialLR, ChainedScheduler).

Call ``scheduler.step()`` once per epoch (OneCycleLR, CyclicLR: per batch), after
``optimizer.step()``. Example::

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

from .lr_scheduler_base import LRScheduler
from .lr_scheduler_compose import ChainedScheduler, SequentialLR
from .lr_scheduler_cycles import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from .lr_scheduler_decay import (ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR,
                                 LinearLR, MultiplicativeLR, MultiStepLR, PolynomialLR, StepLR)
from .lr_scheduler_plateau import ReduceLROnPlateau


class _LRScheduler(LRScheduler):
    """PyTorch's older name of ``LRScheduler``, which much code still subclasses."""

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR",
           "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "OneCycleLR", "CyclicLR", "ReduceLROnPlateau",
           "SequentialLR", "ChainedScheduler"]
