"""Optimizers (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, Rprop,
ASGD, LBFGS, Adafactor, Muon) and learning-rate schedules as PyTorch's (StepLR, MultiStepLR,
ExponentialLR, LambdaLR, MultiplicativeLR, ConstantLR, LinearLR, PolynomialLR, CosineAnnealingLR,
CosineAnnealingWarmRestarts, OneCycleLR, CyclicLR, ReduceLROnPlateau, SequentialLR,
ChainedScheduler; also under ``gpugrad.optim.lr_scheduler``), and weight averaging
(``gpugrad.optim.swa_utils``: AveragedModel, SWALR, update_bn).

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

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adafactor import Adafactor
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .lr_scheduler import (ChainedScheduler, ConstantLR, CosineAnnealingLR,
                           CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR, LambdaLR,
                           LinearLR, LRScheduler, MultiplicativeLR, MultiStepLR, OneCycleLR,
                           PolynomialLR, ReduceLROnPlateau, SequentialLR, StepLR)
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax",
           "NAdam", "RAdam", "Rprop", "ASGD", "LBFGS", "lr_scheduler", "swa_utils", "LRScheduler",
           "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
           "OneCycleLR", "CyclicLR", "ReduceLROnPlateau", "SequentialLR", "ChainedScheduler",
           "Adafactor", "Muon"]
