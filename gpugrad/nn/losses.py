"""Loss modules: MSELoss and CrossEntropyLoss (see gpugrad.nn.functional for the maths).

Example::

    >>> loss_fn = nn.CrossEntropyLoss(reduction="none")
    >>> loss_fn(gpugrad.zeros(2, 4), gpugrad.tensor([0, 3]))     # log 4 for each row
    tensor([1.3862944, 1.3862944], device='cpu', dtype=float32)
    >>> nn.MSELoss(reduction="sum")(gpugrad.tensor([1.0, 3.0]), gpugrad.tensor([0.0, 1.0]))
    tensor(5., device='cpu', dtype=float32)
"""

from __future__ import annotations

from . import functional as F
from .module import Module

__all__ = ["MSELoss", "CrossEntropyLoss"]


class MSELoss(Module):
    """Mean squared error; ``reduction`` "mean", "sum" or "none"."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(Module):
    """Softmax cross-entropy of logits (N, C) against integer labels (N,), as PyTorch's."""

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0,
                 ignore_index: int = -100):
        super().__init__()
        self.reduction, self.label_smoothing = reduction, label_smoothing
        self.ignore_index = ignore_index

    def forward(self, logits, target):
        return F.cross_entropy(logits, target, self.reduction, self.label_smoothing,
                               self.ignore_index)

    def extra_repr(self) -> str:
        return (f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}, "
                f"ignore_index={self.ignore_index}")
