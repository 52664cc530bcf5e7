"""Loss modules as PyTorch's ``torch.nn``: L1Loss, SmoothL1Loss, HuberLoss, BCELoss,
BCEWithLogitsLoss, NLLLoss and KLDivLoss, each calling its function in
``gpugrad.nn.loss_functions`` (see there for the maths and shapes). The constructor
arguments are PyTorch's, less the deprecated ``size_average`` and ``reduce``; all but a
leading ``weight`` are keyword-only, since PyTorch's positional order starts with those.
``weight`` and ``pos_weight`` are buffers: ``to()`` moves them, ``state_dict`` saves them.

Example::

    >>> from gpugrad.nn.loss_layers import BCEWithLogitsLoss, NLLLoss
    >>> loss_fn = BCEWithLogitsLoss(pos_weight=gpugrad.tensor([2.0]))
    >>> round(loss_fn(gpugrad.zeros(4, 1), gpugrad.ones(4, 1)).item(), 6)     # 2 log 2
    1.386294
    >>> NLLLoss(ignore_index=0)
    NLLLoss(reduction='mean', ignore_index=0)
"""

from __future__ import annotations

from . import loss_functions
from .module import Module

__all__ = ["L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss",
           "KLDivLoss"]


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class L1Loss(_Loss):
    """Mean absolute error; ``reduction`` "mean", "sum" or "none".

    Example::

        >>> from gpugrad.nn.loss_layers import L1Loss
        >>> L1Loss(reduction="sum")(gpugrad.tensor([1.0, 3.0]), gpugrad.tensor([0.0, 1.0]))
        tensor(3., device='cpu', dtype=float32)
    """

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        return loss_functions.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above (see ``smooth_l1_loss``)."""

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return loss_functions.smooth_l1_loss(input, target, reduction=self.reduction,
                                              beta=self.beta)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, beta={self.beta}"


class HuberLoss(_Loss):
    """Quadratic below ``delta``, linear above (see ``huber_loss``)."""

    def __init__(self, *, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return loss_functions.huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, delta={self.delta}"


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (see ``binary_cross_entropy``).

    Example::

        >>> from gpugrad.nn.loss_layers import BCELoss
        >>> round(BCELoss()(gpugrad.tensor([0.5, 0.5]), gpugrad.tensor([1.0, 0.0])).item(), 6)
        0.693147
    """

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return loss_functions.binary_cross_entropy(input, target, self.weight,
                                                   reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, without overflow (see
    ``binary_cross_entropy_with_logits``)."""

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return loss_functions.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, C) at labels (N,) (see
    ``nll_loss``)."""

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return loss_functions.nll_loss(input, target, self.weight,
                                       ignore_index=self.ignore_index, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, ignore_index={self.ignore_index}"


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities ``input`` from ``target`` (see ``kl_div``);
    ``reduction`` may also be "batchmean".

    Example::

        >>> from gpugrad.nn.loss_layers import KLDivLoss
        >>> KLDivLoss(reduction="batchmean", log_target=True)
        KLDivLoss(reduction='batchmean', log_target=True)
    """

    def __init__(self, *, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return loss_functions.kl_div(input, target, reduction=self.reduction,
                                     log_target=self.log_target)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, log_target={self.log_target}"
