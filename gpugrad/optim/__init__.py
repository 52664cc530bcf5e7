"""Optimizers (SGD, Adam, AdamW) and learning-rate schedules (StepLR, CosineAnnealingLR).

Example (minimising sum(w ** 2), the learning rate halved after each epoch)::

    >>> w = gpugrad.tensor([1.0], requires_grad=True)
    >>> opt = gpugrad.optim.SGD([w], lr=0.25)
    >>> sched = gpugrad.optim.StepLR(opt, step_size=1, gamma=0.5)
    >>> for epoch in range(3):
    ...     opt.zero_grad()
    ...     (w ** 2).sum().backward()                  # grad 2w
    ...     opt.step()                                 # w - lr * 2w, lr = 0.25, 0.125, 0.0625
    ...     sched.step()
    ...     print(w.item())
    0.5
    0.375
    0.328125
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .lr_scheduler import CosineAnnealingLR, StepLR
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler", "StepLR", "CosineAnnealingLR"]
